package consumers_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/topology"
)

// memQueue is a dead-letter queue in memory.
type memQueue struct {
	mu  sync.Mutex
	dls []consumers.DeadLetter
}

func (q *memQueue) Send(_ context.Context, dl consumers.DeadLetter) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dls = append(q.dls, dl)
	return nil
}

func (q *memQueue) all() []consumers.DeadLetter {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]consumers.DeadLetter(nil), q.dls...)
}

// memPublisher records what the runtime publishes.
type memPublisher struct {
	mu  sync.Mutex
	evs []events.Envelope
}

func (p *memPublisher) Publish(_ context.Context, evs ...events.Envelope) ([]producers.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.evs = append(p.evs, evs...)
	return nil, nil
}

func (p *memPublisher) published() []events.Envelope {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]events.Envelope(nil), p.evs...)
}

// emitting is a payments-like consumer whose handler emits what the order's
// customer id says: "authorize" (declared) or "ship" (not declared). The
// error Emit returned is kept for the test.
type emitting struct {
	mu   sync.Mutex
	errs []error
}

func (em *emitting) handle(ctx context.Context, e consumers.Event[domain.OrderPlacedV2]) error {
	var err error
	switch e.Data.CustomerID {
	case "authorize":
		err = consumers.Emit(ctx, domain.PaymentAuthorizedDef, domain.PaymentAuthorized{
			OrderID: e.Data.OrderID, PaymentID: "pay-1", Amount: e.Data.Total})
	case "ship":
		err = consumers.Emit(ctx, domain.ShipmentScheduledDef, domain.ShipmentScheduled{OrderID: e.Data.OrderID})
	}
	em.mu.Lock()
	em.errs = append(em.errs, err)
	em.mu.Unlock()
	return err
}

func (em *emitting) lastErr() error {
	em.mu.Lock()
	defer em.mu.Unlock()
	return em.errs[len(em.errs)-1]
}

// emittingRuntime runs the consumer "payments" declaring that it emits
// payments.PaymentAuthorized v1 only, on in-memory ports.
func emittingRuntime(t *testing.T, onBus bool) (*consumers.Runtime, *emitting, *memQueue, *memPublisher) {
	t.Helper()
	em, q, pub := &emitting{}, &memQueue{}, &memPublisher{}
	c := topology.Consumer{
		Name:        "payments",
		Handler:     consumers.MustRouter(domain.Registry(), consumers.On("orders.OrderPlaced", 2, em.handle)),
		Emits:       []topology.EventRef{topology.Emit("payments.PaymentAuthorized", 1)},
		Idempotency: topology.Idempotency{Disabled: true},
	}
	if onBus {
		c.Bus = topology.OnBusTypes("orders.OrderPlaced")
	} else {
		c.Stream = topology.OnStream("")
	}
	top := &topology.Topology{Name: "test", Consumers: []topology.Consumer{c}}
	if err := top.Validate(); err != nil {
		t.Fatal(err)
	}
	rt, err := consumers.New(top.Consumers[0], consumers.Deps{DeadLetters: q, Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	return rt, em, q, pub
}

// wantUndeclared checks an undeclared-emit error says who emitted what and
// where to declare it.
func wantUndeclared(t *testing.T, msg string) {
	t.Helper()
	for _, want := range []string{
		"consumer payments",
		"shipping.ShipmentScheduled v1",
		"it declares payments.PaymentAuthorized v1",
		`add topology.Emit("shipping.ShipmentScheduled", 1) to the Emits of consumer "payments" in its topology declaration`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
}

func TestAnUndeclaredEmitIsRefused(t *testing.T) {
	t.Parallel()
	rt, em, q, pub := emittingRuntime(t, true)
	if err := rt.HandleBusEvent(context.Background(), busPayload(t, order(t, "o-1", "ship"))); err != nil {
		t.Fatalf("a permanent failure is dead-lettered, not returned: %v", err)
	}
	err := em.lastErr()
	if !errors.Is(err, consumers.ErrUndeclaredEmit) || !consumers.IsPermanent(err) {
		t.Fatalf("Emit returned %v, want a permanent ErrUndeclaredEmit", err)
	}
	wantUndeclared(t, err.Error())
	dls := q.all()
	if len(dls) != 1 || dls[0].Reason != "undeclared-emit" || dls[0].Attempts != 1 {
		t.Fatalf("dead letters %+v: want one, reason undeclared-emit, after one attempt (no retry)", dls)
	}
	wantUndeclared(t, dls[0].Error)
	if n := len(pub.published()); n != 0 {
		t.Fatalf("%d events published for a refused emit", n)
	}
}

func TestADeclaredEmitIsPublished(t *testing.T) {
	t.Parallel()
	rt, em, q, pub := emittingRuntime(t, true)
	o := order(t, "o-1", "authorize")
	if err := rt.HandleBusEvent(context.Background(), busPayload(t, o)); err != nil {
		t.Fatal(err)
	}
	if err := em.lastErr(); err != nil {
		t.Fatal(err)
	}
	evs := pub.published()
	if len(evs) != 1 || evs[0].Type != "payments.PaymentAuthorized" || evs[0].CausationID != o.ID {
		t.Fatalf("published %+v", evs)
	}
	if dls := q.all(); len(dls) != 0 {
		t.Fatalf("dead letters %+v", dls)
	}
}

// The Lambda entry points run the same runtime: the undeclared emit is
// refused there too, on the bus and on the stream.
func TestAnUndeclaredEmitIsRefusedOnLambda(t *testing.T) {
	t.Parallel()
	t.Run("bus", func(t *testing.T) {
		rt, _, q, pub := emittingRuntime(t, true)
		if _, err := invoke(t, rt.LambdaBus, busPayload(t, order(t, "o-1", "ship"))); err != nil {
			t.Fatal(err)
		}
		if dls := q.all(); len(dls) != 1 || dls[0].Reason != "undeclared-emit" {
			t.Fatalf("dead letters %+v", dls)
		}
		wantUndeclared(t, q.all()[0].Error)
		if len(pub.published()) != 0 {
			t.Fatal("published a refused emit")
		}
	})
	t.Run("stream", func(t *testing.T) {
		rt, _, q, pub := emittingRuntime(t, false)
		out, err := invoke(t, rt.LambdaStream, kinesisPayload(t, "s", order(t, "o-1", "ship"), order(t, "o-2", "authorize")))
		if err != nil {
			t.Fatal(err)
		}
		if f := failures(t, out); len(f) != 0 {
			t.Fatalf("batch item failures %v: a refused emit is dead-lettered, not retried", f)
		}
		dls := q.all()
		if len(dls) != 1 || dls[0].Reason != "undeclared-emit" || dls[0].Envelope == nil || dls[0].Envelope.Subject != "o-1" {
			t.Fatalf("dead letters %+v", dls)
		}
		wantUndeclared(t, dls[0].Error)
		if evs := pub.published(); len(evs) != 1 || evs[0].Subject != "o-2" {
			t.Fatalf("published %+v: want the declared emit of o-2 only", evs)
		}
	})
}
