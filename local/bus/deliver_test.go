package bus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/troupehq/troupe/events/pattern"
	"github.com/troupehq/troupe/local/bus"
	"github.com/troupehq/troupe/producers"
)

// flaky fails each event's first n deliveries, counting calls per event id.
type flaky struct {
	n     int
	mu    sync.Mutex
	calls map[string]int
}

func (f *flaky) Deliver(_ context.Context, ev []byte) error {
	var e bus.Event
	json.Unmarshal(ev, &e)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[e.ID]++
	if c := f.calls[e.ID]; c <= f.n {
		return fmt.Errorf("attempt %d: %w", c, errTarget)
	}
	return nil
}

func (f *flaky) callsOf(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

var errTarget = errors.New("target unavailable")

// deadLetters records DeadLetter calls.
type deadLetters struct {
	mu    sync.Mutex
	got   []deadLetter
	fails int // fail this many calls first
	calls int
}

type deadLetter struct {
	id       string
	cause    error
	attempts int
}

func (d *deadLetters) DeadLetter(_ context.Context, ev []byte, cause error, attempts int) error {
	var e bus.Event
	json.Unmarshal(ev, &e)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if d.calls <= d.fails {
		return errors.New("dead-letter queue unavailable")
	}
	d.got = append(d.got, deadLetter{e.ID, cause, attempts})
	return nil
}

func (d *deadLetters) list() []deadLetter {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]deadLetter(nil), d.got...)
}

func TestRetries(t *testing.T) {
	t.Parallel()
	const fails = 3
	for _, tc := range []struct {
		maxRetries   int
		deadLettered bool
	}{
		{fails, false},     // the 4th attempt, the 3rd retry, succeeds
		{fails + 2, false}, // same, with retries to spare
		{fails - 1, true},  // 3 attempts, all failed
		{0, true},          // 1 attempt
	} {
		t.Run(fmt.Sprintf("MaximumRetryAttempts=%d", tc.maxRetries), func(t *testing.T) {
			t.Parallel()
			b := openBus(t, openDB(t, ""), bus.Config{})
			f := &flaky{n: fails}
			dl := &deadLetters{}
			if err := b.AddTarget(bus.Target{
				Name: "t", Deliver: f.Deliver, DeadLetter: dl.DeadLetter, Backoff: fast,
				RetryPolicy: bus.RetryPolicy{MaximumRetryAttempts: new(tc.maxRetries)},
			}); err != nil {
				t.Fatal(err)
			}
			start(t, b)
			id := send(t, b, entry(0))[0]
			eventually(t, "the event to be done", func() bool { s := b.Stats()["t"]; return s.Pending == 0 && s.Backlog == 0 })
			s := b.Stats()["t"]
			if !tc.deadLettered {
				if s.Delivered != 1 || s.Retried != fails || s.DeadLettered != 0 || f.callsOf(id) != fails+1 {
					t.Errorf("stats %+v after %d calls; want delivered on call %d after %d retries", s, f.callsOf(id), fails+1, fails)
				}
				return
			}
			attempts := tc.maxRetries + 1
			got := dl.list()
			if len(got) != 1 || got[0].id != id || got[0].attempts != attempts || !errors.Is(got[0].cause, errTarget) ||
				got[0].cause.Error() != fmt.Sprintf("attempt %d: %v", attempts, errTarget) {
				t.Fatalf("dead letters %+v; want event %s after %d attempts, with the last error", got, id, attempts)
			}
			if s.DeadLettered != 1 || s.Delivered != 0 || s.Retried != int64(tc.maxRetries) || f.callsOf(id) != attempts {
				t.Errorf("stats %+v after %d calls", s, f.callsOf(id))
			}
		})
	}
}

// TestMaximumEventAge: retries end when the event is older than
// MaximumEventAgeInSeconds, however many retries are left.
func TestMaximumEventAge(t *testing.T) {
	t.Parallel()
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var offset atomic.Int64
	b := openBus(t, openDB(t, ""), bus.Config{Now: func() time.Time { return base.Add(time.Duration(offset.Load())) }})
	var calls atomic.Int32
	dl := &deadLetters{}
	if err := b.AddTarget(bus.Target{
		Name: "t", Backoff: fast, DeadLetter: dl.DeadLetter,
		RetryPolicy: bus.RetryPolicy{MaximumEventAgeInSeconds: 60},
		Deliver: func(context.Context, []byte) error {
			if calls.Add(1) == 2 {
				offset.Store(int64(61 * time.Second))
			}
			return errTarget
		},
	}); err != nil {
		t.Fatal(err)
	}
	start(t, b)
	id := send(t, b, entry(0))[0]
	eventually(t, "a dead letter", func() bool { return len(dl.list()) == 1 })
	if got := dl.list()[0]; got.id != id || got.attempts != 2 || calls.Load() != 2 {
		t.Errorf("dead letter %+v after %d calls; want the event after 2 attempts, the clock past 60s", got, calls.Load())
	}
}

