package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/troupehq/troupe/local"
)

// devProcess is a `troupe dev` started as a user starts it.
type devProcess struct {
	addr, dataDir string
	cmd           *exec.Cmd
	out           *syncBuffer
}

// syncBuffer is a bytes.Buffer the process writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDev runs troupe dev on addr with dataDir, and waits until its status
// endpoint answers.
func startDev(t *testing.T, addr, dataDir string) *devProcess {
	t.Helper()
	d := &devProcess{addr: addr, dataDir: dataDir, out: &syncBuffer{}}
	d.cmd = exec.Command(troupeBin, "dev", "--addr", addr, "--data-dir", dataDir, "--shards", "2")
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		_, _ = d.cmd.Process.Wait()
		if t.Failed() {
			t.Logf("troupe dev output:\n%s", d.out)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := d.status(); err == nil {
			return d
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("troupe dev did not answer on %s:\n%s", addr, d.out)
	return nil
}

func (d *devProcess) status() (local.Status, error) {
	var st local.Status
	resp, err := http.Get("http://" + d.addr + local.PathStatus)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// waitDelivered waits until each named consumer has delivered at least n
// events since the process started.
func (d *devProcess) waitDelivered(t *testing.T, n int64, names ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var st local.Status
	for time.Now().Before(deadline) {
		st, _ = d.status()
		ok := true
		for _, name := range names {
			found := false
			for _, c := range st.Consumers {
				if c.Name == name {
					found = c.Delivered >= n
				}
			}
			ok = ok && found
		}
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("consumers %v did not deliver %d events: %+v", names, n, st.Consumers)
}

func awsCLI(t *testing.T, endpoint string, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatal("the AWS CLI (aws) is not on PATH: it ships with moto on these machines (pip install awscli)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", "http://" + endpoint, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws %v: %v\n%s", args, err, out)
	}
	return out
}

func TestDevRunsTheChoreographyFedByTheAWSCLIAndTroupePublish(t *testing.T) {
	t.Parallel()
	d := startDev(t, freeAddr(t), t.TempDir())
	if !strings.Contains(d.out.String(), "AWS endpoint  http://"+d.addr) {
		t.Fatalf("the endpoints are not printed:\n%s", d.out)
	}

	// The AWS CLI puts a troupe envelope and a foreign event on the bus.
	envelope, _ := os.ReadFile(filepath.Join("..", "..", sampleOrder))
	detail, _ := json.Marshal(string(bytes.TrimSpace(envelope)))
	entries := fmt.Sprintf(`[{"Source":"orders","DetailType":"orders.OrderPlaced","Detail":%s},`+
		`{"Source":"legacy.billing","DetailType":"payments.PaymentDeclined","Detail":"{\"orderId\":\"legacy-1\",\"reason\":\"card expired\"}"}]`, detail)
	out := awsCLI(t, d.addr, "events", "put-events", "--entries", entries)
	var resp struct{ FailedEntryCount int }
	if err := json.Unmarshal(out, &resp); err != nil || resp.FailedEntryCount != 0 {
		t.Fatalf("put-events: %s", out)
	}
	d.waitDelivered(t, 1, "payments", "inventory", "shipping", "orders")

	// troupe publish --to local takes the decline path.
	r := troupe(t, nil, "publish", "orders.OrderPlaced", "--to", "local", "--dev-addr", d.addr, "--subject", "o-big",
		"--data", `{"orderId":"o-big","customerId":"c","items":[{"sku":"S","quantity":1,"unitPrice":{"amountCents":900000,"currency":"EUR"}}],"total":{"amountCents":900000,"currency":"EUR"}}`)
	if r.code != 0 {
		t.Fatalf("publish --to local: %s%s", r.stdout, r.stderr)
	}
	d.waitDelivered(t, 2, "payments", "orders")
	st, _ := d.status()
	for _, c := range st.Consumers {
		if c.DLQ != 0 || c.DeadLettered != 0 {
			t.Fatalf("consumer %s dead-lettered: %+v", c.Name, c)
		}
	}
}

func TestDevSurvivesKill9(t *testing.T) {
	t.Parallel()
	addr, dir := freeAddr(t), t.TempDir()
	d := startDev(t, addr, dir)
	// The AWS CLI keeps the envelope's id, so the second put is a true
	// duplicate of the first.
	envelope, _ := os.ReadFile(filepath.Join("..", "..", sampleOrder))
	detail, _ := json.Marshal(string(bytes.TrimSpace(envelope)))
	entries := fmt.Sprintf(`[{"Source":"orders","DetailType":"orders.OrderPlaced","Detail":%s}]`, detail)
	awsCLI(t, addr, "events", "put-events", "--entries", entries)
	d.waitHandled(t, "shipping")
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = d.cmd.Process.Wait()

	d = startDev(t, addr, dir)
	awsCLI(t, addr, "events", "put-events", "--entries", entries)
	d.waitDelivered(t, 1, "payments")
	time.Sleep(time.Second)
	st, _ := d.status()
	for _, c := range st.Consumers {
		if c.DLQ != 0 {
			t.Fatalf("%s dead-lettered an event: %+v", c.Name, c)
		}
		// The bus path was handled before the kill (shipping ran); the
		// stream consumer may still have had records to read.
		if c.Subscription == "bus" && c.Handled != 0 {
			t.Fatalf("%s ran its handler %d times after the restart: the event was handled before the kill; "+
				"its idempotency key must survive (%+v)", c.Name, c.Handled, c)
		}
		if c.Name == "payments" && c.Duplicates < 1 {
			t.Fatalf("payments saw no duplicate: %+v", c)
		}
	}
}

// waitHandled waits until the consumer's handler ran once.
func (d *devProcess) waitHandled(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		st, _ := d.status()
		for _, c := range st.Consumers {
			if c.Name == name && c.Handled >= 1 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not handle an event", name)
}

func TestDevSaysWhenItsPlaceIsTaken(t *testing.T) {
	t.Parallel()
	addr, dir := freeAddr(t), t.TempDir()
	startDev(t, addr, dir)
	r := troupe(t, nil, "dev", "--addr", addr, "--data-dir", t.TempDir())
	if r.code == 0 || !strings.Contains(r.stderr, "give another --addr") {
		t.Fatalf("port taken: exit %d\n%s", r.code, r.stderr)
	}
	r = troupe(t, nil, "dev", "--addr", freeAddr(t), "--data-dir", dir)
	if r.code == 0 || !strings.Contains(r.stderr, "in use by another troupe dev") {
		t.Fatalf("data dir taken: exit %d\n%s", r.code, r.stderr)
	}
}
