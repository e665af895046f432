package deadletter_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	smithy "github.com/aws/smithy-go"

	"github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/consumers/deadlettertest"
	"github.com/troupehq/troupe/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// receiveTimeout bounds the wait for messages to read back.
const receiveTimeout = 20 * time.Second

func newQueue(t *testing.T, cfg deadletter.Config, optFns ...func(*sqs.Options)) *deadletter.Queue {
	t.Helper()
	q, err := deadletter.NewFromConfig(awstest.Config(t), cfg, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestConformance(t *testing.T) {
	deadlettertest.Run(t, func(t *testing.T) deadlettertest.QueueUnderTest {
		cfg := awstest.Config(t)
		url := awstest.NewQueue(t, cfg)
		return deadlettertest.QueueUnderTest{
			Queue: newQueue(t, deadletter.Config{QueueURL: url}),
			Read: func(t *testing.T, want int) []consumers.DeadLetter {
				var out []consumers.DeadLetter
				for _, m := range awstest.ReceiveMessages(t, cfg, url, want, receiveTimeout) {
					dl, err := deadletter.DecodeMessage(m.Body, m.Attributes)
					if err != nil {
						t.Fatalf("decode a message of %s: %v", url, err)
					}
					out = append(out, dl)
				}
				if len(out) < want {
					t.Fatalf("read %d dead letters from %s within %v, want %d", len(out), url, receiveTimeout, want)
				}
				return out
			},
		}
	})
}

// TestAttributes: the message attributes arrive as sent, with their data
// types, so a reader can filter on them; a compressed body says so.
func TestAttributes(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	url := awstest.NewQueue(t, cfg)
	q := newQueue(t, deadletter.Config{QueueURL: url})

	dl := deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-0000000000aa")
	dl.Origin = consumers.Origin{Source: "stream", Stream: "orders", Shard: "shardId-000000000001", SequenceNumber: "42"}
	if err := q.Send(t.Context(), dl); err != nil {
		t.Fatal(err)
	}
	big := deadlettertest.DeadLetter("shipping", "0190a000-0000-7000-8000-0000000000bb")
	big.Envelope.Data = []byte(`{"pad":"` + strings.Repeat("troupe ", deadletter.DefaultMaxMessageBytes/5) + `"}`)
	if err := q.Send(t.Context(), big); err != nil {
		t.Fatal(err)
	}

	msgs := awstest.ReceiveMessages(t, cfg, url, 2, receiveTimeout)
	if len(msgs) != 2 {
		t.Fatalf("received %d messages, want 2", len(msgs))
	}
	for _, m := range msgs {
		got := map[string]string{}
		for name, a := range m.Attributes {
			got[name] = aws.ToString(a.DataType) + ":" + aws.ToString(a.StringValue)
		}
		want := map[string]string{
			deadletter.AttrConsumer:     "String:billing",
			deadletter.AttrEventType:    "String:orders.OrderPlaced",
			deadletter.AttrEventVersion: "String:2",
			deadletter.AttrEventID:      "String:0190a000-0000-7000-8000-0000000000aa",
			deadletter.AttrReason:       "String:handler",
			deadletter.AttrOrigin:       "String:stream",
			deadletter.AttrAttempts:     "Number:3",
		}
		if got[deadletter.AttrConsumer] == "String:shipping" {
			want[deadletter.AttrConsumer] = "String:shipping"
			want[deadletter.AttrEventID] = "String:0190a000-0000-7000-8000-0000000000bb"
			want[deadletter.AttrOrigin] = "String:bus"
			want[deadletter.AttrEncoding] = "String:gzip"
			if !strings.HasPrefix(m.Body, "H4sI") || len(m.Body) >= deadletter.DefaultMaxMessageBytes {
				t.Errorf("the large dead letter's body is not gzip in base64 (%d bytes): %.40s", len(m.Body), m.Body)
			}
		} else if !strings.HasPrefix(m.Body, `{"troupe":"deadletter/v1",`) {
			t.Errorf("body does not start with the troupe marker: %.80s", m.Body)
		}
		if len(got) != len(want) {
			t.Errorf("%d attributes, want %d: %v", len(got), len(want), got)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("attribute %s = %q, want %q", k, got[k], v)
			}
		}
		if _, err := deadletter.DecodeMessage(m.Body, m.Attributes); err != nil {
			t.Errorf("decode: %v", err)
		}
	}
}

// TestQueueLimitBelowConfig: a queue whose MaximumMessageSize is below
// Config.MaxMessageBytes refuses the message; Send says ErrTooLarge and
// how to fix it.
func TestQueueLimitBelowConfig(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	url := awstest.NewQueue(t, cfg, map[string]string{"MaximumMessageSize": "1024"})
	q := newQueue(t, deadletter.Config{QueueURL: url})
	dl := deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-0000000000cc")
	dl.Envelope.Data = []byte(`{"pad":"` + strings.Repeat("a", 3000) + `"}`)
	err := q.Send(t.Context(), dl)
	if !errors.Is(err, consumers.ErrTooLarge) || !strings.Contains(err.Error(), "MaximumMessageSize") {
		t.Fatalf("Send to a 1 KiB queue: %v, want ErrTooLarge naming MaximumMessageSize", err)
	}
	t.Log(err)

	// With MaxMessageBytes set to the queue's limit, the letter is
	// compressed to fit, or refused before the call.
	q = newQueue(t, deadletter.Config{QueueURL: url, MaxMessageBytes: 1024})
	dl.Envelope.ID = "0190a000-0000-7000-8000-0000000000dd"
	if err := q.Send(t.Context(), dl); err != nil {
		t.Fatalf("Send of a compressible letter to a 1 KiB queue with MaxMessageBytes 1024: %v", err)
	}
	msgs := awstest.ReceiveMessages(t, cfg, url, 1, receiveTimeout)
	if len(msgs) != 1 {
		t.Fatalf("received %d messages, want 1", len(msgs))
	}
	got, err := deadletter.DecodeMessage(msgs[0].Body, msgs[0].Attributes)
	if err != nil {
		t.Fatal(err)
	}
	deadlettertest.Equal(t, got, dl)
}

// TestMissingQueue: a queue that does not exist is named in the error.
func TestMissingQueue(t *testing.T) {
	t.Parallel()
	url := strings.TrimRight(awstest.Endpoint(), "/") + "/123456789012/" + awstest.Name(t, "missing")
	q := newQueue(t, deadletter.Config{QueueURL: url})
	err := q.Send(t.Context(), deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-0000000000ee"))
	if err == nil {
		t.Fatal("Send to a missing queue returned nil")
	}
	t.Log(err)
	for _, want := range []string{url, "does not exist", "deploy the stack"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// TestUnreachable: an endpoint that refuses connections fails within the
// caller's deadline, with an error that says what to check.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	q := newQueue(t, deadletter.Config{QueueURL: "http://" + addr + "/123456789012/dlq"},
		func(o *sqs.Options) { o.BaseEndpoint = aws.String("http://" + addr) })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	err = q.Send(ctx, deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-0000000000ff"))
	if err == nil {
		t.Fatal("Send to an unreachable endpoint returned nil")
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("took %v", took)
	}
	if !strings.Contains(err.Error(), "could not be reached") && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error does not say SQS could not be reached: %v", err)
	}
}

// TestHang: an endpoint that accepts the call and never answers holds the
// caller no longer than its deadline, and the error is ctx's.
func TestHang(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { close(block); srv.Close() })
	ep := "http://" + l.Addr().String()
	q := newQueue(t, deadletter.Config{QueueURL: ep + "/123456789012/dlq"},
		func(o *sqs.Options) { o.BaseEndpoint = aws.String(ep) })
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = q.Send(ctx, deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-000000000100"))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v past a 500ms deadline", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send past its deadline: %v, want an error wrapping context.DeadlineExceeded", err)
	}
}

// TestCallErrors: SQS errors reach the caller translated, the SDK's types
// hidden, with what to do.
func TestCallErrors(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	url := awstest.NewQueue(t, cfg)
	for _, tc := range []struct {
		fault awstest.CallFault
		want  string
	}{
		{awstest.CallFault{Status: 403, Code: "AccessDenied", Message: "not authorized to perform: sqs:SendMessage"}, "sqs:SendMessage permission"},
		{awstest.CallFault{Status: 400, Code: "KmsAccessDenied", Message: "denied"}, "KMS key"},
		{awstest.CallFault{Status: 400, Code: "RequestThrottled", Message: "slow down"}, "backoff"},
		{awstest.CallFault{Status: 500, Code: "InternalError", Message: "boom"}, "backoff"},
		{awstest.CallFault{Status: 400, Code: "InvalidMessageContents", Message: "bad"}, "will not help"},
		{awstest.CallFault{Status: 400, Code: "InvalidParameterValue", Message: "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes."}, "MaximumMessageSize"},
	} {
		t.Run(tc.fault.Code, func(t *testing.T) {
			inj := awstest.NewFaultInjector(nil)
			q := newQueue(t, deadletter.Config{QueueURL: url}, func(o *sqs.Options) {
				o.HTTPClient = inj.Client()
				o.Retryer = aws.NopRetryer{}
			})
			inj.FailNextCall(targetSendMessage, tc.fault)
			err := q.Send(t.Context(), deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-000000000101"))
			if err == nil {
				t.Fatal("Send returned nil")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.fault.Code) {
				t.Errorf("error lacks %q or the code: %v", tc.want, err)
			}
			if tc.fault.Code == "InvalidParameterValue" && !errors.Is(err, consumers.ErrTooLarge) {
				t.Errorf("a size refusal does not wrap ErrTooLarge: %v", err)
			}
			var apiErr smithy.APIError
			if errors.As(err, &apiErr) {
				t.Errorf("a smithy.APIError escapes the adapter: %T", apiErr)
			}
		})
	}
	// Nothing was sent.
	if msgs := awstest.ReceiveMessages(t, cfg, url, 1, time.Second); len(msgs) != 0 {
		t.Errorf("the queue holds %d messages", len(msgs))
	}
}

const targetSendMessage = "AmazonSQS.SendMessage"

// TestConfig: Validate says what is wrong.
func TestConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  deadletter.Config
		want string
	}{
		{deadletter.Config{}, "QueueURL is required"},
		{deadletter.Config{QueueURL: "billing-dlq"}, "not a queue URL"},
		{deadletter.Config{QueueURL: "arn:aws:sqs:us-east-1:123456789012:billing-dlq"}, "looks like an ARN"},
		{deadletter.Config{QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/billing.fifo"}, "FIFO"},
		{deadletter.Config{QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/billing", MaxMessageBytes: 2 << 20}, "out of SQS's range"},
		{deadletter.Config{QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/billing", MaxMessageBytes: 100}, "out of SQS's range"},
	} {
		_, err := deadletter.New(&sqs.Client{}, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
	cfg := deadletter.Config{QueueURL: " https://sqs.us-east-1.amazonaws.com/123456789012/billing "}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil || cfg.MaxMessageBytes != deadletter.DefaultMaxMessageBytes ||
		cfg.QueueURL != "https://sqs.us-east-1.amazonaws.com/123456789012/billing" {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	if _, err := deadletter.New(nil, cfg); err == nil {
		t.Error("New(nil api) returned no error")
	}
}
