package dlq

import (
	"context"
	"errors"
	"fmt"
)

// DefaultBatch is how many messages a pass asks its Queue for at a time:
// SQS's most per ReceiveMessage.
const DefaultBatch = 10

// pass drains a Queue once: it receives batches until the queue has no
// more (or the caller stops it), hands each message to its caller once (a
// message the queue gives back during the pass, after its visibility
// timeout, is not handed out twice), and at the end releases every message
// it received and did not delete, so the queue is as it was but for the
// deletions.
type pass struct {
	q     Queue
	batch int
	seen  map[string]bool  // ids handed out
	held  map[string]Entry // received, not deleted: to release at the end (latest handle)
}

func newPass(q Queue, batch int) *pass {
	if batch <= 0 {
		batch = DefaultBatch
	}
	return &pass{q: q, batch: batch, seen: map[string]bool{}, held: map[string]Entry{}}
}

// next returns the next batch of messages not handed out before, decoded;
// an empty batch means the queue has no more.
func (p *pass) next(ctx context.Context) ([]Entry, error) {
	for {
		got, err := p.q.Receive(ctx, p.batch)
		if err != nil || len(got) == 0 {
			return nil, err
		}
		var fresh []Entry
		for _, e := range got {
			p.held[e.ID] = e
			if p.seen[e.ID] {
				continue
			}
			p.seen[e.ID] = true
			if e.Err == nil && e.Message.Shape == "" {
				e.Message, e.Err = Decode(e.Body, e.Attributes)
			}
			if e.Err == nil && e.Message.LastFailure.IsZero() {
				// An EventBridge DLQ message carries no failure time: the
				// time it entered the queue is the nearest.
				e.Message.LastFailure = e.SentAt
			}
			fresh = append(fresh, e)
		}
		if len(fresh) > 0 {
			return fresh, nil
		}
	}
}

// deleted records that entries are gone from the queue.
func (p *pass) deleted(entries []Entry) {
	for _, e := range entries {
		delete(p.held, e.ID)
	}
}

// release gives back what the pass holds. It runs even when ctx has ended
// (a Ctrl-C): the messages would come back after their visibility timeout
// anyway, but sooner is kinder.
func (p *pass) release(ctx context.Context) error {
	if len(p.held) == 0 {
		return nil
	}
	rest := make([]Entry, 0, len(p.held))
	for _, e := range p.held {
		rest = append(rest, e)
	}
	err := p.q.Release(context.WithoutCancel(ctx), rest)
	p.held = map[string]Entry{}
	if err != nil {
		return fmt.Errorf("release %d messages (they come back on their own after the queue's visibility timeout): %w", len(rest), err)
	}
	return nil
}

// Visit is called once per message of a Scan, with whether the selector
// picked it. A message that could not be read has e.Err set and is never
// selected. Returning ErrStop ends the scan early without an error.
type Visit func(e Entry, selected bool) error

// ErrStop ends a Scan early; Scan then returns nil.
var ErrStop = errors.New("dlq: stop")

// Scan reads every message of q once, leaving them all in the queue, and
// calls visit for each in the order received. It is what `troupe dlq show`
// and `export` read with.
func Scan(ctx context.Context, q Queue, sel Selector, visit Visit) (err error) {
	p := newPass(q, DefaultBatch)
	defer func() { err = errors.Join(err, p.release(ctx)) }()
	for {
		batch, err := p.next(ctx)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, e := range batch {
			if err := visit(e, selects(sel, &e)); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
		}
	}
}

// selects applies sel to e; a message the selector cannot judge (its
// envelope cannot be presented to the filter) becomes unreadable.
func selects(sel Selector, e *Entry) bool {
	if e.Err != nil {
		return false
	}
	ok, err := sel.Match(e.Message)
	if err != nil {
		e.Err = err
	}
	return ok
}
