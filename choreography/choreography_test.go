package choreography_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/troupehq/troupe/aws/bus"
	"github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/aws/idempotency"
	"github.com/troupehq/troupe/aws/stream"
	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/consumers/timeline"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/awstest"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// world runs the sample choreography on the emulator: each bus consumer's
// Lambda handler is invoked with the EventBridge events its rule pattern
// matches, and the timeline's with the stream's records, as AWS would.
type world struct {
	t        *testing.T
	cfg      aws.Config
	stream   string
	pub      *producers.Publisher
	runtimes map[string]*consumers.Runtime
	patterns map[string]func([]byte) bool
	timeline *timeline.Memory
	seen     map[string]bool // stream records already delivered, by shard/sequence
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, cfg: awstest.Config(t), runtimes: map[string]*consumers.Runtime{}, patterns: map[string]func([]byte) bool{}, timeline: timeline.NewMemory(), seen: map[string]bool{}}
	top, err := choreography.Topology(choreography.WithTimelineStore(w.timeline))
	if err != nil {
		t.Fatal(err)
	}
	busName := awstest.Name(t, "bus")
	if _, err := eventbridge.NewFromConfig(w.cfg).CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		t.Fatal(err)
	}
	w.stream = awstest.NewStream(t, w.cfg, 2)
	b, _ := bus.NewFromConfig(w.cfg, bus.Config{BusName: busName})
	s, _ := stream.NewFromConfig(w.cfg, stream.Config{StreamName: w.stream})
	if w.pub, err = producers.New(producers.Config{Bus: b, Stream: s, Validator: schemas.Sample()}); err != nil {
		t.Fatal(err)
	}
	store, _ := idempotency.NewFromConfig(w.cfg, idempotency.Config{TableName: awstest.NewTable(t, w.cfg)})
	for _, c := range top.Consumers {
		dlq, _ := deadletter.NewFromConfig(w.cfg, deadletter.Config{QueueURL: awstest.NewQueue(t, w.cfg)})
		rt, err := consumers.New(c, consumers.Deps{Idempotency: store, DeadLetters: dlq, Publisher: w.pub, Validator: schemas.Sample()})
		if err != nil {
			t.Fatal(err)
		}
		w.runtimes[c.Name] = rt
		if c.OnBus() {
			p := c.Bus.Compiled()
			w.patterns[c.Name] = func(ev []byte) bool { ok, _ := p.Match(ev); return ok }
		}
	}
	return w
}

// run publishes e and delivers everything that follows until the stream is
// quiet, returning the types that appeared on the stream for e's subject.
func (w *world) run(e events.Envelope) []string {
	w.t.Helper()
	if _, err := w.pub.Publish(context.Background(), e); err != nil {
		w.t.Fatal(err)
	}
	var types []string
	for round := 0; round < 10; round++ {
		var fresh []awstest.Record
		for _, r := range awstest.ReadStream(w.t, w.cfg, w.stream) {
			if id := r.ShardID + "/" + r.SequenceNumber; !w.seen[id] {
				w.seen[id] = true
				fresh = append(fresh, r)
			}
		}
		if len(fresh) == 0 {
			break
		}
		w.deliverStream(fresh)
		for _, r := range fresh {
			env, err := events.Decode(r.Data)
			if err != nil {
				w.t.Fatal(err)
			}
			if env.Subject == e.Subject {
				types = append(types, env.Type)
			}
			w.deliverBus(env)
		}
	}
	return types
}

func (w *world) deliverBus(e events.Envelope) {
	detail, _ := json.Marshal(e)
	ev, _ := json.Marshal(map[string]any{"version": "0", "id": events.NewID(), "detail-type": e.Type, "source": e.Source,
		"account": "111122223333", "time": e.Time.Format(time.RFC3339), "region": "us-east-1", "resources": []string{}, "detail": json.RawMessage(detail)})
	for name, match := range w.patterns {
		if !match(ev) {
			continue
		}
		if _, err := lambda.NewHandler(w.runtimes[name].LambdaBus).Invoke(context.Background(), ev); err != nil {
			w.t.Fatalf("%s on %s: %v", name, e.Type, err)
		}
	}
}

