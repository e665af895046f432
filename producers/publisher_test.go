package producers_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/aws/bus"
	"github.com/troupehq/troupe/aws/stream"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/awstest"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

func TestPublishLandsOnBothLegs(t *testing.T) {
	t.Parallel()
	l := newLegs(t, true, 2)
	evs := orders(t, "o-1", "o-2", "o-3")
	results, err := l.publisher(t).Publish(context.Background(), evs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.EventID != evs[i].ID || !r.OK() || r.Bus.ID == "" || r.Stream.ID == "" || r.Stream.Shard == "" {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	got := busEnvelopes(t, awstest.ReceiveAll(t, l.cfg, l.queue, len(evs)+1, 8*time.Second))
	if len(got) != len(evs) {
		t.Fatalf("bus delivered %d events, want %d", len(got), len(evs))
	}
	for _, e := range evs {
		want, _ := json.Marshal(e)
		have, _ := json.Marshal(got[e.ID])
		if string(want) != string(have) {
			t.Fatalf("bus changed the envelope:\n%s\n%s", want, have)
		}
	}
	perKey := streamIDs(t, l)
	for _, e := range evs {
		if !slices.Equal(perKey[e.Subject], []string{e.ID}) {
			t.Fatalf("stream holds %v under key %s, want [%s]", perKey[e.Subject], e.Subject, e.ID)
		}
	}
	// Each result names the shard and sequence number that hold the event.
	stored := map[[2]string]string{}
	for _, r := range awstest.ReadStream(t, l.cfg, l.name) {
		e, _ := events.Decode(r.Data)
		stored[[2]string{r.ShardID, r.SequenceNumber}] = e.ID
	}
	for _, r := range results {
		if id := stored[[2]string{r.Stream.Shard, r.Stream.ID}]; id != r.EventID {
			t.Fatalf("result says %s is %s on %s; the stream has %q there", r.EventID, r.Stream.ID, r.Stream.Shard, id)
		}
	}
}

func TestBusResendsOnlyTheFailedEntries(t *testing.T) {
	t.Parallel()
	l := newLegs(t, true, 1)
	l.inj.FailNext(awstest.TargetPutEvents, func(i int, _ json.RawMessage) (string, bool) { return "", i == 1 || i == 3 })
	evs := orders(t, distinctSubjects("o", 5)...)
	results, err := l.publisher(t).Publish(context.Background(), evs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		wantAttempts := 1
		if i == 1 || i == 3 {
			wantAttempts = 2
		}
		if r.Bus.Attempts != wantAttempts {
			t.Errorf("event %d: %d bus attempts, want %d", i, r.Bus.Attempts, wantAttempts)
		}
	}
	if n := l.inj.Calls(awstest.TargetPutEvents); n != 2 {
		t.Fatalf("%d PutEvents calls, want 2 (one batch, one resend of the 2 failed)", n)
	}
	// Exactly once each: busEnvelopes fails on a duplicate, and we ask for
	// one more than sent to see that nothing extra arrives.
	got := busEnvelopes(t, awstest.ReceiveAll(t, l.cfg, l.queue, len(evs)+1, 8*time.Second))
	if len(got) != len(evs) {
		t.Fatalf("bus delivered %d events, want %d", len(got), len(evs))
	}
}

func TestStreamKeepsKeyOrderWhenAMiddleRecordFails(t *testing.T) {
	t.Parallel()
	l := newLegs(t, false, 2)
	// A1 B1 A2 C1 A3 B2: the first call fails B1, in the middle of the batch.
	evs := orders(t, "A", "B", "A", "C", "A", "B")
	failed := false
	l.inj.FailNext(awstest.TargetPutRecords, func(_ int, entry json.RawMessage) (string, bool) {
		var rec struct{ PartitionKey string }
		_ = json.Unmarshal(entry, &rec)
		if rec.PartitionKey == "B" && !failed {
			failed = true
			return "", true
		}
		return "", false
	})
	results, err := l.publisher(t).Publish(context.Background(), evs...)
	if err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Fatal("the fault was never applied")
	}
	perKey := streamIDs(t, l)
	for key, want := range map[string][]string{
		"A": {evs[0].ID, evs[2].ID, evs[4].ID},
		"B": {evs[1].ID, evs[5].ID},
		"C": {evs[3].ID},
	} {
		if !slices.Equal(perKey[key], want) {
			t.Errorf("key %s on the stream: %v, want exactly %v in that order", key, perKey[key], want)
		}
	}
	if results[1].Stream.Attempts != 2 || results[5].Stream.Attempts != 1 {
		t.Fatalf("attempts B1=%d B2=%d, want 2 and 1", results[1].Stream.Attempts, results[5].Stream.Attempts)
	}
}

func TestStreamHoldsBackAKeyAfterAPermanentFailure(t *testing.T) {
	t.Parallel()
	l := newLegs(t, false, 1)
	evs := orders(t, "A", "B", "A", "A")
	l.inj.FailNext(awstest.TargetPutRecords, func(i int, _ json.RawMessage) (string, bool) {
		return "KMSAccessDeniedException", i == 0
	})
	results, err := l.publisher(t).Publish(context.Background(), evs...)
	var pubErr *producers.PublishError
	if !errors.As(err, &pubErr) || len(pubErr.Failed) != 3 {
		t.Fatalf("err = %v, want a PublishError for the 3 events of key A", err)
	}
	if results[0].Stream.Status != producers.Failed || results[0].Stream.Attempts != 1 || !strings.Contains(results[0].Stream.Err.Error(), "KMSAccessDeniedException") {
		t.Fatalf("A1 = %+v, want failed once, not retried", results[0].Stream)
	}
	for _, i := range []int{2, 3} {
		if r := results[i].Stream; r.Status != producers.NotSent || !errors.Is(r.Err, producers.ErrOrderHeld) {
			t.Fatalf("A%d = %+v, want held back", i, r)
		}
		if !results[i].Bus.OK() {
			t.Fatalf("A%d on the bus: %v; the bus has no order to keep", i, results[i].Bus)
		}
	}
	perKey := streamIDs(t, l)
	if len(perKey["A"]) != 0 || !slices.Equal(perKey["B"], []string{evs[1].ID}) {
		t.Fatalf("stream holds %v", perKey)
	}
}

func TestRetriesStopAtMaxAttempts(t *testing.T) {
	t.Parallel()
	l := newLegs(t, false, 1)
	for range 3 {
		l.inj.FailNext(awstest.TargetPutEvents, func(i int, _ json.RawMessage) (string, bool) { return "", i == 0 })
	}
	results, err := l.publisher(t, func(c *producers.Config) { c.MaxAttempts = 3 }).Publish(context.Background(), orders(t, "x", "y")...)
	if err == nil {
		t.Fatal("want an error")
	}
	r := results[0].Bus
	if r.Status != producers.Failed || r.Attempts != 3 || !strings.Contains(r.Err.Error(), "gave up after 3 attempts") || !strings.Contains(r.Err.Error(), "ThrottlingException") {
		t.Fatalf("bus result %+v", r)
	}
	if !results[1].OK() || !results[0].Stream.OK() {
		t.Fatalf("the other leg and event must go through: %+v", results)
	}
}

func TestWholeCallFailuresAreRetried(t *testing.T) {
	t.Parallel()
	l := newLegs(t, false, 1)
	// More than the SDK's own three attempts, so the publisher retries too.
	for range 4 {
		l.inj.FailNextCall(awstest.TargetPutRecords, awstest.CallFault{Status: 500, Code: "InternalFailure", Message: "injected"})
	}
	evs := orders(t, "k1", "k2")
	results, err := l.publisher(t).Publish(context.Background(), evs...)
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Stream.Attempts < 2 {
		t.Fatalf("stream attempts %d, want a publisher-level retry", results[0].Stream.Attempts)
	}
	perKey := streamIDs(t, l)
	if len(perKey["k1"]) != 1 || len(perKey["k2"]) != 1 {
		t.Fatalf("stream holds %v, want each event once", perKey)
	}
}

func TestBatchesRespectTheCallLimits(t *testing.T) {
	t.Parallel()
	l := newLegs(t, false, 4)
	evs := orders(t, distinctSubjects("o", 1001)...)
	if _, err := l.publisher(t).Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	// Full batches, never over the limit. A call the SDK sends again after
	// a dropped connection (the emulator under load) counts twice, so the
	// call counts allow one or two of those.
	if n := l.inj.MaxEntries(awstest.TargetPutEvents); n != 10 {
		t.Errorf("the largest PutEvents call carried %d entries, want 10", n)
	}
	if n := l.inj.Calls(awstest.TargetPutEvents); n < 101 || n > 103 {
		t.Errorf("%d PutEvents calls for 1001 events, want 101 (10 per call)", n)
	}
	if n := l.inj.MaxEntries(awstest.TargetPutRecords); n != 500 {
		t.Errorf("the largest PutRecords call carried %d records, want 500", n)
	}
	if n := l.inj.Calls(awstest.TargetPutRecords); n < 3 || n > 5 {
		t.Errorf("%d PutRecords calls for 1001 events, want 3 (500 per call)", n)
	}
	total := 0
	for _, ids := range streamIDs(t, l) {
		total += len(ids)
	}
	if total != len(evs) {
		t.Fatalf("stream holds %d records, want %d", total, len(evs))
	}
}

func TestStreamBatchesStayUnderTheByteLimit(t *testing.T) {
	t.Parallel()
	l := newLegs(t, false, 1)
	evs := orders(t, distinctSubjects("o", 20)...)
	size := len(mustJSON(t, evs[0])) + len(evs[0].Key())
	// Room for 7 records a call: 20 records take 3 calls.
	p := l.publisher(t, func(c *producers.Config) { c.MaxStreamBatchBytes = 7*size + size/2; c.MaxStreamRecordBytes = size + 10 })
	if _, err := p.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	if n := l.inj.Calls(awstest.TargetPutRecords); n != 3 {
		t.Fatalf("%d PutRecords calls, want 3", n)
	}
}

func TestRejectedEventsAreSentOnNeitherLeg(t *testing.T) {
	t.Parallel()
	l := newLegs(t, false, 1)
	good := order(t, "good")
	invalid := order(t, "invalid")
	invalid.Data = json.RawMessage(`{"orderId":"invalid","customerId":"c","items":[],"total":{"amountCents":-1,"currency":"EUR"}}`)
	big := order(t, "big")
	big.Data = json.RawMessage(`{"orderId":"` + strings.Repeat("x", 5000) + `","customerId":"c","items":[{"sku":"S","quantity":1,"unitPrice":{"amountCents":1,"currency":"EUR"}}],"total":{"amountCents":1,"currency":"EUR"}}`)
	unknown, _ := events.New("orders.OrderPlaced", 7, map[string]string{})
	p := l.publisher(t, func(c *producers.Config) { c.MaxBusEntryBytes = 4000 })
	results, err := p.Publish(context.Background(), invalid, good, big, unknown)
	var pubErr *producers.PublishError
	if !errors.As(err, &pubErr) || len(pubErr.Failed) != 3 {
		t.Fatalf("err = %v", err)
	}
	for i, want := range map[int]string{0: "/total/amountCents", 2: "over the 4000-byte limit", 3: "v7"} {
		r := results[i]
		if r.Bus.Status != producers.NotSent || r.Stream.Status != producers.NotSent || !strings.Contains(r.Bus.Err.Error(), want) {
			t.Errorf("event %d: %+v, want not sent, saying %q", i, r, want)
		}
	}
	if !errors.Is(results[2].Bus.Err, producers.ErrTooLarge) || !strings.Contains(results[2].Bus.Err.Error(), "bytes") {
		t.Errorf("oversized: %v", results[2].Bus.Err)
	}
	if !errors.Is(results[0].Bus.Err, producers.ErrInvalid) {
		t.Errorf("invalid: %v", results[0].Bus.Err)
	}
	if !results[1].OK() {
		t.Fatalf("the valid event must still go: %+v", results[1])
	}
	if perKey := streamIDs(t, l); len(perKey) != 1 || len(perKey["good"]) != 1 {
		t.Fatalf("stream holds %v, want only the valid event", perKey)
	}
	if n := l.inj.Calls(awstest.TargetPutEvents); n != 1 {
		t.Fatalf("%d PutEvents calls, want 1", n)
	}
}

func TestMissingBusFailsBeforeSendingAnything(t *testing.T) {
	t.Parallel()
	l := newLegs(t, false, 1)
	missing, err := bus.NewFromConfig(l.cfg, bus.Config{BusName: awstest.Name(t, "nobus")})
	if err != nil {
		t.Fatal(err)
	}
	p, err := producers.New(producers.Config{Bus: missing, Stream: l.stream, Validator: schemas.Sample()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Publish(context.Background(), order(t, "o"))
	if !errors.Is(err, producers.ErrNotFound) || !strings.Contains(err.Error(), "bus") {
		t.Fatalf("err = %v, want ErrNotFound naming the bus", err)
	}
	if n := l.inj.Calls(awstest.TargetPutRecords); n != 0 {
		t.Fatalf("%d PutRecords calls: nothing may be sent when a leg is missing", n)
	}
}

func TestUnreachableEndpointErrsWithinTheDeadline(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	cfg.BaseEndpoint = awsString("http://127.0.0.1:1") // nothing listens on port 1
	b, _ := bus.NewFromConfig(cfg, bus.Config{BusName: "b"})
	s, _ := stream.NewFromConfig(cfg, stream.Config{StreamName: "s"})
	p, _ := producers.New(producers.Config{Bus: b, Stream: s, Validator: schemas.Sample()})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := p.Publish(ctx, order(t, "o")); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("publishing to nothing succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Publish hung past its deadline")
	}
}

func TestConcurrentPublishers(t *testing.T) {
	t.Parallel()
	l := newLegs(t, false, 2)
	p := l.publisher(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.Publish(context.Background(), orders(t, distinctSubjects(string(rune('a'+g)), 20)...)...)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for _, ids := range streamIDs(t, l) {
		total += len(ids)
	}
	if total != 160 {
		t.Fatalf("stream holds %d records, want 160", total)
	}
}

func TestConfigSaysWhatIsMissing(t *testing.T) {
	_, err := producers.New(producers.Config{})
	for _, want := range []string{"no bus", "no stream", "no validator"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %q", err, want)
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func awsString(s string) *string { return &s }
