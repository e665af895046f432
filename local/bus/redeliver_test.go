package bus_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/events/pattern"
	"github.com/troupehq/troupe/local/bus"
)

// TestRedeliverGoesToOneTargetOnly: a redelivery reaches the named target,
// a direct target included, and no other, though their patterns match it;
// and it is on disk: after a restart it is delivered all the same.
func TestRedeliverGoesToOneTargetOnly(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bus.db")
	all := pattern.MustCompile(`{"source": ["test.orders"]}`)
	var db *bbolt.DB
	open := func() (*bus.Bus, map[string]*recorder) {
		db = openDB(t, path)
		b := openBus(t, db, bus.Config{})
		recs := map[string]*recorder{"a": newRecorder(), "b": newRecorder(), "direct": newRecorder()}
		for _, tg := range []bus.Target{
			{Name: "a", Pattern: all, Deliver: recs["a"].Deliver},
			{Name: "b", Pattern: all, Deliver: recs["b"].Deliver},
			{Name: "direct", Direct: true, Deliver: recs["direct"].Deliver},
		} {
			if err := b.AddTarget(tg); err != nil {
				t.Fatal(err)
			}
		}
		return b, recs
	}

	b, recs := open()
	// Before Start: on disk, not delivered yet.
	idB, err := b.Redeliver(context.Background(), "b", entry(1))
	if err != nil {
		t.Fatal(err)
	}
	idD, err := b.Redeliver(context.Background(), "direct", entry(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	b, recs = open()
	start(t, b)
	ids := send(t, b, entry(3)) // a bus event: a and b, never the direct target
	recs["b"].wait(t, 2)
	recs["a"].wait(t, 1)
	recs["direct"].wait(t, 1)
	if recs["b"].deliveries(idB) != 1 || recs["a"].deliveries(idB) != 0 || recs["direct"].deliveries(idB) != 0 {
		t.Errorf("redelivery to b: a got it %d times, b %d, direct %d; want only b, once",
			recs["a"].deliveries(idB), recs["b"].deliveries(idB), recs["direct"].deliveries(idB))
	}
	if recs["direct"].deliveries(idD) != 1 || recs["a"].deliveries(idD)+recs["b"].deliveries(idD) != 0 {
		t.Errorf("redelivery to the direct target reached others")
	}
	if recs["direct"].deliveries(ids[0]) != 0 || recs["a"].deliveries(ids[0]) != 1 {
		t.Errorf("a bus event: direct got it %d times (want 0), a %d (want 1)", recs["direct"].deliveries(ids[0]), recs["a"].deliveries(ids[0]))
	}

	if _, err := b.Redeliver(context.Background(), "nobody", entry(4)); err == nil {
		t.Error("Redeliver to an unknown target: no error")
	}
	bad := entry(5)
	bad.Detail = []byte("[1]")
	if _, err := b.Redeliver(context.Background(), "a", bad); !errors.Is(err, bus.ErrValidation) {
		t.Errorf("Redeliver of a detail that is not an object: %v, want ErrValidation", err)
	}
	if err := b.AddTarget(bus.Target{Name: "x", Direct: true, Pattern: all, Deliver: recs["a"].Deliver}); err == nil {
		t.Error("a direct target with a pattern was accepted")
	}
}
