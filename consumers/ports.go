package consumers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/troupehq/troupe/events"
)

// IdempotencyStatus is the state of an idempotency record.
type IdempotencyStatus string

const (
	// InProgress: a handler run holds the key.
	InProgress IdempotencyStatus = "INPROGRESS"
	// Completed: a handler run finished; until Expiry, the key's event is a
	// duplicate.
	Completed IdempotencyStatus = "COMPLETED"
)

// IdempotencyRecord is what an IdempotencyStore keeps per key.
type IdempotencyRecord struct {
	// Key is "<consumer>#<key>", the key being the event id or a value
	// taken from the payload.
	Key string
	// PayloadHash identifies the payload the key was first seen with: the
	// same key with another payload is an error, not a duplicate.
	PayloadHash string
	Status      IdempotencyStatus
	// Expiry ends the record's life: past it, the key runs again. Stores
	// also keep it as a TTL so that old records are cleaned up.
	Expiry time.Time
	// InProgressExpiry ends an INPROGRESS lock: past it (the run that took
	// it is presumed dead, e.g. its Lambda timed out), another run may take
	// the key over.
	InProgressExpiry time.Time
	// Result is an optional value the completed run stored.
	Result json.RawMessage
}

// CheckAcquire reports what is wrong with a record given to Acquire; every
// store calls it first, so that all refuse the same records.
func (rec IdempotencyRecord) CheckAcquire() error {
	switch {
	case rec.Key == "":
		return errors.New("idempotency: acquire: the record's Key is empty")
	case rec.Status != "" && rec.Status != InProgress:
		return fmt.Errorf("idempotency: acquire %q: Status %q: a record is acquired %s", rec.Key, rec.Status, InProgress)
	case rec.Expiry.IsZero():
		return fmt.Errorf("idempotency: acquire %q: Expiry is zero: set it (e.g. now plus the idempotency window), "+
			"or the record would never expire", rec.Key)
	case rec.InProgressExpiry.IsZero():
		return fmt.Errorf("idempotency: acquire %q: InProgressExpiry is zero: set it (e.g. the handler's deadline), "+
			"or a run that dies would hold the key until Expiry", rec.Key)
	case len(rec.Result) > 0 && !json.Valid(rec.Result):
		return fmt.Errorf("idempotency: acquire %q: Result is not valid JSON", rec.Key)
	}
	return nil
}

// CheckComplete reports what is wrong with the arguments of Complete; every
// store calls it first.
func CheckComplete(key string, expiry time.Time, result json.RawMessage) error {
	switch {
	case key == "":
		return errors.New("idempotency: complete: the key is empty")
	case expiry.IsZero():
		return fmt.Errorf("idempotency: complete %q: expiry is zero: set it (e.g. now plus the idempotency window), "+
			"or the record would never expire", key)
	case len(result) > 0 && !json.Valid(result):
		return fmt.Errorf("idempotency: complete %q: the result is not valid JSON", key)
	}
	return nil
}

// IdempotencyStore keeps idempotency records: the semantics of Powertools
// for AWS Lambda. Implementations are safe for concurrent use by many
// processes; every method is atomic with respect to the others for one key.
// A non-nil error other than those documented means the store could not
// answer (an outage): callers must not treat the event as handled.
type IdempotencyStore interface {
	// Acquire takes the key for a run: it atomically writes rec (Status
	// InProgress) if no record exists for rec.Key, or the existing one has
	// expired (Expiry <= now), or it is INPROGRESS with InProgressExpiry <=
	// now. It returns (zero, true, nil) when the caller holds the key, and
	// (existing, false, nil) when another record stands in the way.
	Acquire(ctx context.Context, rec IdempotencyRecord, now time.Time) (existing IdempotencyRecord, acquired bool, err error)
	// Complete marks the caller's INPROGRESS record COMPLETED, with a new
	// Expiry and an optional result.
	Complete(ctx context.Context, key string, expiry time.Time, result json.RawMessage) error
	// Release deletes the caller's record so that a retry can run.
	Release(ctx context.Context, key string) error
}

// Origin says where a dead-lettered event came from.
type Origin struct {
	// Source is "bus" or "stream".
	Source string `json:"source"`
	// Stream is the stream's name or ARN, Shard and SequenceNumber the
	// record's position (stream only).
	Stream         string `json:"stream,omitempty"`
	Shard          string `json:"shard,omitempty"`
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	// Rule is the bus rule that delivered the event (bus only; optional).
	Rule string `json:"rule,omitempty"`
}

// DeadLetter is troupe's own DLQ message: everything needed to understand a
// failure and to redeliver the event to the one consumer that failed it.
type DeadLetter struct {
	// Envelope is the event as received (before upcasting), when it could
	// be decoded.
	Envelope *events.Envelope `json:"envelope,omitempty"`
	// Raw is the payload as received, byte for byte, when it could not be
	// decoded into an envelope (it may not even be JSON); empty otherwise.
	// The DLQ adapters define the wire format: do not marshal a DeadLetter
	// with encoding/json and expect Raw to survive as is.
	Raw []byte `json:"-"`
	// Consumer is the name of the consumer that failed the event.
	Consumer string `json:"consumer"`
	// Error is the last error, as text.
	Error string `json:"error"`
	// Reason classifies the error: "handler", "decode", "unknown-type",
	// "unknown-version", "payload-mismatch", "timeout", "panic".
	Reason string `json:"reason"`
	// Attempts counts the runs of the handler (0 if it never ran).
	Attempts     int       `json:"attempts"`
	FirstFailure time.Time `json:"firstFailure"`
	LastFailure  time.Time `json:"lastFailure"`
	Origin       Origin    `json:"origin"`
}

// DeadLetterQueue parks events a consumer could not handle.
type DeadLetterQueue interface {
	// Send stores the dead letter durably before returning nil. It wraps
	// ErrTooLarge when the message cannot fit the queue's limit; any other
	// error means the queue could not take it (the caller must then not
	// acknowledge the event). Safe for concurrent use.
	Send(ctx context.Context, dl DeadLetter) error
}

// ErrTooLarge marks a dead letter over the queue's message size limit.
var ErrTooLarge = errors.New("dead letter too large")
