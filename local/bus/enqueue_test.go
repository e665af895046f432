package bus_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/local/bus"
	"github.com/troupehq/troupe/local/commit"
	"github.com/troupehq/troupe/producers"
)

// With Config.Enqueue, an event reaches its targets once its append is
// queued, before the append's commit is known, while SendBatch still waits
// for that commit; and the log holds it once SendBatch returns.
func TestEnqueueHandsEventsOutBeforeTheirCommit(t *testing.T) {
	db := openDB(t, "")
	g := commit.New(db)
	t.Cleanup(g.Close) // after the bus's Close: cleanups run last first
	release := make(chan struct{})
	enqueue := func(fn func(*bbolt.Tx) error) func() error {
		wait := g.Enqueue(fn)
		return func() error { <-release; return wait() }
	}
	b := openBus(t, db, bus.Config{Commit: g.Do, Enqueue: enqueue})
	rec := newRecorder()
	if err := b.AddTarget(bus.Target{Name: "all", Deliver: rec.Deliver}); err != nil {
		t.Fatal(err)
	}
	start(t, b)

	type sent struct {
		res []producers.EntryResult
		err error
	}
	done := make(chan sent, 1)
	go func() {
		res, err := b.SendBatch(context.Background(), []producers.BusEntry{entry(1), entry(2)})
		done <- sent{res, err}
	}()
	rec.wait(t, 2)
	select {
	case s := <-done:
		t.Fatalf("SendBatch returned (%v) before its commit was known", s.err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	s := <-done
	if s.err != nil {
		t.Fatal(s.err)
	}
	for _, r := range s.res {
		if rec.deliveries(r.ID) != 1 {
			t.Fatalf("SendBatch answered %s, delivered %d times", r.ID, rec.deliveries(r.ID))
		}
	}

	// The next appends are queued without waiting for the ones before:
	// many SendBatch calls at once all get their events out, in order.
	for i := range 20 {
		send(t, b, entry(10+i))
	}
	rec.wait(t, 22)
}

// After a restart, events appended through Enqueue are in the log, with
// their sequence numbers, and new ones follow them.
func TestEnqueueAppendsSurviveARestart(t *testing.T) {
	path := t.TempDir() + "/bus.db"
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := commit.New(db)
	b, err := bus.Open(db, "test", bus.Config{Commit: g.Do, Enqueue: g.Enqueue})
	if err != nil {
		t.Fatal(err)
	}
	first := send(t, b, entry(1), entry(2), entry(3))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	g.Close()
	db.Close()

	// An append before delivery starts must not take the sequence number
	// of an earlier event: it would overwrite it in the log.
	db = openDB(t, path)
	b = openBus(t, db, bus.Config{})
	then := send(t, b, entry(4))
	rec := newRecorder()
	if err := b.AddTarget(bus.Target{Name: "all", Deliver: rec.Deliver}); err != nil {
		t.Fatal(err)
	}
	start(t, b)
	rec.wait(t, 4)
	for _, id := range append(first, then...) {
		if rec.deliveries(id) != 1 {
			t.Errorf("event %s delivered %d times, want once", id, rec.deliveries(id))
		}
	}
}

// A target's progress past the log's end (events handed out early from an
// append whose commit then failed, and acknowledged) does not hide the new
// events that take those sequence numbers after a restart.
func TestProgressPastTheLogIsIgnored(t *testing.T) {
	path := t.TempDir() + "/bus.db"
	db := openDB(t, path)
	b := openBus(t, db, bus.Config{})
	rec := newRecorder()
	if err := b.AddTarget(bus.Target{Name: "all", Deliver: rec.Deliver}); err != nil {
		t.Fatal(err)
	}
	start(t, b)
	send(t, b, entry(1))
	rec.wait(t, 1)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// The log ends at sequence 1; pretend 2 and 3 were acknowledged.
	if err := db.Update(func(tx *bbolt.Tx) error {
		tb := tx.Bucket([]byte("bus.test")).Bucket([]byte("targets")).Bucket([]byte("all"))
		if err := tb.Put([]byte("watermark"), binary.BigEndian.AppendUint64(nil, 3)); err != nil {
			return err
		}
		return tb.Bucket([]byte("done")).Put(binary.BigEndian.AppendUint64(nil, 3), nil)
	}); err != nil {
		t.Fatal(err)
	}

	b = openBus(t, db, bus.Config{})
	rec = newRecorder()
	if err := b.AddTarget(bus.Target{Name: "all", Deliver: rec.Deliver}); err != nil {
		t.Fatal(err)
	}
	start(t, b)
	ids := send(t, b, entry(2), entry(3))
	rec.wait(t, 2)
	for _, id := range ids {
		if rec.deliveries(id) != 1 {
			t.Errorf("new event %s delivered %d times, want once", id, rec.deliveries(id))
		}
	}
}
