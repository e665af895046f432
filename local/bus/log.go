package bus

import (
	"bytes"
	"encoding/binary"
	"sync"

	"go.etcd.io/bbolt"
)

var (
	bucketLog     = []byte("log")
	bucketTargets = []byte("targets")
	bucketDone    = []byte("done")
	keyWatermark  = []byte("watermark")
	recentSize    = 4096     // events kept in memory after their append, for targets that keep up
	recentBytes   = 16 << 20 // and their bytes at most
	readPage      = 256      // events one read of the log returns at most
)

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// record is one event of the log.
type record struct {
	seq    uint64
	ingest int64  // when the bus received it, Unix nanoseconds
	event  []byte // the event JSON a target receives; never modified
	only   string // the one target a redelivery is for; "" for a bus event

	// names of the targets it matches, computed once for all targets by the
	// first runner that reads it (records from recent are shared).
	once  sync.Once
	names []string
}

// recent is a ring of the last events appended, so that runners that keep
// up read them from memory, and match each once for all targets. It holds
// at most recentSize events and recentBytes bytes of them.
type recent struct {
	mu     sync.RWMutex
	ring   []*record // ring[seq%len] holds seq, for seq in [lo, hi)
	lo, hi uint64
	bytes  int
}

func (r *recent) init(n int) { r.ring = make([]*record, n) }

func (r *recent) add(recs []*record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := uint64(len(r.ring))
	for _, rec := range recs {
		if r.hi == 0 { // first add: the ring starts here
			r.lo = rec.seq
		}
		r.hi = rec.seq + 1
		for r.lo < r.hi && (r.hi-r.lo > n || r.bytes+len(rec.event) > recentBytes) {
			r.evict()
		}
		r.ring[rec.seq%n] = rec
		r.bytes += len(rec.event)
	}
}

// evict drops the oldest event.
func (r *recent) evict() {
	slot := r.lo % uint64(len(r.ring))
	if old := r.ring[slot]; old != nil && old.seq == r.lo {
		r.bytes -= len(old.event)
		r.ring[slot] = nil
	}
	r.lo++
}

// get appends to dst the records from seq on, below end, while they are in
// memory, at most max.
func (r *recent) get(dst []*record, seq, end uint64, max int) []*record {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for ; seq < end && len(dst) < max; seq++ {
		rec := r.ring[seq%uint64(len(r.ring))]
		if seq < r.lo || rec == nil || rec.seq != seq {
			break
		}
		dst = append(dst, rec)
	}
	return dst
}

// read returns the records of the log from seq on, below end, at most max:
// from memory if they are there, else from the database. Sequence numbers
// missing from the log (trimmed) are skipped. upto is where the next read
// starts.
func (b *Bus) read(seq, end uint64, max int) (recs []*record, upto uint64, err error) {
	if recs := b.recent.get(nil, seq, end, max); len(recs) > 0 {
		return recs, recs[len(recs)-1].seq + 1, nil
	}
	// The log holds only what is on disk: read no further, or events handed
	// out early and not yet committed would be taken for trimmed ones.
	if end = min(end, b.durable.Load()); seq >= end {
		return nil, seq, nil
	}
	err = b.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(b.top).Bucket(bucketLog).Cursor()
		for k, v := c.Seek(seqKey(seq)); k != nil && len(recs) < max; k, v = c.Next() {
			s := binary.BigEndian.Uint64(k)
			if s >= end {
				break
			}
			only, ev := decodeValue(v[8:])
			recs = append(recs, &record{seq: s, ingest: int64(binary.BigEndian.Uint64(v)), event: bytes.Clone(ev), only: only})
		}
		return nil
	})
	if err != nil {
		return nil, seq, err
	}
	if len(recs) < max {
		return recs, end, nil
	}
	return recs, recs[len(recs)-1].seq + 1, nil
}

// matches returns the names of the targets the record's event goes to,
// sorted, matching it once for all targets.
func (r *record) matches(b *Bus) []string {
	r.once.Do(func() {
		if r.only != "" {
			r.names = []string{r.only}
			return
		}
		r.names = b.match(r.event)
	})
	return r.names
}

// A log value is the ingest time (8 bytes) then the event JSON, which starts
// with '{'. A redelivery to one target puts, between the two, a 0 byte, the
// target name's length (2 bytes) and the name.
func encodeValue(ingest int64, only string, event []byte) []byte {
	n := 8 + len(event)
	if only != "" {
		n += 3 + len(only)
	}
	v := make([]byte, 8, n)
	binary.BigEndian.PutUint64(v, uint64(ingest))
	if only != "" {
		v = append(v, 0)
		v = binary.BigEndian.AppendUint16(v, uint16(len(only)))
		v = append(v, only...)
	}
	return append(v, event...)
}

// decodeValue reads what follows the ingest time.
func decodeValue(v []byte) (only string, event []byte) {
	if len(v) < 3 || v[0] != 0 {
		return "", v
	}
	n := int(binary.BigEndian.Uint16(v[1:3]))
	if len(v) < 3+n {
		return "", v
	}
	return string(v[3 : 3+n]), v[3+n:]
}
