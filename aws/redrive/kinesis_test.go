package redrive_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/troupehq/troupe/aws/redrive"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/internal/awstest"
)

// stream makes a one-shard stream holding n records, each a small
// envelope-like JSON of the given type (types[i % len(types)]) padded to
// pad bytes, and returns its ARN and the records as the stream holds them.
func stream(t *testing.T, n, pad int, types ...string) (string, []awstest.Record) {
	t.Helper()
	cfg := awstest.Config(t)
	name := awstest.NewStream(t, cfg, 1)
	kc := kinesis.NewFromConfig(cfg)
	in := &kinesis.PutRecordsInput{StreamName: aws.String(name)}
	for i := range n {
		data := fmt.Sprintf(`{"specversion":"1.0","id":"e-%d","type":%q,"data":{"n":%d,"pad":%q}}`,
			i, types[i%len(types)], i, strings.Repeat("x", pad))
		in.Records = append(in.Records, kintypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("key-%d", i)), Data: []byte(data)})
	}
	out, err := kc.PutRecords(ctxT(t), in)
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("put records: %v (%d failed)", err, aws.ToInt32(out.FailedRecordCount))
	}
	sum, err := kc.DescribeStreamSummary(ctxT(t), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	recs := awstest.ReadStream(t, cfg, name)
	if len(recs) != n {
		t.Fatalf("the stream holds %d records, want %d", len(recs), n)
	}
	return aws.ToString(sum.StreamDescriptionSummary.StreamARN), recs
}

// failureRecord is the sample Kinesis failure record, for function fn and
// the batch from recs[first] to recs[last] of the stream.
func failureRecord(t *testing.T, fn, streamARN string, recs []awstest.Record, first, last string) string {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal([]byte(sample(t, "foreign/kinesis-failure.json")), &rec); err != nil {
		t.Fatal(err)
	}
	rec["requestContext"].(map[string]any)["functionArn"] = "arn:aws:lambda:us-east-1:123456789012:function:" + fn
	b := rec["KinesisBatchInfo"].(map[string]any)
	b["streamArn"], b["shardId"], b["startSequenceNumber"], b["endSequenceNumber"] = streamARN, recs[0].ShardID, first, last
	body, _ := json.Marshal(rec)
	return string(body)
}

// records decodes the Kinesis events of invocations into their records, in
// order.
func records(t *testing.T, invs []invocation) []awsevents.KinesisEventRecord {
	t.Helper()
	var all []awsevents.KinesisEventRecord
	for _, inv := range invs {
		var ev awsevents.KinesisEvent
		if err := json.Unmarshal(inv.Payload, &ev); err != nil {
			t.Fatalf("payload is not a Kinesis event: %v: %s", err, inv.Payload)
		}
		all = append(all, ev.Records...)
	}
	return all
}

// checkRecords compares what was invoked with the stream's records.
func checkRecords(t *testing.T, got []awsevents.KinesisEventRecord, want []awstest.Record, streamARN string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records invoked, want %d", len(got), len(want))
	}
	for i, r := range got {
		w := want[i]
		if r.Kinesis.SequenceNumber != w.SequenceNumber || r.Kinesis.PartitionKey != w.PartitionKey ||
			string(r.Kinesis.Data) != string(w.Data) || r.EventID != w.ShardID+":"+w.SequenceNumber ||
			r.EventSourceArn != streamARN || r.AwsRegion != "us-east-1" || r.EventSource != "aws:kinesis" ||
			r.EventName != consumers.ReplayEventName || r.Kinesis.KinesisSchemaVersion != "1.0" ||
			r.Kinesis.ApproximateArrivalTimestamp.IsZero() {
			t.Errorf("record %d: %+v, want sequence %s, key %s, data %s", i, r, w.SequenceNumber, w.PartitionKey, w.Data)
		}
	}
}

func TestKinesisFailureRecord(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	streamARN, recs := stream(t, 6, 10, "orders.OrderPlaced")
	queueURL := awstest.NewQueue(t, cfg)
	fn := newFunction(t, cfg, "inventory")
	send(t, cfg, queueURL, failureRecord(t, fn, streamARN, recs, recs[1].SequenceNumber, recs[4].SequenceNumber), nil)

	q := newQueue(t, cfg, queueURL)
	e := receiveOne(t, q, nil)
	if e.Message.Shape != dlq.ShapeKinesisFailure || e.Message.Consumer != fn {
		t.Fatalf("decoded %s of %q", e.Message.Shape, e.Message.Consumer)
	}
	rec := newRecorder()
	r := redeliverer(t, cfg, rec, shop(t), []redrive.Deployment{{Consumer: "inventory", DLQURL: queueURL, FunctionName: fn}})
	if err := r.Redeliver(ctxT(t), e); err != nil {
		t.Fatal(err)
	}
	invs := rec.invocations()
	if len(invs) != 1 {
		t.Fatalf("%d invocations, want 1 (the batch fits one)", len(invs))
	}
	checkInvocation(t, invs[0], fn)
	checkRecords(t, records(t, invs), recs[1:5], streamARN)
	deleteAndCheckEmpty(t, q, e)
}

