package bus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/events/pattern"
	"github.com/troupehq/troupe/local/bus"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/producers/producertest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	// EventBridge passes TraceHeader to X-Ray, not to targets: so does this bus.
	f := producertest.Features{Resources: true, RejectsMalformedDetail: true}
	producertest.RunBus(t, f, func(t *testing.T) producertest.BusUnderTest {
		db := openDB(t, "")
		b := openBus(t, db, bus.Config{})
		rec := newRecorder()
		if err := b.AddTarget(bus.Target{Name: "all", Deliver: rec.Deliver}); err != nil {
			t.Fatal(err)
		}
		start(t, b)
		missing, err := bus.Open(db, "missing", bus.Config{})
		if err != nil {
			t.Fatal(err)
		}
		missing.Close()
		return producertest.BusUnderTest{
			Sender:  b,
			Missing: missing,
			Delivered: func(t *testing.T, want int) []producertest.DeliveredEvent {
				var out []producertest.DeliveredEvent
				for _, e := range rec.wait(t, want) {
					tm, err := time.Parse(time.RFC3339, e.Time)
					if err != nil {
						t.Errorf("event %s: time %q: %v", e.ID, e.Time, err)
					}
					out = append(out, producertest.DeliveredEvent{
						ID: e.ID, Source: e.Source, DetailType: e.DetailType, Detail: e.Detail, Time: tm, Resources: e.Resources,
					})
				}
				return out
			},
		}
	})
}

