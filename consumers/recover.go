package consumers

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// Recover turns a panic in the handler into an error, so that one bad event
// fails its delivery instead of crashing the process and its whole batch. The
// stack goes to the log; the error (and so the dead letter) keeps the value.
func Recover(consumer string, log *slog.Logger) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, d *Delivery) (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("%w: %v", ErrPanic, r)
					log.ErrorContext(ctx, "handler panicked", "consumer", consumer, "event", d.Envelope.ID,
						"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				}
			}()
			return next(ctx, d)
		}
	}
}
