package ingest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	smithy "github.com/aws/smithy-go"

	awsbus "github.com/troupehq/troupe/aws/bus"
	awsstream "github.com/troupehq/troupe/aws/stream"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

func sdkConfig() aws.Config {
	return aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func (r *awsRig) eventbridge() *eventbridge.Client {
	return eventbridge.NewFromConfig(sdkConfig(), func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(r.url) })
}

func (r *awsRig) kinesis() *kinesis.Client {
	return kinesis.NewFromConfig(sdkConfig(), func(o *kinesis.Options) { o.BaseEndpoint = aws.String(r.url) })
}

func apiCode(t *testing.T, err error) (code, msg string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want an AWS API error, got %v", err)
	}
	return apiErr.ErrorCode(), apiErr.ErrorMessage()
}

func TestSDKPutEvents(t *testing.T) {
	t.Parallel()
	rig := newAWSRig(t)
	ctx := context.Background()
	when := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	entry := func(bus, detailType, detail string) ebtypes.PutEventsRequestEntry {
		e := ebtypes.PutEventsRequestEntry{Source: aws.String("test.sdk"), DetailType: aws.String(detailType), Detail: aws.String(detail), Time: &when}
		if bus != "" {
			e.EventBusName = aws.String(bus)
		}
		return e
	}
	arn := "arn:aws:events:" + testRegion + ":" + testAccount + ":event-bus/" + testBus
	out, err := rig.eventbridge().PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		entry("", "orders.OrderCancelled", cancelled("e0")),                 // 0 troupe envelope, no bus name
		entry(testBus, "legacy.CustomerCreated", `{"customer":"c1"}`),       // 1 plain data from a foreign system
		entry("orders-elsewhere", "orders.OrderCancelled", cancelled("e2")), // 2 unknown bus
		entry(arn, "orders.OrderCancelled", badCancelled("e3")),             // 3 invalid envelope, by ARN
		entry("default", "orders.OrderCancelled", cancelled("e4")),          // 4 default bus
		entry("", "orders.OrderCancelled", `{"orderId":`),                   // 5 malformed
		entry("", "orders.OrderPlaced", cancelled("e6")),                    // 6 DetailType differs from type
		{Source: aws.String("test.sdk"), Detail: aws.String(`{}`)},          // 7 no DetailType
		entry(arn, "legacy.Thing", `{"dataversion":"two"}`),                 // 8 foreign with a bad dataversion
	}})
	if err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	want := []struct {
		ok            bool
		code, msgPart string
	}{
		{ok: true},
		{ok: true},
		{code: "ResourceNotFoundException", msgPart: "Event bus orders-elsewhere does not exist"},
		{code: "InvalidArgument", msgPart: "/reason"},
		{ok: true},
		{code: "MalformedDetail", msgPart: "Detail is malformed"},
		{code: "InvalidArgument", msgPart: `DetailType "orders.OrderPlaced" differs from the type "orders.OrderCancelled"`},
		{code: "InvalidArgument", msgPart: "Parameter DetailType is not valid"},
		{code: "InvalidArgument", msgPart: `"dataversion" in Detail must be an integer`},
	}
	if len(out.Entries) != len(want) {
		t.Fatalf("got %d result entries, want %d", len(out.Entries), len(want))
	}
	failed := 0
	for i, w := range want {
		got := out.Entries[i]
		if w.ok {
			if aws.ToString(got.EventId) == "" || got.ErrorCode != nil {
				t.Errorf("entry %d: want an EventId, got %+v (%s)", i, got, aws.ToString(got.ErrorMessage))
			}
			continue
		}
		failed++
		if aws.ToString(got.ErrorCode) != w.code || !strings.Contains(aws.ToString(got.ErrorMessage), w.msgPart) || got.EventId != nil {
			t.Errorf("entry %d: got %s %q, want %s containing %q", i, aws.ToString(got.ErrorCode), aws.ToString(got.ErrorMessage), w.code, w.msgPart)
		}
	}
	if int(out.FailedEntryCount) != failed {
		t.Errorf("FailedEntryCount %d, want %d", out.FailedEntryCount, failed)
	}
	got := rig.bus.got()
	if len(got) != 3 {
		t.Fatalf("bus took %d entries, want 3", len(got))
	}
	if string(got[0].Detail) != cancelled("e0") || got[0].Source != "test.sdk" || !got[0].Time.Equal(when) {
		t.Errorf("entry 0 on the bus: %+v", got[0])
	}
	if got[1].DetailType != "legacy.CustomerCreated" || string(got[1].Detail) != `{"customer":"c1"}` {
		t.Errorf("foreign entry on the bus: %+v", got[1])
	}
	if rig.bus.calls != 1 {
		t.Errorf("bus called %d times, want one SendBatch per PutEvents", rig.bus.calls)
	}
}

