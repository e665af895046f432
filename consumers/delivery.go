package consumers

import (
	"context"
	"time"

	"github.com/troupehq/troupe/events"
)

// Delivery is one event on its way through a consumer's middleware.
type Delivery struct {
	Envelope events.Envelope
	// Raw is the payload as received (the record data, or the EventBridge
	// event), kept for the dead-letter queue.
	Raw    []byte
	Origin Origin
	// Attempts counts the handler runs so far; FirstFailure and LastFailure
	// are set once a run failed.
	Attempts                  int
	FirstFailure, LastFailure time.Time
}

// HandlerFunc processes one delivery.
type HandlerFunc func(ctx context.Context, d *Delivery) error

// Middleware wraps a HandlerFunc with one concern (recover, timeout, retry,
// idempotency, dead-lettering), each in its own file.
type Middleware func(next HandlerFunc) HandlerFunc

// chain applies middleware so that the first one is the outermost.
func chain(h HandlerFunc, mw ...Middleware) HandlerFunc {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}
