package consumers

import (
	"context"
	"fmt"
	"time"
)

// Timeout bounds each handler run. A run past it fails with an error that
// wraps context.DeadlineExceeded and is retried like any other.
func Timeout(d time.Duration) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, dl *Delivery) error {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			err := next(ctx, dl)
			if err != nil && ctx.Err() != nil {
				return fmt.Errorf("handler timed out after %v: %w", d, err)
			}
			return err
		}
	}
}
