package producers

import (
	"errors"
	"fmt"
	"strings"
)

// Status is the outcome of one event on one leg.
type Status int

const (
	// Pending: not yet settled. A Result returned by Publish is never pending.
	Pending Status = iota
	// Sent: the backend acknowledged the entry.
	Sent
	// Failed: the backend refused the entry, or the retries ran out.
	Failed
	// NotSent: the event was rejected before sending (invalid, too large) or
	// held back to keep per-key order on the stream; it is on neither leg.
	NotSent
)

func (s Status) String() string {
	switch s {
	case Sent:
		return "sent"
	case Failed:
		return "failed"
	case NotSent:
		return "not sent"
	default:
		return "pending"
	}
}

// LegResult is the outcome of one event on one leg.
type LegResult struct {
	Status Status
	// ID is the bus's event id or the stream's sequence number.
	ID string
	// Shard is the stream shard that holds the record.
	Shard string
	// Attempts counts the sends of this entry.
	Attempts int
	// Err says why the entry failed or was not sent.
	Err error
}

// OK reports whether the leg acknowledged the event.
func (l LegResult) OK() bool { return l.Status == Sent }

func (l LegResult) String() string {
	switch l.Status {
	case Sent:
		if l.Shard != "" {
			return fmt.Sprintf("ok (%s, sequence %s)", l.Shard, l.ID)
		}
		return fmt.Sprintf("ok (id %s)", l.ID)
	case Pending:
		return "pending"
	case NotSent:
		return fmt.Sprintf("not sent: %v", l.Err)
	default:
		return fmt.Sprintf("%s after %d attempt(s): %v", l.Status, l.Attempts, l.Err)
	}
}

// Result is the outcome of one event on both legs.
type Result struct {
	EventID string
	Type    string
	Bus     LegResult
	Stream  LegResult
}

// OK reports whether both legs acknowledged the event.
func (r Result) OK() bool { return r.Bus.OK() && r.Stream.OK() }

// PublishError is returned by Publish when one or more events did not reach
// both legs. Every event's outcome is in the results Publish returns beside it.
type PublishError struct {
	Failed []Result // the events not acknowledged by both legs
	Total  int
}

func (e *PublishError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d event(s) not published on both legs", len(e.Failed), e.Total)
	for i, r := range e.Failed {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Failed)-i)
			break
		}
		fmt.Fprintf(&b, "; %s %s: bus %s, stream %s", r.Type, r.EventID, r.Bus, r.Stream)
	}
	return b.String()
}

// Unwrap returns the distinct leg errors, so errors.Is finds ErrTooLarge,
// ErrNotFound and the like.
func (e *PublishError) Unwrap() []error {
	var errs []error
	for _, r := range e.Failed {
		for _, err := range []error{r.Bus.Err, r.Stream.Err} {
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// ErrTooLarge marks an event over a leg's size limit.
var ErrTooLarge = errors.New("event too large")

// ErrInvalid marks an event rejected before sending: a bad envelope or data
// that its schema refuses.
var ErrInvalid = errors.New("invalid event")

// ErrOrderHeld marks a stream record not sent because an earlier record with
// the same partition key failed: sending it would break per-key order.
var ErrOrderHeld = errors.New("held back to keep per-key order")
