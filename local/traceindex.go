package local

import (
	"slices"
	"sync"
)

// traceIndex holds the trace that `troupe trace` and the console read: the
// most recent events, each with its consumers' outcomes, by event id and by
// correlation id. It is bounded: past max events, the oldest go (with their
// outcomes). Safe for concurrent use.
type traceIndex struct {
	max int

	mu     sync.RWMutex
	events map[string]*TracedEvent // by id; Outcomes appended in place
	byCorr map[string][]string     // correlation id -> event ids, in arrival order
	order  []string                // event ids, oldest first
}

func newTraceIndex(max int) *traceIndex {
	return &traceIndex{max: max, events: map[string]*TracedEvent{}, byCorr: map[string][]string{}}
}

func (x *traceIndex) add(r traceRecord) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e := r.event; e != nil {
		x.addEvent(e)
		return
	}
	o := *r.outcome
	ev := x.events[o.EventID]
	if ev == nil {
		// The outcome can come first: a consumer may handle an event before
		// its publisher's call returns and the event is recorded. Hold it
		// on a stand-in that the event's record fills in.
		ev = &TracedEvent{ID: o.EventID, Type: o.Type, CorrelationID: o.CorrelationID, CausationID: o.CausationID, PublishedAt: o.Start}
		x.insert(ev)
	}
	ev.Outcomes = append(ev.Outcomes, o)
}

func (x *traceIndex) addEvent(e *TracedEvent) {
	old := x.events[e.ID]
	if old == nil {
		ev := *e
		ev.Legs = slices.Clone(e.Legs)
		ev.Outcomes = nil
		x.insert(&ev)
		return
	}
	if len(old.Legs) == 0 { // a stand-in: the event's own record fills it in
		outcomes := old.Outcomes
		*old = *e
		old.Legs = nil
		old.Outcomes = outcomes
	}
	for _, leg := range e.Legs { // the other leg, or a republish
		if !slices.Contains(old.Legs, leg) {
			old.Legs = append(old.Legs, leg)
		}
	}
}

func (x *traceIndex) insert(ev *TracedEvent) {
	x.events[ev.ID] = ev
	x.byCorr[ev.CorrelationID] = append(x.byCorr[ev.CorrelationID], ev.ID)
	x.order = append(x.order, ev.ID)
	for len(x.order) > x.max {
		x.evict(x.order[0])
		x.order[0] = ""
		x.order = x.order[1:]
	}
}

func (x *traceIndex) evict(id string) {
	ev := x.events[id]
	if ev == nil {
		return
	}
	delete(x.events, id)
	ids := slices.DeleteFunc(x.byCorr[ev.CorrelationID], func(s string) bool { return s == id })
	if len(ids) == 0 {
		delete(x.byCorr, ev.CorrelationID)
	} else {
		x.byCorr[ev.CorrelationID] = ids
	}
}

// trace returns copies of the events of id's chain (id is an event id or a
// correlation id), in arrival order, and the correlation id.
func (x *traceIndex) trace(id string) (string, []TracedEvent) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	corr := id
	if ev := x.events[id]; ev != nil {
		corr = ev.CorrelationID
	}
	var out []TracedEvent
	for _, eid := range x.byCorr[corr] {
		ev := *x.events[eid]
		ev.Legs = slices.Clone(ev.Legs)
		ev.Outcomes = slices.Clone(ev.Outcomes)
		out = append(out, ev)
	}
	return corr, out
}

func (x *traceIndex) len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.events)
}
