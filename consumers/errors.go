package consumers

import (
	"errors"
	"fmt"
)

// ErrNoRoute marks an event of a type the consumer has no handler for.
var ErrNoRoute = errors.New("no handler for this event type")

// ErrInProgress marks a delivery whose idempotency key another run holds: a
// concurrent duplicate. It is retryable: once the other run completes, the
// retry sees a duplicate and skips.
var ErrInProgress = errors.New("another run holds this event's idempotency key")

// ErrPayloadMismatch marks an event whose idempotency key was first seen
// with another payload: two different events share a key.
var ErrPayloadMismatch = errors.New("idempotency key reused with a different payload")

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix (bad data, a business
// rule): the runtime dead-letters the event at once instead of retrying.
// Return it from a handler for such failures.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// infraError marks a failure of the runtime's own dependencies (the
// idempotency store, the dead-letter queue): the event itself may be fine,
// so it is never dead-lettered for it; the delivery fails visibly and AWS
// (or the local engine) delivers it again.
type infraError struct{ err error }

func (e infraError) Error() string { return e.err.Error() }
func (e infraError) Unwrap() error { return e.err }

func infra(format string, args ...any) error { return infraError{fmt.Errorf(format, args...)} }

// IsInfrastructure reports whether err is a failure of the runtime's own
// dependencies rather than of the event or its handler.
func IsInfrastructure(err error) bool {
	var i infraError
	return errors.As(err, &i)
}

// ErrPanic marks a handler run that panicked.
var ErrPanic = errors.New("handler panicked")
