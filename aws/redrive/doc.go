// Package redrive is the AWS side of `troupe dlq`: it reads a consumer's
// dead-letter queue (SQSQueue, a dlq.Queue over SQS), hands a dead letter's
// event back to the consumer that failed it (LambdaRedeliverer, a
// dlq.Redeliverer), and finds each consumer's queue and function in a
// deployed stack (Outputs).
//
// # How a dead letter is redelivered
//
// LambdaRedeliverer invokes the failed consumer's Lambda function
// asynchronously (InvocationType Event) with the event in the shape the
// consumer's trigger sends it:
//
//   - a bus consumer gets an EventBridge event, as a rule target receives
//     it;
//   - a stream consumer gets a Kinesis event (Records[].kinesis, the data
//     in base64), as its event source mapping sends it.
//
// This reaches the one consumer that failed and no other: putting the event
// back on the bus or the stream would deliver it to every subscriber again.
// It needs no change to rules or mappings. The replay keeps Lambda's
// asynchronous retries, and a bus consumer keeps its OnFailure destination
// (the same DLQ), so a replay that fails again comes back as a dead letter.
// The idempotency key (the event's id) makes a second replay of the same
// event harmless. Lambda answers 202 once it has queued the invocation: that
// is the acknowledgement after which the CLI deletes the message.
//
// What is invoked, per shape of dead letter (see dlq.Shape):
//
//   - troupe's own: the envelope, as an EventBridge event built as the bus
//     leg of a publish builds it (producers.Entries, and the event a target
//     receives, local/bus.Event), for a bus consumer; as a Kinesis event of
//     one record (the partition key of producers.Entries; the shard,
//     sequence number and stream ARN of the dead letter's origin where it
//     knows them) for a stream consumer. A dead letter whose payload never
//     decoded (raw bytes) cannot be redelivered: ErrNotRedeliverable.
//   - an EventBridge target DLQ message: its body, which is the event, as
//     it is.
//   - a Lambda destination record: its requestPayload, as it is.
//   - a Kinesis mapping failure record: the records of the failed batch,
//     re-read from the stream (GetShardIterator AT_SEQUENCE_NUMBER the
//     batch's first, GetRecords up to its last), filtered by the consumer's
//     stream filter as the mapping filters them, in as many invocations as
//     Lambda's payload limit needs. Records the stream no longer holds
//     (past its retention) are ErrPastRetention, and the message is kept.
//
// A redelivery of a stream consumer's records is an asynchronous
// invocation, not a mapping's batch: the runtime still retries each record
// and writes the ones that keep failing to the consumer's DLQ, but a record
// it cannot write there (the batch item failures it returns) is not retried
// by Lambda, and the stack configures no asynchronous OnFailure destination
// for stream consumers.
//
// # Reading a queue
//
// SQSQueue receives up to 10 messages per ReceiveMessage, with every message
// attribute and SentTimestamp, hiding them for a visibility timeout (60 s
// by default) so that a reader that dies loses nothing: SQS gives them back
// on its own. SQS does not say when a queue is empty: a receive may come
// back empty while messages remain (a short poll samples a few servers;
// messages in flight are invisible). SQSQueue long-polls (1 s by default,
// which asks every server) and ends a pass only after two receives in a row
// come back empty. See QueueConfig.
package redrive
