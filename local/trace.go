package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/local/commit"
	"github.com/troupehq/troupe/producers"
)

// The trace keeps, for `troupe trace`, every event that entered the bus or
// the stream and every consumer's outcome for it. It is observability, not
// state: records are written in the background, in batches, and a full
// buffer drops records (with a warning) rather than slowing delivery.
const (
	traceBucket = "trace"
	traceBuffer = 65536
)

// TracedEvent is one event in a trace.
type TracedEvent struct {
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	Version       int       `json:"version"`
	Source        string    `json:"source"`
	Subject       string    `json:"subject,omitempty"`
	CorrelationID string    `json:"correlationId"`
	CausationID   string    `json:"causationId,omitempty"`
	Legs          []string  `json:"legs"`
	PublishedAt   time.Time `json:"publishedAt"`
	// Outcomes are the consumers' deliveries of the event, in order.
	Outcomes []consumers.Outcome `json:"outcomes"`
}

// Trace is the chain of events that share a correlation id.
type Trace struct {
	CorrelationID string        `json:"correlationId"`
	Events        []TracedEvent `json:"events"`
}

type traceRecord struct {
	event   *TracedEvent
	outcome *consumers.Outcome
}

// tracer writes trace records in the background.
type tracer struct {
	db      *bbolt.DB
	commit  commit.Func
	log     *slog.Logger
	in      chan traceRecord
	done    chan struct{}
	warned  sync.Once
	closing sync.Once
}

func newTracer(db *bbolt.DB, c commit.Func, log *slog.Logger) (*tracer, error) {
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(traceBucket))
		return err
	}); err != nil {
		return nil, err
	}
	t := &tracer{db: db, commit: c, log: log, in: make(chan traceRecord, traceBuffer), done: make(chan struct{})}
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

// run writes what arrives, one transaction per batch.
func (t *tracer) run() {
	defer close(t.done)
	for r := range t.in {
		batch := []traceRecord{r}
		for len(batch) < 4096 {
			select {
			case r, ok := <-t.in:
				if !ok {
					t.write(batch)
					return
				}
				batch = append(batch, r)
				continue
			default:
			}
			break
		}
		t.write(batch)
	}
}

func (t *tracer) write(batch []traceRecord) {
	// The trace's commit rides with the engine's other writes.
	err := t.commit(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(traceBucket))
		for _, r := range batch {
			if err := putTrace(b, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.log.Warn("trace write", "error", err)
	}
}

// Keys: e/<event id> -> the event; c/<correlation id>/<event id> -> "";
// o/<event id>/<sequence> -> an outcome.
func putTrace(b *bbolt.Bucket, r traceRecord) error {
	if e := r.event; e != nil {
		if old := b.Get([]byte("e/" + e.ID)); old != nil {
			return mergeLegs(b, old, e) // the other leg, or a republish
		}
		v, _ := json.Marshal(e)
		if err := b.Put([]byte("e/"+e.ID), v); err != nil {
			return err
		}
		return b.Put([]byte("c/"+e.CorrelationID+"/"+e.ID), nil)
	}
	o := r.outcome
	seq, _ := b.NextSequence()
	v, _ := json.Marshal(o)
	return b.Put([]byte(fmt.Sprintf("o/%s/%020d", o.EventID, seq)), v)
}

// mergeLegs adds e's leg to the event already recorded.
func mergeLegs(b *bbolt.Bucket, old []byte, e *TracedEvent) error {
	var first TracedEvent
	if err := json.Unmarshal(old, &first); err != nil {
		return err
	}
	for _, leg := range e.Legs {
		if !slices.Contains(first.Legs, leg) {
			first.Legs = append(first.Legs, leg)
		}
	}
	v, _ := json.Marshal(first)
	return b.Put([]byte("e/"+e.ID), v)
}

func (t *tracer) close() {
	t.closing.Do(func() { close(t.in) })
	<-t.done
}

// Trace returns the chain of id: an event id or a correlation id.
func (e *Engine) Trace(ctx context.Context, id string) (Trace, error) {
	var tr Trace
	err := e.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(traceBucket))
		corr := id
		if v := b.Get([]byte("e/" + id)); v != nil {
			var ev TracedEvent
			if err := json.Unmarshal(v, &ev); err != nil {
				return err
			}
			corr = ev.CorrelationID
		}
		tr.CorrelationID = corr
		c := b.Cursor()
		prefix := []byte("c/" + corr + "/")
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			eventID := string(k[len(prefix):])
			var ev TracedEvent
			if err := json.Unmarshal(b.Get([]byte("e/"+eventID)), &ev); err != nil {
				return err
			}
			oc := b.Cursor()
			op := []byte("o/" + eventID + "/")
			for ok, ov := oc.Seek(op); ok != nil && bytes.HasPrefix(ok, op); ok, ov = oc.Next() {
				var o consumers.Outcome
				if err := json.Unmarshal(ov, &o); err != nil {
					return err
				}
				ev.Outcomes = append(ev.Outcomes, o)
			}
			tr.Events = append(tr.Events, ev)
		}
		return nil
	})
	if err != nil {
		return Trace{}, err
	}
	if len(tr.Events) == 0 {
		return Trace{}, fmt.Errorf("no event or correlation id %q in this engine's trace", id)
	}
	sort.SliceStable(tr.Events, func(i, j int) bool { return tr.Events[i].PublishedAt.Before(tr.Events[j].PublishedAt) })
	return tr, nil
}

