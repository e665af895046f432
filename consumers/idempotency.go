package consumers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/topology"
)

// defaultInProgressFor bounds an INPROGRESS lock when ctx has no deadline
// (on Lambda it always has one: the invocation's).
const defaultInProgressFor = 5 * time.Minute

// Idempotency runs the rest of the chain at most once per key: the first
// delivery takes an INPROGRESS lock (until ctx's deadline, the Lambda's
// remaining time), a success marks it COMPLETED for cfg.ExpiresAfter, a
// failure deletes it so a retry can run. A duplicate of a completed event is
// skipped; a concurrent duplicate is ErrInProgress (retryable); the same key
// with another payload is ErrPayloadMismatch (permanent). A store that does
// not answer is an infrastructure error: the event is not handled, not
// dead-lettered, and is delivered again.
func Idempotency(consumer string, cfg topology.Idempotency, store IdempotencyStore, now func() time.Time, log *slog.Logger) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, d *Delivery) error {
			key, err := IdempotencyKey(consumer, cfg.KeyPath, d.Envelope)
			if err != nil {
				return Permanent(err)
			}
			hash := PayloadHash(d.Envelope)
			t := now()
			lockUntil := t.Add(defaultInProgressFor)
			if deadline, ok := ctx.Deadline(); ok {
				lockUntil = deadline
			}
			existing, acquired, err := store.Acquire(ctx, IdempotencyRecord{
				Key: key, PayloadHash: hash, Status: InProgress, Expiry: t.Add(cfg.ExpiresAfter), InProgressExpiry: lockUntil,
			}, t)
			switch {
			case err != nil:
				return infra("idempotency store: take key %s: %w", key, err)
			case acquired:
			case existing.PayloadHash != hash:
				return Permanent(fmt.Errorf("%s: %w: key %s was first seen with payload hash %.12s, this one is %.12s",
					d.Envelope.Ref(), ErrPayloadMismatch, key, existing.PayloadHash, hash))
			case existing.Status == Completed:
				log.InfoContext(ctx, "duplicate skipped", "consumer", consumer, "event", d.Envelope.ID, "key", key)
				d.Outcome = OutcomeDuplicate
				return nil
			default:
				return fmt.Errorf("%s: %w (%s, until %s)", d.Envelope.Ref(), ErrInProgress, key, existing.InProgressExpiry.Format(time.RFC3339Nano))
			}

			// The outcome is recorded even if ctx ended: the handler's work
			// is done (or failed) either way.
			bg := context.WithoutCancel(ctx)
			if err := next(ctx, d); err != nil {
				if rerr := store.Release(bg, key); rerr != nil {
					return infra("idempotency store: release key %s after a handler error (%v): %w", key, err, rerr)
				}
				return err
			}
			if err := store.Complete(bg, key, now().Add(cfg.ExpiresAfter), nil); err != nil {
				return infra("idempotency store: complete key %s: %w", key, err)
			}
			return nil
		}
	}
}

// IdempotencyKey returns "<consumer>#<key>": the key is the event id, or the
// value at keyPath in the envelope (e.g. "data.orderId", "subject").
func IdempotencyKey(consumer, keyPath string, e events.Envelope) (string, error) {
	if keyPath == "" {
		return consumer + "#" + e.ID, nil
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	for _, part := range strings.Split(keyPath, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			v = nil
			break
		}
		v = obj[part]
	}
	switch v := v.(type) {
	case string:
		if v != "" {
			return consumer + "#" + v, nil
		}
	case float64, bool:
		return fmt.Sprintf("%s#%v", consumer, v), nil
	}
	return "", fmt.Errorf("%s: no idempotency key at %q (want a non-empty string or number): fix the event or the consumer's Idempotency.KeyPath", e.Ref(), keyPath)
}

// PayloadHash identifies an event's payload: its type, version and data.
func PayloadHash(e events.Envelope) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", e.Type, e.DataVersion)
	h.Write(e.Data)
	return hex.EncodeToString(h.Sum(nil))
}
