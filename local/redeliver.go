package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/local/bus"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/topology"
)

// ErrUnknownConsumer marks a request naming a consumer the topology does not
// have.
var ErrUnknownConsumer = errors.New("no such consumer in the topology")

// ErrInvalidEvent marks a redelivery refused because the event fails its
// envelope's rules or its schema.
var ErrInvalidEvent = errors.New("invalid event")

// Redeliver hands an event to one consumer, and to no other, as invoking
// that consumer's function asynchronously does on AWS (what `troupe dlq
// replay` does there). The event is on disk when Redeliver returns; the
// consumer then gets it under its usual settings: a bus consumer with its
// Async retries and DLQ, a stream consumer as a one-record batch with its
// in-process retries and DLQ. The event keeps its id, so the consumer's
// idempotency makes a second redelivery harmless. It returns the id of the
// bus event that carries it.
func (e *Engine) Redeliver(ctx context.Context, consumer string, env events.Envelope) (string, error) {
	if _, ok := e.runtimes[consumer]; !ok {
		return "", fmt.Errorf("redeliver to %q: %w (consumers: %v)", consumer, ErrUnknownConsumer, e.consumerNames())
	}
	if err := env.Validate(); err != nil {
		return "", fmt.Errorf("redeliver %s to %s: %w: %w", env.Ref(), consumer, ErrInvalidEvent, err)
	}
	if err := e.cfg.Validator.Validate(env); err != nil {
		return "", fmt.Errorf("redeliver %s to %s: %w: %w", env.Ref(), consumer, ErrInvalidEvent, err)
	}
	entry, _, err := producers.Entries(env)
	if err != nil {
		return "", fmt.Errorf("redeliver %s to %s: %w", env.Ref(), consumer, err)
	}
	return e.bus.Redeliver(ctx, consumer, entry)
}

func (e *Engine) consumerNames() []string {
	var out []string
	for _, c := range e.cfg.Topology.Consumers {
		out = append(out, c.Name)
	}
	return out
}

// replayTarget is a stream consumer's direct bus target: it takes only the
// events redelivered to the consumer and hands each to the runtime as a
// one-record batch. Deliver fails only when the runtime could neither handle
// the record nor dead-letter it; the bus then retries it.
func (e *Engine) replayTarget(c topology.Consumer, rt *consumers.Runtime) bus.Target {
	return bus.Target{
		Name:   c.Name,
		Direct: true,
		Deliver: func(ctx context.Context, event []byte) error {
			rec, err := replayRecord(e.stream.Name(), event)
			if err != nil {
				return err
			}
			if failed := rt.HandleStreamBatch(ctx, []consumers.StreamRecord{rec}); len(failed) > 0 {
				return fmt.Errorf("consumer %s: the redelivered record could be neither handled nor dead-lettered", c.Name)
			}
			return nil
		},
		Backoff: bus.Backoff{Base: 500 * time.Millisecond, Max: 10 * time.Second},
		DeadLetter: func(ctx context.Context, event []byte, cause error, attempts int) error {
			return e.dlq.Send(ctx, deadLetterOf(c.Name, event, cause, attempts, consumers.Origin{Source: "stream", Stream: e.stream.Name()}))
		},
		Concurrency: 1,
	}
}

// replayRecord turns a redelivered bus event back into the stream record
// that carried it.
func replayRecord(stream string, event []byte) (consumers.StreamRecord, error) {
	var ev bus.Event
	if err := json.Unmarshal(event, &ev); err != nil {
		return consumers.StreamRecord{}, fmt.Errorf("redelivered event: %w", err)
	}
	env, err := consumers.EnvelopeFromBus(event)
	if err != nil {
		return consumers.StreamRecord{}, fmt.Errorf("redelivered event %s: %w", ev.ID, err)
	}
	return consumers.StreamRecord{
		Stream: stream, Shard: "replay", SequenceNumber: "replay-" + ev.ID, PartitionKey: env.Key(), Data: ev.Detail,
	}, nil
}

// deadLetterOf is the dead letter of a bus event a target gave up on.
func deadLetterOf(consumer string, event []byte, cause error, attempts int, origin consumers.Origin) consumers.DeadLetter {
	now := time.Now()
	dl := consumers.DeadLetter{
		Consumer: consumer, Error: cause.Error(), Reason: consumers.Reason(cause), Attempts: attempts,
		FirstFailure: now, LastFailure: now, Origin: origin,
	}
	if env, err := consumers.EnvelopeFromBus(event); err == nil {
		dl.Envelope = &env
	} else {
		dl.Raw = event
	}
	return dl
}
