// Package deadlettertest is the conformance suite of consumers.DeadLetterQueue:
// every adapter runs it (the local one always, the SQS one against the
// emulator), so that a dead letter means the same on every backend.
//
//	func TestConformance(t *testing.T) {
//		deadlettertest.Run(t, func(t *testing.T) deadlettertest.QueueUnderTest {
//			q := ... // a fresh, empty queue for this test
//			return deadlettertest.QueueUnderTest{Queue: q, Read: ...}
//		})
//	}
package deadlettertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/events"
)

// DefaultLimit is the message size limit the suite assumes when
// QueueUnderTest.Limit is 0: SQS's, 1 MiB.
const DefaultLimit = 1 << 20

// QueueUnderTest is one fresh, empty queue, and a way to read it back.
type QueueUnderTest struct {
	Queue consumers.DeadLetterQueue
	// Read waits until at least want dead letters are stored (failing the
	// test if they do not come in a reasonable time) and returns those it
	// read, each once; it may return more than want when more are stored.
	// Read(t, 0) returns at once. An adapter may consume what it reads
	// (SQS: receive and delete).
	Read func(t *testing.T, want int) []consumers.DeadLetter
	// Limit is the queue's message size limit in bytes, as the adapter
	// counts it; 0 means DefaultLimit.
	Limit int
}

// Run runs the suite. newQueue is called once per test, from that test's
// goroutine, and must return a queue no other test uses: the tests run in
// parallel.
func Run(t *testing.T, newQueue func(t *testing.T) QueueUnderTest) {
	tests := []struct {
		name string
		fn   func(t *testing.T, q QueueUnderTest)
	}{
		{"EnvelopeRoundTrip", testEnvelopeRoundTrip},
		{"RawRoundTrip", testRawRoundTrip},
		{"StreamOrigin", testStreamOrigin},
		{"LargeCompressible", testLargeCompressible},
		{"TooLarge", testTooLarge},
		{"Concurrent", testConcurrent},
		{"Cancelled", testCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := newQueue(t)
			if q.Limit == 0 {
				q.Limit = DefaultLimit
			}
			tc.fn(t, q)
		})
	}
}

// Envelope returns a valid envelope with every attribute set and data of
// the given JSON.
func Envelope(id string, data json.RawMessage) *events.Envelope {
	return &events.Envelope{
		SpecVersion:     events.SpecVersion,
		ID:              id,
		Source:          "shop.orders",
		Type:            "orders.OrderPlaced",
		Time:            time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC),
		DataSchema:      "https://schemas.troupe.dev/orders/OrderPlaced/v2.json",
		Subject:         "order-42",
		DataContentType: events.ContentTypeJSON,
		DataVersion:     2,
		CorrelationID:   "corr-1",
		CausationID:     "cause-1",
		PartitionKey:    "customer-7",
		TraceParent:     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		Data:            data,
	}
}

// DeadLetter returns a dead letter of a bus event with every field set.
func DeadLetter(consumer, id string) consumers.DeadLetter {
	paris := time.FixedZone("CEST", 2*60*60)
	return consumers.DeadLetter{
		Envelope:     Envelope(id, json.RawMessage(`{"order":"o-42","lines":[{"sku":"A<&>1","qty":2}],"note":"héllo \u2028 ✓"}`)),
		Consumer:     consumer,
		Error:        "charge card: declined (\"insufficient funds\")\n\tat billing.Charge",
		Reason:       "handler",
		Attempts:     3,
		FirstFailure: time.Date(2025, 6, 1, 14, 0, 1, 250_000_000, paris),
		LastFailure:  time.Date(2025, 6, 1, 12, 0, 4, 987_000_000, time.UTC),
		Origin:       consumers.Origin{Source: "bus", Rule: "billing-on-order-placed"},
	}
}

func testEnvelopeRoundTrip(t *testing.T, q QueueUnderTest) {
	want := DeadLetter("billing", "0190a000-0000-7000-8000-000000000001")
	if err := q.Queue.Send(t.Context(), want); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := readExactly(t, q, 1)
	Equal(t, got[0], want)
}

