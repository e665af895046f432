package local_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/consumers/timeline"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/local"
	"github.com/troupehq/troupe/schemas"
)

// start opens and starts the sample choreography's engine in dir.
func start(t *testing.T, dir string) (*local.Engine, *timeline.Memory) {
	t.Helper()
	tl := timeline.NewMemory()
	top, err := choreography.Topology(choreography.WithTimelineStore(tl))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := local.Open(local.Config{DataDir: dir, Topology: top, Validator: schemas.Sample(), Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return eng, tl
}

func placed(t *testing.T, orderID string, cents int64) events.Envelope {
	t.Helper()
	e, err := domain.OrderPlacedDef.New(domain.OrderPlacedV2{
		OrderID: orderID, CustomerID: "c-1",
		Items: []domain.OrderLine{{SKU: "SKU-1", Quantity: 1, UnitPrice: domain.Money{AmountCents: cents, Currency: "EUR"}}},
		Total: domain.Money{AmountCents: cents, Currency: "EUR"},
	}, events.WithSubject(orderID))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// waitTimeline waits until the order's timeline holds want, in order.
func waitTimeline(t *testing.T, tl *timeline.Memory, orderID string, want []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		got = got[:0]
		for _, s := range tl.Get(orderID) {
			got = append(got, s.Type)
		}
		if slices.Equal(got, want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: timeline %v, want %v", orderID, got, want)
}

func TestTheSampleRunsEndToEnd(t *testing.T) {
	eng, tl := start(t, t.TempDir())
	defer eng.Close()
	orders := map[string][]string{
		"o-happy":   {"orders.OrderPlaced", "payments.PaymentAuthorized", "inventory.StockReserved", "shipping.ShipmentScheduled"},
		"o-decline": {"orders.OrderPlaced", "payments.PaymentDeclined", "orders.OrderCancelled"},
		"o-nostock": {"orders.OrderPlaced", "payments.PaymentAuthorized", "inventory.StockUnavailable", "payments.PaymentRefunded", "orders.OrderCancelled"},
	}
	cents := map[string]int64{"o-happy": 1250, "o-decline": 500_000, "o-nostock": 1250}
	for id := range orders {
		if _, err := eng.Publisher().Publish(context.Background(), placed(t, id, cents[id])); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range orders {
		waitTimeline(t, tl, id, want)
	}
}

func TestStateSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	eng, tl := start(t, dir)
	first := placed(t, "o-1", 1250)
	if _, err := eng.Publisher().Publish(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	want := []string{"orders.OrderPlaced", "payments.PaymentAuthorized", "inventory.StockReserved", "shipping.ShipmentScheduled"}
	waitTimeline(t, tl, "o-1", want)
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}

	eng, tl = start(t, dir)
	defer eng.Close()
	// The same event again, after the restart: the consumers' idempotency
	// keys survived, so nothing new is emitted.
	if _, err := eng.Publisher().Publish(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	second := placed(t, "o-2", 1250)
	if _, err := eng.Publisher().Publish(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	waitTimeline(t, tl, "o-2", want)
	// The timeline's memory is new after the restart, and it reads the
	// stream from its durable checkpoint: o-1's events before the restart
	// are not read again, the duplicate OrderPlaced is skipped by the
	// timeline's idempotency key, and payments emits nothing again (its key
	// survived too), so o-1 has no step in the new memory.
	time.Sleep(500 * time.Millisecond)
	if steps := tl.Get("o-1"); len(steps) != 0 {
		t.Fatalf("o-1 after the restart: %+v, want nothing (all duplicates)", steps)
	}
}

func TestADataDirInUseIsAClearError(t *testing.T) {
	dir := t.TempDir()
	eng, _ := start(t, dir)
	defer eng.Close()
	top, _ := choreography.Topology()
	_, err := local.Open(local.Config{DataDir: dir, Topology: top, Validator: schemas.Sample()})
	if err == nil || !strings.Contains(err.Error(), "in use by another troupe dev") {
		t.Fatalf("err = %v", err)
	}
}

// The trace outlives the process: a restart reads it back.
func TestTraceSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	eng, tl := start(t, dir)
	e := placed(t, "ord-trace", 1000)
	if _, err := eng.Publisher().Publish(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	waitTimeline(t, tl, "ord-trace", []string{"orders.OrderPlaced", "payments.PaymentAuthorized", "inventory.StockReserved", "shipping.ShipmentScheduled"})
	before := waitTrace(t, eng, e.ID, 4)
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}

	eng, _ = start(t, dir)
	defer eng.Close()
	after, err := eng.Trace(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Events) < len(before.Events) {
		t.Fatalf("after a restart the trace has %d events, before it %d", len(after.Events), len(before.Events))
	}
	for i, ev := range before.Events {
		got := after.Events[i]
		if got.ID != ev.ID || got.Type != ev.Type || len(got.Outcomes) < len(ev.Outcomes) {
			t.Errorf("event %d after the restart: %s %s with %d outcomes, before: %s %s with %d", i, got.ID, got.Type, len(got.Outcomes), ev.ID, ev.Type, len(ev.Outcomes))
		}
	}
}

// waitTrace waits until id's trace has at least n events.
func waitTrace(t *testing.T, eng *local.Engine, id string, n int) local.Trace {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tr, err := eng.Trace(context.Background(), id)
		if err == nil && len(tr.Events) >= n {
			return tr
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace of %s: %+v, %v; want %d events", id, tr, err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
