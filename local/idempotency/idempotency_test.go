package idempotency_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/consumers/idempotencytest"
	"github.com/troupehq/troupe/local/commit"
	"github.com/troupehq/troupe/local/idempotency"
)

func openDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newStore(t *testing.T) (*idempotency.Store, *bbolt.DB) {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "troupe.db"))
	t.Cleanup(func() { db.Close() })
	s, err := idempotency.New(db, "idempotency")
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func TestConformance(t *testing.T) {
	t.Parallel()
	// One store for all cases, as one `troupe dev` process has.
	s, _ := newStore(t)
	idempotencytest.Run(t, func(*testing.T) consumers.IdempotencyStore { return s })
}

// TestConformanceSharedCommits runs the suite with the store's writes on a
// commit.Group, as troupe dev's engine runs it.
func TestConformanceSharedCommits(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "troupe.db"))
	g := commit.New(db)
	t.Cleanup(func() { g.Close(); db.Close() })
	s, err := idempotency.New(db, "idempotency", idempotency.WithCommit(g.Do))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // after the suite's parallel cases, before g.Close
		if st := g.Stats(); st.Jobs == 0 {
			t.Errorf("the store committed nothing through the group: %+v", st)
		}
	})
	idempotencytest.Run(t, func(*testing.T) consumers.IdempotencyStore { return s })
}

// TestConformanceEnqueuedCompletions runs the suite with completions queued
// for commit and not waited for (WithEnqueue), as troupe dev's engine runs it.
func TestConformanceEnqueuedCompletions(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "troupe.db"))
	g := commit.New(db)
	t.Cleanup(func() { g.Close(); db.Close() })
	s, err := idempotency.New(db, "idempotency", idempotency.WithCommit(g.Do), idempotency.WithEnqueue(g.Enqueue))
	if err != nil {
		t.Fatal(err)
	}
	idempotencytest.Run(t, func(*testing.T) consumers.IdempotencyStore { return s })
}

// TestEnqueuedCompletion: with WithEnqueue, Complete returns before its
// commit is known; meanwhile the key is a duplicate, answered from memory,
// and once the commit is known the record is read from the file, after a
// reopen too.
func TestEnqueuedCompletion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "troupe.db")
	now := time.Unix(1_900_000_000, 0)
	ctx := t.Context()
	db := openDB(t, path)
	g := commit.New(db)
	release := make(chan struct{})
	committed := make(chan error, 1)
	enqueue := func(fn func(*bbolt.Tx) error) func() error {
		wait := g.Enqueue(fn)
		return func() error {
			<-release
			err := wait()
			committed <- err
			return err
		}
	}
	s, err := idempotency.New(db, "idem", idempotency.WithCommit(g.Do), idempotency.WithEnqueue(enqueue))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Acquire(ctx, rec("c#k", "h1", now, time.Hour), now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := s.Complete(ctx, "c#k", now.Add(2*time.Hour), json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Acquire(ctx, rec("c#k", "h1", now, time.Hour), now)
	if err != nil || ok || got.Status != consumers.Completed || string(got.Result) != `{"n":1}` {
		t.Fatalf("Acquire while the completion is on its way: %+v acquired %v, %v; want the COMPLETED record", got, ok, err)
	}
	close(release)
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	got, ok, err = s.Acquire(ctx, rec("c#k", "h1", now, time.Hour), now)
	if err != nil || ok || got.Status != consumers.Completed {
		t.Fatalf("Acquire after the commit: %+v acquired %v, %v; want the COMPLETED record", got, ok, err)
	}
	g.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, path)
	defer db.Close()
	if s, err = idempotency.New(db, "idem"); err != nil {
		t.Fatal(err)
	}
	if got, ok, err = s.Acquire(ctx, rec("c#k", "h9", now, time.Hour), now); err != nil || ok || got.Status != consumers.Completed {
		t.Fatalf("Acquire after reopen: %+v acquired %v, %v; want the COMPLETED record", got, ok, err)
	}
}

