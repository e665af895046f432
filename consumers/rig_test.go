package consumers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/aws/bus"
	"github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/aws/idempotency"
	"github.com/troupehq/troupe/aws/stream"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/awstest"
	localidem "github.com/troupehq/troupe/local/idempotency"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
	"github.com/troupehq/troupe/topology"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// rig is one test's AWS side, in the emulator: an idempotency table, a DLQ,
// and a bus and a stream for what handlers emit.
type rig struct {
	cfg    aws.Config
	queue  string
	stream string
	store  consumers.IdempotencyStore
	dlq    consumers.DeadLetterQueue
	pub    *producers.Publisher
}

func newRig(t *testing.T) *rig { return newRigTB(t) }

func newRigTB(t testing.TB) *rig {
	t.Helper()
	r := &rig{cfg: awstest.Config(t)}
	var err error
	if r.store, err = idempotency.NewFromConfig(r.cfg, idempotency.Config{TableName: awstest.NewTable(t, r.cfg)}); err != nil {
		t.Fatal(err)
	}
	r.queue = awstest.NewQueue(t, r.cfg)
	if r.dlq, err = deadletter.NewFromConfig(r.cfg, deadletter.Config{QueueURL: r.queue}); err != nil {
		t.Fatal(err)
	}
	busName := awstest.Name(t, "bus")
	if _, err := eventbridge.NewFromConfig(r.cfg).CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		t.Fatal(err)
	}
	r.stream = awstest.NewStream(t, r.cfg, 1)
	b, _ := bus.NewFromConfig(r.cfg, bus.Config{BusName: busName})
	s, _ := stream.NewFromConfig(r.cfg, stream.Config{StreamName: r.stream})
	if r.pub, err = producers.New(producers.Config{Bus: b, Stream: s, Validator: schemas.Sample()}); err != nil {
		t.Fatal(err)
	}
	return r
}

