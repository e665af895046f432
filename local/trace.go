package local

import (
	"container/heap"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/producers"
)

// The trace keeps, for `troupe trace` and the console, the events that
// entered the bus or the stream and every consumer's outcome for them (the
// most recent Config.TraceEvents events). It is observability, not state:
// see tracer.go for how it is kept.

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

// Trace returns the chain of id: an event id or a correlation id.
func (e *Engine) Trace(ctx context.Context, id string) (Trace, error) {
	if err := ctx.Err(); err != nil {
		return Trace{}, err
	}
	corr, evs := e.tracer.index.trace(id)
	if len(evs) == 0 {
		return Trace{}, fmt.Errorf("no event or correlation id %q in this engine's trace (it keeps the last %d events)", id, e.tracer.index.max)
	}
	return Trace{CorrelationID: corr, Events: causalOrder(evs)}, nil
}

// causalOrder puts the events in the order they were published, except that
// an event comes after the event that caused it, when both are in the
// trace: the bus hands an event to its consumers as soon as it is queued
// for commit, so a reaction's publish can return before its cause's does.
// It takes O(n log n): a correlation id may gather many events.
func causalOrder(evs []TracedEvent) []TracedEvent {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].PublishedAt.Before(evs[j].PublishedAt) })
	index := make(map[string]int, len(evs))
	for i, e := range evs {
		index[e.ID] = i
	}
	// Each event waits for at most one other: its cause. ready holds the
	// events whose cause is out (or absent), earliest first.
	children := make(map[int][]int)
	ready := &intHeap{}
	for i, e := range evs {
		if c, ok := index[e.CausationID]; ok && c != i {
			children[c] = append(children[c], i)
		} else {
			heap.Push(ready, i)
		}
	}
	out := make([]TracedEvent, 0, len(evs))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		out = append(out, evs[i])
		for _, c := range children[i] {
			heap.Push(ready, c)
		}
	}
	if len(out) < len(evs) { // a cycle of causes cannot be published; keep the rest as they are
		placed := make([]bool, len(evs))
		for _, e := range out {
			placed[index[e.ID]] = true
		}
		for i, e := range evs {
			if !placed[i] {
				out = append(out, e)
			}
		}
	}
	return out
}

// intHeap is a min-heap of ints (container/heap).
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
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
	res, err := tp.p.Publish(withLegOrder(ctx), evs...)
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