func rec(key, hash string, now time.Time, window time.Duration) consumers.IdempotencyRecord {
	return consumers.IdempotencyRecord{
		Key: key, PayloadHash: hash, Status: consumers.InProgress,
		Expiry: now.Add(window), InProgressExpiry: now.Add(30 * time.Second),
	}
}

// TestPurge: Purge deletes what has expired (Expiry <= now), INPROGRESS or
// COMPLETED, and keeps the rest.
func TestPurge(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := t.Context()
	now := time.Unix(1_900_000_000, 0)
	for _, r := range []consumers.IdempotencyRecord{
		rec("c#expired-inprogress", "h", now, time.Minute),
		rec("c#expired-completed", "h", now, time.Hour),
		rec("c#live-inprogress", "h", now, 3*time.Hour),
		rec("c#live-completed", "h", now, time.Hour),
	} {
		if _, ok, err := s.Acquire(ctx, r, now); err != nil || !ok {
			t.Fatalf("Acquire %s: %v %v", r.Key, ok, err)
		}
	}
	if err := s.Complete(ctx, "c#expired-completed", now.Add(2*time.Minute), json.RawMessage(`1`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "c#live-completed", now.Add(3*time.Hour), nil); err != nil {
		t.Fatal(err)
	}

	purgeAt := now.Add(2 * time.Minute) // the completed one expires exactly now
	n, err := s.Purge(purgeAt)
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want 2 deleted", n, err)
	}
	// What was purged is absent even to a caller whose clock is behind:
	// the key can be acquired again.
	early := now.Add(time.Second)
	for key, gone := range map[string]bool{
		"c#expired-inprogress": true, "c#expired-completed": true,
		"c#live-inprogress": false, "c#live-completed": false,
	} {
		_, acquired, err := s.Acquire(ctx, rec(key, "h2", early, time.Hour), early)
		if err != nil {
			t.Fatal(err)
		}
		if acquired != gone {
			t.Errorf("%s: acquired %v after Purge, want %v", key, acquired, gone)
		}
	}
	if n, err := s.Purge(time.Unix(0, 0)); err != nil || n != 0 {
		t.Errorf("Purge at the epoch = %d, %v; want nothing deleted", n, err)
	}
}

