package consumers

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/topology"
)

// Publisher publishes follow-up events; *producers.Publisher is one.
type Publisher interface {
	// Publish sends the events to the bus and the stream; a non-nil error
	// means some did not reach both legs.
	Publish(ctx context.Context, evs ...events.Envelope) ([]producers.Result, error)
}

// ErrUndeclaredEmit marks an emit of an event the consumer did not declare
// in its topology Emits. The error that wraps it names the consumer, the
// type and version, and what to add to the declaration.
var ErrUndeclaredEmit = errors.New("event not declared in the consumer's Emits")

// undeclaredEmit is the error of an emit the consumer did not declare.
func undeclaredEmit(consumer, typ string, version int, declared []topology.EventRef) error {
	has := "declares no Emits"
	if len(declared) > 0 {
		parts := make([]string, len(declared))
		for i, d := range declared {
			parts[i] = d.String()
		}
		has = "declares " + strings.Join(parts, ", ")
	}
	return fmt.Errorf("consumer %s emitted %s v%d: %w (it %s): add topology.Emit(%q, %d) to the Emits of consumer %q in its topology declaration",
		consumer, typ, version, ErrUndeclaredEmit, has, typ, version, consumer)
}

type emitterKey struct{}

// emitter collects a handler run's follow-up events; they are published
// only when the handler succeeds.
type emitter struct {
	trigger  events.Envelope
	consumer string
	declared []topology.EventRef

	mu      sync.Mutex
	pending []events.Envelope
}

// Emit makes a follow-up event of the event being handled: correlation id
// carried over, causation id = the triggering event's id, and the same
// subject unless opts set one. It is published when the handler returns nil;
// if the handler fails, nothing it emitted is published.
//
// The id is derived from the trigger, the consumer, the type and the order of
// the emit, so a retried handler emits the same ids and downstream consumers
// suppress the duplicates. Keep a handler's emitted data deterministic for
// the same trigger: the same id with other data is a payload mismatch
// downstream.
//
// The consumer must declare the type and version in its topology Emits: an
// undeclared one is a permanent error wrapping ErrUndeclaredEmit, which
// dead-letters the trigger with reason "undeclared-emit" (the same on Lambda
// and in `troupe dev`: both run this runtime).
func Emit[T any](ctx context.Context, def events.Def[T], data T, opts ...events.Option) error {
	em, ok := ctx.Value(emitterKey{}).(*emitter)
	if !ok {
		return errors.New("consumers.Emit: called outside a handler run by the consumer runtime")
	}
	if !em.allows(def.Type, def.Version) {
		return Permanent(undeclaredEmit(em.consumer, def.Type, def.Version, em.declared))
	}
	em.mu.Lock()
	defer em.mu.Unlock()
	seq := len(em.pending)
	all := append([]events.Option{events.CausedBy(em.trigger)}, opts...)
	all = append(all, events.WithID(causedID(em.trigger, em.consumer, def.Type, seq)))
	e, err := def.New(data, all...)
	if err != nil {
		return Permanent(err)
	}
	em.pending = append(em.pending, e)
	return nil
}

func (em *emitter) allows(typ string, version int) bool {
	for _, d := range em.declared {
		if d.Type == typ && d.Version == version {
			return true
		}
	}
	return false
}

// causedID is a UUIDv7 whose time is the trigger's and whose other bits come
// from hashing the trigger id, the consumer, the type and the emit's order.
func causedID(trigger events.Envelope, consumer, typ string, seq int) string {
	sum := sha256.Sum256([]byte(trigger.ID + "\x00" + consumer + "\x00" + typ + "\x00" + strconv.Itoa(seq)))
	var u uuid.UUID
	copy(u[:], sum[:16])
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(trigger.Time.UnixMilli()))
	copy(u[0:6], ms[2:8])
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // RFC 9562 variant
	return u.String()
}

// Emitter gives the handler an emitter and publishes what it emitted once
// it succeeds. A publish failure fails the delivery (retryable), and the
// retry emits the same ids.
func Emitter(consumer string, declared []topology.EventRef, pub Publisher) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, d *Delivery) error {
			em := &emitter{trigger: d.Envelope, consumer: consumer, declared: declared}
			if err := next(context.WithValue(ctx, emitterKey{}, em), d); err != nil {
				return err
			}
			if len(em.pending) == 0 {
				return nil
			}
			if pub == nil {
				return Permanent(fmt.Errorf("consumer %s emitted %d event(s) but has no publisher configured", consumer, len(em.pending)))
			}
			if _, err := pub.Publish(ctx, em.pending...); err != nil {
				var pe *producers.PublishError
				if errors.As(err, &pe) && errors.Is(err, producers.ErrInvalid) {
					return Permanent(fmt.Errorf("publish follow-up events: %w", err))
				}
				return fmt.Errorf("publish follow-up events: %w", err)
			}
			for _, e := range em.pending {
				d.Emitted = append(d.Emitted, e.ID)
			}
			return nil
		}
	}
}
