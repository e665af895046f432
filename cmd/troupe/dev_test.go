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

	// The happy path: the AWS CLI puts the sample OrderPlaced on the bus.
	envelope, _ := os.ReadFile(filepath.Join("..", "..", sampleOrder))
	detail, _ := json.Marshal(string(bytes.TrimSpace(envelope)))
	out := awsCLI(t, d.addr, "events", "put-events", "--entries",
		fmt.Sprintf(`[{"Source":"orders","DetailType":"orders.OrderPlaced","Detail":%s}]`, detail))
	var resp struct{ FailedEntryCount int }
	if err := json.Unmarshal(out, &resp); err != nil || resp.FailedEntryCount != 0 {
		t.Fatalf("put-events: %s", out)
	}
	d.waitTrace(t, "019593fa-5d95-744e-b7fd-bf94c690a9c1",
		"orders.OrderPlaced", "payments.PaymentAuthorized", "inventory.StockReserved", "shipping.ShipmentScheduled")

	// The decline and the compensation paths, with troupe publish --to local.
	for subject, cents := range map[string]int{"o-big": 900000, "o-nostock": 100} {
		r := troupe(t, nil, "publish", "orders.OrderPlaced", "--to", "local", "--dev-addr", d.addr, "--subject", subject, "--data",
			fmt.Sprintf(`{"orderId":%q,"customerId":"c","items":[{"sku":"S","quantity":1,"unitPrice":{"amountCents":%d,"currency":"EUR"}}],"total":{"amountCents":%d,"currency":"EUR"}}`, subject, cents, cents))
		if r.code != 0 {
			t.Fatalf("publish --to local: %s%s", r.stdout, r.stderr)
		}
		id := strings.Fields(r.stdout)[1]
		want := []string{"orders.OrderPlaced", "payments.PaymentDeclined", "orders.OrderCancelled"}
		if subject == "o-nostock" {
			want = []string{"orders.OrderPlaced", "payments.PaymentAuthorized", "inventory.StockUnavailable", "payments.PaymentRefunded", "orders.OrderCancelled"}
		}
		d.waitTrace(t, id, want...)
	}

	// A poison event from a system that knows nothing of troupe: a
	// PaymentAuthorized without its payment. It lands in inventory's DLQ
	// with its payload; the other consumers are unaffected.
	awsCLI(t, d.addr, "events", "put-events", "--entries",
		`[{"Source":"legacy.billing","DetailType":"payments.PaymentAuthorized","Detail":"{\"orderId\":\"o-poison\"}"}]`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _ := d.status()
		dlq := map[string]int{}
		for _, c := range st.Consumers {
			dlq[c.Name] = c.DLQ
		}
		if dlq["inventory"] == 1 {
			for name, n := range dlq {
				if name != "inventory" && n != 0 {
					t.Fatalf("consumer %s has %d dead letters: %v", name, n, dlq)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the poison event did not reach inventory's DLQ: %v", dlq)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitTrace waits until `troupe trace --json` shows the chain of id with the
// event types wanted, in order, under one correlation id.
func (d *devProcess) waitTrace(t *testing.T, id string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		r := troupe(t, nil, "trace", id, "--json", "--addr", d.addr)
		var tr local.Trace
		if r.code == 0 && json.Unmarshal([]byte(r.stdout), &tr) == nil {
			got = got[:0]
			for _, e := range tr.Events {
				if e.CorrelationID != tr.CorrelationID {
					t.Fatalf("event %s has correlation %s in the trace of %s", e.ID, e.CorrelationID, tr.CorrelationID)
				}
				got = append(got, e.Type)
			}
			if strings.Join(got, " ") == strings.Join(want, " ") {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("trace of %s: %v, want %v", id, got, want)
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