// localStore is the embedded idempotency store on a fresh bbolt file.
func localStore(t *testing.T) consumers.IdempotencyStore {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "idem.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s, err := localidem.New(db, "idempotency")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runtime validates a one-consumer topology and returns the consumer's
// runtime on the rig's adapters.
func (r *rig) runtime(t *testing.T, c topology.Consumer) *consumers.Runtime { return r.runtimeTB(t, c) }

func (r *rig) runtimeTB(t testing.TB, c topology.Consumer) *consumers.Runtime {
	t.Helper()
	top := &topology.Topology{Name: "test", Consumers: []topology.Consumer{c}}
	if err := top.Validate(); err != nil {
		t.Fatal(err)
	}
	rt, err := consumers.New(top.Consumers[0], consumers.Deps{
		Idempotency: r.store, DeadLetters: r.dlq, Publisher: r.pub, Validator: schemas.Sample(),
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), // shown when a test fails
	})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// deadLetters reads want dead letters (and proves no more come when want is
// met and extra > 0).
func (r *rig) deadLetters(t *testing.T, want int) []consumers.DeadLetter {
	t.Helper()
	msgs := awstest.ReceiveMessages(t, r.cfg, r.queue, want+1, 3*time.Second)
	if len(msgs) != want {
		t.Fatalf("DLQ holds %d messages, want %d", len(msgs), want)
	}
	out := make([]consumers.DeadLetter, len(msgs))
	for i, m := range msgs {
		dl, err := deadletter.DecodeMessage(m.Body, m.Attributes)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = dl
	}
	return out
}

// probe is a handler whose behaviour the event's customer id chooses: "ok",
// "fail" (always an error), "flaky" (fails once per event), "panic",
// "permanent", "slow" (250ms). It records every successful run.
type probe struct {
	mu      sync.Mutex
	runs    map[string]int      // event id -> successful runs
	order   map[string][]string // subject -> event ids in the order handled
	flakies map[string]bool
}

func newProbe() *probe {
	return &probe{runs: map[string]int{}, order: map[string][]string{}, flakies: map[string]bool{}}
}

func (p *probe) handle(ctx context.Context, e consumers.Event[domain.OrderPlacedV2]) error {
	switch e.Data.CustomerID {
	case "fail":
		return errors.New("injected handler failure")
	case "permanent":
		return consumers.Permanent(errors.New("injected permanent failure"))
	case "panic":
		panic("injected panic")
	case "slow":
		time.Sleep(250 * time.Millisecond)
	case "flaky":
		p.mu.Lock()
		first := !p.flakies[e.Envelope.ID]
		p.flakies[e.Envelope.ID] = true
		p.mu.Unlock()
		if first {
			return errors.New("injected transient failure")
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runs[e.Envelope.ID]++
	p.order[e.Envelope.Subject] = append(p.order[e.Envelope.Subject], e.Envelope.ID)
	return nil
}

func (p *probe) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runs[id]
}

func (p *probe) consumer(name string, onBus bool) topology.Consumer {
	c := topology.Consumer{
		Name:    name,
		Handler: consumers.MustRouter(domain.Registry(), consumers.On("orders.OrderPlaced", 2, p.handle)),
		Retry:   topology.Retry{MaxAttempts: 3, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
	}
	if onBus {
		c.Bus = topology.OnBusTypes("orders.OrderPlaced")
	} else {
		c.Stream = topology.OnStream("")
	}
	return c
}

// order builds an OrderPlaced v2 whose customer id steers the probe.
func order(t testing.TB, subject, behaviour string) events.Envelope {
	t.Helper()
	e, err := domain.OrderPlacedDef.New(domain.OrderPlacedV2{
		OrderID: subject, CustomerID: behaviour,
		Items: []domain.OrderLine{{SKU: "S", Quantity: 1, UnitPrice: domain.Money{AmountCents: 100, Currency: "EUR"}}},
		Total: domain.Money{AmountCents: 100, Currency: "EUR"},
	}, events.WithSubject(subject))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// busPayload is the EventBridge event Lambda receives for e.
func busPayload(t testing.TB, e events.Envelope) []byte {
	t.Helper()
	detail, _ := json.Marshal(e)
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": events.NewID(), "detail-type": e.Type, "source": e.Source,
		"account": "111122223333", "time": e.Time.Format(time.RFC3339), "region": "us-east-1",
		"resources": []string{}, "detail": json.RawMessage(detail),
	})
	return b
}

// kinesisPayload is the Kinesis event Lambda receives for the envelopes, in
// order, on one shard; raw data can stand in for an envelope.
func kinesisPayload(t *testing.T, stream string, items ...any) []byte {
	t.Helper()
	var ev awsevents.KinesisEvent
	for i, it := range items {
		var data []byte
		key := fmt.Sprintf("raw-%d", i)
		switch v := it.(type) {
		case events.Envelope:
			data, _ = json.Marshal(v)
			key = v.Key()
		case []byte:
			data = v
		}
		seq := fmt.Sprintf("4959030649175891683727397924631806563464520417%04d", i)
		ev.Records = append(ev.Records, awsevents.KinesisEventRecord{
			AwsRegion: "us-east-1", EventID: "shardId-000000000000:" + seq, EventName: "aws:kinesis:record",
			EventSource: "aws:kinesis", EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/" + stream,
			EventVersion: "1.0", InvokeIdentityArn: "arn:aws:iam::123456789012:role/test",
			Kinesis: awsevents.KinesisRecord{
				Data: data, PartitionKey: key, SequenceNumber: seq, KinesisSchemaVersion: "1.0",
				ApproximateArrivalTimestamp: awsevents.SecondsEpochTime{Time: time.Now()},
			},
		})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invoke runs a Lambda handler exactly as the Lambda runtime does: JSON in,
// JSON out.
func invoke(t *testing.T, handler any, payload []byte) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return lambda.NewHandler(handler).Invoke(ctx, payload)
}

// failures decodes a KinesisEventResponse's item identifiers.
func failures(t *testing.T, out []byte) []string {
	t.Helper()
	var resp awsevents.KinesisEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}
