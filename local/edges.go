package local

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/troupehq/troupe/consumers"
)

// EdgeCount is what one consumer did with one event type since the engine
// started: the edge of the choreography graph from the type's producers to
// the consumer (see package graph), counted from the consumers' outcomes.
//
// Delivered counts deliveries that settled: handled, skipped as duplicates,
// or dead-lettered by the runtime. Retried counts the runs made again: the
// runtime's in-process retries, plus every delivery that failed and was
// handed back (a bus consumer's goes to Lambda's asynchronous retries, a
// stream consumer's batch is read again). A bus event the bus itself
// dead-letters once those retries run out is counted by the bus (Status),
// not here: the runtime never sees that last step.
type EdgeCount struct {
	Consumer     string `json:"consumer"`
	Type         string `json:"type"`
	Delivered    int64  `json:"delivered"`
	Handled      int64  `json:"handled"`
	Duplicates   int64  `json:"duplicates"`
	Retried      int64  `json:"retried"`
	DeadLettered int64  `json:"deadLettered"`
	Failed       int64  `json:"failed"`
}

// edgeCounts counts outcomes per (consumer, event type). The observer adds
// from any goroutine; Edges reads a snapshot. The zero value is ready.
type edgeCounts struct {
	m sync.Map // edgeKey -> *edgeCounter
}

type edgeKey struct{ consumer, typ string }

type edgeCounter struct {
	delivered, handled, duplicates, retried, deadLettered, failed atomic.Int64
}

// add counts one outcome. It is on the delivery path: a map lookup and a few
// atomic adds, no lock once the edge exists.
func (c *edgeCounts) add(o consumers.Outcome) {
	k := edgeKey{o.Consumer, o.Type}
	v, ok := c.m.Load(k)
	if !ok {
		v, _ = c.m.LoadOrStore(k, &edgeCounter{})
	}
	n := v.(*edgeCounter)
	if o.Attempts > 1 {
		n.retried.Add(int64(o.Attempts - 1))
	}
	switch o.Kind {
	case consumers.OutcomeFailed:
		n.failed.Add(1)
		n.retried.Add(1)
		return
	case consumers.OutcomeHandled:
		n.handled.Add(1)
	case consumers.OutcomeDuplicate:
		n.duplicates.Add(1)
	case consumers.OutcomeDeadLettered:
		n.deadLettered.Add(1)
	}
	n.delivered.Add(1)
}

// Edges returns the outcome counts per consumer and event type since the
// engine started, sorted by consumer then type. An event that could not be
// decoded has the type "". Safe for concurrent use.
func (e *Engine) Edges() []EdgeCount {
	var out []EdgeCount
	e.edges.m.Range(func(k, v any) bool {
		key, n := k.(edgeKey), v.(*edgeCounter)
		out = append(out, EdgeCount{
			Consumer: key.consumer, Type: key.typ,
			Delivered: n.delivered.Load(), Handled: n.handled.Load(), Duplicates: n.duplicates.Load(),
			Retried: n.retried.Load(), DeadLettered: n.deadLettered.Load(), Failed: n.failed.Load(),
		})
		return true
	})
	slices.SortFunc(out, func(a, b EdgeCount) int {
		return cmp.Or(cmp.Compare(a.Consumer, b.Consumer), cmp.Compare(a.Type, b.Type))
	})
	return out
}
