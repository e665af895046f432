package producertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/troupehq/troupe/producers"
)

// StoredRecord is a record as read back from the stream.
type StoredRecord struct {
	Shard          string
	SequenceNumber string // as in EntryResult.ID
	PartitionKey   string
	Data           []byte
}

// StreamUnderTest is one fresh stream, made for one test.
type StreamUnderTest struct {
	// Writer writes to the stream.
	Writer producers.StreamWriter
	// Missing writes to a stream that does not exist.
	Missing producers.StreamWriter
	// Read returns every record on the stream: shard by shard, each shard
	// in sequence order.
	Read func(t *testing.T) []StoredRecord
}

// RunStream runs the conformance suite of producers.StreamWriter. newStream
// makes a fresh stream with the given number of shards for each test; the
// tests run in parallel.
func RunStream(t *testing.T, f Features, newStream func(t *testing.T, shards int) StreamUnderTest) {
	tests := []struct {
		name   string
		shards int
		fn     func(t *testing.T, f Features, s StreamUnderTest)
	}{
		{"RoundTrip", 2, streamRoundTrip},
		{"Check", 1, streamCheck},
		{"PerKeyOrder", 3, streamPerKeyOrder},
		{"Concurrent", 2, streamConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, f, newStream(t, tc.shards))
		})
	}
}

type seqKey struct{ shard, seq string }

func bySeq(t *testing.T, recs []StoredRecord) map[seqKey]StoredRecord {
	t.Helper()
	m := make(map[seqKey]StoredRecord, len(recs))
	for _, r := range recs {
		k := seqKey{r.Shard, r.SequenceNumber}
		if _, dup := m[k]; dup {
			t.Errorf("sequence number %s appears twice on shard %s", r.SequenceNumber, r.Shard)
		}
		m[k] = r
	}
	return m
}

// streamRoundTrip: every record lands once, as sent, on the shard and with
// the sequence number its result names.
func streamRoundTrip(t *testing.T, _ Features, s StreamUnderTest) {
	var recs []producers.StreamRecord
	for i := range 8 {
		recs = append(recs, producers.StreamRecord{PartitionKey: fmt.Sprintf("key-%d", i), Data: detail(t.Name(), i)})
	}
	results, err := s.Writer.WriteBatch(t.Context(), recs)
	if err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	checkResults(t, results, len(recs))
	mustAccepted(t, results)
	stored := s.Read(t)
	if len(stored) != len(recs) {
		t.Errorf("read back %d records, wrote %d", len(stored), len(recs))
	}
	got := bySeq(t, stored)
	for i, r := range recs {
		res := results[i]
		if res.Shard == "" {
			t.Errorf("record %d: result names no shard: %+v", i, res)
		}
		st, ok := got[seqKey{res.Shard, res.ID}]
		if !ok {
			t.Errorf("record %d: nothing on shard %q with sequence number %q", i, res.Shard, res.ID)
			continue
		}
		if st.PartitionKey != r.PartitionKey || !bytes.Equal(st.Data, r.Data) {
			t.Errorf("record %d: read back (%q, %s), wrote (%q, %s)", i, st.PartitionKey, st.Data, r.PartitionKey, r.Data)
		}
	}
}

// streamCheck: Check passes on the stream and wraps ErrNotFound on a missing one.
func streamCheck(t *testing.T, _ Features, s StreamUnderTest) {
	if err := s.Writer.Check(t.Context()); err != nil {
		t.Errorf("Check on an existing stream: %v", err)
	}
	err := s.Missing.Check(t.Context())
	if !errors.Is(err, producers.ErrNotFound) {
		t.Errorf("Check on a missing stream: got %v, want an error wrapping producers.ErrNotFound", err)
	}
	if errors.Is(err, producers.ErrRetryable) {
		t.Errorf("Check on a missing stream: %v is retryable; a missing stream stays missing", err)
	}
}

// streamPerKeyOrder: across several batches, the records of one partition
// key sit on one shard in the order they were written.
func streamPerKeyOrder(t *testing.T, _ Features, s StreamUnderTest) {
	keys := []string{"order-1", "order-2", "order-3", "order-4", "order-5"}
	want := map[string][]string{}
	shardOf := map[string]string{}
	n := 0
	for batch := range 3 {
		var recs []producers.StreamRecord
		for i := range 10 {
			k := keys[(batch+i)%len(keys)]
			data := fmt.Sprintf(`{"key":%q,"n":%d}`, k, n)
			n++
			recs = append(recs, producers.StreamRecord{PartitionKey: k, Data: []byte(data)})
			want[k] = append(want[k], data)
		}
		results, err := s.Writer.WriteBatch(t.Context(), recs)
		if err != nil {
			t.Fatalf("batch %d: WriteBatch: %v", batch, err)
		}
		checkResults(t, results, len(recs))
		mustAccepted(t, results)
		for i, r := range results {
			k := recs[i].PartitionKey
			if sh, ok := shardOf[k]; ok && sh != r.Shard {
				t.Errorf("key %s: written to shard %s and to shard %s", k, sh, r.Shard)
			}
			shardOf[k] = r.Shard
		}
	}
	got := map[string][]string{}
	for _, r := range s.Read(t) {
		got[r.PartitionKey] = append(got[r.PartitionKey], string(r.Data))
		if sh := shardOf[r.PartitionKey]; sh != r.Shard {
			t.Errorf("key %s: read back from shard %s, its results said %s", r.PartitionKey, r.Shard, sh)
		}
	}
	for _, k := range keys {
		if fmt.Sprint(got[k]) != fmt.Sprint(want[k]) {
			t.Errorf("key %s: read back in order\n  %v\nwrote\n  %v", k, got[k], want[k])
		}
	}
}

// streamConcurrent: one writer used from several goroutines at once.
func streamConcurrent(t *testing.T, _ Features, s StreamUnderTest) {
	const writers, each = 4, 5
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seqs = map[seqKey]string{}
	)
	for w := range writers {
		wg.Go(func() {
			var recs []producers.StreamRecord
			for i := range each {
				recs = append(recs, producers.StreamRecord{
					PartitionKey: fmt.Sprintf("w%d", w), Data: fmt.Appendf(nil, `{"w":%d,"i":%d}`, w, i),
				})
			}
			res, err := s.Writer.WriteBatch(context.Background(), recs)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || len(res) != len(recs) {
				t.Errorf("writer %d: %d results, err %v", w, len(res), err)
				return
			}
			for i, r := range res {
				if r.Failed() {
					t.Errorf("writer %d record %d rejected: %s", w, i, r.ErrorCode)
					continue
				}
				seqs[seqKey{r.Shard, r.ID}] = string(recs[i].Data)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	got := bySeq(t, s.Read(t))
	if len(got) != writers*each {
		t.Errorf("read back %d records, wrote %d", len(got), writers*each)
	}
	for k, data := range seqs {
		if st, ok := got[k]; !ok || string(st.Data) != data {
			t.Errorf("record %s at %s/%s: read back %q", data, k.shard, k.seq, st.Data)
		}
	}
}
