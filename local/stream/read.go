package stream

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"go.etcd.io/bbolt"
)

// shardState is what the process knows of a shard between transactions: the
// last sequence number committed through this *Stream, and a channel closed
// (and replaced) when it grows.
type shardState struct {
	mu     sync.Mutex
	latest uint64
	ch     chan struct{}
}

func (st *shardState) advance(seq uint64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if seq <= st.latest {
		return
	}
	st.latest = seq
	close(st.ch)
	st.ch = make(chan struct{})
}

func (st *shardState) snapshot() (uint64, <-chan struct{}) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.latest, st.ch
}

// ReadResult is what one Read returns.
type ReadResult struct {
	// Records are the shard's records after the position asked for, in
	// sequence order; empty when there are none yet.
	Records []Record
	// Trimmed reports that retention deleted records after the position
	// asked for before they were read: they are lost to this reader, and
	// Records start at the oldest retained record. Kinesis shows the same
	// loss only as an iterator age past the retention period; log it.
	Trimmed bool
	// TrimmedThrough is the last sequence number Trim has deleted from the
	// shard, "" if none. With Trimmed, the records after the position asked
	// for up to TrimmedThrough are the ones lost.
	TrimmedThrough string
}

// Read returns up to limit records (1 to 10,000, GetRecords' bounds) of the
// shard, in sequence order, starting after the sequence number afterSeq, or
// from the oldest retained record (TRIM_HORIZON) when afterSeq is "". To
// start from LATEST, read after Latest. To read on, pass the last record's
// sequence number as the next afterSeq. Read does not wait: use Wait.
//
// It wraps producers.ErrNotFound for an unknown shard or a deleted stream,
// and ErrInvalidSequence for an afterSeq that is not a decimal number or
// lies beyond the last sequence number the shard assigned. When retention
// has deleted records after afterSeq, Read starts at the oldest retained
// record and sets Trimmed.
func (s *Stream) Read(ctx context.Context, shardID, afterSeq string, limit int) (ReadResult, error) {
	if err := ctx.Err(); err != nil {
		return ReadResult{}, fmt.Errorf("stream %s: read %s: %w", s.name, shardID, err)
	}
	sh, err := s.shardIndex(shardID)
	if err != nil {
		return ReadResult{}, err
	}
	if limit < 1 || limit > MaxReadLimit {
		return ReadResult{}, fmt.Errorf("stream %s: read %s: limit is %d: pick 1 to %d, GetRecords' bounds", s.name, shardID, limit, MaxReadLimit)
	}
	var after uint64
	if afterSeq != "" {
		if after, err = parseSeq(afterSeq); err != nil {
			return ReadResult{}, fmt.Errorf("stream %s: read %s: %w", s.name, shardID, err)
		}
	}
	var res ReadResult
	err = s.view("read "+shardID, func(root *bbolt.Bucket) error {
		b := root.Bucket(keyShards).Bucket([]byte(s.shards[sh].ID))
		if last := b.Sequence(); after > last {
			return fmt.Errorf("%w: %s is beyond the last sequence number of the shard (%s): "+
				"was it read from a stream of the same name that was deleted since?", ErrInvalidSequence, afterSeq, formatSeq(last))
		}
		if t := root.Bucket(keyTrimmed).Get([]byte(s.shards[sh].ID)); len(t) == 8 {
			through := binary.BigEndian.Uint64(t)
			res.TrimmedThrough = formatSeq(through)
			res.Trimmed = afterSeq != "" && after < through
		}
		// Keys are 8 bytes big-endian, so Seek orders them as numbers.
		c := b.Cursor()
		from := seqKey(after + 1)
		for k, v := c.Seek(from); k != nil && len(res.Records) < limit; k, v = c.Next() {
			arrived, key, data, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("shard %s record %x: %w", shardID, k, err)
			}
			res.Records = append(res.Records, Record{
				Shard:          shardID,
				SequenceNumber: formatSeq(binary.BigEndian.Uint64(k)),
				PartitionKey:   key,
				Data:           data,
				ArrivedAt:      arrived,
			})
		}
		return nil
	})
	if err != nil {
		return ReadResult{}, err
	}
	return res, nil
}

// Latest returns the last sequence number the shard has assigned, "" if
// none: reading after it reads from LATEST, the records written from now
// on. It wraps producers.ErrNotFound for an unknown shard or a deleted
// stream.
func (s *Stream) Latest(shardID string) (string, error) {
	sh, err := s.shardIndex(shardID)
	if err != nil {
		return "", err
	}
	var last uint64
	err = s.view("latest "+shardID, func(root *bbolt.Bucket) error {
		last = root.Bucket(keyShards).Bucket([]byte(s.shards[sh].ID)).Sequence()
		return nil
	})
	if err != nil || last == 0 {
		return "", err
	}
	return formatSeq(last), nil
}

// Wait returns nil as soon as the shard holds a record after afterSeq ("" =
// any record), at once if it already does, and ctx's error if ctx ends
// first. It wakes on writes made through this *Stream, without polling. It
// wraps producers.ErrNotFound for an unknown shard and ErrInvalidSequence
// for a malformed afterSeq.
func (s *Stream) Wait(ctx context.Context, shardID, afterSeq string) error {
	sh, err := s.shardIndex(shardID)
	if err != nil {
		return err
	}
	var after uint64
	if afterSeq != "" {
		if after, err = parseSeq(afterSeq); err != nil {
			return fmt.Errorf("stream %s: wait %s: %w", s.name, shardID, err)
		}
	}
	for {
		latest, ch := s.state[sh].snapshot()
		if latest > after {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("stream %s: wait %s: %w", s.name, shardID, ctx.Err())
		}
	}
}
