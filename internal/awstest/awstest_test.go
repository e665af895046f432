package awstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/troupehq/troupe/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// childEnv is the environment of a test binary run as a child: without the
// emulator endpoint, so its Main must start (or fail to start) its own.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, awstest.EnvEndpoint+"=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// TestChildPanic panics in a child run by TestMainStopsMotoOnPanic; in
// any other run it does nothing.
func TestChildPanic(t *testing.T) {
	if os.Getenv("AWSTEST_CHILD") != "panic" {
		return
	}
	fmt.Printf("endpoint=%s\n", awstest.Endpoint())
	panic("awstest: planned panic")
}

// TestMainStopsMotoOnPanic: when a test panics, the moto_server that Main
// started dies with the test binary instead of lingering.
func TestMainStopsMotoOnPanic(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildPanic$")
	cmd.Env = childEnv("AWSTEST_CHILD=panic")
	out, err := cmd.Output()
	if err == nil {
		t.Fatalf("child did not fail:\n%s", out)
	}
	m := regexp.MustCompile(`endpoint=http://(127\.0\.0\.1:\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child printed no endpoint:\n%s", out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", string(m[1]), time.Second)
		if err != nil {
			return // gone
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("moto_server at %s still answers after its test binary panicked", m[1])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestMainWithoutMoto: with no emulator and no moto_server on PATH, Main
// explains and exits non-zero; it never skips.
func TestMainWithoutMoto(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	var env []string
	for _, kv := range childEnv() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PATH="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("Main without moto: err %v, want a non-zero exit", err)
	}
	for _, want := range []string{"moto_server was not found on PATH", "make test", awstest.EnvEndpoint} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("message lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	seen := map[string]bool{}
	for _, p := range []string{"bus", "", "TestX/sub test", strings.Repeat("x", 100)} {
		for range 100 {
			n := awstest.Name(t, p)
			if !valid.MatchString(n) || len(n) > 64 {
				t.Fatalf("Name(%q) = %q: not a valid rule/queue/stream name", p, n)
			}
			if seen[n] {
				t.Fatalf("Name(%q) repeated %q", p, n)
			}
			seen[n] = true
		}
	}
}

// wireLog records the raw request and response bodies of every call.
type wireLog struct {
	mu    sync.Mutex
	next  http.RoundTripper
	calls []wireCall
}

type wireCall struct {
	target, contentType string
	req, resp           []byte
}

func (w *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := w.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	w.mu.Lock()
	w.calls = append(w.calls, wireCall{req.Header.Get("X-Amz-Target"), req.Header.Get("Content-Type"), body, rb})
	w.mu.Unlock()
	return resp, nil
}

func (w *wireLog) last(t *testing.T, target string) wireCall {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.calls) - 1; i >= 0; i-- {
		if w.calls[i].target == target {
			return w.calls[i]
		}
	}
	t.Fatalf("no %s call on the wire", target)
	return wireCall{}
}

// TestFaultInjectorPutRecords: the injector strips failed records from the
// request, splices failures into the response at their positions, fixes
// FailedRecordCount, and the SDK reads the result; the stream holds only the
// records that succeeded.
func TestFaultInjectorPutRecords(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	name := awstest.NewStream(t, cfg, 1)
	inj := awstest.NewFaultInjector(nil)
	wire := &wireLog{next: inj}
	kc := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.HTTPClient = &http.Client{Transport: wire} })

	inj.FailNext(awstest.TargetPutRecords, func(i int, rec json.RawMessage) (string, bool) {
		var r struct{ PartitionKey string }
		if err := json.Unmarshal(rec, &r); err != nil {
			t.Errorf("record %d is not JSON: %s", i, rec)
		}
		return "", r.PartitionKey == "fail"
	})
	keys := []string{"ok0", "fail", "ok2", "fail"}
	in := &kinesis.PutRecordsInput{StreamName: aws.String(name)}
	for _, k := range keys {
		in.Records = append(in.Records, kintypes.PutRecordsRequestEntry{PartitionKey: aws.String(k), Data: []byte(k)})
	}
	out, err := kc.PutRecords(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedRecordCount) != 2 {
		t.Errorf("FailedRecordCount = %d, want 2", aws.ToInt32(out.FailedRecordCount))
	}
	for i, r := range out.Records {
		failed := aws.ToString(r.ErrorCode) != ""
		if failed != (keys[i] == "fail") {
			t.Errorf("record %d (%s): %+v", i, keys[i], r)
		}
		if failed && (aws.ToString(r.ErrorCode) != "ProvisionedThroughputExceededException" || r.SequenceNumber != nil) {
			t.Errorf("record %d: %+v", i, r)
		}
		if !failed && (r.SequenceNumber == nil || r.ShardId == nil) {
			t.Errorf("record %d: accepted without sequence number and shard: %+v", i, r)
		}
	}
	call := wire.last(t, awstest.TargetPutRecords)
	if call.contentType != "application/x-amz-json-1.1" {
		t.Errorf("PutRecords Content-Type %q, want application/x-amz-json-1.1", call.contentType)
	}
	var stored []string
	for _, r := range awstest.ReadStream(t, cfg, name) {
		stored = append(stored, r.PartitionKey)
	}
	if strings.Join(stored, ",") != "ok0,ok2" {
		t.Errorf("stream holds %v, want [ok0 ok2]", stored)
	}
	if got := inj.Calls(awstest.TargetPutRecords); got != 1 {
		t.Errorf("Calls = %d, want 1", got)
	}
}

// TestFaultInjectorPutEvents: the same for EventBridge, and a whole-call
// fault reaches the SDK as the API error it names.
func TestFaultInjectorPutEvents(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	busName, queueURL := awstest.NewBus(t, cfg)
	inj := awstest.NewFaultInjector(nil)
	eb := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) {
		o.HTTPClient = inj.Client()
		o.Retryer = aws.NopRetryer{}
	})
	entry := func(n string) ebtypes.PutEventsRequestEntry {
		return ebtypes.PutEventsRequestEntry{
			EventBusName: aws.String(busName), Source: aws.String("awstest"), DetailType: aws.String("T"),
			Detail: aws.String(`{"n":"` + n + `"}`),
		}
	}
	inj.FailNext(awstest.TargetPutEvents, func(i int, _ json.RawMessage) (string, bool) {
		return "InternalFailure", i == 0
	})
	out, err := eb.PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry("a"), entry("b")}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 1 || aws.ToString(out.Entries[0].ErrorCode) != "InternalFailure" ||
		out.Entries[0].EventId != nil || out.Entries[1].EventId == nil {
		t.Errorf("PutEvents output: %d failed, %+v", out.FailedEntryCount, out.Entries)
	}
	bodies := awstest.ReceiveAll(t, cfg, queueURL, 1, 30e9)
	if len(bodies) != 1 || !strings.Contains(bodies[0], `"n": "b"`) && !strings.Contains(bodies[0], `"n":"b"`) {
		t.Errorf("bus delivered %q, want only entry b", bodies)
	}

	inj.FailNextCall(awstest.TargetPutEvents, awstest.CallFault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"})
	_, err = eb.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry("c")}})
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("whole-call fault: got %v, want a ThrottlingException", err)
	}
	if got := inj.Calls(awstest.TargetPutEvents); got != 2 {
		t.Errorf("Calls = %d, want 2", got)
	}
}