// TestPersistence: records survive closing and reopening the database.
func TestPersistence(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "troupe.db")
	now := time.Unix(1_900_000_000, 0)
	ctx := t.Context()

	db := openDB(t, path)
	s, err := idempotency.New(db, "idem")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Acquire(ctx, rec("c#done", "h1", now, time.Hour), now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := s.Complete(ctx, "c#done", now.Add(2*time.Hour), json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Acquire(ctx, rec("c#held", "h2", now, time.Hour), now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Acquire(ctx, rec("c#x", "h", now, time.Hour), now); err == nil {
		t.Error("Acquire on a closed database: no error")
	}

	db = openDB(t, path)
	defer db.Close()
	s, err = idempotency.New(db, "idem")
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Acquire(ctx, rec("c#done", "h9", now, time.Hour), now)
	if err != nil || ok {
		t.Fatalf("Acquire after reopen: %v %v", ok, err)
	}
	if got.Status != consumers.Completed || got.PayloadHash != "h1" || string(got.Result) != `{"n":1}` ||
		!got.Expiry.Equal(now.Add(2*time.Hour)) {
		t.Errorf("completed record after reopen: %+v", got)
	}
	// A lock dies with its process: the key held before is free now.
	if _, ok, err = s.Acquire(ctx, rec("c#held", "h9", now, time.Hour), now); err != nil || !ok {
		t.Fatalf("Acquire of a key held before the reopen: acquired %v, %v; want it free", ok, err)
	}
}

// TestLocksCostNoCommit: taking and releasing a lock writes nothing to the
// file; only Complete does, durably.
func TestLocksCostNoCommit(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	now := time.Unix(1_900_000_000, 0)
	ctx := t.Context()
	writes := func() int64 { st := db.Stats(); return st.TxStats.GetWrite() }
	before := writes()
	if _, ok, err := s.Acquire(ctx, rec("c#1", "h", now, time.Hour), now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := s.Release(ctx, "c#1"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Acquire(ctx, rec("c#1", "h", now, time.Hour), now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if n := writes() - before; n != 0 {
		t.Errorf("acquire, release, acquire wrote %d pages, want none", n)
	}
	if err := s.Complete(ctx, "c#1", now.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if writes() == before {
		t.Error("Complete wrote nothing to the file")
	}
}

// TestLayout: a record is stored as the DynamoDB adapter's item, as JSON.
func TestLayout(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	now := time.Unix(1_900_000_000, 250_000_000)
	if _, ok, err := s.Acquire(t.Context(), rec("c#1", "sha256:abc", now, time.Hour), now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := s.Complete(t.Context(), "c#1", now.Add(2*time.Hour), json.RawMessage(`{"ok": true}`)); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := db.View(func(tx *bbolt.Tx) error {
		raw = append(raw, tx.Bucket([]byte("idempotency")).Get([]byte("c#1"))...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const want = `{"id":"c#1","status":"COMPLETED","expiration":1900007200,"in_progress_expiration":1900000030250,` +
		`"validation":"sha256:abc","data":{"ok":true}}`
	if string(raw) != want {
		t.Errorf("stored\n%s\nwant\n%s", raw, want)
	}
}

// TestCorrupt: a record that is not JSON is an error, not a free key.
func TestCorrupt(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("idempotency")).Put([]byte("c#bad"), []byte("{not json"))
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_900_000_000, 0)
	if _, ok, err := s.Acquire(t.Context(), rec("c#bad", "h", now, time.Hour), now); err == nil {
		t.Errorf("Acquire over a corrupt record: acquired %v, no error", ok)
	}
	if _, err := s.Purge(now); err == nil {
		t.Error("Purge over a corrupt record: no error")
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := idempotency.New(nil, "b"); err == nil {
		t.Error("New(nil db): no error")
	}
	_, db := newStore(t)
	if _, err := idempotency.New(db, ""); err == nil {
		t.Error("New with an empty bucket: no error")
	}
	// A second Store on the same bucket sees the first's completed records.
	a, _ := idempotency.New(db, "shared")
	b, _ := idempotency.New(db, "shared")
	now := time.Unix(1_900_000_000, 0)
	if _, ok, err := a.Acquire(t.Context(), rec("c#1", "h", now, time.Hour), now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := a.Complete(t.Context(), "c#1", now.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := b.Acquire(t.Context(), rec("c#1", "h", now, time.Hour), now); err != nil || ok || got.Status != consumers.Completed {
		t.Errorf("second Store on the same bucket: acquired %v, %+v, err %v; want the completed record", ok, got, err)
	}
}

func TestReleaseInProgress(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "idem.db"))
	s, err := idempotency.New(db, "idem")
	if err != nil {
		t.Fatal(err)
	}
	ctx, now := context.Background(), time.Now()
	for _, key := range []string{"c#held", "c#done"} {
		if _, ok, err := s.Acquire(ctx, consumers.IdempotencyRecord{Key: key, PayloadHash: "h", Status: consumers.InProgress,
			Expiry: now.Add(time.Hour), InProgressExpiry: now.Add(time.Minute)}, now); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	if err := s.Complete(ctx, "c#done", now.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ReleaseInProgress(); err != nil || n != 1 {
		t.Fatalf("released %d, %v; want the one INPROGRESS lock", n, err)
	}
	if _, ok, _ := s.Acquire(ctx, consumers.IdempotencyRecord{Key: "c#held", PayloadHash: "h", Status: consumers.InProgress,
		Expiry: now.Add(time.Hour), InProgressExpiry: now.Add(time.Minute)}, now); !ok {
		t.Fatal("the released key cannot be taken again")
	}
	if existing, ok, _ := s.Acquire(ctx, consumers.IdempotencyRecord{Key: "c#done", PayloadHash: "h", Status: consumers.InProgress,
		Expiry: now.Add(time.Hour), InProgressExpiry: now.Add(time.Minute)}, now); ok || existing.Status != consumers.Completed {
		t.Fatal("a completed key was released")
	}
}
