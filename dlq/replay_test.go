package dlq_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/events/pattern"
)

// memQueue is a dlq.Queue in memory with SQS's visibility: a received
// message is in flight until deleted or released.
type memQueue struct {
	mu       sync.Mutex
	msgs     map[string]dlq.Entry
	order    []string
	inFlight map[string]bool
	deletes  int // Delete calls
	failDel  map[string]bool
}

func newMemQueue() *memQueue {
	return &memQueue{msgs: map[string]dlq.Entry{}, inFlight: map[string]bool{}, failDel: map[string]bool{}}
}

func (q *memQueue) add(body string, attrs map[string]string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	id := "m" + strconv.Itoa(len(q.order)+1)
	q.msgs[id] = dlq.Entry{Queue: "mem", ID: id, Body: body, Attributes: attrs, SentAt: time.Now()}
	q.order = append(q.order, id)
	return id
}

func (q *memQueue) ids() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, id := range q.order {
		if _, ok := q.msgs[id]; ok {
			out = append(out, id)
		}
	}
	return out
}

func (q *memQueue) Info(context.Context) (dlq.QueueInfo, error) {
	return dlq.QueueInfo{Queue: "mem", Depth: len(q.ids())}, nil
}

func (q *memQueue) Receive(_ context.Context, max int) ([]dlq.Entry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []dlq.Entry
	for _, id := range q.order {
		e, ok := q.msgs[id]
		if !ok || q.inFlight[id] || len(out) == max {
			continue
		}
		q.inFlight[id] = true
		e.Handle = id
		out = append(out, e)
	}
	return out, nil
}

func (q *memQueue) Delete(_ context.Context, es []dlq.Entry) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.deletes++
	failed := map[string]error{}
	for _, e := range es {
		if q.failDel[e.ID] {
			failed[e.ID] = errors.New("access denied")
			continue
		}
		delete(q.msgs, e.Handle)
		delete(q.inFlight, e.Handle)
	}
	if len(failed) > 0 {
		return &dlq.DeleteError{Failed: failed}
	}
	return nil
}

func (q *memQueue) Release(_ context.Context, es []dlq.Entry) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range es {
		delete(q.inFlight, e.Handle)
	}
	return nil
}

// recorder is a Redeliverer that records what it was given and fails the
// events whose ids are in fail.
type recorder struct {
	mu    sync.Mutex
	got   []string // event ids, in order of calls
	times []time.Time
	fail  map[string]bool
	after func(n int) // called after the n-th redelivery
}

func (r *recorder) Redeliver(_ context.Context, e dlq.Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Message.Event == nil {
		return errors.New("no event to redeliver")
	}
	if r.fail[e.Message.Event.ID] {
		return fmt.Errorf("consumer %s: function not found", e.Message.Consumer)
	}
	r.got = append(r.got, e.Message.Event.ID)
	r.times = append(r.times, time.Now())
	if r.after != nil {
		r.after(len(r.got))
	}
	return nil
}

// deadLetterBody is troupe's DLQ message for an OrderPlaced event with id,
// failed by consumer.
func deadLetterBody(t *testing.T, consumer, id string) (string, map[string]string) {
	t.Helper()
	env := events.Envelope{
		SpecVersion: "1.0", ID: id, Source: "com.example.orders", Type: "orders.OrderPlaced",
		Time: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), DataVersion: 2, CorrelationID: "c-" + id,
		Data: json.RawMessage(`{"order":"o-` + id + `"}`),
	}
	dl := consumers.DeadLetter{
		Envelope: &env, Consumer: consumer, Error: "boom", Reason: "handler", Attempts: 3,
		FirstFailure: time.Now().Add(-time.Minute), LastFailure: time.Now(), Origin: consumers.Origin{Source: "bus"},
	}
	body, attrs, err := deadletter.EncodeMessage(dl, 0)
	if err != nil {
		t.Fatal(err)
	}
	return body, stringAttrs(attrs)
}

func stringAttrs(in map[string]types.MessageAttributeValue) map[string]string {
	out := map[string]string{}
	for k, v := range in {
		if v.StringValue != nil {
			out[k] = *v.StringValue
		}
	}
	return out
}

func fill(t *testing.T, q *memQueue, consumer string, n int) []string {
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%02d", consumer, i)
		q.add(deadLetterBody(t, consumer, id))
		ids = append(ids, id)
	}
	return ids
}

