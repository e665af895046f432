// Package topology declares a choreography once: which consumers exist, what
// each one subscribes to (an EventBridge pattern on the bus, or the stream
// with an optional filter), with which settings, running which handler, and
// what it may emit. The local engine (`troupe dev`), the Lambda entry points
// and the CDK app all read the same declaration; nothing about the topology
// is written twice.
//
// Settings carry AWS's own names and defaults, so what runs locally is what
// gets deployed.
package topology

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/troupehq/troupe/events"
)

// Topology is a whole choreography.
type Topology struct {
	// Name names the deployment (the CDK stack, the local engine's bus and
	// stream); lower case letters, digits and dashes.
	Name      string
	Consumers []Consumer
	// External declares the events that systems outside the topology
	// publish (a shop's orders.OrderPlaced): `troupe graph` draws them from
	// its external producers node, and its check does not flag a consumer
	// that waits for them.
	External []EventRef
}

// Handler runs the events a consumer receives. consumers.Router is one.
type Handler interface {
	// Handle processes one event; see package consumers for what its error
	// means.
	Handle(ctx context.Context, e events.Envelope) error
	// Accepts lists the event types and versions the handler reads.
	Accepts() []EventRef
}

// EventRef names one version of an event type.
type EventRef struct {
	Type    string
	Version int
}

func (r EventRef) String() string { return fmt.Sprintf("%s v%d", r.Type, r.Version) }

// Consumer is one independent reactor: on AWS, one Lambda function.
type Consumer struct {
	// Name is unique in the topology: lower case letters, digits, dashes.
	// It prefixes the consumer's idempotency keys and names its DLQ.
	Name        string
	Description string
	// Exactly one of Bus and Stream.
	Bus    *BusSubscription
	Stream *StreamSubscription
	// Handler runs the events.
	Handler Handler
	// Emits declares every event type and version the handler may emit
	// (topology.Emit("payments.PaymentAuthorized", 1)); the consumer runtime
	// refuses any other, and a consumer that emits nothing gets no right to
	// put events on AWS.
	Emits []EventRef

	Idempotency Idempotency
	Retry       Retry
	Function    Function
	// Target applies to bus consumers, Mapping to stream consumers. Async
	// applies to both: a bus consumer's events arrive by asynchronous
	// invocation, a stream consumer's only when a DLQ replay redelivers them.
	Target  TargetRetryPolicy
	Async   AsyncInvokeConfig
	Mapping EventSourceMapping
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// Validate checks the whole declaration and fills every default: a bad
// pattern, a missing handler, a declared emit or external event of an
// unknown type or version (when the handler names its registry, as
// consumers.Router does) or a setting out of AWS's range fails here, at
// start-up or synth, not in production.
func (t *Topology) Validate() error {
	var errs []error
	if !nameRE.MatchString(t.Name) {
		errs = append(errs, fmt.Errorf("topology name %q: use 1-40 lower case letters, digits and dashes", t.Name))
	}
	regs := t.registries()
	seen := map[string]bool{}
	for i := range t.Consumers {
		c := &t.Consumers[i]
		if seen[c.Name] {
			errs = append(errs, fmt.Errorf("consumer %q: declared twice", c.Name))
		}
		seen[c.Name] = true
		if err := c.validate(); err != nil {
			errs = append(errs, fmt.Errorf("consumer %q: %w", c.Name, err))
		}
	}
	if err := validateRefs("External", t.External, regs); err != nil {
		errs = append(errs, fmt.Errorf("topology %s: %w", t.Name, err))
	}
	return errors.Join(errs...)
}

// Consumer returns the consumer with the given name.
func (t *Topology) Consumer(name string) (*Consumer, error) {
	for i := range t.Consumers {
		if t.Consumers[i].Name == name {
			return &t.Consumers[i], nil
		}
	}
	var names []string
	for _, c := range t.Consumers {
		names = append(names, c.Name)
	}
	return nil, fmt.Errorf("no consumer %q in topology %s (consumers: %v)", name, t.Name, names)
}

func (c *Consumer) validate() error {
	var errs []error
	if !nameRE.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("name: use 1-40 lower case letters, digits and dashes"))
	}
	switch {
	case c.Bus == nil && c.Stream == nil:
		errs = append(errs, errors.New("no subscription: set Bus (topology.OnBus) or Stream (topology.OnStream)"))
	case c.Bus != nil && c.Stream != nil:
		errs = append(errs, errors.New("two subscriptions: set Bus or Stream, not both"))
	case c.Bus != nil:
		errs = append(errs, c.Bus.err, c.Target.validate(), c.Async.validate())
	default:
		errs = append(errs, c.Stream.err, c.Mapping.validate(), c.Async.validate())
	}
	if c.Handler == nil {
		errs = append(errs, errors.New("no handler"))
	} else if len(c.Handler.Accepts()) == 0 {
		errs = append(errs, errors.New("the handler accepts no event type"))
	}
	var regs []*events.Registry
	if c.Handler != nil {
		if reg := registryOf(c.Handler); reg != nil {
			regs = append(regs, reg)
		}
	}
	errs = append(errs, validateRefs("Emits", c.Emits, regs),
		c.Idempotency.validate(), c.Retry.validate(), c.Function.validate())
	return errors.Join(errs...)
}

// OnBus reports whether the consumer reads from the bus.
func (c *Consumer) OnBus() bool { return c.Bus != nil }

// Accepts lists the event types and versions the consumer's handler reads.
func (c *Consumer) Accepts() []EventRef { return c.Handler.Accepts() }
