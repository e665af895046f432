package redrive_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/troupehq/troupe/aws/redrive"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/internal/awstest"
)

// receiveOne receives the one message of a queue with an SQSQueue, checks
// the entry's fields, and compares its decoded message with a golden one
// when want is set (the dlq package's decoded samples).
func receiveOne(t *testing.T, q *redrive.SQSQueue, want map[string]any) dlq.Entry {
	t.Helper()
	got, err := q.Receive(ctxT(t), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("received %d messages, want 1", len(got))
	}
	e := got[0]
	if e.Err != nil {
		t.Fatalf("message %s not decoded: %v", e.ID, e.Err)
	}
	if e.ID == "" || e.Handle == "" || e.Queue != q.QueueURL() || e.SentAt.IsZero() || e.Body == "" {
		t.Errorf("entry: id %q, handle %q, queue %q (want %q), sentAt %v, body %d bytes", e.ID, e.Handle, e.Queue, q.QueueURL(), e.SentAt, len(e.Body))
	}
	if want != nil {
		b, _ := json.Marshal(e.Message)
		w, _ := json.Marshal(want)
		if !jsonEqual(t, b, w) {
			t.Errorf("decoded message:\n got %s\nwant %s", b, w)
		}
	}
	return e
}

// oneInvocation returns the one invocation the recorder saw, checked to be
// asynchronous, of function fn, acknowledged with 202.
func oneInvocation(t *testing.T, rec *recorder, fn string) invocation {
	t.Helper()
	got := rec.invocations()
	if len(got) != 1 {
		t.Fatalf("%d invocations, want 1: %+v", len(got), got)
	}
	checkInvocation(t, got[0], fn)
	return got[0]
}

func checkInvocation(t *testing.T, inv invocation, fn string) {
	t.Helper()
	if inv.Function != fn || inv.Type != "Event" || inv.Status != http.StatusAccepted {
		t.Errorf("invocation of %q, type %q, status %d; want %q, Event, 202", inv.Function, inv.Type, inv.Status, fn)
	}
}

// deleteAndCheckEmpty deletes the entries, then checks the queue is empty.
func deleteAndCheckEmpty(t *testing.T, q *redrive.SQSQueue, entries ...dlq.Entry) {
	t.Helper()
	if err := q.Delete(ctxT(t), entries); err != nil {
		t.Fatal(err)
	}
	info, err := q.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Depth != 0 {
		t.Errorf("depth %d after the delete, want 0", info.Depth)
	}
}

