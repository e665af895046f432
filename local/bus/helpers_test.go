package bus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/local/bus"
	"github.com/troupehq/troupe/producers"
)

// waitFor bounds every wait for deliveries.
const waitFor = 10 * time.Second

func openDB(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "bus.db")
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openBus(t testing.TB, db *bbolt.DB, cfg bus.Config) *bus.Bus {
	t.Helper()
	b, err := bus.Open(db, "test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() }) // before db.Close: cleanups run last first
	return b
}

func start(t testing.TB, b *bus.Bus) {
	t.Helper()
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// fast is a backoff for tests.
var fast = bus.Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond}

// recorder is a target's Deliver that records what it gets.
type recorder struct {
	mu     sync.Mutex
	events map[string]bus.Event // by id
	count  map[string]int       // deliveries by id
	order  []string             // ids, first delivery order
	change chan struct{}
}

func newRecorder() *recorder {
	return &recorder{events: map[string]bus.Event{}, count: map[string]int{}, change: make(chan struct{}, 1)}
}

func (r *recorder) Deliver(_ context.Context, event []byte) error {
	var e bus.Event
	if err := json.Unmarshal(event, &e); err != nil {
		return fmt.Errorf("recorder: %w", err)
	}
	r.mu.Lock()
	if r.count[e.ID] == 0 {
		r.events[e.ID] = e
		r.order = append(r.order, e.ID)
	}
	r.count[e.ID]++
	r.mu.Unlock()
	select {
	case r.change <- struct{}{}:
	default:
	}
	return nil
}

// wait waits until want distinct events have arrived, or waitFor passes,
// and returns those so far in order of first arrival.
func (r *recorder) wait(t testing.TB, want int) []bus.Event {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		r.mu.Lock()
		n := len(r.order)
		r.mu.Unlock()
		if n >= want {
			break
		}
		select {
		case <-r.change:
		case <-deadline:
			t.Errorf("waited %v for %d events, got %d", waitFor, want, n)
			return r.got()
		}
	}
	return r.got()
}

func (r *recorder) got() []bus.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]bus.Event, len(r.order))
	for i, id := range r.order {
		out[i] = r.events[id]
	}
	return out
}

func (r *recorder) deliveries(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count[id]
}

func entry(i int) producers.BusEntry {
	return producers.BusEntry{Source: "test.orders", DetailType: "orders.OrderPlaced", Detail: fmt.Appendf(nil, `{"n":%d}`, i)}
}

func send(t testing.TB, b *bus.Bus, entries ...producers.BusEntry) []string {
	t.Helper()
	res, err := b.SendBatch(context.Background(), entries)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(res))
	for i, r := range res {
		if r.Failed() {
			t.Fatalf("entry %d: %s: %s", i, r.ErrorCode, r.ErrorMessage)
		}
		ids[i] = r.ID
	}
	return ids
}

// eventually polls cond until it holds or waitFor passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", waitFor, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
