package local_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/internal/benchload"
	"github.com/troupehq/troupe/local"
	"github.com/troupehq/troupe/local/commit"
	"github.com/troupehq/troupe/schemas"
)

// BenchmarkEndToEnd measures `troupe dev` as a publisher sees it: the engine
// runs the sample choreography in this process on a temporary data directory
// (bbolt, every acknowledgement fsynced before it is sent; concurrent writers
// share a commit), its handler is served on a 127.0.0.1 listener, and
// orders.OrderPlaced v2 events are published over the AWS-compatible ingest
// endpoint with the aws-sdk-go-v2 EventBridge client (PutEvents, 10 entries
// a call, SigV4-signed with static credentials), as a real producer would.
// The process's garbage collector is set as troupe dev sets it
// (local.TuneGC: GOGC=200 unless GOGC is set).
//
// One op is one published event, processed end to end: acknowledged to the
// publisher and handled by every consumer subscribed to its happy-path chain
// (see internal/benchload). Sub-benchmarks:
//
//   - throughput/…: b.N events as fast as benchload.Clients concurrent callers
//     publish them; events/s counts events fully processed per second, from
//     the first publish to the last completion. Measured after a warm-up of
//     2,000 events, processed in full first.
//   - latency/rate=R/s/…: b.N events, at most D seconds' worth, offered at a
//     fixed R events/s (a PutEvents of 10 every 10/R s, open loop); each
//     event's latency runs from its call's scheduled start to the last
//     consumer's completion of its chain. R=2000 is the load and
//     R=50 the latency floor, each offered for 5 s (10,000 and 250 events:
//     a p99 of 1 s of load rested on its 20 slowest events, 2 calls' worth,
//     and moved by tens of milliseconds from run to run). Each is measured
//     after a warm-up of the same load for 1 s, processed in full first.
//
// The peer in the same run is the same engine with idempotency disabled on
// every consumer (idempotency=off), which prices idempotency. With
// TROUPE_TEST_AWS_ENDPOINT set (scripts/with-moto), peer=moto-ack-only also
// publishes the same calls to moto_server's PutEvents: acknowledgement only,
// in memory, no consumers.
//
//	go test -run '^$' -bench EndToEnd -benchtime 2000x ./local/
func BenchmarkEndToEnd(b *testing.B) {
	for _, idem := range []bool{true, false} {
		b.Run("throughput/idempotency="+onOff(idem), func(b *testing.B) { benchThroughput(b, idem) })
	}
	for _, load := range []struct {
		rate int
		dur  time.Duration
	}{{2000, 5 * time.Second}, {50, 5 * time.Second}} {
		for _, idem := range []bool{true, false} {
			name := fmt.Sprintf("latency/rate=%d/s/idempotency=%s", load.rate, onOff(idem))
			b.Run(name, func(b *testing.B) { benchLatency(b, idem, load.rate, load.dur) })
		}
	}
	b.Run("peer=moto-ack-only", benchMoto)
}

func onOff(v bool) string {
	if v {
		return "on"
	}
	return "off"
}

// benchEngine starts the sample choreography's engine on a temporary data
// directory with tr as its observer, serves it on 127.0.0.1, and returns an
// EventBridge client pointed at it and a function that stops it all.
func benchEngine(b *testing.B, idempotency bool, observe func(consumers.Outcome)) (*eventbridge.Client, *local.Engine, func()) {
	b.Helper()
	local.TuneGC() // as troupe dev does
	top, err := choreography.Topology()
	if err != nil {
		b.Fatal(err)
	}
	if !idempotency {
		for i := range top.Consumers {
			top.Consumers[i].Idempotency.Disabled = true
		}
	}
	eng, err := local.Open(local.Config{
		DataDir: b.TempDir(), Topology: top, Validator: schemas.Sample(), Observer: observe,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		_ = eng.Close()
		b.Fatal(err)
	}
	srv := httptest.NewServer(eng.Handler()) // 127.0.0.1, a free port
	return benchload.Client(srv.URL), eng, func() {
		srv.Close()
		if err := eng.Close(); err != nil {
			b.Error(err)
		}
	}
}

func benchThroughput(b *testing.B, idempotency bool) {
	entries, ids := benchload.PlacedEntries(b, b.N, "")
	tr := benchload.NewTracker(ids)
	client, eng, stop := warmEngine(b, idempotency, tr, warmupEvents,
		func(c *eventbridge.Client, entries []ebtypes.PutEventsRequestEntry, _ []string, _ *benchload.Tracker) error {
			return benchload.PublishAll(c, entries)
		})
	defer stop()
	before := eng.Commits()

	b.ResetTimer()
	cpu0 := cpuTime(b)
	start := time.Now()
	err := benchload.PublishAll(client, entries)
	acked := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	tr.Wait(b, benchload.CompletionTimeout(b.N))
	elapsed := time.Since(start)
	b.StopTimer()

	tr.Report(b, b.N, elapsed)
	b.ReportMetric(float64(b.N)/acked.Seconds(), "acked-events/s")
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N)/1e3, "cpu-us/event")
	reportCommits(b, before, eng.Commits(), b.N)
}

