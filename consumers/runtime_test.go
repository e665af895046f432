package consumers_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/aws/idempotency"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/awstest"
)

func TestDuplicateBusDeliveryHasOneEffect(t *testing.T) {
	t.Parallel()
	r, p := newRig(t), newProbe()
	rt := r.runtime(t, p.consumer("probe", true))
	payload := busPayload(t, order(t, "o-1", "ok"))
	for range 3 {
		if _, err := invoke(t, rt.LambdaBus, payload); err != nil {
			t.Fatal(err)
		}
	}
	var e struct{ Detail events.Envelope }
	_ = json.Unmarshal(payload, &e)
	if n := p.count(e.Detail.ID); n != 1 {
		t.Fatalf("handler ran %d times for 3 deliveries, want 1", n)
	}
	r.deadLetters(t, 0)
}

func TestConcurrentDuplicatesRunTheHandlerOnce(t *testing.T) {
	t.Parallel()
	r, p := newRig(t), newProbe()
	// moto checks a PutItem condition and writes without a lock between,
	// so two concurrent Acquires can both win there (never on DynamoDB).
	// The race of the runtime is what this test is about: run it on the
	// embedded store, which is atomic, as DynamoDB is.
	r.store = localStore(t)
	rt := r.runtime(t, p.consumer("probe", true))
	e := order(t, "o-1", "slow")
	payload := busPayload(t, e)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); _, err := invoke(t, rt.LambdaBus, payload); errs <- err }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		// A duplicate that outlasts its retries while the first run holds
		// the key goes back to Lambda as retryable: never a second run.
		if err != nil && !strings.Contains(err.Error(), "holds this event's idempotency key") {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if n := p.count(e.ID); n != 1 {
		t.Fatalf("handler ran %d times for 8 concurrent deliveries, want 1", n)
	}
}

func TestAFailureReleasesTheKey(t *testing.T) {
	t.Parallel()
	r, p := newRig(t), newProbe()
	c := p.consumer("probe", true)
	rt := r.runtime(t, c)
	e := order(t, "o-1", "flaky") // fails on its first run only
	if _, err := invoke(t, rt.LambdaBus, busPayload(t, e)); err != nil {
		t.Fatal(err) // the in-process retry runs it again
	}
	if n := p.count(e.ID); n != 1 {
		t.Fatalf("runs = %d, want 1 success after the failed run released the key", n)
	}
}

func TestBusHandlerErrorGoesBackToLambda(t *testing.T) {
	t.Parallel()
	r, p := newRig(t), newProbe()
	rt := r.runtime(t, p.consumer("probe", true))
	_, err := invoke(t, rt.LambdaBus, busPayload(t, order(t, "o-1", "fail")))
	if err == nil || !strings.Contains(err.Error(), "injected handler failure") {
		t.Fatalf("err = %v: a retryable failure must reach Lambda (async retries, then OnFailure)", err)
	}
	r.deadLetters(t, 0)
}

func TestBusPermanentFailureIsDeadLettered(t *testing.T) {
	t.Parallel()
	r, p := newRig(t), newProbe()
	rt := r.runtime(t, p.consumer("probe", true))
	e := order(t, "o-1", "permanent")
	if _, err := invoke(t, rt.LambdaBus, busPayload(t, e)); err != nil {
		t.Fatal(err)
	}
	dl := r.deadLetters(t, 1)[0]
	if dl.Envelope == nil || dl.Envelope.ID != e.ID || dl.Consumer != "probe" || dl.Reason != "handler" ||
		dl.Attempts != 1 || dl.Origin.Source != "bus" || !strings.Contains(dl.Error, "injected permanent failure") {
		t.Fatalf("dead letter %+v", dl)
	}
}

