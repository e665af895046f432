package consumers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/workers"
	"github.com/troupehq/troupe/topology"
)

// Validator checks an incoming event's data against its schema;
// schemas.Set is one.
type Validator interface {
	Validate(e events.Envelope) error
}

// Deps are what a consumer's runtime talks to: the ports, with an AWS
// adapter on Lambda and an embedded one in `troupe dev`.
type Deps struct {
	// Validator, when set, checks every incoming event against its schema;
	// an invalid one is dead-lettered.
	Validator Validator
	// Idempotency is required unless the consumer disables idempotency.
	Idempotency IdempotencyStore
	// DeadLetters is the consumer's DLQ; required.
	DeadLetters DeadLetterQueue
	// Publisher publishes what the handler emits; required if the consumer
	// declares Emits.
	Publisher Publisher
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Observer, when set, is called with the outcome of every delivery,
	// after it settled. It must be quick and safe for concurrent use.
	Observer func(Outcome)
}

// Runtime runs one consumer of a topology: it turns bus events and stream
// batches into handler calls with idempotency, retries, timeouts, panics
// recovered, emits published and failures dead-lettered. It is safe for
// concurrent use.
type Runtime struct {
	consumer topology.Consumer
	deps     Deps
	onBus    HandlerFunc
	onStream HandlerFunc
	workers  *workers.Pool // run a stream batch's keys (see HandleStreamBatch)

	handled, duplicates atomic.Int64
}

// Stats counts a runtime's outcomes since it was built.
type Stats struct {
	// Handled counts handler runs that succeeded: the consumer's effects.
	Handled int64 `json:"handled"`
	// Duplicates counts deliveries skipped by idempotency.
	Duplicates int64 `json:"duplicates"`
}

// Stats returns the runtime's counters.
func (r *Runtime) Stats() Stats {
	return Stats{Handled: r.handled.Load(), Duplicates: r.duplicates.Load()}
}

// New returns the runtime of consumer c. The topology the consumer belongs
// to must have been validated (Topology.Validate fills the defaults).
func New(c topology.Consumer, deps Deps) (*Runtime, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	var errs []error
	if deps.DeadLetters == nil {
		errs = append(errs, errors.New("no Deps.DeadLetters: every consumer needs a dead-letter queue"))
	}
	if deps.Idempotency == nil && !c.Idempotency.Disabled {
		errs = append(errs, errors.New("no Deps.Idempotency (or disable idempotency in the topology)"))
	}
	if deps.Publisher == nil && len(c.Emits) > 0 {
		errs = append(errs, fmt.Errorf("no Deps.Publisher, but the consumer emits %v", c.Emits))
	}
	if c.Handler == nil || c.Retry.MaxAttempts == 0 || c.Function.TimeoutSeconds == 0 {
		errs = append(errs, errors.New("the consumer has no handler or no defaults: call Topology.Validate first"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("consumer %s: %w", c.Name, err)
	}
	r := &Runtime{consumer: c, deps: deps, workers: workers.New(10 * time.Second)}
	r.onBus = r.chain(true)
	r.onStream = r.chain(false)
	return r, nil
}

// Name returns the consumer's name.
func (r *Runtime) Name() string { return r.consumer.Name }

// chain builds the middleware around the handler, outermost first.
func (r *Runtime) chain(bus bool) HandlerFunc {
	c, d := r.consumer, r.deps
	mw := []Middleware{
		DeadLetters(c.Name, d.DeadLetters, bus, d.Now, d.Logger),
		Retry(c.Retry, d.Now),
		Timeout(c.Function.Timeout()),
	}
	if !c.Idempotency.Disabled {
		mw = append(mw, Idempotency(c.Name, c.Idempotency, d.Idempotency, d.Now, d.Logger))
	}
	mw = append(mw, Emitter(c.Name, c.Emits, d.Publisher), Recover(c.Name, d.Logger))
	return chain(r.handle, mw...)
}

// handle checks the consumer reads the event's type and version, validates
// it, and runs the consumer's handler.
func (r *Runtime) handle(ctx context.Context, d *Delivery) error {
	if err := r.accepts(d.Envelope); err != nil {
		return Permanent(err)
	}
	if v := r.deps.Validator; v != nil {
		if err := v.Validate(d.Envelope); err != nil {
			return Permanent(fmt.Errorf("%w: %w", ErrInvalidEvent, err))
		}
	}
	if err := r.consumer.Handler.Handle(ctx, d.Envelope); err != nil {
		return err
	}
	d.Outcome = OutcomeHandled
	return nil
}

// deliver runs one delivery through a chain and reports its outcome.
func (r *Runtime) deliver(ctx context.Context, h HandlerFunc, d *Delivery) error {
	start := r.deps.Now()
	err := h(ctx, d)
	r.observe(d, err, start)
	return err
}

// observe counts a settled delivery and tells the observer.
func (r *Runtime) observe(d *Delivery, err error, start time.Time) {
	o := Outcome{
		Consumer: r.consumer.Name, EventID: d.Envelope.ID, Type: d.Envelope.Type,
		CorrelationID: d.Envelope.CorrelationID, CausationID: d.Envelope.CausationID,
		Kind: d.Outcome, Attempts: d.Attempts, Start: start, Duration: r.deps.Now().Sub(start), Emitted: d.Emitted,
	}
	if err != nil {
		o.Kind, o.Error = OutcomeFailed, err.Error()
	}
	switch o.Kind {
	case OutcomeHandled:
		r.handled.Add(1)
	case OutcomeDuplicate:
		r.duplicates.Add(1)
	}
	if r.deps.Observer != nil {
		r.deps.Observer(o)
	}
}

// accepts says why the consumer cannot read e: a type it has no handler for,
// or a version newer than its handler reads.
func (r *Runtime) accepts(e events.Envelope) error {
	accepted := r.consumer.Handler.Accepts()
	for _, ref := range accepted {
		if ref.Type != e.Type {
			continue
		}
		if e.DataVersion > ref.Version {
			return fmt.Errorf("%s: %w (v%d asked for): upgrade the consumer to read v%d", e.Ref(), events.ErrNewerVersion, ref.Version, e.DataVersion)
		}
		return nil
	}
	return fmt.Errorf("%s: %w: this consumer handles %v; fix its subscription or add a route", e.Ref(), ErrNoRoute, accepted)
}
