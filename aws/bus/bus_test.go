package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	smithy "github.com/aws/smithy-go"

	"github.com/troupehq/troupe/aws/bus"
	"github.com/troupehq/troupe/internal/awstest"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/producers/producertest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// deliveryTimeout bounds the wait for moto's slow rule→SQS delivery.
const deliveryTimeout = 30 * time.Second

// sqsEvent is the event a rule delivers to an SQS target.
type sqsEvent struct {
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Time       time.Time       `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

func delivered(t *testing.T, cfg aws.Config, queueURL string, want int, timeout time.Duration) []producertest.DeliveredEvent {
	t.Helper()
	var out []producertest.DeliveredEvent
	for _, body := range awstest.ReceiveAll(t, cfg, queueURL, want, timeout) {
		var e sqsEvent
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatalf("delivered message is not an EventBridge event: %v\n%s", err, body)
		}
		out = append(out, producertest.DeliveredEvent{
			ID: e.ID, Source: e.Source, DetailType: e.DetailType, Detail: e.Detail, Time: e.Time, Resources: e.Resources,
		})
	}
	return out
}

func newSender(t *testing.T, cfg aws.Config, busName string, optFns ...func(*eventbridge.Options)) *bus.Sender {
	t.Helper()
	s, err := bus.NewFromConfig(cfg, bus.Config{BusName: busName}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// noRetries makes one SendBatch one HTTP call, so a fault reaches the adapter.
func noRetries(o *eventbridge.Options) { o.Retryer = aws.NopRetryer{} }

func TestConformance(t *testing.T) {
	t.Parallel()
	// moto drops TraceHeader on the way to targets (as AWS does: it goes to X-Ray).
	f := producertest.Features{Resources: true, RejectsMalformedDetail: true}
	producertest.RunBus(t, f, func(t *testing.T) producertest.BusUnderTest {
		cfg := awstest.Config(t)
		busName, queueURL := awstest.NewBus(t, cfg)
		return producertest.BusUnderTest{
			Sender:  newSender(t, cfg, busName),
			Missing: newSender(t, cfg, awstest.Name(t, "missing")),
			Delivered: func(t *testing.T, want int) []producertest.DeliveredEvent {
				return delivered(t, cfg, queueURL, want, deliveryTimeout)
			},
		}
	})
}

func entries(n int) []producers.BusEntry {
	out := make([]producers.BusEntry, n)
	for i := range out {
		out[i] = producers.BusEntry{
			Source: "bus_test", DetailType: "bus_test.E", Detail: fmt.Appendf(nil, `{"n":%d}`, i),
		}
	}
	return out
}

// TestEntryFailures: per-entry failures in the real response shape come out
// with their code and the right Retryable, and only the entries reported as
// accepted reach the bus.
func TestEntryFailures(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	busName, queueURL := awstest.NewBus(t, cfg)
	inj := awstest.NewFaultInjector(http.DefaultTransport)
	s := newSender(t, cfg, busName, func(o *eventbridge.Options) { o.HTTPClient = inj.Client() })

	inj.FailNext(awstest.TargetPutEvents, func(i int, entry json.RawMessage) (string, bool) {
		switch i {
		case 1:
			return "ThrottlingException", true
		case 2:
			return "AccessDeniedException", true
		case 3:
			return "InternalFailure", true
		}
		return "", false
	})
	res, err := s.SendBatch(t.Context(), entries(5))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		code      string
		retryable bool
	}{{"", false}, {"ThrottlingException", true}, {"AccessDeniedException", false}, {"InternalFailure", true}, {"", false}}
	for i, w := range want {
		r := res[i]
		if r.ErrorCode != w.code || r.Retryable != w.retryable {
			t.Errorf("entry %d: code %q retryable %v, want %q %v", i, r.ErrorCode, r.Retryable, w.code, w.retryable)
		}
		if r.Failed() != (r.ID == "") {
			t.Errorf("entry %d: failed %v but ID %q", i, r.Failed(), r.ID)
		}
		if r.Failed() && r.ErrorMessage == "" {
			t.Errorf("entry %d: failed without a message", i)
		}
	}
	if got := inj.Calls(awstest.TargetPutEvents); got != 1 {
		t.Errorf("PutEvents calls = %d, want 1", got)
	}

	got := delivered(t, cfg, queueURL, 2, deliveryTimeout)
	// Then wait a little for any event that should not be there.
	got = append(got, delivered(t, cfg, queueURL, 1, 2*time.Second)...)
	ids := map[string]bool{}
	for _, e := range got {
		ids[e.ID] = true
	}
	if len(got) != 2 || !ids[res[0].ID] || !ids[res[4].ID] {
		t.Errorf("bus got %d events %v, want exactly entries 0 and 4 (%s, %s)", len(got), ids, res[0].ID, res[4].ID)
	}
}

// TestAllEntriesFail: when every entry fails, no call reaches the bus and
// every result says so.
func TestAllEntriesFail(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	inj := awstest.NewFaultInjector(nil)
	s := newSender(t, cfg, awstest.Name(t, "never-reached"), func(o *eventbridge.Options) { o.HTTPClient = inj.Client() })
	inj.FailNext(awstest.TargetPutEvents, func(int, json.RawMessage) (string, bool) { return "", true })
	res, err := s.SendBatch(t.Context(), entries(3))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.ErrorCode != "ThrottlingException" || !r.Retryable {
			t.Errorf("entry %d: %+v, want a retryable ThrottlingException", i, r)
		}
	}
}

// TestCallErrors: whole-call failures wrap the right sentinel, and no smithy
// type escapes.
func TestCallErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fault              awstest.CallFault
		retryable, missing bool
	}{
		{awstest.CallFault{Status: 500, Code: "InternalFailure", Message: "boom"}, true, false},
		{awstest.CallFault{Status: 503, Code: "ServiceUnavailable", Message: "later"}, true, false},
		{awstest.CallFault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"}, true, false},
		{awstest.CallFault{Status: 400, Code: "ValidationException", Message: "too many entries"}, false, false},
		{awstest.CallFault{Status: 400, Code: "AccessDeniedException", Message: "no"}, false, false},
		{awstest.CallFault{Status: 400, Code: "ResourceNotFoundException", Message: "Event bus x does not exist."}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.fault.Code, func(t *testing.T) {
			t.Parallel()
			cfg := awstest.Config(t)
			inj := awstest.NewFaultInjector(nil)
			s := newSender(t, cfg, awstest.Name(t, "bus"), noRetries, func(o *eventbridge.Options) { o.HTTPClient = inj.Client() })
			inj.FailNextCall(awstest.TargetPutEvents, tc.fault)
			_, err := s.SendBatch(t.Context(), entries(1))
			checkCallError(t, err, tc.retryable, tc.missing)
			if err != nil && !strings.Contains(err.Error(), tc.fault.Code) {
				t.Errorf("error %q does not name the code %s", err, tc.fault.Code)
			}
			inj.FailNextCall(awstest.TargetDescribeEventBus, tc.fault)
			checkCallError(t, s.Check(t.Context()), tc.retryable, tc.missing)
		})
	}
}

func checkCallError(t *testing.T, err error, retryable, missing bool) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if errors.Is(err, producers.ErrRetryable) != retryable {
		t.Errorf("%v: retryable = %v, want %v", err, !retryable, retryable)
	}
	if errors.Is(err, producers.ErrNotFound) != missing {
		t.Errorf("%v: not found = %v, want %v", err, !missing, missing)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		t.Errorf("%v: a smithy.APIError escaped the adapter", err)
	}
}

// TestMissingBus: moto, unlike AWS, refuses PutEvents to a missing bus;
// either way the adapter reports ErrNotFound when told.
func TestMissingBus(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	s := newSender(t, cfg, awstest.Name(t, "missing"))
	_, err := s.SendBatch(t.Context(), entries(1))
	checkCallError(t, err, false, true)
	checkCallError(t, s.Check(t.Context()), false, true)
}

// TestBusARN: a bus named by its ARN works for Check and SendBatch.
func TestBusARN(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	busName, _ := awstest.NewBus(t, cfg)
	out, err := eventbridge.NewFromConfig(cfg).DescribeEventBus(t.Context(), &eventbridge.DescribeEventBusInput{Name: aws.String(busName)})
	if err != nil {
		t.Fatal(err)
	}
	s := newSender(t, cfg, aws.ToString(out.Arn))
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("Check by ARN: %v", err)
	}
	res, err := s.SendBatch(t.Context(), entries(1))
	if err != nil || len(res) != 1 || res[0].Failed() {
		t.Errorf("SendBatch by ARN: %+v, %v", res, err)
	}
}

// TestUnreachable: an endpoint nobody listens on fails fast and retryable.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // now nothing listens there

	cfg := awstest.Config(t)
	cfg.BaseEndpoint = aws.String("http://" + addr)
	s := newSender(t, cfg, "orders", noRetries)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err = s.SendBatch(ctx, entries(1))
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v", took)
	}
	checkCallError(t, err, true, false)
}

// TestHang: an endpoint that accepts and never answers does not hang the
// caller past its ctx deadline, and the error is ctx's, not retryable.
func TestHang(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // hold it open, say nothing
		}
	}()
	cfg := awstest.Config(t)
	cfg.BaseEndpoint = aws.String("http://" + l.Addr().String())
	s := newSender(t, cfg, "orders")
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.SendBatch(ctx, entries(1))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v past a 500ms deadline", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if errors.Is(err, producers.ErrRetryable) {
		t.Errorf("%v: a caller's deadline is not retryable", err)
	}
}
