package console_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/console"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/local"
	"github.com/troupehq/troupe/schemas"
)

// BenchmarkIngestWithConsole prices the console: troupe dev's ingest
// throughput (the workload of local's BenchmarkEndToEnd/throughput/
// idempotency=on: orders.OrderPlaced v2 over the AWS-compatible PutEvents,
// 10 entries a call, 8 concurrent callers, each event processed to the end
// of its happy-path chain) in three set-ups of one run:
//
//   - console=off: the engine's handler alone, as `troupe dev` served it
//     before the console;
//   - console=mounted: the console's handler in front, no one watching;
//   - console=open: the same with the console open in headless Chromium
//     (console/e2e/watch.mjs), its live updates flowing through the run.
//
// events/s counts events fully processed per second; snapshots/s (open
// only) the live updates the page took, and browser-cpu-% the CPU time
// Chromium and its driver used during the run, in % of one core.
//
//	make bench-console   (5 rounds of: go test -run '^$' -bench IngestWithConsole -benchtime 3000x ./console/)
func BenchmarkIngestWithConsole(b *testing.B) {
	for _, mode := range []string{"off", "mounted", "open"} {
		b.Run("console="+mode, func(b *testing.B) { benchIngest(b, mode) })
	}
}

const (
	benchClients = 8
	benchBatch   = 10
)

func benchIngest(b *testing.B, mode string) {
	entries, ids := placedEntries(b, b.N)
	tr := newTracker(ids)
	top, err := choreography.Topology()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := local.Open(local.Config{
		DataDir: b.TempDir(), Topology: top, Validator: schemas.Sample(), Observer: tr.observe,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	c, err := console.New(console.Config{Engine: eng, Topology: top, Registry: domain.Registry(), Schemas: schemas.Sample()})
	if err != nil {
		b.Fatal(err)
	}
	var h http.Handler = eng.Handler()
	if mode != "off" {
		h = c.Handler(h)
	}
	srv := httptest.NewServer(h)
	defer func() {
		c.Close()
		srv.Close()
		if err := eng.Close(); err != nil {
			b.Error(err)
		}
	}()
	var watcher *watch
	if mode == "open" {
		watcher = openConsole(b, srv.URL)
	}
	client := eventbridge.New(eventbridge.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", ""),
	})

	var browserCPU time.Duration
	if watcher != nil {
		browserCPU = treeCPU(watcher.cmd.Process.Pid)
	}
	b.ResetTimer()
	start := time.Now()
	if err := publishAll(client, entries); err != nil {
		b.Fatal(err)
	}
	tr.wait(b, max(90*time.Second, time.Duration(b.N)*45*time.Millisecond))
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	if watcher != nil {
		browserCPU = treeCPU(watcher.cmd.Process.Pid) - browserCPU
		n := watcher.stop(b)
		b.ReportMetric(float64(n)/elapsed.Seconds(), "snapshots/s")
		b.ReportMetric(100*browserCPU.Seconds()/elapsed.Seconds(), "browser-cpu-%")
	}
}

// treeCPU is the CPU time (user and system) of a process and its
// descendants so far, read from /proc: the browser's cost during the run.
func treeCPU(root int) time.Duration {
	dirs, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	ticks := map[int]int64{}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15): fields after the
		// last ")" start at state (field 3).
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		parent[pid], _ = strconv.Atoi(f[1])
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks[pid] = u + s
	}
	var total int64
	for pid, t := range ticks {
		for p := pid; p > 1; p = parent[p] {
			if p == root {
				total += t
				break
			}
		}
	}
	return time.Duration(total) * time.Second / 100 // USER_HZ is 100 on Linux
}

