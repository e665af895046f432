// Package ingest is how other systems publish to the embedded engine behind
// `troupe dev`: HTTP handlers in front of the engine's bus and stream.
//
// Two handlers, each meant for its own listener (or path) on 127.0.0.1:
//
//   - NewAWS speaks the AWS JSON 1.1 protocol of EventBridge and Kinesis on
//     one endpoint, so any AWS SDK or the AWS CLI publishes to the engine with
//     an endpoint override (--endpoint-url, BaseEndpoint, endpoint_url):
//     PutEvents, PutRecord, PutRecords, and the DescribeEventBus,
//     DescribeStreamSummary and ListShards calls that SDKs, the CLI and
//     troupe's own producers make to check that a bus or stream exists.
//   - NewCloudEvents takes CloudEvents 1.0 in the HTTP binding's structured
//     mode (application/cloudevents+json, one event) and batched mode
//     (application/cloudevents-batch+json, a JSON array), each event a troupe
//     envelope, and publishes them to both legs through a Publisher.
//
// # What is checked, and how it is told
//
// Both handlers check every troupe envelope (a JSON object with
// "specversion") as strictly as the consumer runtime will: events.Decode, then
// the schema of its type and version. An envelope that would be dead-lettered
// by every consumer fails at the door instead, with a message that names the
// attribute or the JSON pointer inside the data, and a bad event never blocks
// the good ones sent beside it.
//
// Plain JSON from a system that knows nothing of troupe is accepted on the
// bus as is (the consumer runtime wraps it: type = DetailType, source =
// Source, id = the event id), as on AWS. On the stream, Data that is not a
// troupe envelope is accepted as Kinesis accepts any bytes; troupe's stream
// consumers expect envelopes and dead-letter anything else.
//
// Where AWS would answer success and drop the event (PutEvents to a bus that
// does not exist), the engine tells: the entry fails with
// ResourceNotFoundException.
//
// Nothing here checks SigV4 signatures: any Authorization header, or none, is
// accepted. Bind the listener to 127.0.0.1.
package ingest
