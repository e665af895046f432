package producers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/troupehq/troupe/aws/bus"
	"github.com/troupehq/troupe/aws/stream"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/awstest"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// legs are the AWS adapters of one test, sending through a fault injector
// in front of the emulator.
type legs struct {
	cfg    aws.Config
	inj    *awstest.FaultInjector
	bus    *bus.Sender
	stream *stream.Writer
	queue  string // where the bus's catch-all rule delivers; "" without one
	name   string // stream name
}

// newLegs makes a bus (with a rule to a queue when withRule) and a stream of
// the given shards, and adapters that send through a fault injector.
func newLegs(t testing.TB, withRule bool, shards int) *legs {
	t.Helper()
	l := &legs{cfg: awstest.Config(t), inj: awstest.NewFaultInjector(nil)}
	var busName string
	if withRule {
		busName, l.queue = awstest.NewBus(t, l.cfg)
	} else {
		busName = plainBus(t, l.cfg)
	}
	l.name = awstest.NewStream(t, l.cfg, shards)
	var err error
	l.bus, err = bus.NewFromConfig(l.cfg, bus.Config{BusName: busName}, func(o *eventbridge.Options) { o.HTTPClient = l.inj.Client() })
	if err != nil {
		t.Fatal(err)
	}
	l.stream, err = stream.NewFromConfig(l.cfg, stream.Config{StreamName: l.name}, func(o *kinesis.Options) { o.HTTPClient = l.inj.Client() })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// plainBus creates a bus with no rule: the emulator takes PutEvents fast.
func plainBus(t testing.TB, cfg aws.Config) string {
	t.Helper()
	name := awstest.Name(t, "bus")
	eb := eventbridge.NewFromConfig(cfg)
	if _, err := eb.CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = eb.DeleteEventBus(context.Background(), &eventbridge.DeleteEventBusInput{Name: aws.String(name)})
	})
	return name
}

func (l *legs) publisher(t testing.TB, tweak ...func(*producers.Config)) *producers.Publisher {
	t.Helper()
	cfg := producers.Config{Bus: l.bus, Stream: l.stream, Validator: schemas.Sample(), BaseBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	for _, f := range tweak {
		f(&cfg)
	}
	p, err := producers.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// order builds a valid orders.OrderPlaced v2 with the given subject.
func order(t testing.TB, subject string) events.Envelope {
	t.Helper()
	e, err := domain.OrderPlacedDef.New(domain.OrderPlacedV2{
		OrderID: subject, CustomerID: "c-1",
		Items: []domain.OrderLine{{SKU: "SKU-1", Quantity: 2, UnitPrice: domain.Money{AmountCents: 500, Currency: "EUR"}}},
		Total: domain.Money{AmountCents: 1000, Currency: "EUR"},
	}, events.WithSubject(subject))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func orders(t testing.TB, subjects ...string) []events.Envelope {
	evs := make([]events.Envelope, len(subjects))
	for i, s := range subjects {
		evs[i] = order(t, s)
	}
	return evs
}

func distinctSubjects(prefix string, n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return s
}

// streamIDs reads the stream back and returns, per partition key, the event
// ids in stream order (sequence numbers increase within a shard, and a key
// lives on one shard).
func streamIDs(t *testing.T, l *legs) map[string][]string {
	t.Helper()
	perKey := map[string][]string{}
	for _, r := range awstest.ReadStream(t, l.cfg, l.name) {
		e, err := events.Decode(r.Data)
		if err != nil {
			t.Fatalf("record %s on the stream is not an envelope: %v", r.SequenceNumber, err)
		}
		if e.Key() != r.PartitionKey {
			t.Fatalf("record %s: partition key %q, envelope key %q", r.SequenceNumber, r.PartitionKey, e.Key())
		}
		perKey[r.PartitionKey] = append(perKey[r.PartitionKey], e.ID)
	}
	return perKey
}

// busEnvelopes decodes the envelopes from the queue's EventBridge events.
func busEnvelopes(t *testing.T, bodies []string) map[string]events.Envelope {
	t.Helper()
	got := map[string]events.Envelope{}
	for _, b := range bodies {
		var ev struct {
			Source     string          `json:"source"`
			DetailType string          `json:"detail-type"`
			Detail     json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal([]byte(b), &ev); err != nil {
			t.Fatalf("queue message %s: %v", b, err)
		}
		e, err := events.Decode(ev.Detail)
		if err != nil {
			t.Fatalf("detail is not an envelope: %v", err)
		}
		if ev.Source != e.Source || ev.DetailType != e.Type {
			t.Fatalf("source/detail-type %q/%q, want %q/%q", ev.Source, ev.DetailType, e.Source, e.Type)
		}
		if _, dup := got[e.ID]; dup {
			t.Fatalf("event %s delivered twice by the bus", e.ID)
		}
		got[e.ID] = e
	}
	return got
}