func TestReplayRedeliversAndDeletesOnlyWhatWasAcknowledged(t *testing.T) {
	q := newMemQueue()
	ids := fill(t, q, "payments", 12)
	junk := q.add("not json at all", nil)
	to := &recorder{fail: map[string]bool{ids[3]: true}}
	var results []dlq.Result
	sum, err := dlq.Replay(context.Background(), dlq.ReplayConfig{
		Queue: q, To: to, Concurrency: 4, OnResult: func(r dlq.Result) { results = append(results, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := dlq.Summary{Seen: 13, Selected: 12, Replayed: 11, Deleted: 11, Failed: 1, Unreadable: 1}
	if sum != want {
		t.Fatalf("summary %+v, want %+v", sum, want)
	}
	if sum.OK() {
		t.Error("OK() with a failure and an unreadable message")
	}
	left := q.ids()
	if !slices.Equal(left, []string{"m4", junk}) {
		t.Errorf("left in the queue: %v, want the failed one (m4) and the unreadable one", left)
	}
	q.mu.Lock()
	inFlight := len(q.inFlight)
	q.mu.Unlock()
	if inFlight != 0 {
		t.Errorf("%d messages still in flight after the replay: they must be released", inFlight)
	}
	got := slices.Clone(to.got)
	sort.Strings(got)
	wantIDs := slices.Delete(slices.Clone(ids), 3, 4)
	if !slices.Equal(got, wantIDs) {
		t.Errorf("redelivered %v, want %v", got, wantIDs)
	}
	actions := map[dlq.Action]int{}
	for _, r := range results {
		actions[r.Action]++
		if r.Action == dlq.Failed && (r.Err == nil || r.Deleted) {
			t.Errorf("failed result %+v: want its error and not deleted", r)
		}
	}
	if actions[dlq.Replayed] != 11 || actions[dlq.Failed] != 1 || actions[dlq.Unreadable] != 1 {
		t.Errorf("results by action: %v", actions)
	}
}

func TestReplayDryRunTouchesNothing(t *testing.T) {
	q := newMemQueue()
	fill(t, q, "payments", 5)
	before := q.ids()
	to := &recorder{}
	sum, err := dlq.Replay(context.Background(), dlq.ReplayConfig{Queue: q, To: to, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Selected != 5 || sum.Replayed != 0 || sum.Deleted != 0 {
		t.Errorf("dry run summary %+v", sum)
	}
	if len(to.got) != 0 || q.deletes != 0 || !slices.Equal(q.ids(), before) {
		t.Errorf("dry run redelivered %v, deleted %d times; queue %v (was %v)", to.got, q.deletes, q.ids(), before)
	}
}

func TestReplaySelectsKeepsAndLimits(t *testing.T) {
	q := newMemQueue()
	pay := fill(t, q, "payments", 4)
	fill(t, q, "shipping", 4)
	to := &recorder{}
	sum, err := dlq.Replay(context.Background(), dlq.ReplayConfig{
		Queue: q, To: to, Select: dlq.Selector{Consumer: "payments"}, Keep: true, Limit: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Selected != 3 || sum.Replayed != 3 || sum.Deleted != 0 {
		t.Errorf("summary %+v, want 3 selected and replayed, none deleted (Keep)", sum)
	}
	if !slices.Equal(to.got, pay[:3]) {
		t.Errorf("redelivered %v, want %v", to.got, pay[:3])
	}
	if n := len(q.ids()); n != 8 {
		t.Errorf("%d messages left, want all 8 (Keep)", n)
	}

	f, err := pattern.Compile([]byte(fmt.Sprintf(`{"detail": {"data": {"order": ["o-%s"]}}}`, pay[2])))
	if err != nil {
		t.Fatal(err)
	}
	to = &recorder{}
	if _, err := dlq.Replay(context.Background(), dlq.ReplayConfig{Queue: q, To: to, Select: dlq.Selector{Filter: f}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(to.got, []string{pay[2]}) || len(q.ids()) != 7 {
		t.Errorf("filtered replay redelivered %v, left %d messages; want only %s, 7 left", to.got, len(q.ids()), pay[2])
	}
}

func TestReplayRateLimitHolds(t *testing.T) {
	q := newMemQueue()
	fill(t, q, "payments", 6)
	to := &recorder{}
	const perSecond = 20
	if _, err := dlq.Replay(context.Background(), dlq.ReplayConfig{Queue: q, To: to, Rate: perSecond, Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
	if len(to.times) != 6 {
		t.Fatalf("%d redeliveries, want 6", len(to.times))
	}
	// A token bucket of burst 1: n redeliveries span at least (n-1)/rate.
	span := to.times[len(to.times)-1].Sub(to.times[0])
	if min := 5 * time.Second / perSecond; span < min-5*time.Millisecond {
		t.Errorf("6 redeliveries at %d/s took %v, want at least %v", perSecond, span, min)
	}
}

func TestReplayKilledMidwayLosesNothingAndTheNextRunFinishes(t *testing.T) {
	q := newMemQueue()
	ids := fill(t, q, "payments", 25)
	ctx, cancel := context.WithCancel(context.Background())
	first := &recorder{after: func(n int) {
		if n == 13 {
			cancel() // the user presses Ctrl-C in the middle of the second batch
		}
	}}
	sum, err := dlq.Replay(ctx, dlq.ReplayConfig{Queue: q, To: first})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted replay: err %v, want context.Canceled", err)
	}
	if sum.Deleted != len(first.got) {
		t.Errorf("deleted %d, redelivered %d: every acknowledged message is deleted, even after Ctrl-C", sum.Deleted, len(first.got))
	}
	second := &recorder{}
	if _, err := dlq.Replay(context.Background(), dlq.ReplayConfig{Queue: q, To: second}); err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(first.got), second.got...)
	sort.Strings(all)
	if !slices.Equal(slices.Compact(all), ids) {
		t.Errorf("over both runs redelivered %v, want every one of %v", all, ids)
	}
	if left := q.ids(); len(left) != 0 {
		t.Errorf("left %v", left)
	}
}

func TestReplayReportsADeleteThatFailedAfterTheRedelivery(t *testing.T) {
	q := newMemQueue()
	fill(t, q, "payments", 3)
	q.failDel["m2"] = true
	var failed []dlq.Result
	sum, err := dlq.Replay(context.Background(), dlq.ReplayConfig{Queue: q, To: &recorder{}, OnResult: func(r dlq.Result) {
		if r.Err != nil {
			failed = append(failed, r)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Replayed != 3 || sum.Deleted != 2 || sum.Failed != 1 || len(failed) != 1 || failed[0].Entry.ID != "m2" || failed[0].Deleted {
		t.Errorf("summary %+v, failed %+v", sum, failed)
	}
	if !slices.Equal(q.ids(), []string{"m2"}) {
		t.Errorf("left %v, want m2", q.ids())
	}
}

func TestExportThenReplayFromFileWithAnEditedEvent(t *testing.T) {
	q := newMemQueue()
	ids := fill(t, q, "payments", 3)
	q.add("{}", nil) // unreadable: reported, not exported, kept
	var buf bytes.Buffer
	sum, err := dlq.Export(context.Background(), dlq.ExportConfig{Queue: q, Drain: true, Write: func(ls []dlq.Line) error {
		for _, l := range ls {
			if err := json.NewEncoder(&buf).Encode(l); err != nil {
				return err
			}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Selected != 3 || sum.Deleted != 3 || sum.Unreadable != 1 || len(q.ids()) != 1 {
		t.Fatalf("export summary %+v, queue %v", sum, q.ids())
	}

	// Edit the second line's event data, as a user would in an editor.
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	var l dlq.Line
	if err := json.Unmarshal(lines[1], &l); err != nil {
		t.Fatal(err)
	}
	l.Event.Data = json.RawMessage(`{"order":"fixed"}`)
	lines[1], _ = json.Marshal(l)
	entries, err := dlq.ReadLines(bytes.NewReader(bytes.Join(lines, []byte("\n"))))
	if err != nil {
		t.Fatal(err)
	}
	var sent []dlq.Entry
	to := redeliverFunc(func(_ context.Context, e dlq.Entry) error { sent = append(sent, e); return nil })
	rsum, err := dlq.Replay(context.Background(), dlq.ReplayConfig{From: entries, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if rsum.Replayed != 3 || rsum.Deleted != 0 || len(sent) != 3 {
		t.Fatalf("replay from file: %+v", rsum)
	}
	if sent[1].Message.Event.ID != ids[1] || string(sent[1].Message.Event.Data) != `{"order":"fixed"}` || sent[1].Message.Consumer != "payments" {
		t.Errorf("second redelivery: %+v, want event %s with the edited data, for payments", sent[1].Message, ids[1])
	}

	if _, err := dlq.ReadLines(bytes.NewReader([]byte("{\"queue\":1}\n"))); err == nil {
		t.Error("ReadLines took a line that is not an export line")
	}
}

type redeliverFunc func(context.Context, dlq.Entry) error

func (f redeliverFunc) Redeliver(ctx context.Context, e dlq.Entry) error { return f(ctx, e) }

func TestPurgeDeletesTheSelectedAfterADryRun(t *testing.T) {
	q := newMemQueue()
	fill(t, q, "payments", 3)
	fill(t, q, "shipping", 2)
	sum, err := dlq.Purge(context.Background(), dlq.PurgeConfig{Queue: q, Select: dlq.Selector{Consumer: "shipping"}, DryRun: true})
	if err != nil || sum.Selected != 2 || sum.Purged != 0 || len(q.ids()) != 5 {
		t.Fatalf("dry-run purge: %+v, %v; queue %v", sum, err, q.ids())
	}
	sum, err = dlq.Purge(context.Background(), dlq.PurgeConfig{Queue: q, Select: dlq.Selector{Consumer: "shipping"}})
	if err != nil || sum.Purged != 2 || len(q.ids()) != 3 {
		t.Fatalf("purge: %+v, %v; queue %v", sum, err, q.ids())
	}
}
