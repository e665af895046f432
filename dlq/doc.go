// Package dlq reads dead letters, whatever wrote them, into one view for the
// `troupe dlq` CLI to list, filter and replay.
//
// A dead-letter queue of a troupe stack holds messages in four shapes
// (see Shape): troupe's own dead letter (format deadletter/v1, written by
// aws/deadletter or kept by the local engine's queue), an EventBridge target
// DLQ message, a Lambda asynchronous invocation destination record, and a
// Kinesis event source mapping OnFailure record. Decode detects the shape of
// an SQS message and returns a Message; FromDeadLetter turns a dead letter
// the local engine already decoded into the same view. A Selector picks
// messages by consumer, event pattern and time.
//
// What each shape can tell differs, and Message says so field by field. Two
// limits matter to a replay:
//
//   - Only troupe's shape names the consumer. For the three AWS shapes,
//     Message.Consumer is the name of the Lambda function that failed (from
//     the record's functionArn, or the TARGET_ARN of an EventBridge DLQ
//     message), or empty when the target is not a function. The CLI maps
//     function names to consumers with the stack outputs.
//   - A Kinesis failure record carries no payload, only the shard and the
//     sequence-number range of the failed batch (Message.Kinesis): the
//     records must be re-read from the stream, which is possible only while
//     the stream still retains them.
//
// Decode never panics and never guesses: a body in none of the four shapes
// is an error wrapping ErrUnknownShape that says, for each shape, why the
// body does not fit. The CLI reports such a message and leaves it in the
// queue.
package dlq
