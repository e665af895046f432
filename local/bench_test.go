package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/local"
	"github.com/troupehq/troupe/schemas"
)

// BenchmarkEndToEnd measures `troupe dev` as a publisher sees it: the engine
// runs the sample choreography in this process on a temporary data directory
// (bbolt, every acknowledgement fsynced before it is sent; concurrent writers
// share a commit), its handler is served on a 127.0.0.1 listener, and
// orders.OrderPlaced v2 events are published over the AWS-compatible ingest
// endpoint with the aws-sdk-go-v2 EventBridge client (PutEvents, 10 entries
// a call, SigV4-signed with static credentials), as a real producer would.
//
// One op is one published event, processed end to end: acknowledged to the
// publisher and handled by every consumer subscribed to its happy-path chain
// (see chainSteps). Sub-benchmarks:
//
//   - throughput/…: b.N events as fast as benchClients concurrent callers
//     publish them; events/s counts events fully processed per second, from
//     the first publish to the last completion.
//   - latency/rate=R/s/…: b.N events, at most D seconds' worth, offered at a
//     fixed R events/s (a PutEvents of 10 every 10/R s, open loop); each
//     event's latency runs from its call's scheduled start to the last
//     consumer's completion of its chain. R=2000 is the load, offered
//     for 1 s (the engine drains what it cannot keep up with, so the run
//     stays short); R=50, for 5 s, is a load the engine sustains: the
//     latency floor.
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
	}{{2000, time.Second}, {50, 5 * time.Second}} {
		for _, idem := range []bool{true, false} {
			name := fmt.Sprintf("latency/rate=%d/s/idempotency=%s", load.rate, onOff(idem))
			b.Run(name, func(b *testing.B) { benchLatency(b, idem, load.rate, load.dur) })
		}
	}
	b.Run("peer=moto-ack-only", benchMoto)
}

const (
	benchClients = 8  // concurrent PutEvents callers in the throughput runs
	benchBatch   = 10 // entries per PutEvents call, the API's maximum
)

func onOff(v bool) string {
	if v {
		return "on"
	}
	return "off"
}

// chainSteps are the deliveries that make one published OrderPlaced
// "processed by every subscribed consumer" on the happy path: payments
// handled it, inventory the PaymentAuthorized it caused, shipping the
// StockReserved, and the timeline, from the stream, each of the three events
// the chain emitted (the OrderPlaced itself came over PutEvents, so it is on
// the bus only). ShipmentScheduled has no bus subscriber. A step counts when
// the delivery was handled, or skipped as a duplicate of one that was.
var chainSteps = map[[2]string]uint32{
	{"payments", "orders.OrderPlaced"}:          1 << 0,
	{"inventory", "payments.PaymentAuthorized"}: 1 << 1,
	{"shipping", "inventory.StockReserved"}:     1 << 2,
	{"timeline", "payments.PaymentAuthorized"}:  1 << 3,
	{"timeline", "inventory.StockReserved"}:     1 << 4,
	{"timeline", "shipping.ShipmentScheduled"}:  1 << 5,
}

const chainDone = 1<<6 - 1

// chain is one published event's progress. start is set (latency runs only)
// before its call is sent; done by the observer that completes the chain;
// both are read after tracker.wait.
type chain struct {
	start time.Time
	steps atomic.Uint32
	done  atomic.Int64 // unix nanoseconds
}

// tracker follows chains by correlation id (the published event's id, which
// every event of its chain carries). Its map is built before the engine
// starts and only read afterwards, by the observer, from any goroutine.
type tracker struct {
	chains   map[string]*chain
	want     int64
	complete atomic.Int64
	all      chan struct{}

	handled, failed, deadLettered, stray atomic.Int64
}

func newTracker(ids []string) *tracker {
	t := &tracker{chains: make(map[string]*chain, len(ids)), want: int64(len(ids)), all: make(chan struct{})}
	for _, id := range ids {
		t.chains[id] = &chain{}
	}
	return t
}