func testRawRoundTrip(t *testing.T, q QueueUnderTest) {
	// Payloads that could not be decoded: bytes that are not JSON at all,
	// not UTF-8, JSON that is not an envelope, JSON with insignificant
	// whitespace (kept byte for byte), and a JSON string.
	raws := map[string]json.RawMessage{
		"binary":     {0xff, 0xfe, 'n', 'o', 't', ' ', 'j', 's', 'o', 'n', 0x00, 0x01, '\n'},
		"text":       json.RawMessage("order=42&customer=7"),
		"json":       json.RawMessage(`{"detail-type":"x","foo":[1,2,3],"html":"<b>&</b>"}`),
		"spacedJSON": json.RawMessage("{ \"foo\": 1 }\n"),
		"jsonString": json.RawMessage(`"just a string"`),
	}
	for name, raw := range raws {
		dl := consumers.DeadLetter{
			Raw:          raw,
			Consumer:     "shipping",
			Error:        "decode " + name + ": invalid character",
			Reason:       "decode",
			Attempts:     0,
			FirstFailure: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
			LastFailure:  time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
			Origin:       consumers.Origin{Source: "stream", Stream: "orders", Shard: "shardId-000000000000", SequenceNumber: "1"},
		}
		if err := q.Queue.Send(t.Context(), dl); err != nil {
			t.Fatalf("Send %s: %v", name, err)
		}
	}
	got := readExactly(t, q, len(raws))
	seen := map[string]bool{}
	for _, dl := range got {
		name := strings.TrimSuffix(strings.TrimPrefix(dl.Error, "decode "), ": invalid character")
		want, ok := raws[name]
		if !ok || seen[name] {
			t.Errorf("unexpected or repeated dead letter %q", dl.Error)
			continue
		}
		seen[name] = true
		if dl.Envelope != nil {
			t.Errorf("%s: Envelope = %+v, want nil", name, dl.Envelope)
		}
		if !bytes.Equal(dl.Raw, want) {
			t.Errorf("%s: Raw = %q, want %q (byte for byte)", name, dl.Raw, want)
		}
		if dl.Reason != "decode" || dl.Consumer != "shipping" || dl.Attempts != 0 {
			t.Errorf("%s: %+v", name, dl)
		}
	}
}

func testStreamOrigin(t *testing.T, q QueueUnderTest) {
	want := DeadLetter("inventory", "0190a000-0000-7000-8000-000000000002")
	want.Reason = "unknown-version"
	want.Attempts = 0
	want.Origin = consumers.Origin{
		Source:         "stream",
		Stream:         "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
		Shard:          "shardId-000000000003",
		SequenceNumber: "49590338271490256608559692538361571095921575989136588898",
	}
	if err := q.Queue.Send(t.Context(), want); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := readExactly(t, q, 1)
	Equal(t, got[0], want)
}

// testLargeCompressible: a dead letter well over the limit whose JSON
// compresses well is stored, and comes back whole.
func testLargeCompressible(t *testing.T, q QueueUnderTest) {
	lines := make([]map[string]any, 0, q.Limit/30)
	for i := 0; len(lines) < cap(lines); i++ {
		lines = append(lines, map[string]any{"sku": fmt.Sprintf("SKU-%06d", i), "qty": i % 7, "warehouse": "eu-west-1a"})
	}
	data, err := json.Marshal(map[string]any{"order": "o-big", "lines": lines})
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < q.Limit*3/2 {
		t.Fatalf("suite: data is %d bytes, want at least 1.5 times the limit %d", len(data), q.Limit)
	}
	want := DeadLetter("billing", "0190a000-0000-7000-8000-000000000003")
	want.Envelope.Data = data
	if err := q.Queue.Send(t.Context(), want); err != nil {
		t.Fatalf("Send of a compressible %d-byte envelope (limit %d): %v", len(data), q.Limit, err)
	}
	got := readExactly(t, q, 1)
	Equal(t, got[0], want)
}

// testTooLarge: a dead letter over the limit that does not compress fails
// with ErrTooLarge, and nothing is stored.
func testTooLarge(t *testing.T, q QueueUnderTest) {
	noise := make([]byte, q.Limit)
	rand.Read(noise)
	data, _ := json.Marshal(map[string]string{"blob": base64.StdEncoding.EncodeToString(noise)})
	big := DeadLetter("billing", "0190a000-0000-7000-8000-000000000004")
	big.Envelope.Data = data
	err := q.Queue.Send(t.Context(), big)
	if !errors.Is(err, consumers.ErrTooLarge) {
		t.Fatalf("Send of an incompressible %d-byte envelope (limit %d): %v, want an error wrapping consumers.ErrTooLarge",
			len(data), q.Limit, err)
	}
	if msg := err.Error(); !strings.Contains(msg, fmt.Sprint(q.Limit)) {
		t.Errorf("the error does not state the limit %d: %s", q.Limit, msg)
	}

	// Raw too: the payload of a record that never decoded.
	raw := consumers.DeadLetter{Raw: noise, Consumer: "billing", Reason: "decode", Origin: consumers.Origin{Source: "stream"}}
	if err := q.Queue.Send(t.Context(), raw); !errors.Is(err, consumers.ErrTooLarge) {
		t.Fatalf("Send of an incompressible %d-byte raw payload: %v, want ErrTooLarge", len(noise), err)
	}

	marker := DeadLetter("marker", "0190a000-0000-7000-8000-000000000005")
	if err := q.Queue.Send(t.Context(), marker); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := q.Read(t, 1)
	for _, dl := range got {
		if dl.Consumer != "marker" {
			t.Errorf("the queue holds a dead letter that Send refused: consumer %q, %d bytes of raw", dl.Consumer, len(dl.Raw))
		}
	}
	if len(got) != 1 {
		t.Errorf("read %d dead letters, want only the marker", len(got))
	}
}

