package stream_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/producers"
)

// TestReadPositions: TRIM_HORIZON, after a sequence number, LATEST, limits,
// and the errors of a bad position.
func TestReadPositions(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := open(t, newDB(t), "orders", stream.Config{Shards: 1, Now: clk.Now})
	shard := s.Shards()[0].ID
	if l, err := s.Latest(shard); l != "" || err != nil {
		t.Errorf("Latest of an empty shard: %q, %v", l, err)
	}
	var seqs []string
	for i := range 5 {
		seqs = append(seqs, write(t, s, rec("k", `{"n":%d}`, i))[0].ID)
		clk.Add(time.Second)
	}
	for i := 1; i < len(seqs); i++ {
		if !(seqs[i-1] < seqs[i]) || len(seqs[i]) != 20 {
			t.Errorf("sequence numbers %s then %s: want fixed-width, increasing", seqs[i-1], seqs[i])
		}
	}
	res, err := s.Read(t.Context(), shard, "", 3)
	if err != nil || len(res.Records) != 3 || res.Trimmed {
		t.Fatalf("Read from TRIM_HORIZON: %+v, %v", res, err)
	}
	r := res.Records[0]
	if r.SequenceNumber != seqs[0] || r.PartitionKey != "k" || string(r.Data) != `{"n":0}` || r.Shard != shard ||
		!r.ArrivedAt.Equal(newClock().Now()) {
		t.Errorf("first record: %+v", r)
	}
	res, err = s.Read(t.Context(), shard, seqs[2], 10)
	if err != nil || len(res.Records) != 2 || res.Records[0].SequenceNumber != seqs[3] {
		t.Errorf("Read after %s: %+v, %v", seqs[2], res, err)
	}
	// Leading zeros are optional.
	res, err = s.Read(t.Context(), shard, "4", 10)
	if err != nil || len(res.Records) != 1 || res.Records[0].SequenceNumber != seqs[4] {
		t.Errorf("Read after 4: %+v, %v", res, err)
	}
	latest, err := s.Latest(shard)
	if err != nil || latest != seqs[4] {
		t.Errorf("Latest = %q, %v; want %s", latest, err, seqs[4])
	}
	if res, err := s.Read(t.Context(), shard, latest, 10); err != nil || len(res.Records) != 0 {
		t.Errorf("Read from LATEST: %+v, %v", res, err)
	}
	bad := []struct {
		shard, after string
		limit        int
		want         error
	}{
		{shard, "x", 10, stream.ErrInvalidSequence},
		{shard, "0", 10, stream.ErrInvalidSequence},
		{shard, "6", 10, stream.ErrInvalidSequence}, // beyond the last assigned
		{"shardId-000000000001", "", 10, producers.ErrNotFound},
	}
	for _, tc := range bad {
		if _, err := s.Read(t.Context(), tc.shard, tc.after, tc.limit); !errors.Is(err, tc.want) {
			t.Errorf("Read(%s, %q): %v, want %v", tc.shard, tc.after, err, tc.want)
		}
	}
	for _, limit := range []int{0, 10001} {
		if _, err := s.Read(t.Context(), shard, "", limit); err == nil {
			t.Errorf("Read with limit %d succeeded", limit)
		}
	}
}

// TestWait: Wait returns at once when a record is there, wakes on a write,
// and honours ctx.
func TestWait(t *testing.T) {
	t.Parallel()
	s := open(t, newDB(t), "orders", stream.Config{Shards: 2})
	sh := s.ShardFor("k").ID
	other := s.Shards()[0].ID
	if other == sh {
		other = s.Shards()[1].ID
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.Wait(ctx, sh, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on an empty shard: %v, want DeadlineExceeded", err)
	}

	woke := make(chan error, 1)
	go func() { woke <- s.Wait(t.Context(), sh, "") }()
	otherWoke := make(chan error, 1)
	otherCtx, otherCancel := context.WithCancel(t.Context())
	go func() { otherWoke <- s.Wait(otherCtx, other, "") }()
	time.Sleep(20 * time.Millisecond) // let both wait
	first := write(t, s, rec("k", "1"))[0].ID
	select {
	case err := <-woke:
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not wake on a write")
	}
	select {
	case err := <-otherWoke:
		t.Errorf("Wait on shard %s woke on a write to %s: %v", other, sh, err)
	case <-time.After(20 * time.Millisecond):
	}
	otherCancel()
	if err := <-otherWoke; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Wait: %v", err)
	}

	if err := s.Wait(t.Context(), sh, ""); err != nil {
		t.Errorf("Wait with a record there: %v", err)
	}
	go func() { woke <- s.Wait(t.Context(), sh, first) }()
	time.Sleep(10 * time.Millisecond)
	select {
	case err := <-woke:
		t.Fatalf("Wait after the last record returned early: %v", err)
	default:
	}
	write(t, s, rec("k", "2"))
	if err := <-woke; err != nil {
		t.Errorf("Wait after %s: %v", first, err)
	}
	if err := s.Wait(t.Context(), "shardId-000000000009", ""); !errors.Is(err, producers.ErrNotFound) {
		t.Errorf("Wait on an unknown shard: %v", err)
	}
}

