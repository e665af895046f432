package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/topology"
)

// LambdaAPI is the part of the Lambda client a LambdaRedeliverer uses.
type LambdaAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ LambdaAPI = (*lambda.Client)(nil)

// KinesisAPI is the part of the Kinesis client a LambdaRedeliverer uses to
// re-read the batch of a Kinesis failure record.
type KinesisAPI interface {
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

var _ KinesisAPI = (*kinesis.Client)(nil)

// DefaultMaxPayloadBytes is the largest payload of an asynchronous
// invocation: 1 MB, Lambda's limit since 2025 (it was 256 KB before).
const DefaultMaxPayloadBytes = 1_000_000

// LambdaConfig configures a LambdaRedeliverer.
type LambdaConfig struct {
	// Topology declares the consumers: whether each reads the bus or the
	// stream (which shape of event its function takes), and a stream
	// consumer's filter. Required, validated.
	Topology *topology.Topology
	// Deployments gives each consumer's function and DLQ, as Outputs reads
	// them from the stack. A consumer without one cannot be redelivered
	// to. The DLQ names the consumer of a message that does not say (an
	// EventBridge DLQ message whose attributes were lost).
	Deployments []Deployment
	// MaxPayloadBytes is the largest payload Lambda takes for an
	// asynchronous invocation. Default DefaultMaxPayloadBytes; set 262144
	// where the old 256 KB limit holds.
	MaxPayloadBytes int
	// Region and Account fill the "region" and "account" of the
	// EventBridge events built for troupe's dead letters (and a Kinesis
	// record's awsRegion when its stream ARN does not say). Consumers do not
	// read them; NewLambdaRedelivererFromConfig sets Region from the AWS
	// configuration.
	Region, Account string
}

// SetDefaults fills in what was left empty.
func (c *LambdaConfig) SetDefaults() {
	if c.MaxPayloadBytes == 0 {
		c.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
}

// Validate reports what is wrong with the configuration.
func (c LambdaConfig) Validate() error {
	if c.Topology == nil {
		return errors.New("redrive: LambdaConfig.Topology is required: the declaration the stack was deployed from")
	}
	var errs []error
	if err := c.Topology.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("redrive: LambdaConfig.Topology: %w", err))
	}
	if len(c.Deployments) == 0 {
		errs = append(errs, errors.New("redrive: LambdaConfig.Deployments is empty: give each consumer's function (redrive.Outputs reads them from the stack)"))
	}
	consumers, functions := map[string]bool{}, map[string]string{}
	for _, d := range c.Deployments {
		if _, err := c.Topology.Consumer(d.Consumer); err != nil {
			errs = append(errs, fmt.Errorf("redrive: LambdaConfig.Deployments: %w", err))
			continue
		}
		if consumers[d.Consumer] {
			errs = append(errs, fmt.Errorf("redrive: LambdaConfig.Deployments: consumer %q appears twice", d.Consumer))
		}
		consumers[d.Consumer] = true
		fn := functionName(d.FunctionName)
		if fn == "" {
			errs = append(errs, fmt.Errorf("redrive: LambdaConfig.Deployments: consumer %q has no function name", d.Consumer))
			continue
		}
		if other, ok := functions[fn]; ok {
			errs = append(errs, fmt.Errorf("redrive: LambdaConfig.Deployments: consumers %q and %q have the same function %q", other, d.Consumer, fn))
		}
		functions[fn] = d.Consumer
	}
	if c.MaxPayloadBytes < 1024 {
		errs = append(errs, fmt.Errorf("redrive: LambdaConfig.MaxPayloadBytes %d: at least 1024 (Lambda takes 1 MB)", c.MaxPayloadBytes))
	}
	return errors.Join(errs...)
}

// target is one consumer and its function.
type target struct {
	consumer *topology.Consumer
	function string // name or ARN, as given
	queue    string
}

func (t *target) kind() string {
	if t.consumer.OnBus() {
		return "bus"
	}
	return "stream"
}

// LambdaRedeliverer hands a dead letter's event to the function of the
// consumer that failed it, with one asynchronous invocation (several for a
// Kinesis batch too large for one): see the package comment. It implements
// dlq.Redeliverer and is safe for concurrent use.
type LambdaRedeliverer struct {
	lambda  LambdaAPI
	kinesis KinesisAPI
	cfg     LambdaConfig

	byConsumer map[string]*target
	byFunction map[string]*target // function name (the name part of an ARN)
	byQueue    map[string]*target
}

var _ dlq.Redeliverer = (*LambdaRedeliverer)(nil)