func TestSDKPutEventsLimits(t *testing.T) {
	t.Parallel()
	rig := newAWSRig(t)
	ctx := context.Background()
	eb := rig.eventbridge()
	entries := make([]ebtypes.PutEventsRequestEntry, 11)
	for i := range entries {
		entries[i] = ebtypes.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("t"), Detail: aws.String(`{}`)}
	}
	_, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
	if code, msg := apiCode(t, err); code != "ValidationException" || !strings.Contains(msg, "less than or equal to 10") {
		t.Errorf("11 entries: %s %q", code, msg)
	}
	big := `{"blob":"` + strings.Repeat("x", 600<<10) + `"}`
	_, err = eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("s"), DetailType: aws.String("t"), Detail: aws.String(big)},
		{Source: aws.String("s"), DetailType: aws.String("t"), Detail: aws.String(big)},
	}})
	if code, msg := apiCode(t, err); code != "ValidationException" || !strings.HasPrefix(msg, "Total size of the entries in the request is over the limit.") {
		t.Errorf("1.2 MB of entries: %s %q", code, msg)
	}
	if n := len(rig.bus.got()); n != 0 {
		t.Errorf("bus took %d entries of failed calls", n)
	}
}

func TestSDKPutEventsBusFailures(t *testing.T) {
	t.Parallel()
	rig := newAWSRig(t)
	rig.bus.fail = func(e producers.BusEntry) string {
		if e.DetailType == "throttle.me" {
			return "ThrottlingException"
		}
		return ""
	}
	out, err := rig.eventbridge().PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("s"), DetailType: aws.String("ok"), Detail: aws.String(`{}`)},
		{Source: aws.String("s"), DetailType: aws.String("throttle.me"), Detail: aws.String(`{}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 1 || out.Entries[0].EventId == nil || aws.ToString(out.Entries[1].ErrorCode) != "ThrottlingException" {
		t.Errorf("the bus's own per-entry failure must come back as is: %+v", out)
	}
}

func TestSDKKinesis(t *testing.T) {
	t.Parallel()
	rig := newAWSRig(t)
	ctx := context.Background()
	kin := rig.kinesis()
	streamARN := "arn:aws:kinesis:" + testRegion + ":" + testAccount + ":stream/" + testStream

	out, err := kin.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(testStream), Records: []kintypes.PutRecordsRequestEntry{
		{PartitionKey: aws.String("ord-k0"), Data: []byte(cancelled("k0"))},
		{PartitionKey: aws.String("ord-k1"), Data: []byte(badCancelled("k1"))},
		{PartitionKey: aws.String("bin"), Data: []byte{0, 1, 2, 0xff}}, // any bytes: Kinesis takes them
		{PartitionKey: aws.String("ord-k3"), Data: []byte(cancelled("k3")), ExplicitHashKey: aws.String("42")},
		{PartitionKey: aws.String("ord-k4"), Data: []byte(`{"specversion":"1.0","id":"k4"}`)},
	}})
	if err != nil {
		t.Fatalf("PutRecords: %v", err)
	}
	if out.FailedRecordCount == nil || *out.FailedRecordCount != 2 || len(out.Records) != 5 {
		t.Fatalf("PutRecords: FailedRecordCount %v, %d records", out.FailedRecordCount, len(out.Records))
	}
	for i, r := range out.Records {
		bad := i == 1 || i == 4
		switch {
		case bad && aws.ToString(r.ErrorCode) != "InvalidArgumentException":
			t.Errorf("record %d: want InvalidArgumentException, got %+v", i, r)
		case !bad && (aws.ToString(r.SequenceNumber) == "" || !strings.HasPrefix(aws.ToString(r.ShardId), "shardId-")):
			t.Errorf("record %d: want a sequence number and shard, got %+v (%s)", i, r, aws.ToString(r.ErrorMessage))
		}
	}
	if msg := aws.ToString(out.Records[1].ErrorMessage); !strings.Contains(msg, "/reason") {
		t.Errorf("an invalid envelope's message must name the pointer: %q", msg)
	}
	if msg := aws.ToString(out.Records[4].ErrorMessage); !strings.Contains(msg, `"source"`) {
		t.Errorf("a bad envelope's message must name the attribute: %q", msg)
	}
	recs := rig.stream.got()
	if len(recs) != 3 || string(recs[0].Data) != cancelled("k0") || recs[0].PartitionKey != "ord-k0" || string(recs[1].Data) != "\x00\x01\x02\xff" {
		t.Errorf("stream took %d records: %q", len(recs), recs)
	}

	one, err := kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: aws.String(streamARN), PartitionKey: aws.String("ord-p"), Data: []byte(cancelled("p"))})
	if err != nil {
		t.Fatalf("PutRecord by ARN: %v", err)
	}
	if aws.ToString(one.SequenceNumber) == "" || !strings.HasPrefix(aws.ToString(one.ShardId), "shardId-") {
		t.Errorf("PutRecord: %+v", one)
	}
	_, err = kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(testStream), PartitionKey: aws.String("p"), Data: []byte(badCancelled("p2"))})
	if code, msg := apiCode(t, err); code != "InvalidArgumentException" || !strings.Contains(msg, "/reason") {
		t.Errorf("PutRecord of an invalid envelope: %s %q", code, msg)
	}
	_, err = kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("nope"), PartitionKey: aws.String("p"), Data: []byte("x")})
	var nf *kintypes.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "Stream nope under account "+testAccount+" not found.") {
		t.Errorf("PutRecord to another stream: %v", err)
	}
	_, err = kin.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: aws.String(strings.Replace(streamARN, testStream, "other", 1)),
		Records: []kintypes.PutRecordsRequestEntry{{PartitionKey: aws.String("p"), Data: []byte("x")}}})
	if !errors.As(err, &nf) {
		t.Errorf("PutRecords to another stream's ARN: %v", err)
	}
	_, err = kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(testStream), PartitionKey: aws.String("p"), Data: []byte("x"), ExplicitHashKey: aws.String("340282366920938463463374607431768211456")})
	if code, _ := apiCode(t, err); code != "InvalidArgumentException" {
		t.Errorf("hash key 2^128: %v", err)
	}
}

func TestSDKKinesisLimits(t *testing.T) {
	t.Parallel()
	rig := newAWSRig(t)
	ctx := context.Background()
	kin := rig.kinesis()
	recs := make([]kintypes.PutRecordsRequestEntry, 501)
	for i := range recs {
		recs[i] = kintypes.PutRecordsRequestEntry{PartitionKey: aws.String("p"), Data: []byte("x")}
	}
	_, err := kin.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(testStream), Records: recs})
	if code, msg := apiCode(t, err); code != "ValidationException" || !strings.Contains(msg, "less than or equal to 500") {
		t.Errorf("501 records: %s %q", code, msg)
	}
	_, err = kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(testStream), PartitionKey: aws.String("p"), Data: make([]byte, 1<<20)})
	if code, msg := apiCode(t, err); code != "ValidationException" || !strings.Contains(msg, "at 'data'") {
		t.Errorf("a record over 1 MiB: %s %q", code, msg)
	}
	big := make([]kintypes.PutRecordsRequestEntry, 11)
	for i := range big {
		big[i] = kintypes.PutRecordsRequestEntry{PartitionKey: aws.String("p"), Data: make([]byte, 1000<<10)}
	}
	_, err = kin.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(testStream), Records: big})
	if code, msg := apiCode(t, err); code != "InvalidArgumentException" || !strings.HasPrefix(msg, "Records size exceeds 10 MB limit") {
		t.Errorf("11 MB of records: %s %q", code, msg)
	}
	if n := len(rig.stream.got()); n != 0 {
		t.Errorf("stream took %d records of failed calls", n)
	}
}

func TestSDKDescribe(t *testing.T) {
	t.Parallel()
	rig := newAWSRig(t)
	ctx := context.Background()
	eb := rig.eventbridge()
	for _, name := range []string{testBus, "arn:aws:events:eu-west-1:999999999999:event-bus/" + testBus} {
		out, err := eb.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeEventBus %s: %v", name, err)
		}
		if aws.ToString(out.Name) != testBus || aws.ToString(out.Arn) != "arn:aws:events:"+testRegion+":"+testAccount+":event-bus/"+testBus || out.CreationTime == nil {
			t.Errorf("DescribeEventBus %s: %+v", name, out)
		}
	}
	if out, err := eb.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{}); err != nil || aws.ToString(out.Name) != "default" {
		t.Errorf("DescribeEventBus of the default bus: %v %+v", err, out)
	}
	_, err := eb.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String("ghost")})
	var ebnf *ebtypes.ResourceNotFoundException
	if !errors.As(err, &ebnf) || !strings.Contains(ebnf.ErrorMessage(), "Event bus ghost does not exist.") {
		t.Errorf("DescribeEventBus ghost: %v", err)
	}

	kin := rig.kinesis()
	sum, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(testStream)})
	if err != nil {
		t.Fatalf("DescribeStreamSummary: %v", err)
	}
	s := sum.StreamDescriptionSummary
	if aws.ToString(s.StreamName) != testStream || s.StreamStatus != kintypes.StreamStatusActive || aws.ToInt32(s.OpenShardCount) != 2 ||
		aws.ToString(s.StreamARN) != "arn:aws:kinesis:"+testRegion+":"+testAccount+":stream/"+testStream || s.StreamCreationTimestamp == nil {
		t.Errorf("DescribeStreamSummary: %+v", s)
	}
	_, err = kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("ghost")})
	var nf *kintypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("DescribeStreamSummary ghost: %v", err)
	}

	var ids []string
	var token *string
	for range 3 {
		in := &kinesis.ListShardsInput{MaxResults: aws.Int32(1), NextToken: token}
		if token == nil {
			in.StreamName = aws.String(testStream)
		}
		out, err := kin.ListShards(ctx, in)
		if err != nil {
			t.Fatalf("ListShards: %v", err)
		}
		for _, sh := range out.Shards {
			ids = append(ids, aws.ToString(sh.ShardId))
			if sh.HashKeyRange == nil || sh.SequenceNumberRange == nil {
				t.Errorf("shard %+v", sh)
			}
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if strings.Join(ids, ",") != "shardId-000000000000,shardId-000000000001" {
		t.Errorf("ListShards paged: %v", ids)
	}
}

// TestProducerAdapters runs troupe's own AWS adapters (aws/bus, aws/stream)
// and a producers.Publisher over them against the endpoint: Check
// (DescribeEventBus, DescribeStreamSummary), then Publish.
func TestProducerAdapters(t *testing.T) {
	t.Parallel()
	rig := newAWSRig(t)
	ctx := context.Background()
	bus, err := awsbus.New(rig.eventbridge(), awsbus.Config{BusName: testBus})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := awsstream.New(rig.kinesis(), awsstream.Config{StreamARN: "arn:aws:kinesis:" + testRegion + ":" + testAccount + ":stream/" + testStream})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := producers.New(producers.Config{Bus: bus, Stream: stream, Validator: schemas.Sample()})
	if err != nil {
		t.Fatal(err)
	}
	e := mustDecode(t, cancelled("pub1"))
	res, err := pub.Publish(ctx, e)
	if err != nil {
		t.Fatalf("Publish through the endpoint: %v", err)
	}
	if !res[0].OK() {
		t.Errorf("result %+v", res[0])
	}
	if len(rig.bus.got()) != 1 || len(rig.stream.got()) != 1 {
		t.Errorf("bus %d, stream %d entries", len(rig.bus.got()), len(rig.stream.got()))
	}
	missing, _ := awsbus.New(rig.eventbridge(), awsbus.Config{BusName: "ghost"})
	if err := missing.Check(ctx); !errors.Is(err, producers.ErrNotFound) {
		t.Errorf("Check of a missing bus: %v", err)
	}
}
