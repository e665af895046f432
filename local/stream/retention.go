package stream

import (
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// trimChunk bounds the records one Trim transaction deletes, so that a
// large trim does not hold the database's write lock for long.
const trimChunk = 5000

// Trim deletes the records that arrived before now minus the retention
// period and returns how many it deleted. In each shard it deletes from the
// oldest record on and stops at the first record still within retention
// (arrival times grow along a shard unless the clock goes back), in
// transactions of at most 5,000 records. It remembers, per shard, the last
// sequence number it deleted: a Read from before it reports Trimmed.
//
// Nothing trims on its own: the engine calls Trim now and then (once a
// minute is plenty). Trim is safe to run concurrently with everything else;
// a reader whose next record is deleted under it simply reads on from the
// oldest retained one, and is told so.
func (s *Stream) Trim(now time.Time) (removed int, err error) {
	horizon := now.Add(-s.cfg.Retention)
	for _, sh := range s.shards {
		for {
			n, more, err := s.trimChunk(sh.ID, horizon)
			removed += n
			if err != nil {
				return removed, err
			}
			if !more {
				break
			}
		}
	}
	return removed, nil
}

// trimChunk deletes up to trimChunk records of the shard that arrived
// before horizon, and reports whether there may be more.
func (s *Stream) trimChunk(shardID string, horizon time.Time) (n int, more bool, err error) {
	err = s.update("trim "+shardID, func(root *bbolt.Bucket) error {
		n, more = 0, false
		b := root.Bucket(keyShards).Bucket([]byte(shardID))
		var keys [][]byte
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(keys) == trimChunk {
				more = true
				break
			}
			arrived, err := arrivalOf(v)
			if err != nil {
				return fmt.Errorf("record %x: %w", k, err)
			}
			if !arrived.Before(horizon) {
				break
			}
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		if len(keys) > 0 {
			last := keys[len(keys)-1]
			if err := root.Bucket(keyTrimmed).Put([]byte(shardID), last); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	return n, more, err
}