// NewLambdaRedeliverer returns a redeliverer that invokes functions through
// lambdaAPI and re-reads Kinesis batches through kinesisAPI (nil: Kinesis
// failure records are not redelivered, with an error that says so).
func NewLambdaRedeliverer(lambdaAPI LambdaAPI, kinesisAPI KinesisAPI, cfg LambdaConfig) (*LambdaRedeliverer, error) {
	if lambdaAPI == nil {
		return nil, errors.New("redrive: NewLambdaRedeliverer: lambdaAPI is nil: pass a *lambda.Client")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &LambdaRedeliverer{
		lambda: lambdaAPI, kinesis: kinesisAPI, cfg: cfg,
		byConsumer: map[string]*target{}, byFunction: map[string]*target{}, byQueue: map[string]*target{},
	}
	for _, d := range cfg.Deployments {
		c, _ := cfg.Topology.Consumer(d.Consumer)
		t := &target{consumer: c, function: d.FunctionName, queue: d.DLQURL}
		r.byConsumer[c.Name] = t
		r.byFunction[functionName(d.FunctionName)] = t
		if d.DLQURL != "" {
			r.byQueue[d.DLQURL] = t
		}
	}
	return r, nil
}

// NewLambdaRedelivererFromConfig returns a redeliverer with Lambda and
// Kinesis clients built from awsCfg; cfg.Region defaults to awsCfg.Region.
func NewLambdaRedelivererFromConfig(awsCfg aws.Config, cfg LambdaConfig) (*LambdaRedeliverer, error) {
	if cfg.Region == "" {
		cfg.Region = awsCfg.Region
	}
	return NewLambdaRedeliverer(lambda.NewFromConfig(awsCfg), kinesis.NewFromConfig(awsCfg), cfg)
}

// Redeliver invokes the function of the consumer that failed e's event,
// asynchronously, with the event as the consumer's trigger sends it (see the
// package comment), and returns nil once Lambda acknowledged every
// invocation (202). It wraps ErrNotRedeliverable for a message no
// redelivery can help and ErrPastRetention for Kinesis records the stream
// no longer holds; any other error (Lambda refused or did not answer) may
// pass on a second try. When a Kinesis batch takes several invocations and
// one fails, the ones before it were queued: a second replay queues them
// again, which the consumer's idempotency makes harmless. Cancelling ctx
// abandons the call.
func (r *LambdaRedeliverer) Redeliver(ctx context.Context, e dlq.Entry) error {
	m, err := message(e)
	if err != nil {
		return err
	}
	t, err := r.target(e, m)
	if err != nil {
		return err
	}
	var payloads [][]byte
	switch m.Shape {
	case dlq.ShapeTroupe:
		p, err := r.troupePayload(t, m)
		if err != nil {
			return fmt.Errorf("redrive: message %s: %w", e.ID, err)
		}
		payloads = [][]byte{p}
	case dlq.ShapeEventBridgeTarget:
		if !t.consumer.OnBus() {
			return fmt.Errorf("%w: message %s is an EventBridge DLQ message, but consumer %s reads the stream: "+
				"it did not come from this consumer's rule", ErrNotRedeliverable, e.ID, t.consumer.Name)
		}
		payloads = [][]byte{[]byte(e.Body)}
	case dlq.ShapeLambdaDestination:
		p, err := requestPayload(e.Body)
		if err != nil {
			return fmt.Errorf("%w: message %s: %v", ErrNotRedeliverable, e.ID, err)
		}
		payloads = [][]byte{p}
	case dlq.ShapeKinesisFailure:
		if payloads, err = r.kinesisPayloads(ctx, t, m); err != nil {
			return fmt.Errorf("redrive: message %s: %w", e.ID, err)
		}
	default:
		return fmt.Errorf("%w: message %s has shape %q, which this version does not redeliver", ErrNotRedeliverable, e.ID, m.Shape)
	}
	for i, p := range payloads {
		if err := r.invoke(ctx, t, p); err != nil {
			if len(payloads) > 1 {
				return fmt.Errorf("redrive: message %s: invocation %d of %d: %w (the %d before it were queued; "+
					"a second replay queues them again, which idempotency makes harmless)", e.ID, i+1, len(payloads), err, i)
			}
			return fmt.Errorf("redrive: message %s: %w", e.ID, err)
		}
	}
	return nil
}

// message returns e's decoded message.
func message(e dlq.Entry) (dlq.Message, error) {
	if e.Err != nil {
		return dlq.Message{}, fmt.Errorf("%w: message %s could not be read: %v", ErrNotRedeliverable, e.ID, e.Err)
	}
	if e.Message.Shape != "" {
		return e.Message, nil
	}
	m, err := dlq.Decode(e.Body, e.Attributes)
	if err != nil {
		return dlq.Message{}, fmt.Errorf("%w: message %s could not be read: %v", ErrNotRedeliverable, e.ID, err)
	}
	return m, nil
}

// target finds the consumer that failed m: troupe's shape names it; the AWS
// shapes name its function; a message that names neither belongs to the
// consumer whose DLQ it is in.
func (r *LambdaRedeliverer) target(e dlq.Entry, m dlq.Message) (*target, error) {
	if m.Shape == dlq.ShapeTroupe {
		if t := r.byConsumer[m.Consumer]; t != nil {
			return t, nil
		}
		if _, err := r.cfg.Topology.Consumer(m.Consumer); err != nil {
			return nil, fmt.Errorf("%w: message %s is a dead letter of consumer %q, which topology %s does not declare "+
				"(consumers: %s)", ErrNotRedeliverable, e.ID, m.Consumer, r.cfg.Topology.Name, r.consumerList())
		}
		return nil, fmt.Errorf("%w: message %s is a dead letter of consumer %q, whose function is not known: "+
			"give its Deployment (the stack's %sFunctionName output)", ErrNotRedeliverable, e.ID, m.Consumer, stackID(m.Consumer))
	}
	if m.Consumer != "" {
		if t := r.byFunction[m.Consumer]; t != nil {
			return t, nil
		}
		return nil, fmt.Errorf("%w: message %s was failed by function %q, which is none of the consumers' "+
			"functions (%s): it is not from this stack", ErrNotRedeliverable, e.ID, m.Consumer, r.functionList())
	}
	if t := r.byQueue[e.Queue]; t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("%w: message %s (%s) names no function, and its queue %q is none of the consumers' DLQs: "+
		"the consumer that failed it is unknown", ErrNotRedeliverable, e.ID, m.Shape, e.Queue)
}

// troupePayload builds the event of a troupe dead letter as the consumer's
// trigger sends it.
func (r *LambdaRedeliverer) troupePayload(t *target, m dlq.Message) ([]byte, error) {
	if m.Event == nil {
		return nil, fmt.Errorf("%w: the dead letter of consumer %s holds the payload as received (%d bytes), which never "+
			"decoded as an event (%s: %s): there is no event to redeliver. Read it with `troupe dlq show`, fix what "+
			"produced it, and publish a corrected event", ErrNotRedeliverable, m.Consumer, len(m.Raw), m.Reason, m.Error)
	}
	if t.consumer.OnBus() {
		return busEvent(*m.Event, r.cfg.Region, r.cfg.Account)
	}
	return streamEvent(*m.Event, m.Origin, r.cfg.Region)
}

// requestPayload returns the requestPayload of a Lambda destination record,
// as it is.
func requestPayload(body string) ([]byte, error) {
	var rec struct {
		RequestPayload json.RawMessage `json:"requestPayload"`
	}
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		return nil, fmt.Errorf("the Lambda destination record is not JSON: %v", err)
	}
	if len(rec.RequestPayload) == 0 || string(rec.RequestPayload) == "null" {
		return nil, errors.New("the Lambda destination record has no requestPayload: the invocation's event is not in it " +
			"(Lambda leaves it out when it is too large), so there is nothing to redeliver")
	}
	return rec.RequestPayload, nil
}

