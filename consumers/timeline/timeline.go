// Package timeline is the sample stream consumer: it keeps each order's
// timeline, the events of the order in the order they happened. It reads the
// stream, where every event of an order shares a partition key (the order
// id, the events' subject), so the runtime hands them over in order.
package timeline

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
)

// Step is one event in an order's timeline.
type Step struct {
	EventID     string    `json:"eventId"`
	Type        string    `json:"type"`
	Version     int       `json:"version"`
	Time        time.Time `json:"time"`
	CausationID string    `json:"causationId,omitempty"`
	// CauseMissing is set when the event's cause is not (yet) in the
	// timeline: an event that overtook its cause.
	CauseMissing bool `json:"causeMissing,omitempty"`
}

// Store keeps timelines. Implementations are safe for concurrent use.
type Store interface {
	// Append adds a step to an order's timeline, once per event id, and
	// returns the timeline as it now is.
	Append(ctx context.Context, orderID string, s Step) ([]Step, error)
}

// Timeline is the consumer's state and handlers.
type Timeline struct{ store Store }

// New returns the timeline consumer over a store.
func New(store Store) *Timeline { return &Timeline{store: store} }

// Routes returns one route per sample event type: the timeline reads every
// event of an order.
func (t *Timeline) Routes() []consumers.Route {
	var routes []consumers.Route
	for _, typ := range domain.Registry().Types() {
		latest, _ := domain.Registry().Latest(typ)
		routes = append(routes, consumers.On(typ, latest, t.record))
	}
	return routes
}

func (t *Timeline) record(ctx context.Context, e consumers.Event[json.RawMessage]) error {
	env := e.Envelope
	_, err := t.store.Append(ctx, env.Subject, Step{
		EventID: env.ID, Type: env.Type, Version: env.DataVersion, Time: env.Time, CausationID: env.CausationID,
	})
	return err
}

// Memory is a Store in memory: the timelines of one process.
type Memory struct {
	mu     sync.Mutex
	orders map[string][]Step
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{orders: map[string][]Step{}} }

// Append implements Store.
func (m *Memory) Append(_ context.Context, orderID string, s Step) ([]Step, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	steps := m.orders[orderID]
	if slices.ContainsFunc(steps, func(x Step) bool { return x.EventID == s.EventID }) {
		return slices.Clone(steps), nil
	}
	s.CauseMissing = s.CausationID != "" && s.CausationID != s.EventID &&
		!slices.ContainsFunc(steps, func(x Step) bool { return x.EventID == s.CausationID })
	m.orders[orderID] = append(steps, s)
	return slices.Clone(m.orders[orderID]), nil
}

// Get returns an order's timeline.
func (m *Memory) Get(orderID string) []Step {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.orders[orderID])
}
