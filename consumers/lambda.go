package consumers

import (
	"context"
	"encoding/json"
	"strings"

	awsevents "github.com/aws/aws-lambda-go/events"
)

// LambdaBus is the Lambda handler of a bus consumer: EventBridge invokes it
// asynchronously with one event. Its error makes Lambda retry the event and,
// after the retries, send it to the OnFailure destination.
func (r *Runtime) LambdaBus(ctx context.Context, event json.RawMessage) error {
	return r.HandleBusEvent(ctx, event)
}

// LambdaStream is the Lambda handler of a stream consumer behind a Kinesis
// event source mapping with ReportBatchItemFailures: it returns the records
// to deliver again, never an error for the batch as a whole.
func (r *Runtime) LambdaStream(ctx context.Context, event awsevents.KinesisEvent) (awsevents.KinesisEventResponse, error) {
	records := make([]StreamRecord, len(event.Records))
	for i, rec := range event.Records {
		records[i] = StreamRecord{
			Stream:         rec.EventSourceArn,
			Shard:          shardOf(rec.EventID),
			SequenceNumber: rec.Kinesis.SequenceNumber,
			PartitionKey:   rec.Kinesis.PartitionKey,
			Data:           rec.Kinesis.Data,
		}
	}
	var resp awsevents.KinesisEventResponse
	for _, seq := range r.HandleStreamBatch(ctx, records) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.KinesisBatchItemFailure{ItemIdentifier: seq})
	}
	return resp, nil
}

// shardOf returns the shard id of a Kinesis event record's eventID,
// "shardId-000000000000:4954...".
func shardOf(eventID string) string {
	shard, _, _ := strings.Cut(eventID, ":")
	return shard
}