// TestDeadLetterFails: an event whose dead letter fails stays pending, and
// its dead letter is tried again until it is taken.
func TestDeadLetterFails(t *testing.T) {
	t.Parallel()
	b := openBus(t, openDB(t, ""), bus.Config{})
	dl := &deadLetters{fails: 3}
	if err := b.AddTarget(bus.Target{
		Name: "t", Backoff: fast, DeadLetter: dl.DeadLetter, RetryPolicy: bus.RetryPolicy{MaximumRetryAttempts: new(1)},
		Deliver: func(context.Context, []byte) error { return errTarget },
	}); err != nil {
		t.Fatal(err)
	}
	start(t, b)
	id := send(t, b, entry(0))[0]
	eventually(t, "a dead letter", func() bool { return len(dl.list()) == 1 })
	if got := dl.list()[0]; got.id != id || got.attempts != 2 || dl.calls != 4 {
		t.Errorf("dead letter %+v after %d calls; want the event, 2 attempts, on the 4th call", got, dl.calls)
	}
	eventually(t, "stats", func() bool { s := b.Stats()["t"]; return s.Pending == 0 && s.DeadLettered == 1 })
}

// TestDeadLetterDownStaysOnDisk: while the dead letter keeps failing the
// event stays pending, on disk too: after a restart it is delivered.
func TestDeadLetterDownStaysOnDisk(t *testing.T) {
	t.Parallel()
	db := openDB(t, "")
	b1 := openBus(t, db, bus.Config{})
	dl := &deadLetters{fails: 1 << 30}
	if err := b1.AddTarget(bus.Target{
		Name: "t", Backoff: fast, DeadLetter: dl.DeadLetter, RetryPolicy: bus.RetryPolicy{MaximumRetryAttempts: new(0)},
		Deliver: func(context.Context, []byte) error { return errTarget },
	}); err != nil {
		t.Fatal(err)
	}
	start(t, b1)
	id := send(t, b1, entry(0))[0]
	eventually(t, "dead letters to fail", func() bool { dl.mu.Lock(); defer dl.mu.Unlock(); return dl.calls >= 3 })
	if s := b1.Stats()["t"]; s.Pending != 1 {
		t.Errorf("stats %+v; want the event pending", s)
	}
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := openBus(t, db, bus.Config{})
	rec := newRecorder()
	if err := b2.AddTarget(bus.Target{Name: "t", Deliver: rec.Deliver}); err != nil {
		t.Fatal(err)
	}
	start(t, b2)
	if got := rec.wait(t, 1); len(got) != 1 || got[0].ID != id {
		t.Errorf("after restart got %v, want %s", idsOf(got), id)
	}
}

// TestRestart: what was delivered before a clean Close is not delivered
// again; what was under way when Close cancelled it is.
func TestRestart(t *testing.T) {
	t.Parallel()
	db := openDB(t, "")
	b1 := openBus(t, db, bus.Config{})
	rec1 := newRecorder()
	blocked := make(chan struct{})
	if err := b1.AddTarget(bus.Target{Name: "t", Deliver: rec1.Deliver}); err != nil {
		t.Fatal(err)
	}
	if err := b1.AddTarget(bus.Target{
		Name: "slow", Pattern: pattern.MustCompile(`{"detail":{"slow":[true]}}`),
		Deliver: func(ctx context.Context, _ []byte) error {
			close(blocked)
			<-ctx.Done() // Close cancels it
			return ctx.Err()
		},
	}); err != nil {
		t.Fatal(err)
	}
	start(t, b1)
	var first []string
	for i := range 5 {
		first = append(first, send(t, b1, entry(2*i), entry(2*i+1))...)
	}
	slowID := send(t, b1, producers.BusEntry{Source: "s", DetailType: "d", Detail: []byte(`{"slow":true}`)})[0]
	rec1.wait(t, 11)
	<-blocked
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}

	b2 := openBus(t, db, bus.Config{})
	rec2, slow2 := newRecorder(), newRecorder()
	if err := b2.AddTarget(bus.Target{Name: "t", Deliver: rec2.Deliver}); err != nil {
		t.Fatal(err)
	}
	if err := b2.AddTarget(bus.Target{Name: "slow", Pattern: pattern.MustCompile(`{"detail":{"slow":[true]}}`), Deliver: slow2.Deliver}); err != nil {
		t.Fatal(err)
	}
	start(t, b2)
	last := send(t, b2, entry(99))[0]
	if got := rec2.wait(t, 1); len(got) != 1 || got[0].ID != last {
		t.Errorf("after restart target t got %v; want only the new event %s", idsOf(got), last)
	}
	if got := slow2.wait(t, 1); len(got) != 1 || got[0].ID != slowID {
		t.Errorf("after restart target slow got %v; want the event cancelled by Close, %s", idsOf(got), slowID)
	}
	for _, id := range first {
		if rec2.deliveries(id) != 0 {
			t.Errorf("event %s delivered again after a clean restart", id)
		}
	}
}