// testConcurrent: 32 goroutines send at once; every dead letter is stored
// exactly once.
func testConcurrent(t *testing.T, q QueueUnderTest) {
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dl := DeadLetter(fmt.Sprintf("consumer-%d", i%4), fmt.Sprintf("0190a000-0000-7000-8000-%012d", i))
			if err := q.Queue.Send(context.Background(), dl); err != nil {
				errs <- fmt.Errorf("Send %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := q.Read(t, n)
	seen := map[string]int{}
	for _, dl := range got {
		if dl.Envelope == nil {
			t.Errorf("dead letter without envelope: %+v", dl)
			continue
		}
		seen[dl.Consumer+"/"+dl.Envelope.ID]++
	}
	for i := range n {
		key := fmt.Sprintf("consumer-%d/0190a000-0000-7000-8000-%012d", i%4, i)
		if seen[key] != 1 {
			t.Errorf("%s stored %d times, want once", key, seen[key])
		}
	}
	if len(got) != n {
		t.Errorf("read %d dead letters, want %d", len(got), n)
	}
}

// testCancelled: Send with a cancelled context fails and stores nothing.
func testCancelled(t *testing.T, q QueueUnderTest) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := q.Queue.Send(ctx, DeadLetter("cancelled", "0190a000-0000-7000-8000-000000000006")); err == nil {
		t.Fatal("Send with a cancelled context returned nil")
	} else if !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled context: %v, want an error wrapping context.Canceled", err)
	}
	marker := DeadLetter("marker", "0190a000-0000-7000-8000-000000000007")
	if err := q.Queue.Send(t.Context(), marker); err != nil {
		t.Fatalf("Send: %v", err)
	}
	for _, dl := range q.Read(t, 1) {
		if dl.Consumer != "marker" {
			t.Errorf("the queue holds the dead letter sent with a cancelled context")
		}
	}
}

// readExactly reads want dead letters and fails the test on any other count.
func readExactly(t *testing.T, q QueueUnderTest, want int) []consumers.DeadLetter {
	t.Helper()
	got := q.Read(t, want)
	if len(got) != want {
		t.Fatalf("read %d dead letters, want %d", len(got), want)
	}
	return got
}

// Equal fails the test unless got is want as a queue keeps it: the
// envelope JSON-equal, Raw byte for byte, the failure times equal to the
// millisecond, every other field equal.
func Equal(t testing.TB, got, want consumers.DeadLetter) {
	t.Helper()
	switch {
	case (got.Envelope == nil) != (want.Envelope == nil):
		t.Errorf("Envelope = %v, want %v", got.Envelope, want.Envelope)
	case got.Envelope != nil:
		g, _ := json.Marshal(got.Envelope)
		w, _ := json.Marshal(want.Envelope)
		if !bytes.Equal(g, w) && !JSONEqual(g, w) {
			t.Errorf("Envelope differs:\n got %.2000s\nwant %.2000s", g, w)
		}
	}
	if !bytes.Equal(got.Raw, want.Raw) {
		t.Errorf("Raw = %q, want %q", got.Raw, want.Raw)
	}
	for _, f := range []struct {
		name      string
		got, want time.Time
	}{{"FirstFailure", got.FirstFailure, want.FirstFailure}, {"LastFailure", got.LastFailure, want.LastFailure}} {
		if !f.got.Truncate(time.Millisecond).Equal(f.want.Truncate(time.Millisecond)) {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
	got.Envelope, want.Envelope = nil, nil
	got.Raw, want.Raw = nil, nil
	got.FirstFailure, want.FirstFailure = time.Time{}, time.Time{}
	got.LastFailure, want.LastFailure = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dead letter differs:\n got %+v\nwant %+v", got, want)
	}
}

// JSONEqual reports whether a and b are the same JSON value (object member
// order and insignificant whitespace aside). Invalid JSON is equal to
// nothing.
func JSONEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
