package dlq_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/consumers/deadlettertest"
	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/events"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/ from what Decode returns")

// samples is where the DLQ message samples live: beside the SQS adapter
// that writes troupe's shape.
const samples = "../aws/deadletter/testdata"

func readSample(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// ebAttrs are the attributes EventBridge puts on a target DLQ message.
var ebAttrs = map[string]string{
	"ERROR_CODE":                "SDK_CLIENT_ERROR",
	"ERROR_MESSAGE":             "Lambda.TooManyRequestsException: Rate Exceeded.",
	"RULE_ARN":                  "arn:aws:events:us-east-1:123456789012:rule/troupe-bus/billing-on-order-placed",
	"TARGET_ARN":                "arn:aws:lambda:us-east-1:123456789012:function:billing",
	"RETRY_ATTEMPTS":            "185",
	"EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttemptsExceeded",
}

// wantEvent is what a test expects of Message.Event.
type wantEvent struct {
	ID, Type, Source string
	Version          int
	Time             time.Time
	Data             string // compact JSON
}

// wantMessage is a Message with the Event and Raw fields spelled for
// comparison.
type wantMessage struct {
	dlq.Message
	event *wantEvent
	raw   []byte
}

// TestDecodeSamples decodes each sample of each shape and checks every
// field, then compares the whole Message with its golden JSON.
func TestDecodeSamples(t *testing.T) {
	t.Parallel()
	orderPlaced := &wantEvent{
		ID: "0190a000-0000-7000-8000-000000000001", Type: "orders.OrderPlaced", Source: "shop.orders", Version: 2,
		Time: utc("2025-06-01T12:00:00.123456789Z"),
		Data: `{"order":"o-42","lines":[{"sku":"A<&>1","qty":2}],"note":"héllo \u2028 ✓"}`,
	}
	cases := []struct {
		name, file string
		attrs      map[string]string
		want       wantMessage
	}{
		{
			name: "troupe-bus", file: "deadletter-v1-bus.json",
			attrs: map[string]string{"troupe-consumer": "billing", "troupe-attempts": "3"},
			want: wantMessage{Message: dlq.Message{
				Shape: dlq.ShapeTroupe, Consumer: "billing", Reason: "handler",
				Error:    "charge card: declined (\"insufficient funds\")\n\tat billing.Charge",
				Attempts: 3, FirstFailure: utc("2025-06-01T12:00:01.25Z"), LastFailure: utc("2025-06-01T12:00:04.987Z"),
				Origin: consumers.Origin{Source: "bus", Rule: "billing-on-order-placed"},
			}, event: orderPlaced},
		},
		{
			name: "troupe-stream", file: "deadletter-v1-stream.json",
			want: wantMessage{Message: dlq.Message{
				Shape: dlq.ShapeTroupe, Consumer: "inventory", Reason: "unknown-version",
				Error:    "charge card: declined (\"insufficient funds\")\n\tat billing.Charge",
				Attempts: 3, FirstFailure: utc("2025-06-01T12:00:01.25Z"), LastFailure: utc("2025-06-01T12:00:04.987Z"),
				Origin: consumers.Origin{Source: "stream", Stream: "orders", Shard: "shardId-000000000003",
					SequenceNumber: "49590338271490256608559692538361571095921575989136588898"},
			}, event: &wantEvent{
				ID: "0190a000-0000-7000-8000-000000000002", Type: "orders.OrderPlaced", Source: "shop.orders", Version: 2,
				Time: orderPlaced.Time, Data: orderPlaced.Data,
			}},
		},
		{
			name: "troupe-raw-bytes", file: "deadletter-v1-raw-bytes.json",
			want: wantMessage{Message: dlq.Message{
				Shape: dlq.ShapeTroupe, Consumer: "shipping", Reason: "decode",
				Error:        "decode: invalid character 'ÿ' looking for beginning of value",
				FirstFailure: utc("2025-06-01T12:00:00Z"), LastFailure: utc("2025-06-01T12:00:00Z"),
				Origin: consumers.Origin{Source: "stream", Stream: "orders", Shard: "shardId-000000000000", SequenceNumber: "7"},
			}, raw: []byte{0xff, 0xfe, 'n', 'o', 't', ' ', 'j', 's', 'o', 'n', 0x00}},
		},
		{
			name: "troupe-raw-json", file: "deadletter-v1-raw-json.json",
			want: wantMessage{Message: dlq.Message{
				Shape: dlq.ShapeTroupe, Consumer: "shipping", Reason: "decode", Error: "decode: missing specversion",
				FirstFailure: utc("2025-06-01T12:00:00Z"), LastFailure: utc("2025-06-01T12:00:00Z"),
				Origin: consumers.Origin{Source: "bus", Rule: "shipping-all"},
			}, raw: []byte(`{"detail-type":"x","foo":[1,2,3]}`)},
		},
		{
			name: "eventbridge-target", file: "foreign/eventbridge-target-dlq.json", attrs: ebAttrs,
			want: wantMessage{Message: dlq.Message{
				Shape: dlq.ShapeEventBridgeTarget, Consumer: "billing",
				Error: "Lambda.TooManyRequestsException: Rate Exceeded.", Reason: "SDK_CLIENT_ERROR", Attempts: 186,
				Origin:    consumers.Origin{Source: "bus", Rule: "billing-on-order-placed"},
				RuleARN:   "arn:aws:events:us-east-1:123456789012:rule/troupe-bus/billing-on-order-placed",
				TargetARN: "arn:aws:lambda:us-east-1:123456789012:function:billing",
			}, event: &wantEvent{
				ID: "0190a000-0000-7000-8000-000000000001", Type: "orders.OrderPlaced", Source: "shop.orders", Version: 2,
				Time: utc("2025-06-01T12:00:00Z"), Data: `{"order":"o-42"}`,
			}},
		},
		{
			// The attributes are lost when a message is moved between
			// queues by a tool that does not copy them: the body suffices.
			name: "eventbridge-target-no-attributes", file: "foreign/eventbridge-target-dlq.json",
			want: wantMessage{Message: dlq.Message{
				Shape: dlq.ShapeEventBridgeTarget, Origin: consumers.Origin{Source: "bus"},
			}, event: &wantEvent{
				ID: "0190a000-0000-7000-8000-000000000001", Type: "orders.OrderPlaced", Source: "shop.orders", Version: 2,
				Time: utc("2025-06-01T12:00:00Z"), Data: `{"order":"o-42"}`,
			}},
		},
		{
			// The requestPayload is the EventBridge event the function
			// failed: a foreign one, wrapped as the runtime wraps it.
			name: "lambda-destination", file: "foreign/lambda-destination.json",
			want: wantMessage{Message: dlq.Message{
				Shape: dlq.ShapeLambdaDestination, Consumer: "billing", Error: "charge card: declined",
				Reason: "RetriesExhausted", Attempts: 3, LastFailure: utc("2025-06-01T12:00:09.123Z"),
				Origin:      consumers.Origin{Source: "bus"},
				FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:billing:$LATEST",
				RequestID:   "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
			}, event: &wantEvent{
				ID: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", Type: "orders.OrderPlaced", Source: "shop.orders", Version: 1,
				Time: utc("2025-06-01T11:58:03Z"), Data: `{"order":"o-42"}`,
			}},
		},
		{
			name: "kinesis-failure", file: "foreign/kinesis-failure.json",
			want: wantMessage{Message: dlq.Message{
				Shape: dlq.ShapeKinesisFailure, Consumer: "inventory",
				Error:  `RetryAttemptsExhausted: function error "Unhandled", status 200, version $LATEST`,
				Reason: "RetryAttemptsExhausted", Attempts: 1, LastFailure: utc("2025-06-01T12:00:09.123Z"),
				Origin: consumers.Origin{Source: "stream", Stream: "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
					Shard: "shardId-000000000001", SequenceNumber: "49601189658422359378836298521827638475320189012309704722"},
				FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:inventory",
				RequestID:   "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
				Kinesis: &dlq.KinesisRange{
					StreamARN:           "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
					ShardID:             "shardId-000000000001",
					StartSequenceNumber: "49601189658422359378836298521827638475320189012309704722",
					EndSequenceNumber:   "49601189658422359378836298522902373528957594348623495186",
					BatchSize:           500,
					FirstArrival:        utc("2025-06-01T12:00:00.123Z"),
					LastArrival:         utc("2025-06-01T12:00:00.456Z"),
				},
			}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := dlq.Decode(readSample(t, tc.file), tc.attrs)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			checkMessage(t, got, tc.want)
			checkGolden(t, tc.name, got)
		})
	}
}

// checkMessage compares every field of got with want.
func checkMessage(t *testing.T, got dlq.Message, want wantMessage) {
	t.Helper()
	w := want.Message
	str := []struct{ name, got, want string }{
		{"Shape", string(got.Shape), string(w.Shape)},
		{"Consumer", got.Consumer, w.Consumer},
		{"Error", got.Error, w.Error},
		{"Reason", got.Reason, w.Reason},
		{"RuleARN", got.RuleARN, w.RuleARN},
		{"TargetARN", got.TargetARN, w.TargetARN},
		{"FunctionARN", got.FunctionARN, w.FunctionARN},
		{"RequestID", got.RequestID, w.RequestID},
	}
	for _, f := range str {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if got.Attempts != w.Attempts {
		t.Errorf("Attempts = %d, want %d", got.Attempts, w.Attempts)
	}
	if !got.FirstFailure.Equal(w.FirstFailure) {
		t.Errorf("FirstFailure = %v, want %v", got.FirstFailure, w.FirstFailure)
	}
	if !got.LastFailure.Equal(w.LastFailure) {
		t.Errorf("LastFailure = %v, want %v", got.LastFailure, w.LastFailure)
	}
	if got.Origin != w.Origin {
		t.Errorf("Origin = %+v, want %+v", got.Origin, w.Origin)
	}
	if !bytes.Equal(got.Raw, want.raw) {
		t.Errorf("Raw = %q, want %q", got.Raw, want.raw)
	}
	switch {
	case (got.Kinesis == nil) != (w.Kinesis == nil):
		t.Errorf("Kinesis = %+v, want %+v", got.Kinesis, w.Kinesis)
	case got.Kinesis != nil:
		g, k := *got.Kinesis, *w.Kinesis
		if !g.FirstArrival.Equal(k.FirstArrival) || !g.LastArrival.Equal(k.LastArrival) {
			t.Errorf("Kinesis arrivals = %v, %v; want %v, %v", g.FirstArrival, g.LastArrival, k.FirstArrival, k.LastArrival)
		}
		g.FirstArrival, g.LastArrival, k.FirstArrival, k.LastArrival = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if g != k {
			t.Errorf("Kinesis = %+v, want %+v", g, k)
		}
	}
	switch e := got.Event; {
	case (e == nil) != (want.event == nil):
		t.Errorf("Event = %+v, want %+v", e, want.event)
	case e != nil:
		we := want.event
		if e.ID != we.ID || e.Type != we.Type || e.Source != we.Source || e.DataVersion != we.Version || !e.Time.Equal(we.Time) {
			t.Errorf("Event = %s from %s at %v, want %s v%d (id %s) from %s at %v",
				e.Ref(), e.Source, e.Time, we.Type, we.Version, we.ID, we.Source, we.Time)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, e.Data); err != nil || c.String() != we.Data {
			t.Errorf("Event.Data = %s, want %s", e.Data, we.Data)
		}
		if err := e.Validate(); err != nil {
			t.Errorf("Event does not validate: %v", err)
		}
	}
}

// checkGolden compares the Message, as JSON, with testdata/golden/<name>.json.
func checkGolden(t *testing.T, name string, got dlq.Message) {
	t.Helper()
	js, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./dlq/ -update to write it)", err)
	}
	if !jsonEqual(t, js, want) {
		t.Errorf("%s: got\n%s\nwant\n%s", path, js, want)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

// TestDecodeTroupeRoundTrip: a dead letter aws/deadletter encodes, gzip
// included, decodes to the same view as FromDeadLetter gives.
func TestDecodeTroupeRoundTrip(t *testing.T) {
	t.Parallel()
	withEnvelope := deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-00000000000a")
	rawBytes := withEnvelope
	rawBytes.Envelope = nil
	rawBytes.Raw = []byte{0x00, 0xff, 'x', '\n'}
	big := withEnvelope
	big.Error = strings.Repeat("stack frame\n", 400)

	for name, tc := range map[string]struct {
		dl       consumers.DeadLetter
		maxBytes int
		gzip     bool
	}{
		"envelope":  {dl: withEnvelope},
		"raw-bytes": {dl: rawBytes},
		"gzip":      {dl: big, maxBytes: 2048, gzip: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body, sqsAttrs, err := deadletter.EncodeMessage(tc.dl, tc.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			attrs := map[string]string{}
			for k, v := range sqsAttrs {
				attrs[k] = aws.ToString(v.StringValue)
			}
			if gz := attrs[deadletter.AttrEncoding] == deadletter.EncodingGzip; gz != tc.gzip {
				t.Fatalf("gzip = %v, want %v", gz, tc.gzip)
			}
			for _, a := range []map[string]string{attrs, nil} {
				got, err := dlq.Decode(body, a)
				if err != nil {
					t.Fatalf("Decode (attrs %v): %v", a != nil, err)
				}
				want := dlq.FromDeadLetter(tc.dl)
				we := (*wantEvent)(nil)
				if e := tc.dl.Envelope; e != nil {
					var c bytes.Buffer
					_ = json.Compact(&c, e.Data)
					we = &wantEvent{ID: e.ID, Type: e.Type, Source: e.Source, Version: e.DataVersion, Time: e.Time, Data: c.String()}
				}
				checkMessage(t, got, wantMessage{Message: want, event: we, raw: tc.dl.Raw})
			}
		})
	}
}

// TestFromDeadLetter: every field of the local engine's dead letter
// reaches the view.
func TestFromDeadLetter(t *testing.T) {
	t.Parallel()
	dl := deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-00000000000b")
	dl.Raw = []byte("not json")
	m := dlq.FromDeadLetter(dl)
	if m.Shape != dlq.ShapeTroupe || m.Consumer != dl.Consumer || m.Event != dl.Envelope || !bytes.Equal(m.Raw, dl.Raw) ||
		m.Error != dl.Error || m.Reason != dl.Reason || m.Attempts != dl.Attempts || !m.FirstFailure.Equal(dl.FirstFailure) ||
		!m.LastFailure.Equal(dl.LastFailure) || m.Origin != dl.Origin {
		t.Errorf("FromDeadLetter(%+v) = %+v", dl, m)
	}
	if m.RuleARN != "" || m.TargetARN != "" || m.FunctionARN != "" || m.RequestID != "" || m.Kinesis != nil {
		t.Errorf("FromDeadLetter set AWS-only fields: %+v", m)
	}
}

// TestDecodeForeignEvents: events that are not troupe envelopes are wrapped
// exactly as consumers.EnvelopeFromBus wraps them, in both shapes that
// carry an EventBridge event.
func TestDecodeForeignEvents(t *testing.T) {
	t.Parallel()
	s3 := `{"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3",` +
		`"account":"123456789012","time":"2025-06-01T12:00:00Z","region":"us-east-1","resources":["arn:aws:s3:::b"],` +
		`"detail":{"bucket":{"name":"b"},"object":{"key":"k"},"dataversion":3}}`
	wantEnv, err := consumers.EnvelopeFromBus([]byte(s3))
	if err != nil {
		t.Fatal(err)
	}
	lambda := `{"version":"1.0","timestamp":"2025-06-01T12:00:09Z","requestContext":{"requestId":"r-1",` +
		`"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:archive","condition":"EventAgeExceeded",` +
		`"approximateInvokeCount":0},"requestPayload":` + s3 + `,"responseContext":{"statusCode":200,"executedVersion":"$LATEST"},` +
		`"responsePayload":null}`
	for name, tc := range map[string]struct {
		body      string
		attrs     map[string]string
		shape     dlq.Shape
		consumer  string
		errorText string
	}{
		"eventbridge-target": {body: s3, attrs: map[string]string{"ERROR_CODE": "NO_PERMISSIONS",
			"TARGET_ARN": "arn:aws:sqs:us-east-1:123456789012:q"}, shape: dlq.ShapeEventBridgeTarget, errorText: "NO_PERMISSIONS"},
		"lambda-destination": {body: lambda, shape: dlq.ShapeLambdaDestination, consumer: "archive",
			errorText: "EventAgeExceeded: status 200, version $LATEST"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := dlq.Decode(tc.body, tc.attrs)
			if err != nil {
				t.Fatal(err)
			}
			if m.Shape != tc.shape || m.Consumer != tc.consumer || m.Error != tc.errorText || m.Raw != nil {
				t.Errorf("got shape %q consumer %q error %q raw %q; want %q %q %q and no raw",
					m.Shape, m.Consumer, m.Error, m.Raw, tc.shape, tc.consumer, tc.errorText)
			}
			if m.Event == nil {
				t.Fatal("Event is nil")
			}
			g, _ := events.Encode(*m.Event)
			w, _ := events.Encode(wantEnv)
			if !bytes.Equal(g, w) {
				t.Errorf("Event = %s, want %s", g, w)
			}
			if m.Origin.Source != "bus" {
				t.Errorf("Origin = %+v, want source bus", m.Origin)
			}
		})
	}
}

// TestDecodeMalformed: bodies that cannot be read give errors that say
// which shape was tried and what is wrong.
func TestDecodeMalformed(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join(samples, "malformed", "*"))
	if len(files) == 0 {
		t.Fatal("no malformed samples")
	}
	for _, f := range files {
		t.Run("sample/"+filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = dlq.Decode(string(b), nil)
			if err == nil {
				t.Fatal("Decode: no error")
			}
			// Every malformed sample is troupe's (marked, or gzip).
			if !strings.Contains(err.Error(), "dlq: troupe message") || errors.Is(err, dlq.ErrUnknownShape) {
				t.Errorf("error %q does not blame troupe's shape", err)
			}
		})
	}

	allShapes := []string{"troupe", "eventbridge-target", "lambda-destination", "kinesis-failure"}
	kinesis := func(batch string) string {
		return `{"requestContext":{"functionArn":"arn:aws:lambda:us-east-1:1:function:f"},"KinesisBatchInfo":` + batch + `}`
	}
	for _, tc := range []struct {
		name, body string
		attrs      map[string]string
		unknown    bool     // wraps ErrUnknownShape
		contains   []string // in the error text
	}{
		{name: "empty", body: "", unknown: true, contains: append([]string{"not a JSON object"}, allShapes...)},
		{name: "text", body: "hello", unknown: true, contains: []string{"not a JSON object", `"hello"`}},
		{name: "array", body: "[1,2]", unknown: true, contains: []string{"not a JSON object"}},
		{name: "null", body: "null", unknown: true, contains: []string{"not a JSON object"}},
		{name: "other-object", body: `{"foo":1,"bar":2}`, unknown: true,
			contains: append([]string{`no "troupe" field`, `no "requestContext"`, `no "KinesisBatchInfo"`, "ERROR_CODE",
				`"bar", "foo"`}, allShapes...)},
		{name: "dynamodb-failure", body: `{"requestContext":{},"DDBStreamBatchInfo":{}}`, unknown: true,
			contains: []string{"DDBStreamBatchInfo", "KinesisBatchInfo"}},
		{name: "lambda-context-not-object", body: `{"requestContext":5}`,
			contains: []string{"lambda-destination", "requestContext"}},
		{name: "lambda-no-function", body: `{"requestContext":{"requestId":"r"}}`,
			contains: []string{"lambda-destination", "functionArn is missing"}},
		{name: "lambda-bad-timestamp", body: `{"timestamp":"yesterday","requestContext":{"functionArn":"arn:aws:lambda:r:1:function:f"}}`,
			contains: []string{"lambda-destination", "yesterday"}},
		{name: "kinesis-missing", body: kinesis(`{"shardId":"s"}`),
			contains: []string{"kinesis-failure", "KinesisBatchInfo.streamArn", "KinesisBatchInfo.startSequenceNumber"}},
		{name: "kinesis-bad-time", body: kinesis(`{"shardId":"s","streamArn":"a","startSequenceNumber":"1","approximateArrivalOfFirstRecord":"soon"}`),
			contains: []string{"kinesis-failure", "soon"}},
		{name: "kinesis-batch-not-object", body: kinesis(`"x"`), contains: []string{"kinesis-failure"}},
		{name: "eventbridge-attrs-body-not-event", body: `{"a":1}`, attrs: map[string]string{"ERROR_CODE": "X", "RULE_ARN": "r"},
			contains: []string{"eventbridge-target", "ERROR_CODE, RULE_ARN", "id, detail-type, source, detail missing"}},
		{name: "eventbridge-bad-retry-attempts", body: readSample(t, "foreign/eventbridge-target-dlq.json"),
			attrs:    map[string]string{"ERROR_CODE": "X", "RETRY_ATTEMPTS": "many"},
			contains: []string{"eventbridge-target", "RETRY_ATTEMPTS", `"many"`}},
		{name: "eventbridge-id-not-string", body: `{"id":1,"detail-type":"t","source":"s","detail":{}}`,
			contains: []string{"eventbridge-target", "not an EventBridge event"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := dlq.Decode(tc.body, tc.attrs)
			if err == nil {
				t.Fatal("Decode: no error")
			}
			if errors.Is(err, dlq.ErrUnknownShape) != tc.unknown {
				t.Errorf("errors.Is(%q, ErrUnknownShape) = %v, want %v", err, !tc.unknown, tc.unknown)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

// TestDecodeEventBridgeUndecodableEvent: an EventBridge event whose detail
// is a broken troupe envelope is still an EventBridge DLQ message, with the
// event kept raw.
func TestDecodeEventBridgeUndecodableEvent(t *testing.T) {
	t.Parallel()
	body := `{"id":"1","detail-type":"orders.OrderPlaced","source":"shop.orders","time":"2025-06-01T12:00:00Z",` +
		`"detail":{"specversion":"1.0","type":"orders.OrderPlaced"}}`
	m, err := dlq.Decode(body, map[string]string{"ERROR_CODE": "X"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Shape != dlq.ShapeEventBridgeTarget || m.Event != nil || string(m.Raw) != body {
		t.Errorf("got %+v, want the event raw", m)
	}
}