// BenchmarkSnapshot is what the live view costs the engine: one snapshot
// (every consumer's status, lag and DLQ depth, and the edge counts), read
// every second while someone watches, whatever the number of watchers. The
// engine holds the sample after 200 events and a dead letter.
func BenchmarkSnapshot(b *testing.B) {
	entries, ids := placedEntries(b, 200)
	tr := newTracker(ids)
	top, err := choreography.Topology()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := local.Open(local.Config{
		DataDir: b.TempDir(), Topology: top, Validator: schemas.Sample(), Observer: tr.observe,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	if err := eng.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	c, err := console.New(console.Config{Engine: eng, Topology: top, Registry: domain.Registry(), Schemas: schemas.Sample()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	srv := httptest.NewServer(c.Handler(eng.Handler()))
	defer srv.Close()
	client := eventbridge.New(eventbridge.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", ""),
	})
	if err := publishAll(client, entries); err != nil {
		b.Fatal(err)
	}
	tr.wait(b, time.Minute)
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Get(srv.URL + "/console/api/snapshot")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// watch is the console open in headless Chromium.
type watch struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

// openConsole starts console/e2e/watch.mjs on the console at url and waits
// until the page draws the graph and follows the live stream.
func openConsole(b *testing.B, url string) *watch {
	b.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		b.Fatal("console=open needs Node.js: node is not on PATH")
	}
	dir := filepath.Join("e2e")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		b.Fatal("console=open needs playwright-core: run `make console-e2e-deps` (npm ci in console/e2e)")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("CHROMIUM") == "" {
		b.Fatal("console=open needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium), or CHROMIUM set to its path")
	}
	w := &watch{cmd: exec.Command(node, "watch.mjs"), lines: make(chan string, 8)}
	w.cmd.Dir = dir
	w.cmd.Env = append(os.Environ(), "CONSOLE_URL="+url)
	w.cmd.Stderr = os.Stderr
	if w.stdin, err = w.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
	}()
	select {
	case l := <-w.lines:
		if l != "ready" {
			b.Fatalf("watch.mjs: %q, want ready", l)
		}
	case <-time.After(90 * time.Second):
		_ = w.cmd.Process.Kill()
		b.Fatal("the console did not open in Chromium within 90s")
	}
	return w
}

// stop closes the page and returns the live updates it took.
func (w *watch) stop(b *testing.B) int {
	b.Helper()
	_ = w.stdin.Close()
	n := -1
	for l := range w.lines {
		if s, ok := strings.CutPrefix(l, "snapshots "); ok {
			_, _ = fmt.Sscan(s, &n)
		}
	}
	if err := w.cmd.Wait(); err != nil {
		b.Errorf("watch.mjs: %v", err)
	}
	if n < 0 {
		b.Error("watch.mjs did not say how many live updates the page took")
	}
	return n
}

// chainSteps are the deliveries that complete one published OrderPlaced on
// the happy path (as in local's benchmark).
var chainSteps = map[[2]string]uint32{
	{"payments", "orders.OrderPlaced"}:          1 << 0,
	{"inventory", "payments.PaymentAuthorized"}: 1 << 1,
	{"shipping", "inventory.StockReserved"}:     1 << 2,
	{"timeline", "payments.PaymentAuthorized"}:  1 << 3,
	{"timeline", "inventory.StockReserved"}:     1 << 4,
	{"timeline", "shipping.ShipmentScheduled"}:  1 << 5,
}

const chainDone = 1<<6 - 1

// tracker follows chains by correlation id; its map is built before the
// engine starts and only read afterwards.
type tracker struct {
	chains   map[string]*atomic.Uint32
	want     int64
	complete atomic.Int64
	all      chan struct{}
}

func newTracker(ids []string) *tracker {
	t := &tracker{chains: make(map[string]*atomic.Uint32, len(ids)), want: int64(len(ids)), all: make(chan struct{})}
	for _, id := range ids {
		t.chains[id] = new(atomic.Uint32)
	}
	return t
}

func (t *tracker) observe(o consumers.Outcome) {
	if o.Kind != consumers.OutcomeHandled && o.Kind != consumers.OutcomeDuplicate {
		return
	}
	c, bit := t.chains[o.CorrelationID], chainSteps[[2]string{o.Consumer, o.Type}]
	if c == nil || bit == 0 {
		return
	}
	if old := c.Or(bit); old|bit == chainDone && old != chainDone && t.complete.Add(1) == t.want {
		close(t.all)
	}
}

func (t *tracker) wait(b *testing.B, timeout time.Duration) {
	b.Helper()
	select {
	case <-t.all:
	case <-time.After(timeout):
		b.Fatalf("after %v: %d of %d chains complete", timeout, t.complete.Load(), t.want)
	}
}

func placedEntries(b *testing.B, n int) ([]ebtypes.PutEventsRequestEntry, []string) {
	b.Helper()
	entries := make([]ebtypes.PutEventsRequestEntry, n)
	ids := make([]string, n)
	run := time.Now().UnixNano()
	for i := range n {
		orderID := fmt.Sprintf("ord_%x_%08d", run, i)
		e, err := domain.OrderPlacedDef.New(domain.OrderPlacedV2{
			OrderID: orderID, CustomerID: "cus_8f3a2c91",
			Items: []domain.OrderLine{
				{SKU: "SKU-TSHIRT-BLK-M", Quantity: 2, UnitPrice: domain.Money{AmountCents: 1999, Currency: "USD"}},
				{SKU: "SKU-MUG-WHT", Quantity: 1, UnitPrice: domain.Money{AmountCents: 1250, Currency: "USD"}},
			},
			Total:           domain.Money{AmountCents: 5248, Currency: "USD"},
			ShippingAddress: &domain.Address{Line1: "742 Evergreen Terrace", City: "Springfield", PostalCode: "97403", Country: "US"},
		}, events.WithSubject(orderID))
		if err != nil {
			b.Fatal(err)
		}
		body, err := json.Marshal(e)
		if err != nil {
			b.Fatal(err)
		}
		entries[i] = ebtypes.PutEventsRequestEntry{Source: aws.String(e.Source), DetailType: aws.String(e.Type), Detail: aws.String(string(body)), Time: aws.Time(e.Time)}
		ids[i] = e.ID
	}
	return entries, ids
}

// publishAll publishes entries with benchClients concurrent callers, in
// calls of benchBatch, and returns the first error.
func publishAll(c *eventbridge.Client, entries []ebtypes.PutEventsRequestEntry) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for range benchClients {
		wg.Go(func() {
			for {
				i := int(next.Add(benchBatch)) - benchBatch
				if i >= len(entries) {
					return
				}
				out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries[i:min(i+benchBatch, len(entries))]})
				if err == nil && out.FailedEntryCount > 0 {
					err = fmt.Errorf("PutEvents: %d entries failed", out.FailedEntryCount)
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
