package stream_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/producers"
)

func openDB(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// newDB opens a fresh database in a temporary directory, closed at the end
// of the test.
func newDB(t testing.TB) *bbolt.DB {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "troupe.db"))
	t.Cleanup(func() { db.Close() })
	return db
}

func open(t testing.TB, db *bbolt.DB, name string, cfg stream.Config) *stream.Stream {
	t.Helper()
	s, err := stream.Open(db, name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readAll reads a shard from TRIM_HORIZON to the end.
func readAll(t testing.TB, s *stream.Stream, shard string) []stream.Record {
	t.Helper()
	var out []stream.Record
	after := ""
	for {
		res, err := s.Read(t.Context(), shard, after, 100)
		if err != nil {
			t.Fatalf("Read %s after %q: %v", shard, after, err)
		}
		if len(res.Records) == 0 {
			return out
		}
		out = append(out, res.Records...)
		after = res.Records[len(res.Records)-1].SequenceNumber
	}
}

// readStream reads every shard, shard by shard.
func readStream(t testing.TB, s *stream.Stream) []stream.Record {
	t.Helper()
	var out []stream.Record
	for _, sh := range s.Shards() {
		out = append(out, readAll(t, s, sh.ID)...)
	}
	return out
}

func write(t testing.TB, s *stream.Stream, recs ...producers.StreamRecord) []producers.EntryResult {
	t.Helper()
	res, err := s.WriteBatch(t.Context(), recs)
	if err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	if len(res) != len(recs) {
		t.Fatalf("%d results for %d records", len(res), len(recs))
	}
	for i, r := range res {
		if r.Failed() || r.ID == "" || r.Shard == "" {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	return res
}

func rec(key string, format string, args ...any) producers.StreamRecord {
	return producers.StreamRecord{PartitionKey: key, Data: fmt.Appendf(nil, format, args...)}
}

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
