package local

import (
	"context"
	"strconv"
	"sync/atomic"

	"github.com/troupehq/troupe/consumers"
)

// ConsumerStatus is what `troupe status` shows of one consumer.
type ConsumerStatus struct {
	Name         string `json:"name"`
	Subscription string `json:"subscription"` // "bus" or "stream"
	// The deliveries since start: for a bus consumer, the bus target's
	// counters (Delivered: events the function took; Retried: deliveries
	// made again; Pending: taken from the bus, not yet done); for a stream
	// consumer, the records the runtime finished (handled, duplicate or
	// dead-lettered), its in-process retries, and none pending.
	Delivered    int64 `json:"delivered"`
	Retried      int64 `json:"retried"`
	DeadLettered int64 `json:"deadLettered"`
	Pending      int64 `json:"pending"`
	// Stream consumers: records on the stream not yet checkpointed.
	Lag uint64 `json:"lag"`
	// DLQ is the depth of the consumer's dead-letter queue.
	DLQ int `json:"dlq"`
	// Handled and Duplicates are the runtime's counters since start: the
	// handler's successful runs (its effects) and the deliveries
	// idempotency skipped.
	consumers.Stats
}

// Status is the engine at a glance.
type Status struct {
	Topology  string           `json:"topology"`
	Bus       string           `json:"bus"`
	Stream    string           `json:"stream"`
	Consumers []ConsumerStatus `json:"consumers"`
}

// Status reports every consumer's counters, lag and DLQ depth.
func (e *Engine) Status(ctx context.Context) (Status, error) {
	st := Status{Topology: e.cfg.Topology.Name, Bus: e.bus.Name(), Stream: e.stream.Name()}
	stats := e.bus.Stats()
	for _, c := range e.cfg.Topology.Consumers {
		cs := ConsumerStatus{Name: c.Name, Subscription: "stream"}
		if c.OnBus() {
			s := stats[c.Name]
			cs.Subscription = "bus"
			cs.Delivered, cs.Retried, cs.DeadLettered, cs.Pending = s.Delivered, s.Retried, s.DeadLettered, s.Pending
		} else {
			oc := e.outcomes[c.Name]
			cs.Delivered, cs.Retried, cs.DeadLettered = oc.delivered.Load(), oc.retried.Load(), oc.deadLettered.Load()
			lag, err := e.lag(c.Name)
			if err != nil {
				return Status{}, err
			}
			cs.Lag = lag
		}
		depth, err := e.dlq.Len(ctx, c.Name)
		if err != nil {
			return Status{}, err
		}
		cs.DLQ = depth
		cs.Stats = e.runtimes[c.Name].Stats()
		st.Consumers = append(st.Consumers, cs)
	}
	return st, nil
}

// outcomeCounts counts a consumer's delivery outcomes.
type outcomeCounts struct {
	delivered, retried, deadLettered atomic.Int64
}

func (c *outcomeCounts) add(o consumers.Outcome) {
	if c == nil {
		return
	}
	if o.Attempts > 1 {
		c.retried.Add(int64(o.Attempts - 1))
	}
	switch o.Kind {
	case consumers.OutcomeFailed:
		return
	case consumers.OutcomeDeadLettered:
		c.deadLettered.Add(1)
	}
	c.delivered.Add(1)
}

// lag counts the records a stream consumer has not checkpointed, over all
// shards (sequence numbers count the records of a shard).
func (e *Engine) lag(consumer string) (uint64, error) {
	var total uint64
	for _, sh := range e.stream.Shards() {
		latest, err := e.stream.Latest(sh.ID)
		if err != nil {
			return 0, err
		}
		cp, err := e.stream.Checkpoint(consumer, sh.ID)
		if err != nil {
			return 0, err
		}
		l, _ := strconv.ParseUint(latest, 10, 64)
		c, _ := strconv.ParseUint(cp, 10, 64)
		if l > c {
			total += l - c
		}
	}
	return total, nil
}
