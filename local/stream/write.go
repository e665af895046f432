package stream

import (
	"context"
	"fmt"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/producers"
)

// request is one WriteBatch call waiting for, or part of, a group commit.
type request struct {
	recs    []producers.StreamRecord
	shards  []int // shard index of each record
	results []producers.EntryResult
	err     error
	// wake receives once: true when this request is to lead the next group
	// commit, false when its group has been committed (or failed).
	wake chan bool
}

// maxGroupRecords bounds the records of one group commit, so that one
// transaction stays a few megabytes however many writers wait.
const maxGroupRecords = 4 * MaxBatchRecords

// WriteBatch appends records to the stream, as one PutRecords call, and
// returns one result per record, in order: the sequence number (ID) and the
// shard that took it. When it returns nil the records are on disk: their
// transaction was committed and synced.
//
// Validation is Kinesis's, and like Kinesis it rejects the call as a whole
// (an error wrapping ErrValidation, nothing written, not retryable) when the
// batch holds more than 500 records or more than MaxBatchBytes, or when a
// record has an empty partition key, one over 256 characters, or more than
// MaxRecordBytes of data plus key. The error names the first bad record.
//
// A batch is written in one transaction, so it is all or nothing: there are
// no partial failures, and no result ever carries an ErrorCode. A failed
// call returns an error and writes nothing: it wraps producers.ErrNotFound
// when the stream was deleted; a closed database or a disk error is not
// retryable. An empty batch writes nothing and returns no results.
//
// Group commit: concurrent calls share one transaction, hence one fsync.
// The first caller commits at once; callers that arrive while a commit is
// under way queue, and the first of them commits all the queued calls
// together when it ends. A lone writer waits for nothing but its own fsync,
// and under load the fsyncs are shared (unlike bbolt's db.Batch, which
// waits up to db.MaxBatchDelay, 10ms by default, before each commit).
//
// ctx is checked before the write; once queued, a write is not interrupted
// (it takes one commit, a few milliseconds).
func (s *Stream) WriteBatch(ctx context.Context, records []producers.StreamRecord) ([]producers.EntryResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("stream %s: write: %w", s.name, err)
	}
	if len(records) == 0 {
		return nil, nil
	}
	req := &request{recs: records, shards: make([]int, len(records)), results: make([]producers.EntryResult, len(records))}
	if err := s.validate(req); err != nil {
		return nil, err
	}
	if s.cfg.Enqueue != nil {
		return s.enqueue(ctx, req)
	}
	if s.dbBatch {
		err := s.db.Batch(func(tx *bbolt.Tx) error { return s.writeTx(tx, []*request{req}) })
		if err != nil {
			return nil, s.wrap("write", err)
		}
		s.notify([]*request{req})
		return req.results, nil
	}
	req.wake = make(chan bool, 1)
	s.commit(req)
	if req.err != nil {
		return nil, req.err
	}
	return req.results, nil
}

type queuedKey struct{}

// WithQueued returns a context under which WriteBatch calls queued once the
// batch's write has its place in the queue of transactions (with
// Config.Enqueue): whatever is queued after that is committed after it, or
// with it. It lets a caller order another write after this one without
// waiting for its commit.
func WithQueued(ctx context.Context, queued func()) context.Context {
	return context.WithValue(ctx, queuedKey{}, queued)
}

// enqueue writes req through Config.Enqueue.
func (s *Stream) enqueue(ctx context.Context, req *request) ([]producers.EntryResult, error) {
	wait := s.cfg.Enqueue(func(tx *bbolt.Tx) error { return s.writeTx(tx, []*request{req}) })
	if queued, ok := ctx.Value(queuedKey{}).(func()); ok {
		queued()
	}
	if err := wait(); err != nil {
		return nil, s.wrap("write", err)
	}
	s.notify([]*request{req})
	return req.results, nil
}

