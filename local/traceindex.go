package local

import (
	"bytes"
	"encoding/json"
	"hash/maphash"
	"slices"
	"sync"

	"github.com/troupehq/troupe/consumers"
)

// traceIndex holds the trace that `troupe trace` and the console read: the
// most recent events, each with its consumers' outcomes, by event id and by
// correlation id. It is bounded: past max events, the oldest go (with their
// outcomes). Safe for concurrent use.
//
// It is kept compact for the garbage collector: an event is two byte slices
// (its record and its outcomes, as JSON) and its id, in a ring, found through maps
// keyed by hashes of the ids. A Go value per event and per outcome, with
// their strings, made marking a full index (20,000 events) take tens of
// milliseconds of every collection, and the chains under way then waited
// for it: the slowest 1% of them started just before a collection. Reading
// a trace decodes its few events.
type traceIndex struct {
	max  int
	seed maphash.Seed

	mu     sync.RWMutex
	slots  []traceSlot         // ring: event n is in slots[n%max]
	next   uint64              // number of the next event
	byID   map[uint64]uint64   // hash of an event id -> its number
	byCorr map[uint64][]uint64 // hash of a correlation id -> its events' numbers, in arrival order
}

// traceSlot is one event of the ring.
type traceSlot struct {
	event    []byte // the TracedEvent's JSON, without its outcomes
	outcomes []byte // its outcomes' JSON, one per line
	eventID  string // to tell apart two ids that share a hash
	id, corr uint64 // hashes of its id and correlation id
}

func newTraceIndex(max int) *traceIndex {
	return &traceIndex{
		max: max, seed: maphash.MakeSeed(), slots: make([]traceSlot, max),
		byID: map[uint64]uint64{}, byCorr: map[uint64][]uint64{},
	}
}

func (x *traceIndex) hash(s string) uint64 { return maphash.String(x.seed, s) }

// add adds a record: an event, or a consumer's outcome for one.
func (x *traceIndex) add(r traceRecord) {
	raw, err := encodeTraceRecord(r)
	if err != nil {
		return // a TracedEvent or an Outcome always encodes
	}
	x.addEncoded(r, raw)
}

// encodeTraceRecord is the JSON of r's event (without outcomes) or outcome.
func encodeTraceRecord(r traceRecord) ([]byte, error) {
	if r.event != nil {
		ev := *r.event
		ev.Outcomes = nil
		return json.Marshal(ev)
	}
	return json.Marshal(r.outcome)
}

// addEncoded adds r, whose JSON (encodeTraceRecord) is raw.
func (x *traceIndex) addEncoded(r traceRecord, raw []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e := r.event; e != nil {
		x.addEvent(e, raw)
		return
	}
	o := r.outcome
	s := x.slot(o.EventID)
	if s == nil {
		// The outcome can come first: a consumer may handle an event before
		// its publisher's call returns and the event is recorded. Hold it
		// on a stand-in that the event's record fills in.
		stand, _ := json.Marshal(TracedEvent{ID: o.EventID, Type: o.Type, CorrelationID: o.CorrelationID, CausationID: o.CausationID, PublishedAt: o.Start})
		s = x.insert(o.EventID, o.CorrelationID, stand)
	}
	s.outcomes = append(append(s.outcomes, raw...), '\n')
}

func (x *traceIndex) addEvent(e *TracedEvent, raw []byte) {
	s := x.slot(e.ID)
	if s == nil {
		x.insert(e.ID, e.CorrelationID, raw)
		return
	}
	var old TracedEvent
	if json.Unmarshal(s.event, &old) != nil {
		s.event = raw
		return
	}
	if len(old.Legs) == 0 { // a stand-in: the event's own record fills it in
		s.event = raw
		return
	}
	merged := false
	for _, leg := range e.Legs { // the other leg, or a republish
		if !slices.Contains(old.Legs, leg) {
			old.Legs = append(old.Legs, leg)
			merged = true
		}
	}
	if merged {
		if b, err := json.Marshal(old); err == nil {
			s.event = b
		}
	}
}

// slot returns the slot of event id, or nil. A hash shared by two ids (odds
// of about 1 in 10^10 for a full index) is told apart by the id itself.
func (x *traceIndex) slot(id string) *traceSlot {
	n, ok := x.byID[x.hash(id)]
	if !ok || !x.live(n) {
		return nil
	}
	if s := &x.slots[n%uint64(x.max)]; s.eventID == id {
		return s
	}
	return nil
}

// live reports whether event n is still in the ring.
func (x *traceIndex) live(n uint64) bool { return n < x.next && x.next-n <= uint64(x.max) }

// insert puts a new event in the ring, in place of the oldest once full.
func (x *traceIndex) insert(id, corr string, raw []byte) *traceSlot {
	n := x.next
	x.next++
	s := &x.slots[n%uint64(x.max)]
	if n >= uint64(x.max) {
		x.evict(n-uint64(x.max), s)
	}
	*s = traceSlot{event: raw, eventID: id, id: x.hash(id), corr: x.hash(corr)}
	x.byID[s.id] = n
	x.byCorr[s.corr] = append(x.byCorr[s.corr], n)
	return s
}

// evict forgets event n, held by s.
func (x *traceIndex) evict(n uint64, s *traceSlot) {
	if x.byID[s.id] == n {
		delete(x.byID, s.id)
	}
	ns := slices.DeleteFunc(x.byCorr[s.corr], func(m uint64) bool { return m == n })
	if len(ns) == 0 {
		delete(x.byCorr, s.corr)
	} else {
		x.byCorr[s.corr] = ns
	}
}

// trace returns the events of id's chain (id is an event id or a
// correlation id), in arrival order, and the correlation id.
func (x *traceIndex) trace(id string) (string, []TracedEvent) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	corr := id
	if s := x.slot(id); s != nil {
		var ev TracedEvent
		if json.Unmarshal(s.event, &ev) == nil {
			corr = ev.CorrelationID
		}
	}
	var out []TracedEvent
	for _, n := range x.byCorr[x.hash(corr)] {
		ev, ok := x.decode(&x.slots[n%uint64(x.max)])
		if ok && ev.CorrelationID == corr {
			out = append(out, ev)
		}
	}
	return corr, out
}

// decode returns the event of s with its outcomes.
func (x *traceIndex) decode(s *traceSlot) (TracedEvent, bool) {
	var ev TracedEvent
	if json.Unmarshal(s.event, &ev) != nil {
		return ev, false
	}
	for line := range bytes.Lines(s.outcomes) {
		var o consumers.Outcome
		if json.Unmarshal(line, &o) == nil {
			ev.Outcomes = append(ev.Outcomes, o)
		}
	}
	return ev, true
}

func (x *traceIndex) len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return int(min(x.next, uint64(x.max)))
}