func TestTroupeBusDeadLetter(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	queueURL := awstest.NewQueue(t, cfg)
	fn := newFunction(t, cfg, "billing")
	send(t, cfg, queueURL, sample(t, "deadletter-v1-bus.json"), nil)

	q := newQueue(t, cfg, queueURL)
	e := receiveOne(t, q, golden(t, "troupe-bus.json"))
	rec := newRecorder()
	r := redeliverer(t, cfg, rec, shop(t), []redrive.Deployment{{Consumer: "billing", DLQURL: queueURL, FunctionName: fn}})
	if err := r.Redeliver(ctxT(t), e); err != nil {
		t.Fatal(err)
	}
	inv := oneInvocation(t, rec, fn)

	// The payload is the EventBridge event a rule target receives: the
	// envelope as the detail, as the bus leg of a publish puts it.
	var ev struct {
		Version    string          `json:"version"`
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Time       string          `json:"time"`
		Region     string          `json:"region"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(inv.Payload, &ev); err != nil {
		t.Fatalf("payload is not an EventBridge event: %v: %s", err, inv.Payload)
	}
	want := e.Message.Event
	if ev.Version != "0" || ev.ID != want.ID || ev.DetailType != "orders.OrderPlaced" || ev.Source != "shop.orders" ||
		ev.Time != "2025-06-01T12:00:00Z" || ev.Region != "us-east-1" || ev.Account != "123456789012" ||
		ev.Resources == nil || len(ev.Resources) != 0 {
		t.Errorf("event fields: %s", inv.Payload)
	}
	envJSON, _ := json.Marshal(want)
	if !jsonEqual(t, ev.Detail, envJSON) {
		t.Errorf("detail:\n got %s\nwant %s", ev.Detail, envJSON)
	}
	// The consumer's runtime reads the same envelope from it.
	got, err := consumers.EnvelopeFromBus(inv.Payload)
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(got)
	if !jsonEqual(t, gotJSON, envJSON) {
		t.Errorf("the runtime reads\n%s\nwant\n%s", gotJSON, envJSON)
	}
	deleteAndCheckEmpty(t, q, e)
}

func TestTroupeStreamDeadLetter(t *testing.T) {
	t.Parallel()
	const streamARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
	cfg := awstest.Config(t)
	queueURL := awstest.NewQueue(t, cfg)
	fn := newFunction(t, cfg, "inventory")
	// As the Lambda runtime writes it: the origin's stream is the ARN of the
	// event source mapping's records.
	body := strings.Replace(sample(t, "deadletter-v1-stream.json"), `"stream": "orders"`, `"stream": "`+streamARN+`"`, 1)
	send(t, cfg, queueURL, body, nil)

	q := newQueue(t, cfg, queueURL)
	e := receiveOne(t, q, nil)
	rec := newRecorder()
	r := redeliverer(t, cfg, rec, shop(t), []redrive.Deployment{{Consumer: "inventory", DLQURL: queueURL, FunctionName: fn}})
	if err := r.Redeliver(ctxT(t), e); err != nil {
		t.Fatal(err)
	}
	inv := oneInvocation(t, rec, fn)

	// The payload is a Kinesis event of one record, as the mapping sends it.
	var ev awsevents.KinesisEvent
	if err := json.Unmarshal(inv.Payload, &ev); err != nil {
		t.Fatalf("payload is not a Kinesis event: %v: %s", err, inv.Payload)
	}
	if len(ev.Records) != 1 {
		t.Fatalf("%d records, want 1: %s", len(ev.Records), inv.Payload)
	}
	r0 := ev.Records[0]
	const seq = "49590338271490256608559692538361571095921575989136588898"
	if r0.EventSourceArn != streamARN || r0.EventID != "shardId-000000000003:"+seq || r0.AwsRegion != "eu-west-1" ||
		r0.EventSource != "aws:kinesis" || r0.EventName != consumers.ReplayEventName || r0.EventVersion != "1.0" ||
		r0.Kinesis.SequenceNumber != seq || r0.Kinesis.PartitionKey != "customer-7" || r0.Kinesis.KinesisSchemaVersion != "1.0" ||
		r0.Kinesis.ApproximateArrivalTimestamp.Sub(e.Message.Event.Time).Abs() > time.Millisecond {
		t.Errorf("record fields: %s", inv.Payload)
	}
	if !strings.Contains(string(inv.Payload), `"data":"`) {
		t.Errorf("data is not base64 text: %s", inv.Payload)
	}
	envJSON, _ := json.Marshal(e.Message.Event)
	if string(r0.Kinesis.Data) != string(envJSON) {
		t.Errorf("data:\n got %s\nwant %s", r0.Kinesis.Data, envJSON)
	}
	deleteAndCheckEmpty(t, q, e)
}

