package consumers

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/troupehq/troupe/topology"
)

// Retry runs the rest of the chain again on a retryable error, with
// exponential backoff and full jitter, up to cfg.MaxAttempts runs. A
// permanent error, an infrastructure error or the end of ctx stops it.
func Retry(cfg topology.Retry, now func() time.Time) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, d *Delivery) error {
			for {
				d.Attempts++
				err := next(ctx, d)
				if err == nil {
					return nil
				}
				t := now()
				if d.FirstFailure.IsZero() {
					d.FirstFailure = t
				}
				d.LastFailure = t
				if IsPermanent(err) || IsInfrastructure(err) || d.Attempts >= cfg.MaxAttempts {
					return err
				}
				if !sleep(ctx, backoff(cfg, d.Attempts)) {
					return err
				}
			}
		}
	}
}

func backoff(cfg topology.Retry, attempt int) time.Duration {
	ceiling := cfg.BaseBackoff << min(attempt-1, 20)
	if ceiling > cfg.MaxBackoff || ceiling <= 0 {
		ceiling = cfg.MaxBackoff
	}
	return rand.N(ceiling) + time.Millisecond
}

// sleep waits d and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