// observe is the engine's Observer.
func (t *tracker) observe(o consumers.Outcome) {
	switch o.Kind {
	case consumers.OutcomeHandled:
		t.handled.Add(1)
	case consumers.OutcomeDuplicate:
	case consumers.OutcomeDeadLettered:
		t.deadLettered.Add(1)
		return
	default:
		t.failed.Add(1)
		return
	}
	c, bit := t.chains[o.CorrelationID], chainSteps[[2]string{o.Consumer, o.Type}]
	if c == nil || bit == 0 {
		t.stray.Add(1)
		return
	}
	if old := c.steps.Or(bit); old|bit == chainDone && old != chainDone {
		c.done.Store(time.Now().UnixNano())
		if t.complete.Add(1) == t.want {
			close(t.all)
		}
	}
}

// wait waits until every chain is complete, or fails the benchmark.
func (t *tracker) wait(b *testing.B, timeout time.Duration) {
	b.Helper()
	select {
	case <-t.all:
	case <-time.After(timeout):
		b.Fatalf("after %v: %d of %d chains complete (handled %d, failed %d, dead-lettered %d, stray %d)",
			timeout, t.complete.Load(), t.want, t.handled.Load(), t.failed.Load(), t.deadLettered.Load(), t.stray.Load())
	}
}

// latencies returns each chain's publish-to-last-consumer time, sorted.
func (t *tracker) latencies() []time.Duration {
	out := make([]time.Duration, 0, len(t.chains))
	for _, c := range t.chains {
		out = append(out, time.Unix(0, c.done.Load()).Sub(c.start))
	}
	slices.Sort(out)
	return out
}

func (t *tracker) report(b *testing.B, n int, elapsed time.Duration) {
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(t.handled.Load())/elapsed.Seconds(), "handler-runs/s")
	b.ReportMetric(float64(t.handled.Load())/float64(n), "runs/event")
	if f := t.failed.Load() + t.deadLettered.Load(); f > 0 {
		b.ReportMetric(float64(f), "failed-deliveries")
	}
}

// completionTimeout bounds the wait for n chains: generous, so that only a
// stuck engine fails the run.
func completionTimeout(n int) time.Duration {
	return max(90*time.Second, time.Duration(n)*45*time.Millisecond)
}

// placedEntries builds n OrderPlaced v2 events (happy path: under the card
// limit, in stock) as PutEvents entries, and their ids.
func placedEntries(b *testing.B, n int, bus string) ([]ebtypes.PutEventsRequestEntry, []string) {
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
		entries[i] = ebtypes.PutEventsRequestEntry{
			Source: aws.String(e.Source), DetailType: aws.String(e.Type), Detail: aws.String(string(body)), Time: aws.Time(e.Time),
		}
		if bus != "" {
			entries[i].EventBusName = aws.String(bus)
		}
		ids[i] = e.ID
	}
	return entries, ids
}

// benchEngine starts the sample choreography's engine on a temporary data
// directory with tr as its observer, serves it on 127.0.0.1, and returns an
// EventBridge client pointed at it and a function that stops it all.
func benchEngine(b *testing.B, idempotency bool, tr *tracker) (*eventbridge.Client, func()) {
	b.Helper()
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
		DataDir: b.TempDir(), Topology: top, Validator: schemas.Sample(), Observer: tr.observe,
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
	return benchClient(srv.URL), func() {
		srv.Close()
		if err := eng.Close(); err != nil {
			b.Error(err)
		}
	}
}

// benchClient is an EventBridge client for endpoint with static
// credentials and no retries: a failed call fails the run.
func benchClient(endpoint string) *eventbridge.Client {
	return eventbridge.New(eventbridge.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", ""),
		Retryer:      aws.NopRetryer{},
	})
}

// putEvents sends one call and says what went wrong, if anything.
func putEvents(ctx context.Context, c *eventbridge.Client, entries []ebtypes.PutEventsRequestEntry) error {
	out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
	if err != nil {
		return err
	}
	if out.FailedEntryCount > 0 {
		for _, en := range out.Entries {
			if en.ErrorCode != nil {
				return fmt.Errorf("PutEvents: %d of %d entries failed, e.g. %s: %s",
					out.FailedEntryCount, len(entries), aws.ToString(en.ErrorCode), aws.ToString(en.ErrorMessage))
			}
		}
	}
	return nil
}