// TestCheckpoints: empty at first, per consumer and shard, monotonic, and
// only at sequence numbers the shard assigned.
func TestCheckpoints(t *testing.T) {
	t.Parallel()
	s := open(t, newDB(t), "orders", stream.Config{Shards: 1})
	sh := s.Shards()[0].ID
	if cp, err := s.Checkpoint("billing", sh); cp != "" || err != nil {
		t.Errorf("first checkpoint: %q, %v", cp, err)
	}
	res := write(t, s, rec("a", "1"), rec("a", "2"), rec("a", "3"))
	if err := s.SetCheckpoint("billing", sh, res[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCheckpoint("billing", sh, res[1].ID); err != nil {
		t.Errorf("same checkpoint again: %v", err)
	}
	err := s.SetCheckpoint("billing", sh, res[0].ID)
	if !errors.Is(err, stream.ErrCheckpointBackwards) {
		t.Errorf("moving back: %v, want ErrCheckpointBackwards", err)
	}
	t.Logf("moving back says: %v", err)
	if err := s.SetCheckpoint("billing", sh, "4"); !errors.Is(err, stream.ErrInvalidSequence) {
		t.Errorf("beyond the last record: %v", err)
	}
	if err := s.SetCheckpoint("billing", sh, "nope"); !errors.Is(err, stream.ErrInvalidSequence) {
		t.Errorf("not a number: %v", err)
	}
	if err := s.SetCheckpoint("billing", "shardId-000000000001", res[0].ID); !errors.Is(err, producers.ErrNotFound) {
		t.Errorf("unknown shard: %v", err)
	}
	if err := s.SetCheckpoint("", sh, res[0].ID); err == nil {
		t.Error("empty consumer accepted")
	}
	if cp, _ := s.Checkpoint("billing", sh); cp != res[1].ID {
		t.Errorf("checkpoint = %q, want %s", cp, res[1].ID)
	}
	if cp, _ := s.Checkpoint("shipping", sh); cp != "" {
		t.Errorf("another consumer's checkpoint = %q", cp)
	}
	if err := s.SetCheckpoint("shipping", sh, res[0].ID); err != nil {
		t.Errorf("another consumer, behind the first: %v", err)
	}
}

// TestTrim: records past retention go, oldest first; sequence numbers are
// not reused; a reader whose position was trimmed is told, one at
// TRIM_HORIZON or past the trimmed records is not.
func TestTrim(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := open(t, newDB(t), "orders", stream.Config{Shards: 1, Retention: 24 * time.Hour, Now: clk.Now})
	sh := s.Shards()[0].ID
	start := clk.Now()
	var seqs []string
	for i := range 4 { // at 0h, 10h, 20h, 30h
		seqs = append(seqs, write(t, s, rec("k", "%d", i))[0].ID)
		clk.Add(10 * time.Hour)
	}
	if n, err := s.Trim(start.Add(24 * time.Hour)); n != 0 || err != nil {
		t.Errorf("Trim at 24h: %d, %v; nothing is older than 24h", n, err)
	}
	if n, err := s.Trim(start.Add(40*time.Hour + time.Minute)); n != 2 || err != nil {
		t.Errorf("Trim at 40h01: removed %d, %v; want 2 (those of 0h and 10h)", n, err)
	}
	res, err := s.Read(t.Context(), sh, "", 10)
	if err != nil || len(res.Records) != 2 || res.Records[0].SequenceNumber != seqs[2] || res.Trimmed || res.TrimmedThrough != seqs[1] {
		t.Errorf("Read from TRIM_HORIZON after trim: %+v, %v", res, err)
	}
	res, err = s.Read(t.Context(), sh, seqs[0], 10)
	if err != nil || !res.Trimmed || len(res.Records) != 2 || res.Records[0].SequenceNumber != seqs[2] {
		t.Errorf("Read after a trimmed position: %+v, %v; want Trimmed and the 2 retained records", res, err)
	}
	res, err = s.Read(t.Context(), sh, seqs[1], 10)
	if err != nil || res.Trimmed || len(res.Records) != 2 {
		t.Errorf("Read after the last trimmed record: %+v, %v; nothing was lost", res, err)
	}
	next := write(t, s, rec("k", "4"))[0].ID
	if next <= seqs[3] {
		t.Errorf("after a trim, sequence number %s follows %s", next, seqs[3])
	}
}

// TestTrimChunks: a trim larger than one transaction's worth deletes
// everything it should.
func TestTrimChunks(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := open(t, newDB(t), "orders", stream.Config{Shards: 2, Now: clk.Now})
	const n = 12000
	for b := range n / 500 {
		recs := make([]producers.StreamRecord, 500)
		for i := range recs {
			recs[i] = rec(fmt.Sprintf("k%d", i%7), "%d", b*500+i)
		}
		write(t, s, recs...)
	}
	clk.Add(time.Hour)
	write(t, s, rec("k0", "kept"), rec("k1", "kept"))
	removed, err := s.Trim(clk.Now().Add(24*time.Hour - time.Minute))
	if err != nil || removed != n {
		t.Errorf("Trim removed %d, %v; want %d", removed, err, n)
	}
	if got := readStream(t, s); len(got) != 2 {
		t.Errorf("%d records left, want 2", len(got))
	}
}
