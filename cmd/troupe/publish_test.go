package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/awstest"
)

const sampleOrder = "testdata/events/orders.OrderPlaced/v2/placed.json"

func TestPublishPutsOneEntryOnTheBusAndOneRecordOnTheStream(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	busName, queue := awstest.NewBus(t, cfg)
	streamName := awstest.NewStream(t, cfg, 1)
	r := troupe(t, nil, "publish", "orders.OrderPlaced", "--data", "@"+sampleOrder,
		"--bus", busName, "--stream", streamName, "--endpoint-url", awstest.Endpoint())
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "bus     ok") || !strings.Contains(r.stdout, "stream  ok") {
		t.Fatalf("stdout:\n%s", r.stdout)
	}
	id := strings.Fields(r.stdout)[1]

	bodies := awstest.ReceiveAll(t, cfg, queue, 2, 6*time.Second)
	if len(bodies) != 1 {
		t.Fatalf("bus delivered %d events, want 1", len(bodies))
	}
	var onBus struct{ Detail events.Envelope }
	if err := json.Unmarshal([]byte(bodies[0]), &onBus); err != nil || onBus.Detail.ID != id {
		t.Fatalf("bus event %s: want envelope %s (%v)", bodies[0], id, err)
	}
	records := awstest.ReadStream(t, cfg, streamName)
	if len(records) != 1 {
		t.Fatalf("stream holds %d records, want 1", len(records))
	}
	e, err := events.Decode(records[0].Data)
	if err != nil || e.ID != id || e.Type != "orders.OrderPlaced" || e.DataVersion != 2 {
		t.Fatalf("stream record %s: %v", records[0].Data, err)
	}
	if records[0].PartitionKey != "ord_01JPBX6Q7Z3K9M2N4P5R6S7T8V" {
		t.Fatalf("partition key %q: want the sample's subject", records[0].PartitionKey)
	}
}

func TestPublishTakesLegsFromTheEnvironmentAndOlderVersions(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	busName := plainBus(t)
	streamName := awstest.NewStream(t, cfg, 1)
	r := troupe(t, []string{"TROUPE_BUS=" + busName, "TROUPE_STREAM=" + streamName},
		"publish", "orders.OrderPlaced", "--version", "1", "--subject", "o-9", "--output", "json",
		"--data", `{"orderId":"o-9","customerId":"c","items":[{"sku":"S","quantity":1,"price":2.5}],"total":2.5}`,
		"--endpoint-url", awstest.Endpoint())
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var out struct {
		EventID string
		Bus     struct{ Status string }
		Stream  struct{ Status string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Bus.Status != "sent" || out.Stream.Status != "sent" {
		t.Fatalf("json output %q: %v", r.stdout, err)
	}
	records := awstest.ReadStream(t, cfg, streamName)
	if len(records) != 1 || records[0].PartitionKey != "o-9" {
		t.Fatalf("stream holds %+v", records)
	}
	if e, _ := events.Decode(records[0].Data); e.DataVersion != 1 || e.ID != out.EventID {
		t.Fatalf("record %s", records[0].Data)
	}
}

func TestPublishBadInputPublishesNothing(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	busName := plainBus(t)
	streamName := awstest.NewStream(t, cfg, 1)
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, []byte(`{"orderId":"`+strings.Repeat("x", 1100000)+`","customerId":"c","items":[{"sku":"S","quantity":1,"unitPrice":{"amountCents":1,"currency":"EUR"}}],"total":{"amountCents":1,"currency":"EUR"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	legs := []string{"--bus", busName, "--stream", streamName, "--endpoint-url", awstest.Endpoint()}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"malformed JSON", []string{"orders.OrderPlaced", "--data", `{"orderId":`}, "not valid JSON"},
		{"schema violation", []string{"orders.OrderPlaced", "--data", `{"orderId":"o","customerId":"c","items":[],"total":{"amountCents":1,"currency":"euro"}}`}, "/total/currency"},
		{"unknown type", []string{"orders.OrderShipped", "--data", `{}`}, `unknown event type "orders.OrderShipped" (known: `},
		{"unknown version", []string{"orders.OrderPlaced", "--version", "9", "--data", `{}`}, "unknown event version v9 (known: v1, v2)"},
		{"too large", []string{"orders.OrderPlaced", "--data", "@" + big}, "over the 1048576-byte limit"},
		{"missing file", []string{"orders.OrderPlaced", "--data", "@nope.json"}, "nope.json"},
		{"wrong envelope type", []string{"payments.PaymentDeclined", "--data", "@" + sampleOrder}, "is a orders.OrderPlaced, not a payments.PaymentDeclined"},
	}
	for _, tc := range cases {
		r := troupe(t, nil, append(append([]string{"publish"}, tc.args...), legs...)...)
		if r.code == 0 || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("%s: exit %d, want non-zero and %q in:\n%s%s", tc.name, r.code, tc.want, r.stdout, r.stderr)
		}
	}
	if records := awstest.ReadStream(t, cfg, streamName); len(records) != 0 {
		t.Fatalf("bad input put %d records on the stream", len(records))
	}
}

func TestPublishWithoutLegsOrReachableAWSFails(t *testing.T) {
	t.Parallel()
	r := troupe(t, nil, "publish", "orders.OrderPlaced", "--data", "@"+sampleOrder, "--stream", "s")
	if r.code == 0 || !strings.Contains(r.stderr, "give --bus and --stream") {
		t.Fatalf("no bus: exit %d\n%s", r.code, r.stderr)
	}
	start := time.Now()
	r = troupe(t, nil, "publish", "orders.OrderPlaced", "--data", "@"+sampleOrder, "--bus", "b", "--stream", "s",
		"--endpoint-url", "http://127.0.0.1:1", "--timeout", "3s")
	if r.code == 0 || r.stderr == "" {
		t.Fatalf("unreachable: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatalf("unreachable endpoint took %v with a 3s timeout", time.Since(start))
	}
	r = troupe(t, nil, "publish", "orders.OrderPlaced", "--data", "@"+sampleOrder, "--bus", awstest.Name(t, "nobus"),
		"--stream", "s", "--endpoint-url", awstest.Endpoint())
	if r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("missing bus: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestHelpIsUseful(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"publish", "--help"}} {
		r := troupe(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Example") {
			t.Errorf("troupe %v: exit %d\n%s", args, r.code, r.stdout)
		}
	}
}

func plainBus(t *testing.T) string {
	t.Helper()
	name := awstest.Name(t, "bus")
	eb := eventbridge.NewFromConfig(awstest.Config(t))
	if _, err := eb.CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	return name
}