// warmEngine is benchEngine after a warm-up: publish sends nWarm events of
// their own, tracked by a tracker of their own, and warmEngine waits until
// they are all processed before it turns the engine's outcomes to tr.
func warmEngine(b *testing.B, idempotency bool, tr *benchload.Tracker, nWarm int,
	publish func(*eventbridge.Client, []ebtypes.PutEventsRequestEntry, []string, *benchload.Tracker) error,
) (*eventbridge.Client, *local.Engine, func()) {
	b.Helper()
	warmEntries, warmIDs := benchload.PlacedEntries(b, nWarm, "")
	warm := benchload.NewTracker(warmIDs)
	var cur atomic.Pointer[benchload.Tracker]
	cur.Store(warm)
	client, eng, stop := benchEngine(b, idempotency, func(o consumers.Outcome) { cur.Load().Observe(o) })
	if err := publish(client, warmEntries, warmIDs, warm); err != nil {
		stop()
		b.Fatalf("warm-up: %v", err)
	}
	warm.Wait(b, benchload.CompletionTimeout(nWarm))
	cur.Store(tr)
	return client, eng, stop
}

// warmupEvents are published, and processed in full, before a throughput
// run measures: a fresh process's first thousands of events grow the data
// file and the Go runtime's stacks and heap; troupe dev runs for hours.
const warmupEvents = 2000

// cpuTime is the CPU time this process has used (user and system): the
// engine's and the publishing client's, which share it. Per event, it is
// steadier than events/s from run to run.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCommits reports the engine's write transactions per event between
// two of its Commits, and the writes each carried.
func reportCommits(b *testing.B, before, after commit.Stats, n int) {
	commits := after.Commits - before.Commits
	b.ReportMetric(float64(commits)/float64(n), "commits/event")
	b.ReportMetric(float64(after.Jobs-before.Jobs)/float64(max(commits, 1)), "writes/commit")
}

// benchLatency publishes b.N events (rounded up to a whole call, and at
// most dur's worth) at rate events/s, open loop (see offer), after a
// warm-up: the same load for warmup, until it is all processed. A fresh
// process's first second grows the data file and the Go runtime's stacks
// and heap; troupe dev runs for hours. Latency is measured from each call's
// scheduled start to the last consumer of its event's chain.
func benchLatency(b *testing.B, idempotency bool, rate int, dur time.Duration) {
	n := (b.N + benchload.Batch - 1) / benchload.Batch * benchload.Batch
	n = min(n, max(benchload.Batch, int(float64(rate)*dur.Seconds())))
	nWarm := max(benchload.Batch, int(float64(rate)*warmup.Seconds())) / benchload.Batch * benchload.Batch
	entries, ids := benchload.PlacedEntries(b, n, "")
	tr := benchload.NewTracker(ids)
	client, eng, stop := warmEngine(b, idempotency, tr, nWarm,
		func(c *eventbridge.Client, entries []ebtypes.PutEventsRequestEntry, ids []string, warm *benchload.Tracker) error {
			return offer(c, entries, ids, warm, rate)
		})
	defer stop()
	before := eng.Commits()

	b.ResetTimer()
	t0 := time.Now()
	if err := offer(client, entries, ids, tr, rate); err != nil {
		b.Fatal(err)
	}
	tr.Wait(b, benchload.CompletionTimeout(n))
	elapsed := time.Since(t0)
	b.StopTimer()

	lat := tr.Latencies()
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
	tr.Report(b, n, elapsed)
	b.ReportMetric(float64(n), "events")
	reportCommits(b, before, eng.Commits(), n)
}

// warmup is how long benchLatency offers its load before it measures.
const warmup = time.Second

// offer publishes entries at rate events/s, open loop: the call of entries
// [10k, 10k+10) is scheduled at k*10/rate from the start and sent on its
// own goroutine, whether or not the earlier calls returned, so a slow engine
// shows as latency, not as a lower rate. It tells tr each call's scheduled
// start and returns when every call has returned.
func offer(client *eventbridge.Client, entries []ebtypes.PutEventsRequestEntry, ids []string, tr *benchload.Tracker, rate int) error {
	ctx, cancel := context.WithTimeout(context.Background(), benchload.CompletionTimeout(len(entries)))
	defer cancel()
	period := time.Second * benchload.Batch / time.Duration(rate)
	var wg sync.WaitGroup
	var fe benchload.FirstError
	t0 := time.Now()
	for k := 0; k*benchload.Batch < len(entries) && fe.Get() == nil; k++ {
		at := t0.Add(time.Duration(k) * period)
		time.Sleep(time.Until(at))
		i := k * benchload.Batch
		for _, id := range ids[i : i+benchload.Batch] {
			tr.Started(id, at)
		}
		wg.Go(func() { fe.Set(benchload.PutEvents(ctx, client, entries[i:i+benchload.Batch])) })
	}
	wg.Wait()
	return fe.Get()
}

// benchMoto is the peer outside troupe: the same PutEvents calls to
// moto_server, which acknowledges them from memory and runs no consumer. It
// measures acknowledgements only.
func benchMoto(b *testing.B) {
	endpoint := os.Getenv("TROUPE_TEST_AWS_ENDPOINT")
	if endpoint == "" {
		b.Skip("no emulator: run under scripts/with-moto to publish the same calls to moto_server's PutEvents")
	}
	client := benchload.Client(endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bus := fmt.Sprintf("troupe-bench-%x", time.Now().UnixNano())
	if _, err := client.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		b.Fatalf("moto: create event bus: %v", err)
	}
	defer func() {
		if _, err := client.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String(bus)}); err != nil {
			b.Errorf("moto: delete event bus %s: %v", bus, err)
		}
	}()
	entries, _ := benchload.PlacedEntries(b, b.N, bus)

	b.ResetTimer()
	start := time.Now()
	err := benchload.PublishAll(client, entries)
	acked := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/acked.Seconds(), "acked-events/s")
}
