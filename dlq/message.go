package dlq

import (
	"time"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/events"
)

// Shape names the kind of a DLQ message.
type Shape string

const (
	// ShapeTroupe is troupe's own dead letter (deadletter/v1): the event,
	// the consumer that failed it, the error and the attempts.
	ShapeTroupe Shape = "troupe"
	// ShapeEventBridgeTarget is a message an EventBridge rule's target DLQ
	// receives when EventBridge cannot deliver an event: the body is the
	// event, and the SQS message attributes ERROR_CODE, ERROR_MESSAGE,
	// RULE_ARN and TARGET_ARN say what failed.
	ShapeEventBridgeTarget Shape = "eventbridge-target"
	// ShapeLambdaDestination is the record a Lambda function's OnFailure
	// destination receives when an asynchronous invocation fails for good:
	// requestContext, requestPayload, responseContext, responsePayload.
	ShapeLambdaDestination Shape = "lambda-destination"
	// ShapeKinesisFailure is the record a Kinesis event source mapping's
	// OnFailure destination receives when it discards a batch: the shard and
	// sequence-number range, never the records themselves.
	ShapeKinesisFailure Shape = "kinesis-failure"
)

// Shapes lists the shapes Decode reads.
func Shapes() []Shape {
	return []Shape{ShapeTroupe, ShapeEventBridgeTarget, ShapeLambdaDestination, ShapeKinesisFailure}
}

// Message is one dead letter as the CLI shows and replays it, whatever its
// shape. Fields a shape does not carry are zero. A Message is a value: it is
// not shared by this package once returned.
type Message struct {
	Shape Shape `json:"shape"`

	// Consumer is the consumer that failed the event (troupe's shape), or
	// the name of the Lambda function that failed it (the AWS shapes: from
	// functionArn, or from TARGET_ARN when the target is a function; empty
	// otherwise). The CLI maps function names to consumers with the stack
	// outputs.
	Consumer string `json:"consumer,omitempty"`

	// Event is the envelope of the failed event when there is one: troupe's
	// envelope; for an EventBridge target DLQ message, the envelope the event
	// carries, or the foreign event wrapped as consumers.EnvelopeFromBus
	// wraps it; for a Lambda destination record, the same for its
	// requestPayload when that is an EventBridge event. Nil otherwise.
	Event *events.Envelope `json:"event,omitempty"`
	// Raw is the payload when there is no envelope: troupe's raw bytes, the
	// EventBridge event that could not be read as an envelope, or a Lambda
	// destination's requestPayload that is not an EventBridge event (as
	// JSON). Empty when Event is set, and for Kinesis failures (see Kinesis).
	Raw []byte `json:"raw,omitempty"`

	// Error is the last error as text: troupe's error; ERROR_MESSAGE (else
	// ERROR_CODE); the Lambda function's errorMessage (else a description
	// of responseContext).
	Error string `json:"error,omitempty"`
	// Reason classifies the failure: troupe's reason ("handler", "decode",
	// ...); EventBridge's ERROR_CODE (e.g. "SDK_CLIENT_ERROR",
	// "NO_PERMISSIONS"); the record's requestContext.condition for the
	// Lambda shapes (e.g. "RetriesExhausted", "EventAgeExceeded",
	// "RetryAttemptsExhausted").
	Reason string `json:"reason,omitempty"`
	// Attempts counts tries: troupe's handler runs; EventBridge's delivery
	// attempts (RETRY_ATTEMPTS + 1, when the attribute is present; the
	// handler never ran); Lambda's approximateInvokeCount.
	Attempts int `json:"attempts"`
	// FirstFailure is known for troupe's shape only.
	FirstFailure time.Time `json:"firstFailure,omitzero"`
	// LastFailure is troupe's lastFailure, or the record's timestamp for the
	// Lambda shapes. An EventBridge DLQ message carries no failure time:
	// LastFailure is zero, and the CLI may set it from the SQS message's
	// SentTimestamp.
	LastFailure time.Time `json:"lastFailure,omitzero"`
	// Origin says where the event came from: troupe's origin; Source "bus"
	// (and Rule, the rule's name) for EventBridge DLQ messages and for
	// Lambda records whose payload is an EventBridge event; Source "stream"
	// with the stream's ARN, the shard and the batch's first sequence number
	// for Kinesis failures.
	Origin consumers.Origin `json:"origin,omitzero"`

	// RuleARN and TargetARN are the RULE_ARN and TARGET_ARN attributes of
	// an EventBridge DLQ message.
	RuleARN   string `json:"ruleArn,omitempty"`
	TargetARN string `json:"targetArn,omitempty"`
	// FunctionARN and RequestID come from the requestContext of the Lambda
	// shapes. FunctionARN may end with a qualifier (":$LATEST", an alias).
	FunctionARN string `json:"functionArn,omitempty"`
	RequestID   string `json:"requestId,omitempty"`
	// Kinesis is the failed batch of a Kinesis failure record. The record
	// has no payload: replaying means re-reading the range from the stream
	// (GetShardIterator AT_SEQUENCE_NUMBER StartSequenceNumber, up to
	// EndSequenceNumber), which works only while the stream retains it.
	Kinesis *KinesisRange `json:"kinesis,omitempty"`
}

// KinesisRange is the batch a Kinesis event source mapping discarded.
type KinesisRange struct {
	StreamARN           string `json:"streamArn"`
	ShardID             string `json:"shardId"`
	StartSequenceNumber string `json:"startSequenceNumber"`
	EndSequenceNumber   string `json:"endSequenceNumber"`
	BatchSize           int    `json:"batchSize"`
	// FirstArrival and LastArrival are the approximate arrival times of the
	// first and last records of the batch.
	FirstArrival time.Time `json:"firstArrival,omitzero"`
	LastArrival  time.Time `json:"lastArrival,omitzero"`
}

// FromDeadLetter is the view of a troupe dead letter already decoded, such
// as one the local engine's queue (troupe dev) keeps.
func FromDeadLetter(dl consumers.DeadLetter) Message {
	return Message{
		Shape:        ShapeTroupe,
		Consumer:     dl.Consumer,
		Event:        dl.Envelope,
		Raw:          dl.Raw,
		Error:        dl.Error,
		Reason:       dl.Reason,
		Attempts:     dl.Attempts,
		FirstFailure: dl.FirstFailure,
		LastFailure:  dl.LastFailure,
		Origin:       dl.Origin,
	}
}