// validate applies Kinesis's limits and picks each record's shard.
func (s *Stream) validate(req *request) error {
	if len(req.recs) > MaxBatchRecords {
		return fmt.Errorf("stream %s: write: %w: %d records in one batch; PutRecords takes at most %d: split the batch",
			s.name, ErrValidation, len(req.recs), MaxBatchRecords)
	}
	total := 0
	for i, r := range req.recs {
		if r.PartitionKey == "" {
			return fmt.Errorf("stream %s: write: %w: record %d has an empty partition key: give every record a partition key of 1 to %d characters",
				s.name, ErrValidation, i, MaxPartitionKeyLength)
		}
		if n := utf8.RuneCountInString(r.PartitionKey); n > MaxPartitionKeyLength {
			return fmt.Errorf("stream %s: write: %w: record %d has a partition key of %d characters; Kinesis takes at most %d",
				s.name, ErrValidation, i, n, MaxPartitionKeyLength)
		}
		size := len(r.PartitionKey) + len(r.Data)
		if size > s.cfg.MaxRecordBytes {
			return fmt.Errorf("stream %s: write: %w: record %d is %d bytes (data plus partition key), over the stream's limit of %d",
				s.name, ErrValidation, i, size, s.cfg.MaxRecordBytes)
		}
		total += size
		req.shards[i] = s.shardFor(r.PartitionKey)
	}
	if total > s.cfg.MaxBatchBytes {
		return fmt.Errorf("stream %s: write: %w: the batch is %d bytes (data plus partition keys), over the limit of %d per call: split the batch",
			s.name, ErrValidation, total, s.cfg.MaxBatchBytes)
	}
	return nil
}

// commit runs req in a group commit: it queues req and, if no commit is
// under way, leads one; otherwise it waits to be committed by another
// caller, or to be handed the lead of the next group.
func (s *Stream) commit(req *request) {
	s.gmu.Lock()
	s.queue = append(s.queue, req)
	if s.leading {
		s.gmu.Unlock()
		if lead := <-req.wake; !lead {
			return
		}
		s.gmu.Lock()
	}
	s.leading = true
	n, recs := 0, 0
	for n < len(s.queue) && (n == 0 || recs+len(s.queue[n].recs) <= maxGroupRecords) {
		recs += len(s.queue[n].recs)
		n++
	}
	group := s.queue[:n:n]
	s.queue = append([]*request(nil), s.queue[n:]...)
	s.gmu.Unlock()

	err := s.appendCommit(func(tx *bbolt.Tx) error { return s.writeTx(tx, group) })
	if err != nil {
		err = s.wrap("write", err)
		for _, r := range group {
			r.err = err
		}
	} else {
		s.notify(group)
	}

	s.gmu.Lock()
	if len(s.queue) > 0 {
		s.queue[0].wake <- true
	} else {
		s.leading = false
	}
	s.gmu.Unlock()
	for _, r := range group {
		if r != req {
			r.wake <- false
		}
	}
}

// writeTx appends the records of group in tx and fills in their results.
// It may run more than once (db.Batch reruns it), so it starts afresh.
func (s *Stream) writeTx(tx *bbolt.Tx, group []*request) error {
	root := tx.Bucket(s.bucket)
	if root == nil {
		return s.notFound()
	}
	shards := root.Bucket(keyShards)
	buckets := make([]*bbolt.Bucket, len(s.shards))
	now := s.cfg.Now()
	for _, req := range group {
		for i, r := range req.recs {
			sh := req.shards[i]
			b := buckets[sh]
			if b == nil {
				if b = shards.Bucket([]byte(s.shards[sh].ID)); b == nil {
					return fmt.Errorf("shard %s is missing from the database", s.shards[sh].ID)
				}
				b.FillPercent = 1 // keys only ever grow: pack the pages
				buckets[sh] = b
			}
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			if err := b.Put(seqKey(seq), encodeRecord(now, r.PartitionKey, r.Data)); err != nil {
				return err
			}
			req.results[i] = producers.EntryResult{ID: formatSeq(seq), Shard: s.shards[sh].ID}
		}
	}
	return nil
}

// notify wakes the readers waiting on the shards the committed group wrote
// to.
func (s *Stream) notify(group []*request) {
	latest := make([]uint64, len(s.shards))
	for _, req := range group {
		for i, res := range req.results {
			seq, _ := parseSeq(res.ID)
			latest[req.shards[i]] = max(latest[req.shards[i]], seq)
		}
	}
	for sh, seq := range latest {
		if seq > 0 {
			s.state[sh].advance(seq)
		}
	}
}