// Publisher publishes envelopes to both legs, as *producers.Publisher does.
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Envelope) ([]producers.Result, error)
}

// tracedPublisher publishes and records each event that a leg took, from
// its envelope: no decoding of what was just encoded.
type tracedPublisher struct {
	p   *producers.Publisher
	t   *tracer
	now func() time.Time
}

func (tp tracedPublisher) Publish(ctx context.Context, evs ...events.Envelope) ([]producers.Result, error) {
	res, err := tp.p.Publish(ctx, evs...)
	at := tp.now()
	for i, r := range res {
		var legs []string
		if r.Bus.OK() {
			legs = append(legs, "bus")
		}
		if r.Stream.OK() {
			legs = append(legs, "stream")
		}
		if len(legs) > 0 && i < len(evs) {
			ev := traced(evs[i], legs[0], at)
			ev.Legs = legs
			tp.t.add(traceRecord{event: ev})
		}
	}
	return res, err
}

// tracedBus records what the bus accepted.
type tracedBus struct {
	producers.BusSender
	t   *tracer
	now func() time.Time
}

func (b tracedBus) SendBatch(ctx context.Context, entries []producers.BusEntry) ([]producers.EntryResult, error) {
	res, err := b.BusSender.SendBatch(ctx, entries)
	for i, r := range res {
		if i < len(entries) && !r.Failed() {
			b.t.add(traceRecord{event: busTraced(entries[i], r.ID, b.now())})
		}
	}
	return res, err
}

// busTraced describes a bus entry: its envelope, or, for a foreign event,
// what the runtime will make of it (id = the bus's event id).
func busTraced(e producers.BusEntry, busID string, at time.Time) *TracedEvent {
	if env, err := events.Decode(e.Detail); err == nil {
		return traced(env, "bus", at)
	}
	return &TracedEvent{ID: busID, Type: e.DetailType, Version: 1, Source: e.Source, CorrelationID: busID, Legs: []string{"bus"}, PublishedAt: at}
}

// tracedStream records what the stream accepted.
type tracedStream struct {
	producers.StreamWriter
	t   *tracer
	now func() time.Time
}

func (s tracedStream) WriteBatch(ctx context.Context, records []producers.StreamRecord) ([]producers.EntryResult, error) {
	res, err := s.StreamWriter.WriteBatch(ctx, records)
	for i, r := range res {
		if i < len(records) && !r.Failed() {
			if env, derr := events.Decode(records[i].Data); derr == nil {
				s.t.add(traceRecord{event: traced(env, "stream", s.now())})
			}
		}
	}
	return res, err
}

func traced(e events.Envelope, leg string, at time.Time) *TracedEvent {
	return &TracedEvent{
		ID: e.ID, Type: e.Type, Version: e.DataVersion, Source: e.Source, Subject: e.Subject,
		CorrelationID: e.CorrelationID, CausationID: e.CausationID, Legs: []string{leg}, PublishedAt: at,
	}
}