func TestEventBridgeTargetMessage(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	queueURL := awstest.NewQueue(t, cfg)
	fn := newFunction(t, cfg, "billing")
	body := sample(t, "foreign/eventbridge-target-dlq.json")
	attrs := map[string]string{
		"ERROR_CODE":     "SDK_CLIENT_ERROR",
		"ERROR_MESSAGE":  "Lambda.TooManyRequestsException: Rate Exceeded.",
		"RULE_ARN":       "arn:aws:events:us-east-1:123456789012:rule/troupe-bus/billing-on-order-placed",
		"TARGET_ARN":     "arn:aws:lambda:us-east-1:123456789012:function:" + fn,
		"RETRY_ATTEMPTS": "185",
	}
	send(t, cfg, queueURL, body, attrs)

	want := golden(t, "eventbridge-target.json")
	want["consumer"], want["targetArn"] = fn, attrs["TARGET_ARN"]
	q := newQueue(t, cfg, queueURL)
	e := receiveOne(t, q, want)
	for k, v := range attrs {
		if e.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, e.Attributes[k], v)
		}
	}
	rec := newRecorder()
	r := redeliverer(t, cfg, rec, shop(t), []redrive.Deployment{{Consumer: "billing", DLQURL: "https://sqs.example/other", FunctionName: fn}})
	if err := r.Redeliver(ctxT(t), e); err != nil {
		t.Fatal(err)
	}
	// The body is the event the target failed to receive: as it is.
	if inv := oneInvocation(t, rec, fn); string(inv.Payload) != body {
		t.Errorf("payload:\n got %s\nwant %s", inv.Payload, body)
	}
	deleteAndCheckEmpty(t, q, e)
}

// A message moved between queues loses its attributes: the queue it is in
// names the consumer.
func TestEventBridgeTargetMessageWithoutAttributes(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	queueURL := awstest.NewQueue(t, cfg)
	fn := newFunction(t, cfg, "billing")
	body := sample(t, "foreign/eventbridge-target-dlq.json")
	send(t, cfg, queueURL, body, nil)

	q := newQueue(t, cfg, queueURL)
	e := receiveOne(t, q, golden(t, "eventbridge-target-no-attributes.json"))
	rec := newRecorder()
	deps := []redrive.Deployment{{Consumer: "billing", DLQURL: queueURL, FunctionName: fn}}
	if err := redeliverer(t, cfg, rec, shop(t), deps).Redeliver(ctxT(t), e); err != nil {
		t.Fatal(err)
	}
	if inv := oneInvocation(t, rec, fn); string(inv.Payload) != body {
		t.Errorf("payload:\n got %s\nwant %s", inv.Payload, body)
	}

	// In a queue that is no consumer's DLQ, nobody knows whose it is.
	deps[0].DLQURL = "https://sqs.us-east-1.amazonaws.com/123456789012/elsewhere"
	err := redeliverer(t, cfg, newRecorder(), shop(t), deps).Redeliver(ctxT(t), e)
	if !errors.Is(err, redrive.ErrNotRedeliverable) || !strings.Contains(err.Error(), queueURL) {
		t.Errorf("error %v, want ErrNotRedeliverable naming the queue", err)
	}
	deleteAndCheckEmpty(t, q, e)
}

func TestLambdaDestinationRecord(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	queueURL := awstest.NewQueue(t, cfg)
	fn := newFunction(t, cfg, "billing")
	body := strings.Replace(sample(t, "foreign/lambda-destination.json"), "function:billing:", "function:"+fn+":", 1)
	send(t, cfg, queueURL, body, nil)

	want := golden(t, "lambda-destination.json")
	want["consumer"] = fn
	want["functionArn"] = "arn:aws:lambda:us-east-1:123456789012:function:" + fn + ":$LATEST"
	q := newQueue(t, cfg, queueURL)
	e := receiveOne(t, q, want)
	rec := newRecorder()
	r := redeliverer(t, cfg, rec, shop(t), []redrive.Deployment{{Consumer: "billing", DLQURL: queueURL, FunctionName: fn}})
	if err := r.Redeliver(ctxT(t), e); err != nil {
		t.Fatal(err)
	}
	var rec0 struct {
		RequestPayload json.RawMessage `json:"requestPayload"`
	}
	if err := json.Unmarshal([]byte(body), &rec0); err != nil {
		t.Fatal(err)
	}
	// The requestPayload is the event of the invocation that failed: as it is.
	if inv := oneInvocation(t, rec, fn); string(inv.Payload) != string(rec0.RequestPayload) {
		t.Errorf("payload:\n got %s\nwant %s", inv.Payload, rec0.RequestPayload)
	}
	deleteAndCheckEmpty(t, q, e)
}

