package redrive

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/events"
	localbus "github.com/troupehq/troupe/local/bus"
	"github.com/troupehq/troupe/producers"
)

// busEvent is the EventBridge event a rule target receives for e, built as
// a publish builds it: the bus entry of producers.Entries (the envelope as
// the detail, its type as the detail-type, its source and time), in the
// event a target receives (local/bus.Event: EventBridge's fields, in its
// order, "<", ">" and "&" unescaped). The event's id is the envelope's id.
func busEvent(e events.Envelope, region, account string) ([]byte, error) {
	entry, _, err := producers.Entries(e)
	if err != nil {
		return nil, err
	}
	t := entry.Time
	if t.IsZero() {
		t = time.Now()
	}
	res := entry.Resources
	if res == nil {
		res = []string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err = enc.Encode(localbus.Event{
		Version: "0", ID: e.ID, DetailType: entry.DetailType, Source: entry.Source, Account: account,
		Time: t.UTC().Format(localbus.TimeFormat), Region: region, Resources: res, Detail: entry.Detail,
	})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// Fields of a Kinesis event record, as Lambda writes them, but for the
// event name: a replay says it is one (consumers.ReplayEventName), so that
// the function reports a record it could neither handle nor dead-letter as an
// error, which Lambda's asynchronous retries and OnFailure destination then
// take, instead of as a batch item failure no one reads.
const (
	kinesisEventName     = consumers.ReplayEventName
	kinesisEventSource   = "aws:kinesis"
	kinesisEventVersion  = "1.0"
	kinesisSchemaVersion = "1.0"
)

// streamEvent is the Kinesis event of one record carrying e, as the
// consumer's event source mapping sends it: the stream record of
// producers.Entries (the envelope as the data, its partition key), at the
// shard and sequence number of the dead letter's origin, from the origin's
// stream when that is an ARN. The arrival time is not in a dead letter: it
// is the event's time.
func streamEvent(e events.Envelope, o consumers.Origin, region string) ([]byte, error) {
	_, rec, err := producers.Entries(e)
	if err != nil {
		return nil, err
	}
	arrival := e.Time
	if arrival.IsZero() {
		arrival = time.Now()
	}
	var arn string
	if strings.HasPrefix(o.Stream, "arn:") {
		arn = o.Stream
	}
	r := kinesisRecord(arn, o.Shard, region, awsevents.KinesisRecord{
		ApproximateArrivalTimestamp: awsevents.SecondsEpochTime{Time: arrival},
		Data:                        rec.Data,
		PartitionKey:                rec.PartitionKey,
		SequenceNumber:              o.SequenceNumber,
	})
	return json.Marshal(awsevents.KinesisEvent{Records: []awsevents.KinesisEventRecord{r}})
}

// kinesisRecord wraps a record as a Kinesis event record from the stream
// streamARN and shard.
func kinesisRecord(streamARN, shard, region string, k awsevents.KinesisRecord) awsevents.KinesisEventRecord {
	if r := arnRegion(streamARN); r != "" {
		region = r
	}
	k.KinesisSchemaVersion = kinesisSchemaVersion
	id := k.SequenceNumber
	if shard != "" {
		id = shard + ":" + k.SequenceNumber
	}
	return awsevents.KinesisEventRecord{
		AwsRegion:      region,
		EventID:        id,
		EventName:      kinesisEventName,
		EventSource:    kinesisEventSource,
		EventSourceArn: streamARN,
		EventVersion:   kinesisEventVersion,
		Kinesis:        k,
	}
}

// arnRegion returns the region of an ARN, or "".
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}