func TestPoisonRecordMidBatchIsParkedAndTheRestRunsInOrder(t *testing.T) {
	t.Parallel()
	r, p := newRig(t), newProbe()
	rt := r.runtime(t, p.consumer("probe", false))
	a1, a2, a3 := order(t, "A", "ok"), order(t, "A", "fail"), order(t, "A", "ok")
	b1, b2 := order(t, "B", "ok"), order(t, "B", "panic")
	out, err := invoke(t, rt.LambdaStream, kinesisPayload(t, r.stream, a1, b1, a2, b2, a3))
	if err != nil {
		t.Fatal(err)
	}
	if f := failures(t, out); len(f) != 0 {
		t.Fatalf("batch item failures %v: the poison records are dead-lettered, not reported", f)
	}
	if got := p.order["A"]; !slices.Equal(got, []string{a1.ID, a3.ID}) {
		t.Fatalf("key A handled %v, want a1 then a3", got)
	}
	if got := p.order["B"]; !slices.Equal(got, []string{b1.ID}) {
		t.Fatalf("key B handled %v", got)
	}
	byID := map[string]consumers.DeadLetter{}
	for _, dl := range r.deadLetters(t, 2) {
		byID[dl.Envelope.ID] = dl
	}
	fail, panicked := byID[a2.ID], byID[b2.ID]
	if fail.Reason != "handler" || fail.Attempts != 3 || fail.Origin.Source != "stream" || fail.Origin.Shard != "shardId-000000000000" ||
		!strings.HasSuffix(fail.Origin.SequenceNumber, "0002") || fail.FirstFailure.IsZero() || fail.LastFailure.Before(fail.FirstFailure) {
		t.Fatalf("dead letter of the failing record: %+v", fail)
	}
	want, _ := json.Marshal(a2)
	got, _ := json.Marshal(fail.Envelope)
	if string(want) != string(got) {
		t.Fatalf("the DLQ must keep the full payload:\n%s\n%s", want, got)
	}
	if panicked.Reason != "panic" || !strings.Contains(panicked.Error, "injected panic") {
		t.Fatalf("dead letter of the panicking record: %+v", panicked)
	}
}

func TestUndecodableAndUnknownRecordsAreDeadLetteredWithAReason(t *testing.T) {
	t.Parallel()
	r, p := newRig(t), newProbe()
	rt := r.runtime(t, p.consumer("probe", false))
	newer := order(t, "C", "ok")
	newer.DataVersion = 9
	unknown, _ := events.New("orders.OrderShipped", 1, map[string]string{"orderId": "x"}, events.WithSubject("D"))
	invalid := order(t, "E", "ok")
	invalid.Data = json.RawMessage(`{"orderId":"E","customerId":"ok","items":[],"total":{"amountCents":1,"currency":"EUR"}}`)
	out, err := invoke(t, rt.LambdaStream, kinesisPayload(t, r.stream, []byte("not json \xff"), newer, unknown, invalid))
	if err != nil {
		t.Fatal(err)
	}
	if f := failures(t, out); len(f) != 0 {
		t.Fatalf("failures %v", f)
	}
	reasons := map[string]consumers.DeadLetter{}
	for _, dl := range r.deadLetters(t, 4) {
		reasons[dl.Reason] = dl
	}
	if dl := reasons["decode"]; dl.Envelope != nil || len(dl.Raw) == 0 {
		t.Fatalf("undecodable record: %+v (want the raw payload kept)", dl)
	}
	for _, reason := range []string{"unknown-version", "unknown-type", "schema"} {
		if dl, ok := reasons[reason]; !ok || dl.Envelope == nil {
			t.Fatalf("no %s dead letter with its envelope in %v", reason, reasons)
		}
	}
	if len(p.runs) != 0 {
		t.Fatalf("the handler ran: %v", p.runs)
	}
}

func TestIdempotencyStoreOutageFailsTheBatchVisibly(t *testing.T) {
	t.Parallel()
	r, p := newRig(t), newProbe()
	cfg := awstest.Config(t)
	cfg.BaseEndpoint = awsString("http://127.0.0.1:1")
	down, _ := idempotency.NewFromConfig(cfg, idempotency.Config{TableName: "down"})
	r.store = down
	rt := r.runtime(t, p.consumer("probe", false))
	a1, a2, b1 := order(t, "A", "ok"), order(t, "A", "ok"), order(t, "B", "ok")
	out, err := invoke(t, rt.LambdaStream, kinesisPayload(t, r.stream, a1, a2, b1))
	if err != nil {
		t.Fatal(err)
	}
	if f := failures(t, out); len(f) != 3 {
		t.Fatalf("failures %v: every record must be reported when the store is down", f)
	}
	if len(p.runs) != 0 {
		t.Fatalf("handler ran without idempotency: %v", p.runs)
	}
	r.deadLetters(t, 0)

	// The same records replayed by an asynchronous invoke (troupe dlq
	// replay): no one reads a batch item failure there, so the function
	// fails, for Lambda's async retries and OnFailure destination.
	replay := strings.ReplaceAll(string(kinesisPayload(t, r.stream, a1, a2, b1)), `"aws:kinesis:record"`, `"`+consumers.ReplayEventName+`"`)
	if _, err := invoke(t, rt.LambdaStream, []byte(replay)); err == nil || !strings.Contains(err.Error(), consumers.ErrReplayNotDone.Error()) {
		t.Fatalf("replayed records neither handled nor dead-lettered: err = %v, want %v", err, consumers.ErrReplayNotDone)
	}

	// The bus consumer returns the error to Lambda.
	rtBus := r.runtime(t, p.consumer("probe-bus", true))
	if _, err := invoke(t, rtBus.LambdaBus, busPayload(t, a1)); err == nil || !consumers.IsInfrastructure(errors.Unwrap(err)) && !strings.Contains(err.Error(), "idempotency store") {
		t.Fatalf("bus: err = %v", err)
	}
}