// TestEventShape: a target gets the event JSON an EventBridge target gets,
// field for field, in EventBridge's order, the detail as an object.
func TestEventShape(t *testing.T) {
	t.Parallel()
	b := openBus(t, openDB(t, ""), bus.Config{Account: "123456789012", Region: "eu-west-1"})
	got := make(chan []byte, 2)
	if err := b.AddTarget(bus.Target{Name: "raw", Deliver: func(_ context.Context, ev []byte) error {
		got <- bytes.Clone(ev)
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	start(t, b)
	when := time.Date(2025, 3, 14, 9, 26, 53, 987_000_000, time.FixedZone("CET", 3600))
	ids := send(t, b, producers.BusEntry{
		Source: "com.example.orders", DetailType: "orders.OrderPlaced",
		Detail: []byte(` {"order": {"id": "o-1", "total": 12.5, "note": "<b>&</b>"}} `), Time: when,
		Resources: []string{"arn:aws:example:eu-west-1:123456789012:order/o-1"}, TraceHeader: "Root=1-abc",
	})
	ev := <-got
	want := fmt.Sprintf(`{"version":"0","id":%q,"detail-type":"orders.OrderPlaced","source":"com.example.orders",`+
		`"account":"123456789012","time":"2025-03-14T08:26:53Z","region":"eu-west-1",`+
		`"resources":["arn:aws:example:eu-west-1:123456789012:order/o-1"],"detail":{"order":{"id":"o-1","total":12.5,"note":"<b>&</b>"}}}`, ids[0])
	if string(ev) != want {
		t.Errorf("event\n got %s\nwant %s", ev, want)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(ids[0]) {
		t.Errorf("id %q is not a version 4 UUID", ids[0])
	}

	// No Time: the time the bus took it; no Resources: [].
	before := time.Now().UTC().Truncate(time.Second)
	send(t, b, producers.BusEntry{Source: "s", DetailType: "d", Detail: []byte(`{}`)})
	var e map[string]json.RawMessage
	if err := json.Unmarshal(<-got, &e); err != nil {
		t.Fatal(err)
	}
	if string(e["resources"]) != "[]" || string(e["detail"]) != "{}" {
		t.Errorf("resources %s, detail %s; want [] and {}", e["resources"], e["detail"])
	}
	var ts string
	json.Unmarshal(e["time"], &ts)
	tm, err := time.Parse(bus.TimeFormat, ts)
	if err != nil || tm.Before(before) || tm.After(time.Now().Add(time.Second)) {
		t.Errorf("time %q (%v): want now, as %s", ts, err, bus.TimeFormat)
	}
}

// TestFanOut: an event goes to every target whose pattern matches it, and
// to no other.
func TestFanOut(t *testing.T) {
	t.Parallel()
	b := openBus(t, openDB(t, ""), bus.Config{})
	orders, billing, shipping := newRecorder(), newRecorder(), newRecorder()
	for _, tg := range []struct {
		name, pattern string
		rec           *recorder
	}{
		{"orders", `{"source":["test.orders"]}`, orders},
		{"billing", `{"detail-type":["orders.OrderPlaced"],"detail":{"n":[{"numeric":[">=",0]}]}}`, billing},
		{"shipping", `{"detail-type":["orders.OrderShipped"]}`, shipping},
	} {
		if err := b.AddTarget(bus.Target{Name: tg.name, Pattern: pattern.MustCompile(tg.pattern), Deliver: tg.rec.Deliver}); err != nil {
			t.Fatal(err)
		}
	}
	start(t, b)
	ids := send(t, b, entry(1), entry(2))
	for name, rec := range map[string]*recorder{"orders": orders, "billing": billing} {
		got := rec.wait(t, 2)
		if len(got) != 2 || !sameIDs(got, ids) {
			t.Errorf("target %s got %v, want %v", name, idsOf(got), ids)
		}
	}
	// One more event, for shipping only: once it is there, the earlier ones
	// would have reached shipping too if they were going to.
	shipped := send(t, b, producers.BusEntry{Source: "test.shipping", DetailType: "orders.OrderShipped", Detail: []byte(`{}`)})
	if got := shipping.wait(t, 1); len(got) != 1 || got[0].ID != shipped[0] {
		t.Errorf("shipping got %v, want only %v", idsOf(got), shipped)
	}
	eventually(t, "stats to settle", func() bool {
		s := b.Stats()
		return s["orders"].Delivered == 2 && s["billing"].Delivered == 2 && s["shipping"].Delivered == 1 &&
			s["orders"].Backlog == 0 && s["orders"].Pending == 0
	})
	if got := orders.got(); len(got) != 2 {
		t.Errorf("orders got %v: the shipping event does not match its pattern", idsOf(got))
	}
}

func idsOf(evs []bus.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func sameIDs(evs []bus.Event, ids []string) bool {
	m := map[string]bool{}
	for _, e := range evs {
		m[e.ID] = true
	}
	for _, id := range ids {
		if !m[id] {
			return false
		}
	}
	return len(m) == len(ids)
}

// TestBadEntries: each entry PutEvents refuses fails alone with its code,
// not retryable; the others go on.
func TestBadEntries(t *testing.T) {
	t.Parallel()
	b := openBus(t, openDB(t, ""), bus.Config{MaxEntryBytes: 100})
	rec := newRecorder()
	if err := b.AddTarget(bus.Target{Name: "all", Deliver: rec.Deliver}); err != nil {
		t.Fatal(err)
	}
	start(t, b)
	ok := entry(0)
	big := entry(0)
	big.Detail = []byte(`{"pad":"` + strings.Repeat("x", 100) + `"}`)
	atLimit := producers.BusEntry{Source: "s", DetailType: "d", Time: time.Now(), Resources: []string{"r"}}
	atLimit.Detail = []byte(`{"p":"` + strings.Repeat("x", 100-14-1-1-1-8) + `"}`)
	cases := []struct {
		name  string
		entry producers.BusEntry
		code  string
		msg   string
	}{
		{"no source", producers.BusEntry{DetailType: "d", Detail: []byte(`{}`)}, "InvalidArgument", "Source"},
		{"no detail type", producers.BusEntry{Source: "s", Detail: []byte(`{}`)}, "InvalidArgument", "DetailType"},
		{"no detail", producers.BusEntry{Source: "s", DetailType: "d"}, "InvalidArgument", "Detail"},
		{"not JSON", producers.BusEntry{Source: "s", DetailType: "d", Detail: []byte(`{"a":`)}, "MalformedDetail", "not valid JSON"},
		{"array", producers.BusEntry{Source: "s", DetailType: "d", Detail: []byte(`[1]`)}, "MalformedDetail", "not an object"},
		{"string", producers.BusEntry{Source: "s", DetailType: "d", Detail: []byte(`"x"`)}, "MalformedDetail", "not an object"},
		{"too big", big, "InvalidArgument", "over the limit of 100 bytes"},
		{"at the limit", atLimit, "", ""},
	}
	for _, tc := range cases {
		if tc.code == "" {
			if n := bus.EntrySize(&tc.entry); n != 100 {
				t.Fatalf("%s: size %d, want 100", tc.name, n)
			}
		}
		res, err := b.SendBatch(t.Context(), []producers.BusEntry{ok, tc.entry, ok})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r := res[1]; r.ErrorCode != tc.code || !strings.Contains(r.ErrorMessage, tc.msg) || r.Retryable || (r.ID == "") != (tc.code != "") {
			t.Errorf("%s: result %+v, want code %q, message with %q", tc.name, r, tc.code, tc.msg)
		}
		if res[0].Failed() || res[2].Failed() || res[0].ID == res[2].ID {
			t.Errorf("%s: good entries beside it: %+v, %+v", tc.name, res[0], res[2])
		}
	}
	want := 2*len(cases) + 1
	if got := rec.wait(t, want); len(got) != want {
		t.Errorf("delivered %d events, want %d", len(got), want)
	}

	for _, n := range []int{0, 11} {
		entries := make([]producers.BusEntry, n)
		for i := range entries {
			entries[i] = entry(i)
		}
		res, err := b.SendBatch(t.Context(), entries)
		if !errors.Is(err, bus.ErrValidation) || res != nil {
			t.Errorf("%d entries: %v, %v; want a ValidationException and no results", n, res, err)
		}
		if errors.Is(err, producers.ErrRetryable) {
			t.Errorf("%d entries: %v is retryable", n, err)
		}
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	b := openBus(t, openDB(t, ""), bus.Config{})
	if err := b.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Check(t.Context()); !errors.Is(err, producers.ErrNotFound) {
		t.Errorf("Check after Close: %v, want ErrNotFound", err)
	}
	if _, err := b.SendBatch(t.Context(), []producers.BusEntry{entry(0)}); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("SendBatch after Close: %v, want ErrClosed", err)
	}
	if err := b.Start(t.Context()); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Start after Close: %v, want ErrClosed", err)
	}
}

func TestTargetValidation(t *testing.T) {
	t.Parallel()
	b := openBus(t, openDB(t, ""), bus.Config{})
	noop := func(context.Context, []byte) error { return nil }
	for _, tc := range []struct {
		target bus.Target
		want   string
	}{
		{bus.Target{Deliver: noop}, "Name is empty"},
		{bus.Target{Name: "a"}, "Deliver is nil"},
		{bus.Target{Name: "a", Deliver: noop, RetryPolicy: bus.RetryPolicy{MaximumRetryAttempts: new(186)}}, "0-185"},
		{bus.Target{Name: "a", Deliver: noop, RetryPolicy: bus.RetryPolicy{MaximumEventAgeInSeconds: 59}}, "60-86400"},
	} {
		if err := b.AddTarget(tc.target); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AddTarget(%+v): %v, want an error saying %q", tc.target, err, tc.want)
		}
	}
	if err := b.AddTarget(bus.Target{Name: "a", Deliver: noop}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddTarget(bus.Target{Name: "a", Deliver: noop}); err == nil {
		t.Error("AddTarget twice with one name: no error")
	}
	start(t, b)
	if err := b.AddTarget(bus.Target{Name: "b", Deliver: noop}); err == nil {
		t.Error("AddTarget after Start: no error")
	}
	if err := b.Start(t.Context()); err == nil {
		t.Error("Start twice: no error")
	}
}