// invoke makes one asynchronous invocation and checks it was queued.
func (r *LambdaRedeliverer) invoke(ctx context.Context, t *target, payload []byte) error {
	if len(payload) > r.cfg.MaxPayloadBytes {
		return fmt.Errorf("%w: the %s event for function %s is %d bytes, over Lambda's %d-byte limit for an asynchronous "+
			"invocation (MaxPayloadBytes)", ErrNotRedeliverable, t.kind(), t.function, len(payload), r.cfg.MaxPayloadBytes)
	}
	what := fmt.Sprintf("lambda Invoke (Event) of function %s (consumer %s)", t.function, t.consumer.Name)
	out, err := r.lambda.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(t.function),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        payload,
	})
	if err != nil {
		return translateLambda(ctx, err, what, len(payload))
	}
	if out.StatusCode != 202 {
		return fmt.Errorf("%s: Lambda answered status %d, not 202: the event is not known to be queued, so the message is kept",
			what, out.StatusCode)
	}
	return nil
}

func translateLambda(ctx context.Context, err error, what string, size int) error {
	if t := translateCommon(ctx, err, what, "lambda:InvokeFunction"); t != nil {
		return t
	}
	code, msg, _ := apiError(err)
	switch code {
	case "ResourceNotFoundException":
		return fmt.Errorf("%s: no such function in this account and region: check the stack's <Consumer>FunctionName "+
			"outputs, the region and the credentials (%s: %s)", what, code, msg)
	case "RequestTooLargeException":
		return fmt.Errorf("%w: %s: Lambda refused %d bytes as too large: lower LambdaConfig.MaxPayloadBytes to the "+
			"account's limit (%s: %s)", ErrNotRedeliverable, what, size, code, msg)
	case "ResourceConflictException", "ResourceNotReadyException":
		return fmt.Errorf("%s: the function is being updated or is not ready: try again in a minute (%s: %s)", what, code, msg)
	}
	return fmt.Errorf("%s: rejected (%s: %s)", what, code, msg)
}

func (r *LambdaRedeliverer) consumerList() string {
	names := make([]string, len(r.cfg.Topology.Consumers))
	for i, c := range r.cfg.Topology.Consumers {
		names[i] = c.Name
	}
	return list(names)
}

func (r *LambdaRedeliverer) functionList() string {
	names := make([]string, 0, len(r.byFunction))
	for fn, t := range r.byFunction {
		names = append(names, fn+" ("+t.consumer.Name+")")
	}
	sort.Strings(names)
	return list(names)
}

// functionName returns the name of a function given by name or ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]).
func functionName(s string) string {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ":")
	if len(parts) >= 7 && parts[0] == "arn" && parts[5] == "function" {
		return parts[6]
	}
	return s
}

func stackID(consumer string) string {
	c := topology.Consumer{Name: consumer}
	return c.StackID()
}
