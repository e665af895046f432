// Package benchload is the workload of troupe dev's end-to-end benchmarks
// (local's and the console's): orders.OrderPlaced v2 events published over
// the AWS-compatible PutEvents, and a tracker that says when each has been
// processed by every consumer of its happy-path chain.
package benchload

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
)

const (
	// Clients is how many PutEvents callers publish at once.
	Clients = 8
	// Batch is the entries per PutEvents call, the API's maximum.
	Batch = 10
)

// chainSteps are the deliveries that make one published OrderPlaced
// "processed by every subscribed consumer" on the happy path: payments
// handled it, inventory the PaymentAuthorized it caused, shipping the
// StockReserved, and the timeline, from the stream, each of the three events
// the chain emitted (the OrderPlaced itself came over PutEvents, so it is on
// the bus only). ShipmentScheduled has no bus subscriber. A step counts when
// the delivery was handled, or skipped as a duplicate of one that was.
var chainSteps = map[[2]string]uint32{
	{"payments", "orders.OrderPlaced"}:          1 << 0,
	{"inventory", "payments.PaymentAuthorized"}: 1 << 1,
	{"shipping", "inventory.StockReserved"}:     1 << 2,
	{"timeline", "payments.PaymentAuthorized"}:  1 << 3,
	{"timeline", "inventory.StockReserved"}:     1 << 4,
	{"timeline", "shipping.ShipmentScheduled"}:  1 << 5,
}

const chainDone = 1<<6 - 1

// chain is one published event's progress. start is set (latency runs only)
// before its call is sent; done by the observer that completes the chain;
// both are read after Tracker.Wait.
type chain struct {
	start time.Time
	steps atomic.Uint32
	done  atomic.Int64 // unix nanoseconds
}

// Tracker follows chains by correlation id (the published event's id, which
// every event of its chain carries). Its map is built before the engine
// starts and only read afterwards, by the observer, from any goroutine.
type Tracker struct {
	chains   map[string]*chain
	want     int64
	complete atomic.Int64
	all      chan struct{}

	handled, failed, deadLettered, stray atomic.Int64
}

// NewTracker follows the chains of the events with these ids.
func NewTracker(ids []string) *Tracker {
	t := &Tracker{chains: make(map[string]*chain, len(ids)), want: int64(len(ids)), all: make(chan struct{})}
	for _, id := range ids {
		t.chains[id] = &chain{}
	}
	return t
}

// Observe is the engine's Observer.
func (t *Tracker) Observe(o consumers.Outcome) {
	switch o.Kind {
	case consumers.OutcomeHandled:
		t.handled.Add(1)
	case consumers.OutcomeDuplicate:
	case consumers.OutcomeDeadLettered:
		t.deadLettered.Add(1)
		return
	default:
		t.failed.Add(1)
		return
	}
	c, bit := t.chains[o.CorrelationID], chainSteps[[2]string{o.Consumer, o.Type}]
	if c == nil || bit == 0 {
		t.stray.Add(1)
		return
	}
	if old := c.steps.Or(bit); old|bit == chainDone && old != chainDone {
		c.done.Store(time.Now().UnixNano())
		if t.complete.Add(1) == t.want {
			close(t.all)
		}
	}
}

// Started records when the event id was (scheduled to be) published, for
// Latencies. Call it before the event is sent.
func (t *Tracker) Started(id string, at time.Time) { t.chains[id].start = at }

// Wait waits until every chain is complete, or fails the benchmark.
func (t *Tracker) Wait(b testing.TB, timeout time.Duration) {
	b.Helper()
	select {
	case <-t.all:
	case <-time.After(timeout):
		b.Fatalf("after %v: %d of %d chains complete (handled %d, failed %d, dead-lettered %d, stray %d)",
			timeout, t.complete.Load(), t.want, t.handled.Load(), t.failed.Load(), t.deadLettered.Load(), t.stray.Load())
	}
}

// Latencies returns each chain's publish-to-last-consumer time, sorted.
func (t *Tracker) Latencies() []time.Duration {
	out := make([]time.Duration, 0, len(t.chains))
	for _, c := range t.chains {
		out = append(out, time.Unix(0, c.done.Load()).Sub(c.start))
	}
	slices.Sort(out)
	return out
}

