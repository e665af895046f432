package stream

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// Checkpoint returns the consumer's checkpoint on the shard: the sequence
// number of the last record it has processed, "" if it has none (start from
// TRIM_HORIZON, or from LATEST, as the consumer chooses). It wraps
// producers.ErrNotFound for an unknown shard or a deleted stream.
func (s *Stream) Checkpoint(consumer, shardID string) (string, error) {
	sh, err := s.shardIndex(shardID)
	if err != nil {
		return "", err
	}
	if consumer == "" {
		return "", fmt.Errorf("stream %s: checkpoint: the consumer name is empty: name the consumer whose checkpoint to read", s.name)
	}
	var seq string
	err = s.view("checkpoint of "+consumer+" on "+shardID, func(root *bbolt.Bucket) error {
		if b := root.Bucket(keyCheckpoints).Bucket([]byte(consumer)); b != nil {
			seq = string(b.Get([]byte(s.shards[sh].ID)))
		}
		return nil
	})
	return seq, err
}

// SetCheckpoint records durably (a synced transaction, shared with the
// concurrent callers of db.Batch on the same database) that the consumer
// has processed the shard up to and including seq. Checkpoints only move
// forward: setting one below the current checkpoint wraps
// ErrCheckpointBackwards and changes nothing; setting the same one again is
// a no-op. seq must be a sequence number the shard has assigned (else
// ErrInvalidSequence); it wraps producers.ErrNotFound for an unknown shard
// or a deleted stream.
func (s *Stream) SetCheckpoint(consumer, shardID, seq string) error {
	sh, err := s.shardIndex(shardID)
	if err != nil {
		return err
	}
	if consumer == "" {
		return fmt.Errorf("stream %s: set checkpoint: the consumer name is empty: name the consumer whose checkpoint this is", s.name)
	}
	n, err := parseSeq(seq)
	if err != nil {
		return fmt.Errorf("stream %s: set checkpoint of %s on %s: %w", s.name, consumer, shardID, err)
	}
	id := []byte(s.shards[sh].ID)
	return s.batch("set checkpoint of "+consumer+" on "+shardID, func(root *bbolt.Bucket) error {
		if last := root.Bucket(keyShards).Bucket(id).Sequence(); n > last {
			return fmt.Errorf("%w: %s is beyond the last sequence number the shard assigned (%s): checkpoint a record you have read",
				ErrInvalidSequence, seq, formatSeq(last))
		}
		b, err := root.Bucket(keyCheckpoints).CreateBucketIfNotExists([]byte(consumer))
		if err != nil {
			return err
		}
		if cur := b.Get(id); cur != nil {
			c, err := parseSeq(string(cur))
			if err != nil {
				return fmt.Errorf("stored checkpoint is corrupt: %w", err)
			}
			if n < c {
				return fmt.Errorf("%w: the checkpoint is at %s and %s is before it: "+
					"is another reader processing this shard for the same consumer?", ErrCheckpointBackwards, cur, seq)
			}
			if n == c {
				return nil
			}
		}
		return b.Put(id, []byte(formatSeq(n)))
	})
}