func TestForeignBusEventsAreWrapped(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../testdata/aws/eventbridge-event-foreign.json")
	if err != nil {
		t.Fatal(err)
	}
	e, err := consumers.EnvelopeFromBus(raw)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "0d4c2a9e-6f1b-4a7e-9c3d-2b8e5f7a1c90" || e.Type != "payments.PaymentDeclined" || e.Source != "legacy.billing" ||
		e.DataVersion != 1 || !e.Time.Equal(time.Date(2025, 3, 14, 10, 2, 11, 0, time.UTC)) {
		t.Fatalf("wrapped %+v", e)
	}
	var ev map[string]json.RawMessage
	_ = json.Unmarshal(raw, &ev)
	if string(e.Data) != string(ev["detail"]) {
		t.Fatalf("data %s, want the detail %s", e.Data, ev["detail"])
	}
	withVersion := strings.Replace(string(raw), `"reason": "card expired"`, `"reason": "card expired", "dataversion": 3`, 1)
	if e, err = consumers.EnvelopeFromBus([]byte(withVersion)); err != nil || e.DataVersion != 3 || strings.Contains(string(e.Data), "dataversion") {
		t.Fatalf("dataversion in the detail: %+v, %v", e, err)
	}
	// A system that knows nothing of troupe may send JSON that is loose but
	// valid to EventBridge and to encoding/json: a name given twice. It is
	// delivered as it came, not refused at the consumer.
	twice := strings.Replace(string(raw), `"reason": "card expired"`, `"reason": "card expired", "reason": "card lost"`, 1)
	if e, err = consumers.EnvelopeFromBus([]byte(twice)); err != nil || !strings.Contains(string(e.Data), `"card lost"`) {
		t.Fatalf("a detail with a name given twice: %+v, %v", e, err)
	}
}

func TestTroupeBusEventSampleDecodes(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../testdata/aws/eventbridge-event.json")
	if err != nil {
		t.Fatal(err)
	}
	e, err := consumers.EnvelopeFromBus(raw)
	if err != nil || e.ID != "019593fa-5d95-744e-b7fd-bf94c690a9c1" || e.DataVersion != 2 {
		t.Fatalf("%+v, %v", e, err)
	}
	broken := strings.Replace(string(raw), `"detail-type": "orders.OrderPlaced"`, `"detail-type": "orders.OrderCancelled"`, 1)
	if _, err := consumers.EnvelopeFromBus([]byte(broken)); err == nil {
		t.Fatal("a detail-type that contradicts the envelope must be refused")
	}
}

func awsString(s string) *string { return &s }

func TestAwsEventBridgeSampleInvokesTheConsumer(t *testing.T) {
	t.Parallel()
	r, p := newRig(t), newProbe()
	rt := r.runtime(t, p.consumer("probe", true))
	payload, err := os.ReadFile("../testdata/aws/eventbridge-event.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := invoke(t, rt.LambdaBus, payload); err != nil {
		t.Fatal(err)
	}
	if n := p.count("019593fa-5d95-744e-b7fd-bf94c690a9c1"); n != 1 {
		t.Fatalf("handler ran %d times for the sample event", n)
	}
}

func TestADeadLetterTooLargeForTheQueueIsReportedNotLost(t *testing.T) {
	t.Parallel()
	r, p := newRig(t), newProbe()
	// A queue whose limit no dead letter fits, as a 256 KiB queue would be
	// for a large event.
	small := awstest.NewQueue(t, r.cfg, map[string]string{"MaximumMessageSize": "1024"})
	r.dlq, _ = deadletter.NewFromConfig(r.cfg, deadletter.Config{QueueURL: small, MaxMessageBytes: 1024})
	rt := r.runtime(t, p.consumer("probe", false))
	big := order(t, "A", "fail")
	big.Data = json.RawMessage(strings.Replace(string(big.Data), `"sku":"S"`, `"sku":"`+randomText(4000)+`"`, 1))
	after := order(t, "A", "ok")
	out, err := invoke(t, rt.LambdaStream, kinesisPayload(t, r.stream, big, after))
	if err != nil {
		t.Fatal(err)
	}
	if f := failures(t, out); len(f) != 2 {
		t.Fatalf("failures %v: the record the DLQ refused, and the one of its key behind it, must be delivered again", f)
	}
	if len(p.runs) != 0 {
		t.Fatalf("the record behind the refused one ran: %v", p.runs)
	}
}

// randomText is incompressible text of n characters.
func randomText(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}