// A batch too large for one invocation is split, in order, each part
// within the limit.
func TestKinesisFailureRecordSplit(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	streamARN, recs := stream(t, 12, 600, "orders.OrderPlaced")
	fn := newFunction(t, cfg, "inventory")
	body := failureRecord(t, fn, streamARN, recs, recs[0].SequenceNumber, recs[11].SequenceNumber)
	m, err := dlq.Decode(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 2048
	rec := newRecorder()
	r := redeliverer(t, cfg, rec, shop(t), []redrive.Deployment{{Consumer: "inventory", FunctionName: fn}},
		func(c *redrive.LambdaConfig) { c.MaxPayloadBytes = limit })
	if err := r.Redeliver(ctxT(t), dlq.Entry{ID: "m", Body: body, Message: m}); err != nil {
		t.Fatal(err)
	}
	invs := rec.invocations()
	if len(invs) < 3 {
		t.Errorf("%d invocations; 12 records of ~1 KB in 2 KB need more", len(invs))
	}
	for i, inv := range invs {
		checkInvocation(t, inv, fn)
		if len(inv.Payload) > limit {
			t.Errorf("invocation %d: %d bytes, over the %d limit", i, len(inv.Payload), limit)
		}
	}
	checkRecords(t, records(t, invs), recs, streamARN)

	// A record that cannot fit alone is refused before any invocation.
	rec = newRecorder()
	r = redeliverer(t, cfg, rec, shop(t), []redrive.Deployment{{Consumer: "inventory", FunctionName: fn}},
		func(c *redrive.LambdaConfig) { c.MaxPayloadBytes = 1024 })
	err = r.Redeliver(ctxT(t), dlq.Entry{ID: "m", Body: body, Message: m})
	if !errors.Is(err, redrive.ErrNotRedeliverable) || !strings.Contains(err.Error(), "1024-byte limit") {
		t.Errorf("error %v, want ErrNotRedeliverable naming the limit", err)
	}
	if n := len(rec.invocations()); n != 0 {
		t.Errorf("%d invocations, want none", n)
	}
}

// The records of the range the consumer's filter leaves out were never in
// the mapping's batch: they are not redelivered.
func TestKinesisFailureRecordFiltered(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	streamARN, recs := stream(t, 6, 10, "orders.OrderPlaced", "orders.OrderCancelled")
	fn := newFunction(t, cfg, "shipping")
	body := failureRecord(t, fn, streamARN, recs, recs[0].SequenceNumber, recs[4].SequenceNumber)
	rec := newRecorder()
	r := redeliverer(t, cfg, rec, shop(t), []redrive.Deployment{{Consumer: "shipping", FunctionName: fn}})
	if err := r.Redeliver(ctxT(t), dlq.Entry{ID: "m", Body: body}); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, records(t, rec.invocations()), []awstest.Record{recs[0], recs[2], recs[4]}, streamARN)
}

// Records the stream no longer holds cannot be redelivered: a clear error,
// no invocation, and the message stays in its queue.
func TestKinesisFailureRecordPastRetention(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	streamARN, recs := stream(t, 3, 10, "orders.OrderPlaced")
	queueURL := awstest.NewQueue(t, cfg)
	fn := newFunction(t, cfg, "inventory")
	// A batch that began before the shard's oldest record: trimmed. (moto's
	// sequence numbers count from 1 in each shard.)
	before := "0"
	if recs[0].SequenceNumber == before {
		t.Fatalf("the first sequence number is %s: pick another before it", before)
	}
	send(t, cfg, queueURL, failureRecord(t, fn, streamARN, recs, before, recs[1].SequenceNumber), nil)

	q := newQueue(t, cfg, queueURL)
	e := receiveOne(t, q, nil)
	rec := newRecorder()
	r := redeliverer(t, cfg, rec, shop(t), []redrive.Deployment{{Consumer: "inventory", DLQURL: queueURL, FunctionName: fn}})
	err := r.Redeliver(ctxT(t), e)
	if !errors.Is(err, redrive.ErrPastRetention) || !strings.Contains(err.Error(), "past the stream's retention") ||
		!strings.Contains(err.Error(), "the message is kept") {
		t.Errorf("error %v, want ErrPastRetention saying the records are past retention and the message is kept", err)
	}
	if n := len(rec.invocations()); n != 0 {
		t.Errorf("%d invocations, want none", n)
	}
	// The CLI releases what it did not delete: the message is still there.
	if err := q.Release(ctxT(t), []dlq.Entry{e}); err != nil {
		t.Fatal(err)
	}
	again := newQueue(t, cfg, queueURL)
	if got := receiveOne(t, again, nil); got.ID != e.ID {
		t.Errorf("after the release: message %s, want %s", got.ID, e.ID)
	}
}

// A stream that does not exist any more holds none of its records.
func TestKinesisFailureRecordStreamGone(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	useMotoLambda(t)
	recs := []awstest.Record{{ShardID: "shardId-000000000000", SequenceNumber: "1"}}
	body := failureRecord(t, "inventory-fn", "arn:aws:kinesis:us-east-1:123456789012:stream/"+awstest.Name(t, "gone"), recs, "1", "2")
	r := redeliverer(t, cfg, newRecorder(), shop(t), []redrive.Deployment{{Consumer: "inventory", FunctionName: "inventory-fn"}})
	err := r.Redeliver(ctxT(t), dlq.Entry{ID: "m", Body: body})
	if !errors.Is(err, redrive.ErrPastRetention) || !strings.Contains(err.Error(), "does not exist any more") {
		t.Errorf("error %v, want ErrPastRetention saying the stream or shard is gone", err)
	}
}
