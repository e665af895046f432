package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Option sets an optional attribute of a new envelope.
type Option func(*Envelope)

// WithSource sets the source; the default is the type's domain ("orders" for
// "orders.OrderPlaced").
func WithSource(s string) Option { return func(e *Envelope) { e.Source = s } }

// WithSubject sets the subject, e.g. the order id; it is also the default
// partition key.
func WithSubject(s string) Option { return func(e *Envelope) { e.Subject = s } }

// WithPartitionKey sets the stream partition key explicitly.
func WithPartitionKey(k string) Option { return func(e *Envelope) { e.PartitionKey = k } }

// WithCorrelationID sets the correlation id; the default is the event's own id,
// so that a chain of events starts with its first one.
func WithCorrelationID(id string) Option { return func(e *Envelope) { e.CorrelationID = id } }

// WithCausationID sets the id of the event that caused this one.
func WithCausationID(id string) Option { return func(e *Envelope) { e.CausationID = id } }

// WithTraceParent sets the W3C traceparent.
func WithTraceParent(tp string) Option { return func(e *Envelope) { e.TraceParent = tp } }

// WithDataSchema sets the dataschema URI.
func WithDataSchema(uri string) Option { return func(e *Envelope) { e.DataSchema = uri } }

// WithID replaces the generated id. Use it only to rebuild an event that
// already has one: the id is the default idempotency key.
func WithID(id string) Option { return func(e *Envelope) { e.ID = id } }

// WithTime replaces the creation time.
func WithTime(t time.Time) Option { return func(e *Envelope) { e.Time = t } }

// CausedBy makes the new event a consequence of cause: same correlation id,
// causation id = cause's id, and the same subject unless one is set later.
func CausedBy(cause Envelope) Option {
	return func(e *Envelope) {
		e.CorrelationID = cause.CorrelationID
		if e.CorrelationID == "" {
			e.CorrelationID = cause.ID
		}
		e.CausationID = cause.ID
		if e.Subject == "" {
			e.Subject = cause.Subject
		}
		if e.TraceParent == "" {
			e.TraceParent = cause.TraceParent
		}
	}
}

// NewID returns a fresh event id: a UUIDv7, time-ordered.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// New builds an envelope of the given type and version around data, which is
// marshalled to JSON. The id (a UUIDv7) is assigned here, once; a retry of the
// same event must reuse the envelope, not call New again.
func New(typ string, version int, data any, opts ...Option) (Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("event %s v%d: marshal data: %w", typ, version, err)
	}
	e := Envelope{
		SpecVersion:     SpecVersion,
		ID:              NewID(),
		Source:          domainOf(typ),
		Type:            typ,
		Time:            time.Now().UTC().Truncate(time.Millisecond),
		DataContentType: ContentTypeJSON,
		DataVersion:     version,
		Data:            raw,
	}
	for _, opt := range opts {
		opt(&e)
	}
	if e.CorrelationID == "" {
		e.CorrelationID = e.ID
	}
	if err := e.Validate(); err != nil {
		return Envelope{}, fmt.Errorf("event %s v%d: %w", typ, version, err)
	}
	return e, nil
}

// domainOf returns "orders" for "orders.OrderPlaced".
func domainOf(typ string) string {
	domain, _, _ := strings.Cut(typ, ".")
	return domain
}
