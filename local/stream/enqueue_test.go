package stream_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/local/commit"
	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/producers"
)

// With Config.Enqueue, each WriteBatch queues its own write, calls the
// WithQueued hook before its commit is known, returns once it is, and wakes
// the readers; concurrent writers keep per-key order.
func TestEnqueueWrites(t *testing.T) {
	db := newDB(t)
	g := commit.New(db)
	t.Cleanup(g.Close)
	release := make(chan struct{})
	enqueue := func(fn func(*bbolt.Tx) error) func() error {
		wait := g.Enqueue(fn)
		return func() error { <-release; return wait() }
	}
	s := open(t, db, "orders", stream.Config{Shards: 2, Commit: g.Do, Enqueue: enqueue})

	queued := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		ctx := stream.WithQueued(context.Background(), func() { close(queued) })
		_, err := s.WriteBatch(ctx, []producers.StreamRecord{rec("k", `{"n":1}`)})
		done <- err
	}()
	<-queued
	select {
	case err := <-done:
		t.Fatalf("WriteBatch returned (%v) before its commit was known", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				if _, err := s.WriteBatch(context.Background(), []producers.StreamRecord{rec("w"+string(rune('a'+w)), `{"i":%d}`, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	recs := readStream(t, s)
	if len(recs) != 101 {
		t.Fatalf("%d records, want 101", len(recs))
	}
	next := map[string]int{}
	for _, r := range recs {
		if r.PartitionKey == "k" {
			continue
		}
		want := rec(r.PartitionKey, `{"i":%d}`, next[r.PartitionKey])
		if string(r.Data) != string(want.Data) {
			t.Fatalf("key %s: %s, want %s (per-key order)", r.PartitionKey, r.Data, want.Data)
		}
		next[r.PartitionKey]++
	}
}
