package bus

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"go.etcd.io/bbolt"
)

// ackWriter writes the targets' progress to the database: the events done
// since the last write, and each target's watermark. One transaction takes
// everything posted since the previous one, across targets, so one sync
// covers many deliveries; while it syncs, the next posts pile up. An event
// done but not yet written is delivered again after a crash: at-least-once.
type ackWriter struct {
	b       *Bus
	mu      sync.Mutex
	deltas  map[string]*ackDelta // guarded by mu
	wms     map[string]uint64    // latest watermark of every running target; guarded by mu
	err     error                // the first failed write; guarded by mu
	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

type ackDelta struct {
	done []uint64
	w    uint64
}

func newAckWriter(b *Bus) *ackWriter {
	return &ackWriter{
		b: b, deltas: map[string]*ackDelta{}, wms: map[string]uint64{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
}

// post records that the events done are done for target, and that all below
// w are.
func (a *ackWriter) post(target string, done []uint64, w uint64) {
	a.mu.Lock()
	d := a.deltas[target]
	if d == nil {
		d = &ackDelta{}
		a.deltas[target] = d
	}
	d.done = append(d.done, done...)
	d.w = max(d.w, w)
	a.wms[target] = max(a.wms[target], w)
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

func (a *ackWriter) loop() {
	defer close(a.stopped)
	for {
		select {
		case <-a.kick:
			a.flush()
		case <-a.stop:
			a.flush()
			return
		}
	}
}

// close writes what is left and stops the writer, returning the first
// write that failed.
func (a *ackWriter) close() error {
	close(a.stop)
	<-a.stopped
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

func (a *ackWriter) flush() {
	a.mu.Lock()
	deltas := a.deltas
	if len(deltas) == 0 {
		a.mu.Unlock()
		return
	}
	a.deltas = map[string]*ackDelta{}
	trim := uint64(0)
	for _, w := range a.wms {
		if trim == 0 || w < trim {
			trim = w
		}
	}
	a.mu.Unlock()

	err := a.b.cfg.Commit(func(tx *bbolt.Tx) error {
		top := tx.Bucket(a.b.top)
		tgts := top.Bucket(bucketTargets)
		for name, d := range deltas {
			tb := tgts.Bucket([]byte(name))
			if tb == nil {
				return fmt.Errorf("target %q has no bucket", name)
			}
			done := tb.Bucket(bucketDone)
			if err := tb.Put(keyWatermark, seqKey(d.w)); err != nil {
				return err
			}
			for _, seq := range d.done {
				if seq >= d.w {
					if err := done.Put(seqKey(seq), nil); err != nil {
						return err
					}
				}
			}
			if err := deleteBelow(done, d.w); err != nil {
				return err
			}
		}
		// Events every target is done with are of no more use.
		return deleteBelow(top.Bucket(bucketLog), trim)
	})
	if err == nil {
		return
	}
	a.mu.Lock() // keep the deltas for the next write
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = fmt.Errorf("bus %q: write the targets' progress in %s: %w", a.b.name, a.b.db.Path(), err)
	}
	for name, d := range deltas {
		if cur := a.deltas[name]; cur != nil {
			cur.done = slices.Concat(d.done, cur.done)
			cur.w = max(cur.w, d.w)
		} else {
			a.deltas[name] = d
		}
	}
}

// deleteBelow deletes the keys of bkt below seq.
func deleteBelow(bkt *bbolt.Bucket, seq uint64) error {
	var keys [][]byte
	c := bkt.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) < seq; k, _ = c.Next() {
		keys = append(keys, slices.Clone(k))
	}
	for _, k := range keys {
		if err := bkt.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
