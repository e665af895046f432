package local

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/local/commit"
)

// How the trace is kept: records go to the tracer's buffer and are taken in
// batches by its goroutine, which adds them to the in-memory index that
// readers use (traceindex.go) and appends each batch to a log in the
// database as one value (a line of JSON per record), riding with the
// engine's other writes. The log is what a restart reads the index back
// from; it keeps about as many events as the index, the oldest batches
// deleted as new ones come. One put per batch, rather than several keyed
// puts per record, keeps the trace's share of every commit small. A full
// buffer drops records (with a warning) rather than slowing delivery.
const (
	traceLogBucket    = "trace.log"
	legacyTraceBucket = "trace" // keyed records, before the log: dropped at open
	traceBuffer       = 65536
	maxTraceBatch     = 4096
	// DefaultTraceEvents is how many events the trace keeps by default:
	// about 5,000 orders of the sample, in about 20 MB (an event and its
	// outcomes take about 1 KB of memory).
	DefaultTraceEvents = 20_000
)

type traceRecord struct {
	event   *TracedEvent
	outcome *consumers.Outcome
}

// logLine is a record as the log holds it.
type logLine struct {
	Event   *TracedEvent       `json:"event,omitempty"`
	Outcome *consumers.Outcome `json:"outcome,omitempty"`
}

// logBatch is one value of the log: its key, and the events it holds.
type logBatch struct {
	key    uint64
	events int
}

// tracer keeps the trace in the background.
type tracer struct {
	commit  commit.Func
	log     *slog.Logger
	index   *traceIndex
	in      chan traceRecord
	done    chan struct{}
	warned  sync.Once
	closing sync.Once

	// owned by run: the log's batches, oldest first, and their events;
	// the buffer batches are encoded in, reused once their write returns
	// (it was a growing bytes.Buffer per batch: 7% of the engine's
	// allocations under load)
	batches []logBatch
	logged  int
	buf     bytes.Buffer
}

// openTracer reads the trace back from db's log and starts keeping it, up
// to max events.
func openTracer(db *bbolt.DB, c commit.Func, log *slog.Logger, max int) (*tracer, error) {
	t := &tracer{commit: c, log: log, index: newTraceIndex(max), in: make(chan traceRecord, traceBuffer), done: make(chan struct{})}
	err := db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket([]byte(legacyTraceBucket)) != nil {
			if err := tx.DeleteBucket([]byte(legacyTraceBucket)); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucketIfNotExists([]byte(traceLogBucket))
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			recs, err := decodeTraceBatch(v)
			if err != nil { // observability: say so, keep the rest
				log.Warn("a batch of the trace's log is damaged: its records are skipped", "key", k, "error", err)
			}
			n := t.addAll(recs)
			t.batches = append(t.batches, logBatch{key: binary.BigEndian.Uint64(k), events: n})
			t.logged += n
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("local: read the trace in %s: %w", db.Path(), err)
	}
	go t.run()
	return t, nil
}

func (t *tracer) add(r traceRecord) {
	select {
	case t.in <- r:
	default:
		t.warned.Do(func() { t.log.Warn("trace buffer full: some trace records are dropped (delivery is not affected)") })
	}
}

// run takes what arrives, a batch at a time, until close.
func (t *tracer) run() {
	defer close(t.done)
	for r := range t.in {
		batch := []traceRecord{r}
	more:
		for len(batch) < maxTraceBatch {
			select {
			case r, ok := <-t.in:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		t.keep(batch)
	}
}

// addAll adds records to the index and returns how many are events.
func (t *tracer) addAll(recs []traceRecord) int {
	n := 0
	for _, r := range recs {
		t.index.add(r)
		if r.event != nil {
			n++
		}
	}
	return n
}

// keep adds batch to the index, at once, and appends it to the log, with
// the oldest batches the log no longer needs deleted in the same write.
// Each record is encoded once, for both.
func (t *tracer) keep(batch []traceRecord) {
	n := 0
	t.buf.Reset()
	for _, r := range batch {
		raw, err := encodeTraceRecord(r)
		if err != nil {
			t.log.Warn("trace: encode a record", "error", err)
			continue
		}
		t.index.addEncoded(r, raw)
		if r.event != nil {
			n++
			t.buf.WriteString(`{"event":`)
		} else {
			t.buf.WriteString(`{"outcome":`)
		}
		t.buf.Write(raw)
		t.buf.WriteString("}\n")
	}
	v := t.buf.Bytes()
	// The oldest batches go once the newer ones hold max events without
	// them: the log keeps at least what the index does, for a restart.
	logged, drop := t.logged, 0
	for drop < len(t.batches) && logged+n-t.batches[drop].events >= t.index.max {
		logged -= t.batches[drop].events
		drop++
	}
	old := t.batches[:drop]
	var key uint64
	err := t.commit(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(traceLogBucket))
		for _, o := range old {
			if err := b.Delete(binary.BigEndian.AppendUint64(nil, o.key)); err != nil {
				return err
			}
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		key = seq
		return b.Put(binary.BigEndian.AppendUint64(nil, seq), v)
	})
	if err != nil { // the log is as it was; the index has the batch
		t.log.Warn("trace: write a batch to the log", "error", err)
		return
	}
	t.batches = append(t.batches[drop:], logBatch{key: key, events: n})
	t.logged = logged + n
}

// decodeTraceBatch decodes a log value; on a damaged line it returns the
// records before it and the error.
func decodeTraceBatch(v []byte) ([]traceRecord, error) {
	var recs []traceRecord
	dec := json.NewDecoder(bytes.NewReader(v))
	for dec.More() {
		var l logLine
		if err := dec.Decode(&l); err != nil {
			return recs, err
		}
		switch {
		case l.Event != nil:
			recs = append(recs, traceRecord{event: l.Event})
		case l.Outcome != nil:
			recs = append(recs, traceRecord{outcome: l.Outcome})
		}
	}
	return recs, nil
}

// close keeps what is buffered and stops the tracer.
func (t *tracer) close() {
	t.closing.Do(func() { close(t.in) })
	<-t.done
}
