package consumers

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/troupehq/troupe/events"
)

// DeadLetters sends a delivery whose error is final to the consumer's
// dead-letter queue, with its full payload, and then reports success: the
// event is parked, not lost, and the ones behind it go on. With onlyPermanent
// (bus consumers) a retryable error is returned instead, so that Lambda's
// asynchronous retries apply. Infrastructure errors are always returned: the
// event was not handled and must be delivered again. So is ErrInProgress:
// another run holds the event's key (or held it when its process died, until
// the lock expires), and the event must come back later, not be parked. If
// the queue cannot take the message, that is an infrastructure error too.
func DeadLetters(consumer string, q DeadLetterQueue, onlyPermanent bool, now func() time.Time, log *slog.Logger) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, d *Delivery) error {
			err := next(ctx, d)
			if err == nil || IsInfrastructure(err) || errors.Is(err, ErrInProgress) || (onlyPermanent && !IsPermanent(err)) {
				return err
			}
			return deadLetter(ctx, consumer, q, d, err, now, log)
		}
	}
}

// deadLetter sends d with its error to q and logs it.
func deadLetter(ctx context.Context, consumer string, q DeadLetterQueue, d *Delivery, cause error, now func() time.Time, log *slog.Logger) error {
	t := now()
	if d.FirstFailure.IsZero() {
		d.FirstFailure = t
	}
	if d.LastFailure.IsZero() {
		d.LastFailure = t
	}
	dl := DeadLetter{
		Consumer: consumer, Error: cause.Error(), Reason: Reason(cause), Attempts: d.Attempts,
		FirstFailure: d.FirstFailure, LastFailure: d.LastFailure, Origin: d.Origin,
	}
	if d.Envelope.ID != "" {
		env := d.Envelope
		dl.Envelope = &env
	} else {
		dl.Raw = d.Raw
	}
	if err := q.Send(context.WithoutCancel(ctx), dl); err != nil {
		return infra("dead-letter queue of %s refused the event (%v): %w", consumer, cause, err)
	}
	d.Outcome = OutcomeDeadLettered
	log.WarnContext(ctx, "dead-lettered", "consumer", consumer, "event", d.Envelope.ID, "type", d.Envelope.Type,
		"reason", dl.Reason, "attempts", d.Attempts, "error", cause)
	return nil
}

// Reason classifies an error for the dead letter's Reason field.
func Reason(err error) string {
	var fe *events.FieldError
	switch {
	case errors.Is(err, ErrPanic):
		return "panic"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrPayloadMismatch):
		return "payload-mismatch"
	case errors.Is(err, ErrNoRoute), errors.Is(err, events.ErrUnknownType):
		return "unknown-type"
	case errors.Is(err, events.ErrUnknownVersion), errors.Is(err, events.ErrNewerVersion), errors.Is(err, events.ErrNoUpcaster):
		return "unknown-version"
	case errors.Is(err, errDecode), errors.As(err, &fe):
		return "decode"
	case errors.Is(err, ErrInvalidEvent):
		return "schema"
	case errors.Is(err, ErrUndeclaredEmit):
		return "undeclared-emit"
	default:
		return "handler"
	}
}

var (
	errDecode = errors.New("cannot decode the event")
	// ErrInvalidEvent marks an incoming event whose data its schema refuses.
	ErrInvalidEvent = errors.New("event fails its schema")
)
