package dlq

import (
	"context"
	"fmt"
	"time"
)

// Entry is one message of a dead-letter queue as a Queue hands it out.
type Entry struct {
	// Queue names the queue the message is in (an SQS queue URL, or
	// "local:<consumer>" for troupe dev).
	Queue string `json:"queue"`
	// ID is the queue's id of the message (the SQS MessageId; the local
	// queue's sequence number). Stable across receives.
	ID string `json:"id"`
	// Handle is what Delete and Release need (an SQS receipt handle; the
	// local id). It changes with every receive.
	Handle string `json:"-"`
	// SentAt is when the message entered the queue (SQS SentTimestamp).
	SentAt time.Time `json:"sentAt,omitzero"`
	// Body and Attributes are the message as received, for export and for
	// a replay from a file: Decode(Body, Attributes) gives Message.
	Body       string            `json:"body"`
	Attributes map[string]string `json:"attributes,omitempty"`

	// Message is the decoded message; zero when Err is set.
	Message Message `json:"-"`
	// Err says why the message could not be read. Such a message is
	// reported and skipped, never deleted.
	Err error `json:"-"`
}

// QueueInfo describes one dead-letter queue.
type QueueInfo struct {
	// Consumer is the consumer whose DLQ this is.
	Consumer string `json:"consumer"`
	// Queue names the queue (see Entry.Queue).
	Queue string `json:"queue"`
	// Depth counts the messages in the queue, visible or in flight.
	Depth int `json:"depth"`
	// Oldest is when the oldest message entered the queue; zero when the
	// queue is empty or cannot say (an SQS queue tells the age only to
	// CloudWatch: the CLI leaves it zero).
	Oldest time.Time `json:"oldest,omitzero"`
}

// Queue is one dead-letter queue, as the CLI drains it.
//
// Receive hands out messages not handed out before in this pass: each call
// returns the next batch (at most max) and an empty batch when the queue has
// no more. A received message stays hidden from other readers until it is
// deleted or released, or until the queue's own timeout (SQS's visibility
// timeout) gives it back: a reader that dies loses nothing.
type Queue interface {
	Info(ctx context.Context) (QueueInfo, error)
	Receive(ctx context.Context, max int) ([]Entry, error)
	// Delete removes messages for good. It reports which it could not
	// delete in the error; the others are gone.
	Delete(ctx context.Context, entries []Entry) error
	// Release gives messages back to the queue now, unchanged.
	Release(ctx context.Context, entries []Entry) error
}

// Redeliverer hands a dead letter's event to the consumer that failed it,
// and to no other consumer. A nil error means the redelivery is
// acknowledged: the event is durably accepted for delivery (on AWS, the
// asynchronous invocation of the consumer's function returned 202), so the
// message may be deleted from its queue.
type Redeliverer interface {
	Redeliver(ctx context.Context, e Entry) error
}

// DeleteError is Delete's error when some messages could not be deleted:
// Failed maps their ids (Entry.ID) to why. The other messages were deleted.
type DeleteError struct {
	Failed map[string]error
}

func (e *DeleteError) Error() string {
	msg := fmt.Sprintf("dlq: %d messages not deleted", len(e.Failed))
	for id, err := range e.Failed {
		msg += fmt.Sprintf("; %s: %v", id, err)
	}
	return msg
}