// Report reports events/s, handler-runs/s, runs/event and, if any,
// failed-deliveries for n events over elapsed.
func (t *Tracker) Report(b *testing.B, n int, elapsed time.Duration) {
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(t.handled.Load())/elapsed.Seconds(), "handler-runs/s")
	b.ReportMetric(float64(t.handled.Load())/float64(n), "runs/event")
	if f := t.failed.Load() + t.deadLettered.Load(); f > 0 {
		b.ReportMetric(float64(f), "failed-deliveries")
	}
}

// CompletionTimeout bounds the wait for n chains: generous, so that only a
// stuck engine fails the run.
func CompletionTimeout(n int) time.Duration {
	return max(90*time.Second, time.Duration(n)*45*time.Millisecond)
}

// PlacedEntries builds n OrderPlaced v2 events (happy path: under the card
// limit, in stock) as PutEvents entries for bus ("" for the default), and
// their ids.
func PlacedEntries(b testing.TB, n int, bus string) ([]ebtypes.PutEventsRequestEntry, []string) {
	b.Helper()
	entries := make([]ebtypes.PutEventsRequestEntry, n)
	ids := make([]string, n)
	run := time.Now().UnixNano()
	for i := range n {
		orderID := fmt.Sprintf("ord_%x_%08d", run, i)
		e, err := domain.OrderPlacedDef.New(domain.OrderPlacedV2{
			OrderID: orderID, CustomerID: "cus_8f3a2c91",
			Items: []domain.OrderLine{
				{SKU: "SKU-TSHIRT-BLK-M", Quantity: 2, UnitPrice: domain.Money{AmountCents: 1999, Currency: "USD"}},
				{SKU: "SKU-MUG-WHT", Quantity: 1, UnitPrice: domain.Money{AmountCents: 1250, Currency: "USD"}},
			},
			Total:           domain.Money{AmountCents: 5248, Currency: "USD"},
			ShippingAddress: &domain.Address{Line1: "742 Evergreen Terrace", City: "Springfield", PostalCode: "97403", Country: "US"},
		}, events.WithSubject(orderID))
		if err != nil {
			b.Fatal(err)
		}
		body, err := json.Marshal(e)
		if err != nil {
			b.Fatal(err)
		}
		entries[i] = ebtypes.PutEventsRequestEntry{
			Source: aws.String(e.Source), DetailType: aws.String(e.Type), Detail: aws.String(string(body)), Time: aws.Time(e.Time),
		}
		if bus != "" {
			entries[i].EventBusName = aws.String(bus)
		}
		ids[i] = e.ID
	}
	return entries, ids
}

// Client is an EventBridge client for endpoint with static credentials and
// no retries: a failed call fails the run.
func Client(endpoint string) *eventbridge.Client {
	return eventbridge.New(eventbridge.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", ""),
		Retryer:      aws.NopRetryer{},
	})
}

// PutEvents sends one call and says what went wrong, if anything.
func PutEvents(ctx context.Context, c *eventbridge.Client, entries []ebtypes.PutEventsRequestEntry) error {
	out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
	if err != nil {
		return err
	}
	if out.FailedEntryCount > 0 {
		for _, en := range out.Entries {
			if en.ErrorCode != nil {
				return fmt.Errorf("PutEvents: %d of %d entries failed, e.g. %s: %s",
					out.FailedEntryCount, len(entries), aws.ToString(en.ErrorCode), aws.ToString(en.ErrorMessage))
			}
		}
	}
	return nil
}

// FirstError keeps the first error of many goroutines.
type FirstError struct{ p atomic.Pointer[error] }

// Set keeps err if it is the first non-nil one.
func (f *FirstError) Set(err error) {
	if err != nil {
		f.p.CompareAndSwap(nil, &err)
	}
}

// Get returns the first error, or nil.
func (f *FirstError) Get() error {
	if p := f.p.Load(); p != nil {
		return *p
	}
	return nil
}

// PublishAll publishes entries with Clients concurrent callers, in calls of
// Batch, and returns the first error.
func PublishAll(c *eventbridge.Client, entries []ebtypes.PutEventsRequestEntry) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var fe FirstError
	ctx, cancel := context.WithTimeout(context.Background(), CompletionTimeout(len(entries)))
	defer cancel()
	for range Clients {
		wg.Go(func() {
			for {
				i := int(next.Add(Batch)) - Batch
				if i >= len(entries) || fe.Get() != nil {
					return
				}
				fe.Set(PutEvents(ctx, c, entries[i:min(i+Batch, len(entries))]))
			}
		})
	}
	wg.Wait()
	return fe.Get()
}