// TestConcurrent: senders and targets at once; a stuck target holds up
// neither the others nor the senders, and no target gets more calls at once
// than its Concurrency.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	b := openBus(t, openDB(t, ""), bus.Config{})
	recA, recB := newRecorder(), newRecorder()
	var inflight, peak atomic.Int32
	flakyA := func(ctx context.Context, ev []byte) error {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(100 * time.Microsecond)
		if rand.IntN(10) == 0 {
			return errTarget
		}
		return recA.Deliver(ctx, ev)
	}
	release := make(chan struct{})
	for _, tg := range []bus.Target{
		{Name: "a", Deliver: flakyA, Backoff: fast, Concurrency: 3},
		{Name: "b", Deliver: recB.Deliver},
		{Name: "stuck", Deliver: func(ctx context.Context, _ []byte) error {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return errTarget
		}},
	} {
		if err := b.AddTarget(tg); err != nil {
			t.Fatal(err)
		}
	}
	start(t, b)
	defer close(release)

	const senders, batches, per = 6, 20, 5
	ids := make(chan string, senders*batches*per)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range batches {
				entries := make([]producers.BusEntry, per)
				for j := range entries {
					entries[j] = entry(s*1000 + i*per + j)
				}
				for _, id := range send(t, b, entries...) {
					ids <- id
				}
			}
		})
	}
	wg.Wait()
	close(ids)
	const n = senders * batches * per
	gotA, gotB := recA.wait(t, n), recB.wait(t, n)
	want := map[string]bool{}
	for id := range ids {
		want[id] = true
	}
	if len(want) != n || len(gotA) != n || len(gotB) != n {
		t.Fatalf("%d ids; a got %d, b got %d; want %d each", len(want), len(gotA), len(gotB), n)
	}
	for _, e := range append(gotA, gotB...) {
		if !want[e.ID] {
			t.Errorf("delivered unknown id %s", e.ID)
		}
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("target a had %d calls at once, want at most its Concurrency 3", p)
	}
	if s := b.Stats()["stuck"]; s.Pending == 0 || s.Delivered != 0 {
		t.Errorf("stuck target: stats %+v", s)
	}
}

// TestDeliverPanics: a panic in Deliver fails that delivery, not the
// process; and a Deliver may call Stats while the bus closes.
func TestDeliverPanics(t *testing.T) {
	t.Parallel()
	b := openBus(t, openDB(t, ""), bus.Config{})
	dl := &deadLetters{}
	if err := b.AddTarget(bus.Target{
		Name: "t", DeadLetter: dl.DeadLetter, RetryPolicy: bus.RetryPolicy{MaximumRetryAttempts: new(0)},
		Deliver: func(ctx context.Context, ev []byte) error {
			if bytes.Contains(ev, []byte(`"block"`)) {
				<-ctx.Done()
				b.Stats()
				return ctx.Err()
			}
			panic("boom")
		},
	}); err != nil {
		t.Fatal(err)
	}
	start(t, b)
	send(t, b, entry(0))
	eventually(t, "a dead letter", func() bool { return len(dl.list()) == 1 })
	if got := dl.list()[0]; got.cause == nil || !strings.Contains(got.cause.Error(), "Deliver panicked: boom") {
		t.Errorf("dead letter cause %v", got.cause)
	}
	send(t, b, producers.BusEntry{Source: "s", DetailType: "d", Detail: []byte(`{"block":1}`)})
	eventually(t, "the blocking delivery", func() bool { return b.Stats()["t"].Pending == 1 })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}