// firstError keeps the first error of many goroutines.
type firstError struct{ p atomic.Pointer[error] }

func (f *firstError) set(err error) {
	if err != nil {
		f.p.CompareAndSwap(nil, &err)
	}
}

func (f *firstError) get() error {
	if p := f.p.Load(); p != nil {
		return *p
	}
	return nil
}

// publishAll publishes entries with benchClients concurrent callers, in
// calls of benchBatch.
func publishAll(c *eventbridge.Client, entries []ebtypes.PutEventsRequestEntry) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var fe firstError
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout(len(entries)))
	defer cancel()
	for range benchClients {
		wg.Go(func() {
			for {
				i := int(next.Add(benchBatch)) - benchBatch
				if i >= len(entries) || fe.get() != nil {
					return
				}
				j := min(i+benchBatch, len(entries))
				fe.set(putEvents(ctx, c, entries[i:j]))
			}
		})
	}
	wg.Wait()
	return fe.get()
}

func benchThroughput(b *testing.B, idempotency bool) {
	entries, ids := placedEntries(b, b.N, "")
	tr := newTracker(ids)
	client, stop := benchEngine(b, idempotency, tr)
	defer stop()

	b.ResetTimer()
	start := time.Now()
	err := publishAll(client, entries)
	acked := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	tr.wait(b, completionTimeout(b.N))
	elapsed := time.Since(start)
	b.StopTimer()

	tr.report(b, b.N, elapsed)
	b.ReportMetric(float64(b.N)/acked.Seconds(), "acked-events/s")
}

// benchLatency publishes b.N events (rounded up to a whole call, and at
// most dur's worth) at rate events/s, open loop: the call of events
// [10k, 10k+10) is scheduled at k*10/rate from the start and sent on its own
// goroutine, whether or not the earlier calls returned, so a slow engine
// shows as latency, not as a lower rate. Latency is measured from the
// scheduled start.
func benchLatency(b *testing.B, idempotency bool, rate int, dur time.Duration) {
	n := (b.N + benchBatch - 1) / benchBatch * benchBatch
	n = min(n, max(benchBatch, int(float64(rate)*dur.Seconds())))
	entries, ids := placedEntries(b, n, "")
	tr := newTracker(ids)
	client, stop := benchEngine(b, idempotency, tr)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout(n))
	defer cancel()
	period := time.Second * benchBatch / time.Duration(rate)
	var wg sync.WaitGroup
	var fe firstError
	b.ResetTimer()
	t0 := time.Now()
	for k := 0; k*benchBatch < n && fe.get() == nil; k++ {
		at := t0.Add(time.Duration(k) * period)
		time.Sleep(time.Until(at))
		i := k * benchBatch
		for _, id := range ids[i : i+benchBatch] {
			tr.chains[id].start = at
		}
		wg.Go(func() { fe.set(putEvents(ctx, client, entries[i:i+benchBatch])) })
	}
	wg.Wait()
	if err := fe.get(); err != nil {
		b.Fatal(err)
	}
	tr.wait(b, completionTimeout(n))
	elapsed := time.Since(t0)
	b.StopTimer()

	lat := tr.latencies()
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
	tr.report(b, n, elapsed)
	b.ReportMetric(float64(n), "events")
}

// benchMoto is the peer outside troupe: the same PutEvents calls to
// moto_server, which acknowledges them from memory and runs no consumer. It
// measures acknowledgements only.
func benchMoto(b *testing.B) {
	endpoint := os.Getenv("TROUPE_TEST_AWS_ENDPOINT")
	if endpoint == "" {
		b.Skip("no emulator: run under scripts/with-moto to publish the same calls to moto_server's PutEvents")
	}
	client := benchClient(endpoint)
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
	entries, _ := placedEntries(b, b.N, bus)

	b.ResetTimer()
	start := time.Now()
	err := publishAll(client, entries)
	acked := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/acked.Seconds(), "acked-events/s")
}
