package commit_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/local/commit"
)

func open(t *testing.T) (*bbolt.DB, *commit.Group) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "t.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := commit.New(db)
	t.Cleanup(func() { g.Close(); db.Close() })
	return db, g
}

// put returns a transaction function that puts k in bucket "b".
func put(k int) func(*bbolt.Tx) error {
	return func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			return err
		}
		return b.Put(binary.BigEndian.AppendUint64(nil, uint64(k)), []byte("v"))
	}
}

func count(t *testing.T, db *bbolt.DB) int {
	t.Helper()
	n := 0
	if err := db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket([]byte("b")); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// Concurrent writers are all committed, and share transactions.
func TestConcurrentWritersShareCommits(t *testing.T) {
	t.Parallel()
	db, g := open(t)
	const writers = 400
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- g.Do(put(i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db); n != writers {
		t.Fatalf("%d keys on disk, want %d", n, writers)
	}
	st := g.Stats()
	if st.Jobs != writers {
		t.Errorf("Stats().Jobs = %d, want %d", st.Jobs, writers)
	}
	if st.Commits >= writers {
		t.Errorf("%d commits for %d concurrent writers: none shared a transaction", st.Commits, writers)
	}
}

// A function that fails, or panics, gets its own error; the functions
// that shared its transaction are committed all the same.
func TestAFailingFunctionFailsAlone(t *testing.T) {
	t.Parallel()
	db, g := open(t)
	bad := errors.New("bad write")
	const writers = 200
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 10 {
			case 3:
				errs[i] = g.Do(func(tx *bbolt.Tx) error {
					if err := put(i)(tx); err != nil {
						return err
					}
					return bad // after a put: the put must not stay
				})
			case 7:
				errs[i] = g.Do(func(*bbolt.Tx) error { panic("boom") })
			default:
				errs[i] = g.Do(put(i))
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch i % 10 {
		case 3:
			if !errors.Is(err, bad) {
				t.Errorf("writer %d: err = %v, want its own", i, err)
			}
		case 7:
			if err == nil {
				t.Errorf("writer %d panicked: err = nil, want an error", i)
			}
		default:
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
	}
	if n, want := count(t, db), writers*8/10; n != want {
		t.Errorf("%d keys on disk, want %d (the failed writers' puts rolled back)", n, want)
	}
}

func TestDoAfterClose(t *testing.T) {
	t.Parallel()
	_, g := open(t)
	if err := g.Do(put(1)); err != nil {
		t.Fatal(err)
	}
	g.Close()
	if err := g.Do(put(2)); !errors.Is(err, commit.ErrClosed) {
		t.Fatalf("Do after Close: %v, want ErrClosed", err)
	}
	g.Close() // twice is fine
}

// BenchmarkWriters compares N concurrent writers of one small put each on a
// Group with the same writers on bbolt's db.Batch (its default 10ms delay,
// and the 2ms troupe dev used) and on db.Update, fsync on.
//
//	go test -run '^$' -bench Writers ./local/commit/
func BenchmarkWriters(b *testing.B) {
	for _, peer := range []string{"group", "db.Batch/10ms", "db.Batch/2ms", "db.Update"} {
		b.Run(peer, func(b *testing.B) {
			db, err := bbolt.Open(filepath.Join(b.TempDir(), "t.db"), 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			do := db.Update
			switch peer {
			case "group":
				g := commit.New(db)
				defer g.Close()
				do = g.Do
			case "db.Batch/10ms":
				do = db.Batch
			case "db.Batch/2ms":
				db.MaxBatchDelay = 2e6
				do = db.Batch
			}
			b.SetParallelism(32) // 64 writers on 2 cores
			var next int64
			var mu sync.Mutex
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					next++
					k := next
					mu.Unlock()
					if err := do(put(int(k))); err != nil {
						panic(fmt.Sprint(err))
					}
				}
			})
		})
	}
}

// TestEnqueueKeepsQueueOrder: Enqueue returns before the commit, wait
// returns its outcome, and a function queued after Enqueue returned sees the
// first one's write: it runs after it, in its transaction or a later one.
func TestEnqueueKeepsQueueOrder(t *testing.T) {
	db, g := open(t)
	for i := range 50 {
		first := g.Enqueue(put(i))
		second := g.Enqueue(func(tx *bbolt.Tx) error {
			if tx.Bucket([]byte("b")).Get(binary.BigEndian.AppendUint64(nil, uint64(i))) == nil {
				return fmt.Errorf("round %d: the write queued before this one is not there", i)
			}
			return nil
		})
		if err := errors.Join(first(), second()); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db); n != 50 {
		t.Fatalf("%d keys, want 50", n)
	}
	g.Close()
	if err := g.Enqueue(put(99))(); !errors.Is(err, commit.ErrClosed) {
		t.Fatalf("Enqueue after Close: %v, want ErrClosed", err)
	}
}
