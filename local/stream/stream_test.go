package stream_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/producers/producertest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	producertest.RunStream(t, producertest.Features{}, func(t *testing.T, shards int) producertest.StreamUnderTest {
		db := newDB(t)
		s := open(t, db, "orders", stream.Config{Shards: shards})
		missing := open(t, db, "missing", stream.Config{})
		if err := stream.Delete(db, "missing"); err != nil {
			t.Fatal(err)
		}
		return producertest.StreamUnderTest{
			Writer:  s,
			Missing: missing,
			Read: func(t *testing.T) []producertest.StoredRecord {
				var out []producertest.StoredRecord
				for _, r := range readStream(t, s) {
					out = append(out, producertest.StoredRecord{
						Shard: r.Shard, SequenceNumber: r.SequenceNumber, PartitionKey: r.PartitionKey, Data: r.Data,
					})
				}
				return out
			},
		}
	})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	var c stream.Config
	c.SetDefaults()
	if c.Shards != 4 || c.Retention != 24*time.Hour || c.MaxRecordBytes != 1<<20 || c.MaxBatchBytes != 5<<20 || c.Now == nil {
		t.Errorf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	bad := []struct {
		cfg  stream.Config
		want string
	}{
		{stream.Config{Shards: 65}, "Shards is 65"},
		{stream.Config{Shards: -1}, "Shards is -1"},
		{stream.Config{Retention: time.Hour}, "Retention is 1h0m0s"},
		{stream.Config{Retention: 9000 * time.Hour}, "Retention is 9000h"},
		{stream.Config{MaxRecordBytes: 11 << 20}, "MaxRecordBytes is"},
		{stream.Config{MaxRecordBytes: 1 << 20, MaxBatchBytes: 1000}, "MaxBatchBytes is 1000"},
	}
	db := newDB(t)
	for _, tc := range bad {
		_, err := stream.Open(db, "s", tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open with %+v: got %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
	for _, name := range []string{"", "has space", "slash/", strings.Repeat("a", 129)} {
		if _, err := stream.Open(db, name, stream.Config{}); err == nil {
			t.Errorf("Open(%q) accepted the name", name)
		}
	}
	if _, err := stream.Open(nil, "s", stream.Config{}); err == nil {
		t.Error("Open(nil db) succeeded")
	}
}

// TestShardCountFixed: reopening with another shard count fails and says why.
func TestShardCountFixed(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	open(t, db, "orders", stream.Config{Shards: 3})
	_, err := stream.Open(db, "orders", stream.Config{Shards: 5})
	if err == nil || !strings.Contains(err.Error(), "exists with 3 shards and Config asks for 5") {
		t.Errorf("reopen with 5 shards: %v", err)
	}
	s := open(t, db, "orders", stream.Config{Shards: 3})
	if len(s.Shards()) != 3 {
		t.Errorf("%d shards", len(s.Shards()))
	}
	// Other streams in the same database are independent.
	if o := open(t, db, "payments", stream.Config{Shards: 5}); len(o.Shards()) != 5 {
		t.Errorf("payments: %d shards", len(o.Shards()))
	}
}

// TestValidation: Kinesis's limits reject the whole call, write nothing and
// are not retryable.
func TestValidation(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	s := open(t, db, "orders", stream.Config{Shards: 2, MaxRecordBytes: 1000, MaxBatchBytes: 5000})
	ok := rec("k", "{}")
	many := make([]producers.StreamRecord, 501)
	for i := range many {
		many[i] = ok
	}
	fat := producers.StreamRecord{PartitionKey: "k", Data: make([]byte, 999)}
	cases := []struct {
		name string
		recs []producers.StreamRecord
		want string
	}{
		{"empty key", []producers.StreamRecord{ok, {Data: []byte("{}")}}, "record 1 has an empty partition key"},
		{"long key", []producers.StreamRecord{{PartitionKey: strings.Repeat("k", 257), Data: []byte("{}")}}, "partition key of 257 characters"},
		{"record too large", []producers.StreamRecord{ok, ok, {PartitionKey: "kk", Data: make([]byte, 999)}}, "record 2 is 1001 bytes"},
		{"too many records", many, "501 records"},
		{"batch too large", []producers.StreamRecord{fat, fat, fat, fat, fat, fat}, "the batch is 6000 bytes"},
	}
	for _, tc := range cases {
		res, err := s.WriteBatch(t.Context(), tc.recs)
		if !errors.Is(err, stream.ErrValidation) || errors.Is(err, producers.ErrRetryable) || res != nil {
			t.Errorf("%s: got %v, %v; want a non-retryable ErrValidation and no results", tc.name, res, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q does not say %q", tc.name, err, tc.want)
		}
	}
	if got := readStream(t, s); len(got) != 0 {
		t.Errorf("rejected calls wrote %d records", len(got))
	}
	// At the limits, records pass: 256 characters of 3 bytes each, and a
	// record of exactly MaxRecordBytes.
	write(t, s,
		producers.StreamRecord{PartitionKey: strings.Repeat("€", 256), Data: []byte("{}")},
		producers.StreamRecord{PartitionKey: "k", Data: make([]byte, 999)},
		producers.StreamRecord{PartitionKey: "empty data"},
	)
	if res, err := s.WriteBatch(t.Context(), nil); res != nil || err != nil {
		t.Errorf("empty batch: %v, %v", res, err)
	}
}

// TestDeleted: a deleted stream answers ErrNotFound everywhere; opening it
// again recreates it empty.
func TestDeleted(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	s := open(t, db, "orders", stream.Config{Shards: 2})
	res := write(t, s, rec("k", "1"))
	if err := s.SetCheckpoint("c", res[0].Shard, res[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := stream.Delete(db, "orders"); err != nil {
		t.Fatal(err)
	}
	if err := stream.Delete(db, "orders"); !errors.Is(err, producers.ErrNotFound) {
		t.Errorf("second Delete: %v", err)
	}
	_, err := s.WriteBatch(t.Context(), []producers.StreamRecord{rec("k", "2")})
	if !errors.Is(err, producers.ErrNotFound) || errors.Is(err, producers.ErrRetryable) {
		t.Errorf("WriteBatch after Delete: %v", err)
	}
	if err := s.Check(t.Context()); !errors.Is(err, producers.ErrNotFound) {
		t.Errorf("Check after Delete: %v", err)
	}
	if _, err := s.Read(t.Context(), res[0].Shard, "", 10); !errors.Is(err, producers.ErrNotFound) {
		t.Errorf("Read after Delete: %v", err)
	}
	s2 := open(t, db, "orders", stream.Config{Shards: 2})
	if got := readStream(t, s2); len(got) != 0 {
		t.Errorf("recreated stream holds %d records", len(got))
	}
	if cp, err := s2.Checkpoint("c", res[0].Shard); cp != "" || err != nil {
		t.Errorf("recreated stream has checkpoint %q, %v", cp, err)
	}
	// A checkpoint from the old stream is beyond the new one's sequence
	// numbers: Read says so rather than silently reading nothing.
	if _, err := s2.Read(t.Context(), res[0].Shard, res[0].ID, 10); !errors.Is(err, stream.ErrInvalidSequence) {
		t.Errorf("Read after an old sequence number: %v", err)
	}
}

// TestClosedDB: with the database closed, calls fail, not retryable, and
// say what to do.
func TestClosedDB(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	s := open(t, db, "orders", stream.Config{})
	db.Close()
	_, err := s.WriteBatch(t.Context(), []producers.StreamRecord{rec("k", "1")})
	if err == nil || errors.Is(err, producers.ErrRetryable) || !strings.Contains(err.Error(), "database is closed") {
		t.Errorf("WriteBatch on a closed database: %v", err)
	}
	if err := s.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "database is closed") {
		t.Errorf("Check on a closed database: %v", err)
	}
}

// TestCanceled: a cancelled ctx writes nothing.
func TestCanceled(t *testing.T) {
	t.Parallel()
	s := open(t, newDB(t), "orders", stream.Config{})
	ctx2, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.WriteBatch(ctx2, []producers.StreamRecord{rec("k", "1")}); err == nil {
		t.Error("WriteBatch with a cancelled ctx succeeded")
	}
	if err := s.Check(ctx2); err == nil {
		t.Error("Check with a cancelled ctx succeeded")
	}
	if got := readStream(t, s); len(got) != 0 {
		t.Errorf("%d records written", len(got))
	}
}
