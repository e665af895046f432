package console_test

import (
	"bufio"
	"bytes"
	"context"
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
	"testing"
	"time"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/console"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/internal/benchload"
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

func benchIngest(b *testing.B, mode string) {
	entries, ids := benchload.PlacedEntries(b, b.N, "")
	tr := benchload.NewTracker(ids)
	top, err := choreography.Topology()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := local.Open(local.Config{
		DataDir: b.TempDir(), Topology: top, Validator: schemas.Sample(), Observer: tr.Observe,
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
	client := benchload.Client(srv.URL)

	var browserCPU time.Duration
	if watcher != nil {
		browserCPU = treeCPU(watcher.cmd.Process.Pid)
	}
	b.ResetTimer()
	start := time.Now()
	if err := benchload.PublishAll(client, entries); err != nil {
		b.Fatal(err)
	}
	tr.Wait(b, benchload.CompletionTimeout(b.N))
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
	entries, ids := benchload.PlacedEntries(b, 200, "")
	tr := benchload.NewTracker(ids)
	top, err := choreography.Topology()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := local.Open(local.Config{
		DataDir: b.TempDir(), Topology: top, Validator: schemas.Sample(), Observer: tr.Observe,
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
	client := benchload.Client(srv.URL)
	if err := benchload.PublishAll(client, entries); err != nil {
		b.Fatal(err)
	}
	tr.Wait(b, time.Minute)
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
