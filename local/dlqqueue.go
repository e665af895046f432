package local

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/local/deadletter"
)

// DeadLetterQueue returns the consumer's dead-letter queue as a dlq.Queue, in
// process: what local/devclient gives `troupe dlq` over HTTP, without the
// HTTP. dlq.Replay, dlq.Purge and dlq.Scan drain it as they drain SQS.
// Receive pages through the queue in id order; Release has nothing to do (the
// engine hides nothing from other readers); Delete of a message already gone
// is no error. With ids (dlq.Entry.ID values), the queue shows only those
// messages, those still there: a replay or purge of one message. Each value
// is one pass, for one goroutine.
func (e *Engine) DeadLetterQueue(consumer string, ids ...string) (dlq.Queue, error) {
	if _, ok := e.runtimes[consumer]; !ok {
		return nil, fmt.Errorf("dead-letter queue of %q: %w (consumers: %v)", consumer, ErrUnknownConsumer, e.consumerNames())
	}
	q := &engineQueue{e: e, consumer: consumer}
	if ids != nil {
		q.only = []uint64{}
		for _, id := range ids {
			n, err := strconv.ParseUint(id, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("dead-letter queue of %s: %q is not a message id (a whole number)", consumer, id)
			}
			q.only = append(q.only, n)
		}
		slices.Sort(q.only)
		q.only = slices.Compact(q.only)
	}
	return q, nil
}

// Redeliverer returns Engine.Redeliver as a dlq.Redeliverer: it hands a dead
// letter's event to the consumer named in the message, and to no other, as
// local/devclient's redeliverer does through the engine's endpoint.
func (e *Engine) Redeliverer() dlq.Redeliverer { return engineRedeliverer{e} }

type engineQueue struct {
	e        *Engine
	consumer string
	after    uint64
	only     []uint64 // nil: every message
}

func (q *engineQueue) Info(ctx context.Context) (dlq.QueueInfo, error) {
	qs, err := q.e.Queues(ctx)
	if err != nil {
		return dlq.QueueInfo{}, err
	}
	for _, i := range qs {
		if i.Consumer == q.consumer {
			return i, nil
		}
	}
	return dlq.QueueInfo{}, fmt.Errorf("no consumer %q", q.consumer)
}

func (q *engineQueue) Receive(ctx context.Context, max int) ([]dlq.Entry, error) {
	if q.only != nil {
		return q.receiveOnly(ctx, max)
	}
	msgs, err := q.e.dlq.List(ctx, q.consumer, q.after, max)
	if err != nil {
		return nil, err
	}
	out := make([]dlq.Entry, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, q.entry(m))
		q.after = m.ID
	}
	return out, nil
}

// receiveOnly hands out the chosen messages still in the queue, max at a
// time.
func (q *engineQueue) receiveOnly(ctx context.Context, max int) ([]dlq.Entry, error) {
	var out []dlq.Entry
	for len(q.only) > 0 && len(out) < max {
		id := q.only[0]
		q.only = q.only[1:]
		m, err := q.e.dlq.Get(ctx, q.consumer, id)
		if errors.Is(err, deadletter.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, q.entry(m))
	}
	return out, nil
}

func (q *engineQueue) entry(m deadletter.Message) dlq.Entry {
	id := strconv.FormatUint(m.ID, 10)
	return dlq.Entry{
		Queue: QueueName(q.consumer), ID: id, Handle: id, SentAt: m.SentAt, Body: m.Body, Attributes: m.Attributes,
		Message: dlq.FromDeadLetter(m.DeadLetter),
	}
}

func (q *engineQueue) Delete(ctx context.Context, entries []dlq.Entry) error {
	failed := map[string]error{}
	for _, en := range entries {
		id, err := strconv.ParseUint(en.Handle, 10, 64)
		if err == nil {
			err = q.e.dlq.Delete(ctx, q.consumer, id)
		}
		if err != nil && !errors.Is(err, deadletter.ErrNotFound) {
			failed[en.ID] = err
		}
	}
	if len(failed) > 0 {
		return &dlq.DeleteError{Failed: failed}
	}
	return nil
}

func (q *engineQueue) Release(context.Context, []dlq.Entry) error { return nil }

type engineRedeliverer struct{ e *Engine }

func (r engineRedeliverer) Redeliver(ctx context.Context, en dlq.Entry) error {
	m := en.Message
	if m.Consumer == "" {
		return errors.New("the message names no consumer to redeliver to")
	}
	if m.Event == nil {
		return fmt.Errorf("the dead letter holds no event, only %d bytes that are not one: export it, fix its \"event\", and replay the file", len(m.Raw))
	}
	_, err := r.e.Redeliver(ctx, m.Consumer, *m.Event)
	return err
}