func (w *world) deliverStream(records []awstest.Record) {
	var ev awsevents.KinesisEvent
	for _, r := range records {
		ev.Records = append(ev.Records, awsevents.KinesisEventRecord{
			EventID: r.ShardID + ":" + r.SequenceNumber, EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/" + w.stream,
			Kinesis: awsevents.KinesisRecord{Data: r.Data, PartitionKey: r.PartitionKey, SequenceNumber: r.SequenceNumber},
		})
	}
	payload, _ := json.Marshal(ev)
	out, err := lambda.NewHandler(w.runtimes["timeline"].LambdaStream).Invoke(context.Background(), payload)
	if err != nil {
		w.t.Fatal(err)
	}
	var resp awsevents.KinesisEventResponse
	_ = json.Unmarshal(out, &resp)
	if len(resp.BatchItemFailures) > 0 {
		w.t.Fatalf("timeline failures: %v", resp.BatchItemFailures)
	}
}

func placed(t *testing.T, orderID string, cents int64) events.Envelope {
	t.Helper()
	e, err := domain.OrderPlacedDef.New(domain.OrderPlacedV2{
		OrderID: orderID, CustomerID: "c-1",
		Items: []domain.OrderLine{{SKU: "SKU-1", Quantity: 1, UnitPrice: domain.Money{AmountCents: cents, Currency: "EUR"}}},
		Total: domain.Money{AmountCents: cents, Currency: "EUR"},
	}, events.WithSubject(orderID))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestTheThreePathsOfTheChoreography(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, tc := range []struct {
		order events.Envelope
		want  []string
	}{
		{placed(t, "o-happy", 1250), []string{"orders.OrderPlaced", "payments.PaymentAuthorized", "inventory.StockReserved", "shipping.ShipmentScheduled"}},
		{placed(t, "o-decline", 500_000), []string{"orders.OrderPlaced", "payments.PaymentDeclined", "orders.OrderCancelled"}},
		{placed(t, "o-nostock", 1250), []string{"orders.OrderPlaced", "payments.PaymentAuthorized", "inventory.StockUnavailable", "payments.PaymentRefunded", "orders.OrderCancelled"}},
	} {
		if got := w.run(tc.order); !slices.Equal(got, tc.want) {
			t.Errorf("%s: the stream shows %v, want %v", tc.order.Subject, got, tc.want)
		}
		// The timeline saw the order's events in order, each cause before
		// its effect, all under the first event's correlation id.
		steps := w.timeline.Get(tc.order.Subject)
		var types []string
		for i, s := range steps {
			types = append(types, s.Type)
			if s.CauseMissing || (i > 0 && s.CausationID != steps[i-1].EventID) {
				t.Errorf("%s: step %d %+v does not follow its cause", tc.order.Subject, i, s)
			}
		}
		if !slices.Equal(types, tc.want) {
			t.Errorf("%s: timeline %v", tc.order.Subject, types)
		}
	}
}

func TestEmitsChainIDsAndAreDeterministic(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	o := placed(t, "o-chain", 1250)
	w.run(o)
	records := awstest.ReadStream(t, w.cfg, w.stream)
	byType := map[string]events.Envelope{}
	for _, r := range records {
		e, _ := events.Decode(r.Data)
		byType[e.Type] = e
	}
	auth := byType["payments.PaymentAuthorized"]
	if auth.CorrelationID != o.ID || auth.CausationID != o.ID || auth.Subject != o.Subject || auth.Source != "payments" {
		t.Fatalf("PaymentAuthorized %+v: want correlation and causation = %s", auth, o.ID)
	}
	ship := byType["shipping.ShipmentScheduled"]
	if ship.CorrelationID != o.ID || ship.CausationID != byType["inventory.StockReserved"].ID {
		t.Fatalf("ShipmentScheduled %+v", ship)
	}
	// Delivering the order again is a duplicate: no new event anywhere.
	before := len(records)
	w.deliverBus(o)
	if after := len(awstest.ReadStream(t, w.cfg, w.stream)); after != before {
		t.Fatalf("a duplicate delivery emitted %d more events", after-before)
	}
}

func TestDeclarationIsComplete(t *testing.T) {
	top, err := choreography.Topology()
	if err != nil {
		t.Fatal(err)
	}
	emitted := map[string]bool{}
	for _, e := range top.External { // from outside: the shop
		emitted[e.Type] = true
	}
	for _, c := range top.Consumers {
		for _, e := range c.Emits {
			emitted[e.Type] = true
		}
	}
	for _, c := range top.Consumers {
		for _, a := range c.Accepts() {
			if !emitted[a.Type] {
				t.Errorf("consumer %s waits for %s, which no one emits", c.Name, a.Type)
			}
		}
	}
	if fmt.Sprint(len(top.Consumers)) != "6" {
		t.Fatalf("%d consumers", len(top.Consumers))
	}
}
