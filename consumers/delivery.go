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
	// Outcome is set by the middleware that settles the delivery.
	Outcome OutcomeKind
	// Emitted holds the ids of the events the handler emitted, once published.
	Emitted []string
}

// OutcomeKind is how a delivery ended.
type OutcomeKind string

const (
	OutcomeHandled      OutcomeKind = "handled"       // the handler succeeded
	OutcomeDuplicate    OutcomeKind = "duplicate"     // idempotency skipped it
	OutcomeDeadLettered OutcomeKind = "dead-lettered" // parked in the DLQ
	OutcomeFailed       OutcomeKind = "failed"        // to be delivered again
)

// Outcome is one delivery's end, for observers (traces, status, benchmarks).
type Outcome struct {
	Consumer      string        `json:"consumer"`
	EventID       string        `json:"eventId"`
	Type          string        `json:"type"`
	CorrelationID string        `json:"correlationId,omitempty"`
	CausationID   string        `json:"causationId,omitempty"`
	Kind          OutcomeKind   `json:"outcome"`
	Attempts      int           `json:"attempts"`
	Start         time.Time     `json:"start"`
	Duration      time.Duration `json:"duration"`
	Error         string        `json:"error,omitempty"`
	Emitted       []string      `json:"emitted,omitempty"`
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