// A dead letter whose payload never decoded holds no event: nothing is
// invoked, and the message stays.
func TestRawDeadLetterIsNotRedelivered(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	queueURL := awstest.NewQueue(t, cfg)
	fn := newFunction(t, cfg, "shipping")
	send(t, cfg, queueURL, sample(t, "deadletter-v1-raw-bytes.json"), nil)

	q := newQueue(t, cfg, queueURL)
	e := receiveOne(t, q, golden(t, "troupe-raw-bytes.json"))
	rec := newRecorder()
	r := redeliverer(t, cfg, rec, shop(t), []redrive.Deployment{{Consumer: "shipping", DLQURL: queueURL, FunctionName: fn}})
	err := r.Redeliver(ctxT(t), e)
	if !errors.Is(err, redrive.ErrNotRedeliverable) || !strings.Contains(err.Error(), "never decoded") ||
		!strings.Contains(err.Error(), "shipping") {
		t.Errorf("error %v, want ErrNotRedeliverable saying the payload never decoded", err)
	}
	if n := len(rec.invocations()); n != 0 {
		t.Errorf("%d invocations, want none", n)
	}
}

// Lambda's refusal, or an answer that is not 202, is an error naming the
// function: the message is not acknowledged.
func TestInvokeNotAcknowledged(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	useMotoLambda(t)
	e := dlq.Entry{ID: "m-1", Body: sample(t, "foreign/eventbridge-target-dlq.json"),
		Attributes: map[string]string{"TARGET_ARN": "arn:aws:lambda:us-east-1:123456789012:function:billing-fn"}}
	deps := []redrive.Deployment{{Consumer: "billing", FunctionName: "billing-fn"}}

	inj := awstest.NewFaultInjector(nil)
	// Lambda's Invoke has no X-Amz-Target: the injector files it under "".
	inj.FailNextCall("", awstest.CallFault{Status: 404, Code: "ResourceNotFoundException",
		Message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:billing-fn"})
	err := redeliverer(t, cfg, inj, shop(t), deps).Redeliver(ctxT(t), e)
	if err == nil || !strings.Contains(err.Error(), "billing-fn") || !strings.Contains(err.Error(), "no such function") {
		t.Errorf("error %v, want one naming function billing-fn and saying it does not exist", err)
	}

	err = redeliverer(t, cfg, statusRewriter{200}, shop(t), deps).Redeliver(ctxT(t), e)
	if err == nil || !strings.Contains(err.Error(), "billing-fn") || !strings.Contains(err.Error(), "status 200, not 202") {
		t.Errorf("error %v, want one naming function billing-fn and the status", err)
	}
}

// statusRewriter answers every call with the emulator's answer under
// another status.
type statusRewriter struct{ status int }

func (s statusRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := awstest.Transport.RoundTrip(req)
	if err == nil {
		resp.StatusCode = s.status
		resp.Status = http.StatusText(s.status)
	}
	return resp, err
}

// Messages the stack's topology does not explain are refused, never sent
// to some function.
func TestRedeliverRefusesStrangers(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	useMotoLambda(t)
	rec := newRecorder()
	r := redeliverer(t, cfg, rec, shop(t), []redrive.Deployment{
		{Consumer: "billing", FunctionName: "billing-fn"}, {Consumer: "inventory", FunctionName: "inventory-fn"},
	})
	kinesisFailure := strings.Replace(sample(t, "foreign/kinesis-failure.json"), "function:inventory", "function:billing-fn", 1)
	for name, c := range map[string]struct {
		e    dlq.Entry
		want string
	}{
		"unknown consumer": {dlq.Entry{ID: "1", Body: strings.Replace(sample(t, "deadletter-v1-bus.json"), `"consumer": "billing"`, `"consumer": "audit"`, 1)},
			`consumer "audit", which topology shop does not declare`},
		"consumer without function": {dlq.Entry{ID: "2", Body: sample(t, "deadletter-v1-raw-json.json")}, "ShippingFunctionName"},
		"unknown function": {dlq.Entry{ID: "3", Body: sample(t, "foreign/lambda-destination.json")},
			`function "billing", which is none of the consumers' functions`},
		"bus event for a stream consumer": {dlq.Entry{ID: "4", Body: sample(t, "foreign/eventbridge-target-dlq.json"),
			Attributes: map[string]string{"TARGET_ARN": "arn:aws:lambda:us-east-1:123456789012:function:inventory-fn"}}, "reads the stream"},
		"stream batch for a bus consumer": {dlq.Entry{ID: "5", Body: kinesisFailure}, "reads the bus"},
		"unreadable":                      {dlq.Entry{ID: "6", Body: `{"hello":"world"}`}, "could not be read"},
		"decode error kept":               {dlq.Entry{ID: "7", Body: "x", Err: errors.New("boom")}, "boom"},
	} {
		err := r.Redeliver(ctxT(t), c.e)
		if !errors.Is(err, redrive.ErrNotRedeliverable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want ErrNotRedeliverable saying %q", name, err, c.want)
		}
	}
	if n := len(rec.invocations()); n != 0 {
		t.Errorf("%d invocations, want none", n)
	}
}

func TestLambdaConfigValidate(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		cfg  redrive.LambdaConfig
		want string
	}{
		"no topology":       {redrive.LambdaConfig{}, "Topology is required"},
		"no deployments":    {redrive.LambdaConfig{Topology: shop(t)}, "Deployments is empty"},
		"unknown consumer":  {redrive.LambdaConfig{Topology: shop(t), Deployments: []redrive.Deployment{{Consumer: "audit", FunctionName: "f"}}}, `no consumer "audit"`},
		"no function":       {redrive.LambdaConfig{Topology: shop(t), Deployments: []redrive.Deployment{{Consumer: "billing"}}}, "has no function name"},
		"shared function":   {redrive.LambdaConfig{Topology: shop(t), Deployments: []redrive.Deployment{{Consumer: "billing", FunctionName: "f"}, {Consumer: "inventory", FunctionName: "arn:aws:lambda:us-east-1:1:function:f"}}}, "the same function"},
		"tiny payload":      {redrive.LambdaConfig{Topology: shop(t), Deployments: []redrive.Deployment{{Consumer: "billing", FunctionName: "f"}}, MaxPayloadBytes: 10}, "MaxPayloadBytes 10"},
		"twice the same":    {redrive.LambdaConfig{Topology: shop(t), Deployments: []redrive.Deployment{{Consumer: "billing", FunctionName: "f"}, {Consumer: "billing", FunctionName: "g"}}}, "appears twice"},
		"valid but nothing": {redrive.LambdaConfig{Topology: shop(t), Deployments: []redrive.Deployment{{Consumer: "billing", FunctionName: "f"}}}, ""},
	} {
		_, err := redrive.NewLambdaRedeliverer(fakeLambda{}, nil, c.cfg)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
}

// The payload limit is checked before Lambda is asked.
func TestPayloadOverLimit(t *testing.T) {
	t.Parallel()
	r, err := redrive.NewLambdaRedeliverer(fakeLambda{}, nil, redrive.LambdaConfig{
		Topology: shop(t), Deployments: []redrive.Deployment{{Consumer: "billing", FunctionName: "f"}}, MaxPayloadBytes: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	big := `{"version":"0","id":"e-1","detail-type":"x","source":"y","detail":{"pad":"` + strings.Repeat("a", 2000) + `"}}`
	err = r.Redeliver(ctxT(t), dlq.Entry{ID: "m", Body: big,
		Attributes: map[string]string{"TARGET_ARN": "arn:aws:lambda:us-east-1:1:function:f"}})
	if !errors.Is(err, redrive.ErrNotRedeliverable) || !strings.Contains(err.Error(), "1024-byte limit") {
		t.Errorf("error %v, want ErrNotRedeliverable naming the limit", err)
	}
}

// fakeLambda acknowledges every invocation, for tests that never reach it.
type fakeLambda struct{}

func (fakeLambda) Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}
