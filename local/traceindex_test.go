package local

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/consumers"
)

func tev(id, corr string, at int, legs ...string) traceRecord {
	return traceRecord{event: &TracedEvent{ID: id, Type: "t." + id, CorrelationID: corr, Legs: legs, PublishedAt: time.Unix(int64(at), 0)}}
}

func tout(id, corr, consumer string) traceRecord {
	return traceRecord{outcome: &consumers.Outcome{EventID: id, CorrelationID: corr, Consumer: consumer, Kind: consumers.OutcomeHandled}}
}

func ids(evs []TracedEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func TestTraceIndexChains(t *testing.T) {
	x := newTraceIndex(10)
	x.add(tev("a", "a", 1, "bus"))
	x.add(tout("a", "a", "payments"))
	x.add(tout("b", "a", "inventory")) // before its event: a stand-in holds it
	x.add(tev("b", "a", 2, "bus", "stream"))
	x.add(tev("a", "a", 1, "stream")) // the other leg
	x.add(tev("z", "z", 3, "bus"))

	for _, id := range []string{"a", "b"} { // by correlation id, or any event id of the chain
		corr, evs := x.trace(id)
		if corr != "a" || !slices.Equal(ids(evs), []string{"a", "b"}) {
			t.Fatalf("trace(%q) = %q %v, want a [a b]", id, corr, ids(evs))
		}
		if !slices.Equal(evs[0].Legs, []string{"bus", "stream"}) || len(evs[0].Outcomes) != 1 || evs[0].Outcomes[0].Consumer != "payments" {
			t.Errorf("event a = %+v, want both legs and payments' outcome", evs[0])
		}
		if evs[1].Type != "t.b" || !slices.Equal(evs[1].Legs, []string{"bus", "stream"}) || len(evs[1].Outcomes) != 1 {
			t.Errorf("event b = %+v, want its record filled in around inventory's outcome", evs[1])
		}
	}
	if _, evs := x.trace("nope"); len(evs) != 0 {
		t.Errorf("trace of an unknown id = %v", evs)
	}
	// What trace returns is a copy.
	_, evs := x.trace("a")
	evs[0].Outcomes[0].Consumer = "changed"
	if _, again := x.trace("a"); again[0].Outcomes[0].Consumer != "payments" {
		t.Error("changing a returned trace changed the index")
	}
}

func TestTraceIndexKeepsTheMostRecent(t *testing.T) {
	x := newTraceIndex(3)
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		x.add(tev(id, "c-"+id[:1], i))
		x.add(tout(id, "c-"+id[:1], "payments"))
	}
	if n := x.len(); n != 3 {
		t.Fatalf("%d events kept, want 3", n)
	}
	for _, gone := range []string{"a", "b", "c-a", "c-b"} {
		if _, evs := x.trace(gone); len(evs) != 0 {
			t.Errorf("trace(%q) = %v after eviction", gone, ids(evs))
		}
	}
	if _, evs := x.trace("e"); len(evs) != 1 || len(evs[0].Outcomes) != 1 {
		t.Errorf("trace(e) = %+v", evs)
	}
	if len(x.byCorr) != 3 {
		t.Errorf("byCorr holds %d chains, want 3", len(x.byCorr))
	}
}

// The log keeps about as many events as the index, and a restart reads the
// most recent back.
func TestTracerLogIsBounded(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "t.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tr, err := openTracer(db, db.Update, quiet, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		tr.keep([]traceRecord{tev(fmt.Sprint(i), fmt.Sprint(i), i)})
	}
	tr.close()
	if tr.logged < 10 || tr.logged > 11 {
		t.Errorf("the log holds %d events, want 10 (the bound) or one more", tr.logged)
	}
	var stored int
	if err := db.View(func(tx *bbolt.Tx) error {
		stored = tx.Bucket([]byte(traceLogBucket)).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if stored != len(tr.batches) {
		t.Errorf("%d batches in the log, the tracer counts %d", stored, len(tr.batches))
	}

	again, err := openTracer(db, db.Update, quiet, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer again.close()
	if n := again.index.len(); n != 10 {
		t.Errorf("after a restart the index holds %d events, want 10", n)
	}
	if _, evs := again.index.trace("49"); len(evs) != 1 {
		t.Error("the newest event is not in the trace after a restart")
	}
	if _, evs := again.index.trace("0"); len(evs) != 0 {
		t.Error("the oldest event is still in the trace after a restart")
	}
}

// TestCausalOrder: a reaction published before its cause's publish returned
// still comes after its cause; unrelated events keep publication order.
func TestCausalOrder(t *testing.T) {
	at := time.Unix(1_900_000_000, 0)
	ev := func(id, cause string, ms int) TracedEvent {
		return TracedEvent{ID: id, CausationID: cause, PublishedAt: at.Add(time.Duration(ms) * time.Millisecond)}
	}
	got := causalOrder([]TracedEvent{
		ev("shipped", "reserved", 1), // published first: its causes' publishes returned later
		ev("reserved", "paid", 2),
		ev("placed", "placed", 4),
		ev("paid", "placed", 3),
		ev("other", "not-in-trace", 0),
	})
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	want := []string{"other", "placed", "paid", "reserved", "shipped"}
	if !slices.Equal(ids, want) {
		t.Fatalf("order %v, want %v", ids, want)
	}

	// A long chain, published in reverse, comes out cause first; a cycle
	// (impossible to publish) loses nothing.
	var long []TracedEvent
	for i := range 20000 {
		long = append(long, ev(fmt.Sprint(i), fmt.Sprint(i-1), 20000-i))
	}
	got = causalOrder(long)
	for i, e := range got {
		if e.ID != fmt.Sprint(i) {
			t.Fatalf("long chain: position %d holds %s", i, e.ID)
		}
	}
	if got := causalOrder([]TracedEvent{ev("a", "b", 1), ev("b", "a", 2)}); len(got) != 2 {
		t.Fatalf("cycle: %d events, want 2", len(got))
	}
}
