package function_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/awstest"
	"github.com/troupehq/troupe/internal/lambdart"
)

// bins holds the functions built once for the tests, as `make lambdas` builds
// them but for this machine's OS and architecture.
var bins = map[string]string{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "troupe-bootstrap")
	if err != nil {
		panic(err)
	}
	for name, pkg := range map[string]string{
		"payments": "../../consumers/payments/lambda",
		"timeline": "../../consumers/timeline/lambda",
		"hello":    "./testdata/hello",
		"sdkfloor": "./testdata/sdkfloor",
	} {
		bins[name] = filepath.Join(dir, name, "bootstrap")
		build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", bins[name], pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			panic(string(out))
		}
	}
	defer os.RemoveAll(dir)
	awstest.Main(m)
}

// stack is what a consumer function needs in the emulator.
type stack struct {
	cfg                        aws.Config
	bus, stream, table, dlqURL string
}

func newStack(t testing.TB) stack {
	t.Helper()
	s := stack{cfg: awstest.Config(t)}
	s.bus = awstest.Name(t, "bus")
	if _, err := eventbridge.NewFromConfig(s.cfg).CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: aws.String(s.bus)}); err != nil {
		t.Fatal(err)
	}
	s.stream = awstest.NewStream(t, s.cfg, 1)
	s.table = awstest.NewTable(t, s.cfg)
	s.dlqURL = awstest.NewQueue(t, s.cfg)
	return s
}

func (s stack) env() []string {
	return []string{
		"TROUPE_BUS=" + s.bus, "TROUPE_STREAM=" + s.stream, "TROUPE_IDEMPOTENCY_TABLE=" + s.table, "TROUPE_DLQ_URL=" + s.dlqURL,
	}
}

// start runs a bootstrap against a fresh Runtime API, the way Lambda starts
// it, and returns the API, the process, and when it was started.
func start(t testing.TB, bin string, env []string) (*lambdart.Server, *exec.Cmd, time.Time) {
	t.Helper()
	srv := lambdart.Start(t)
	cmd := exec.Command(bin)
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + srv.Addr, "AWS_ENDPOINT_URL=" + awstest.Endpoint(),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_FUNCTION_NAME=test", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "HOME=" + t.TempDir(),
	}, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("function stderr:\n%s", stderr.String())
		}
	})
	return srv, cmd, began
}

func busEvent(t *testing.T, e events.Envelope) []byte {
	detail, _ := json.Marshal(e)
	b, _ := json.Marshal(map[string]any{"version": "0", "id": events.NewID(), "detail-type": e.Type, "source": e.Source,
		"account": "123456789012", "time": e.Time.Format(time.RFC3339), "region": "us-east-1", "resources": []string{}, "detail": json.RawMessage(detail)})
	return b
}

func TestBootstrapRunsTheConsumerBehindTheBus(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	srv, _, _ := start(t, bins["payments"], s.env())
	srv.FirstNext(t, 10*time.Second)

	order := sampleOrder(t)
	for range 2 { // the second delivery is a duplicate
		if r := srv.Invoke(t, busEvent(t, order), 20*time.Second); r.IsError {
			t.Fatalf("invocation failed: %s", r.Body)
		}
	}
	records := awstest.ReadStream(t, s.cfg, s.stream)
	if len(records) != 1 {
		t.Fatalf("the stream holds %d records, want the one PaymentAuthorized", len(records))
	}
	e, err := events.Decode(records[0].Data)
	if err != nil || e.Type != "payments.PaymentAuthorized" || e.CausationID != order.ID || e.CorrelationID != order.CorrelationID {
		t.Fatalf("emitted %+v, %v", e, err)
	}

	// An event the consumer cannot read is dead-lettered, not failed.
	other, _ := events.New("shipping.ShipmentScheduled", 1, map[string]string{"orderId": "o"})
	if r := srv.Invoke(t, busEvent(t, other), 20*time.Second); r.IsError {
		t.Fatalf("invocation failed: %s", r.Body)
	}
	msgs := awstest.ReceiveMessages(t, s.cfg, s.dlqURL, 1, 5*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("DLQ holds %d messages, want 1", len(msgs))
	}
	dl, err := deadletter.DecodeMessage(msgs[0].Body, msgs[0].Attributes)
	if err != nil || dl.Reason != "unknown-type" || dl.Envelope == nil || dl.Envelope.ID != other.ID {
		t.Fatalf("dead letter %+v, %v", dl, err)
	}

	// A retryable failure is the invocation's error, for Lambda to retry.
	srvDown, _, _ := start(t, bins["payments"], append(s.env(), "TROUPE_IDEMPOTENCY_TABLE=no-such-table"))
	if r := srvDown.Invoke(t, busEvent(t, sampleOrder(t)), 30*time.Second); !r.IsError || !strings.Contains(string(r.Body), "idempotency") {
		t.Fatalf("with no idempotency table: error=%v %s", r.IsError, r.Body)
	}
}

func TestBootstrapRunsTheConsumerBehindTheStream(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	srv, _, _ := start(t, bins["timeline"], s.env())
	payload, err := os.ReadFile("../../testdata/aws/kinesis-event.json")
	if err != nil {
		t.Fatal(err)
	}
	r := srv.Invoke(t, payload, 20*time.Second)
	if r.IsError || strings.TrimSpace(string(r.Body)) != `{"batchItemFailures":null}` && strings.TrimSpace(string(r.Body)) != `{"batchItemFailures":[]}` {
		t.Fatalf("response %s (error %v)", r.Body, r.IsError)
	}
}

func TestBootstrapWithoutItsEnvironmentFailsItsInit(t *testing.T) {
	t.Parallel()
	srv := lambdart.Start(t)
	cmd := exec.Command(bins["payments"])
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + srv.Addr, "AWS_REGION=us-east-1", "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "TROUPE_DLQ_URL") || !strings.Contains(string(out), "TROUPE_IDEMPOTENCY_TABLE") {
		t.Fatalf("err %v, output:\n%s", err, out)
	}
}

func sampleOrder(t *testing.T) events.Envelope {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/events/orders.OrderPlaced/v2/placed.json")
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	e.ID = events.NewID() // a fresh event for each test
	e.CorrelationID = e.ID
	return e
}

// TestConsumerFunctionsLinkNoIngest guards the consumers' init time: a
// package linked into a function runs its init at every cold start, so a
// consumer's function must not link the HTTP ingest (aws/function/ingest,
// local/ingest) or the rest of the embedded engine.
func TestConsumerFunctionsLinkNoIngest(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "../../consumers/payments/lambda", "../../consumers/timeline/lambda").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/troupehq/troupe/local") || pkg == "github.com/troupehq/troupe/aws/function/ingest" || pkg == "net/http/httptest" {
			t.Errorf("a consumer's function links %s", pkg)
		}
	}
}
