package consumers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	awsevents "github.com/aws/aws-lambda-go/events"
)

// LambdaBus is the Lambda handler of a bus consumer: EventBridge invokes it
// asynchronously with one event. Its error makes Lambda retry the event and,
// after the retries, send it to the OnFailure destination.
func (r *Runtime) LambdaBus(ctx context.Context, event json.RawMessage) error {
	return r.HandleBusEvent(ctx, event)
}

// ReplayEventName is the eventName of the Kinesis event records a DLQ
// replay (`troupe dlq replay`) invokes a stream consumer's function with,
// asynchronously, in place of Lambda's "aws:kinesis:record".
const ReplayEventName = "troupe:replay"

// ErrReplayNotDone is LambdaStream's error for a replay it could not finish.
var ErrReplayNotDone = errors.New("replayed records were neither handled nor dead-lettered")

// LambdaStream is the Lambda handler of a stream consumer behind a Kinesis
// event source mapping with ReportBatchItemFailures: it returns the records
// to deliver again, never an error for the batch as a whole. A replay (every
// record named ReplayEventName: an asynchronous invocation, whose response
// no one reads) is the exception: records it could neither handle nor
// dead-letter make it fail with ErrReplayNotDone, so that Lambda's
// asynchronous retries and then the function's OnFailure destination take
// them.
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
	if len(resp.BatchItemFailures) > 0 && isReplay(event) {
		return resp, fmt.Errorf("consumer %s: %d of %d: %w", r.consumer.Name, len(resp.BatchItemFailures), len(records), ErrReplayNotDone)
	}
	return resp, nil
}

func isReplay(event awsevents.KinesisEvent) bool {
	for _, rec := range event.Records {
		if rec.EventName != ReplayEventName {
			return false
		}
	}
	return len(event.Records) > 0
}

// shardOf returns the shard id of a Kinesis event record's eventID,
// "shardId-000000000000:4954...".
func shardOf(eventID string) string {
	shard, _, _ := strings.Cut(eventID, ":")
	return shard
}
