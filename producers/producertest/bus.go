package producertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/producers"
)

// DeliveredEvent is an event as a rule on the bus delivered it to a target.
type DeliveredEvent struct {
	ID          string // the id the bus assigned, as in EntryResult.ID
	Source      string
	DetailType  string
	Detail      json.RawMessage
	Time        time.Time
	Resources   []string
	TraceHeader string
}

// BusUnderTest is one fresh bus, made for one test.
type BusUnderTest struct {
	// Sender sends to the bus.
	Sender producers.BusSender
	// Missing sends to a bus that does not exist.
	Missing producers.BusSender
	// Delivered waits until want events sent to the bus have been delivered
	// (by a rule matching every event), or the backend's own timeout passes,
	// and returns those delivered so far, each once.
	Delivered func(t *testing.T, want int) []DeliveredEvent
}

// RunBus runs the conformance suite of producers.BusSender. newBus makes a
// fresh bus for each test; the tests run in parallel.
func RunBus(t *testing.T, f Features, newBus func(t *testing.T) BusUnderTest) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f Features, b BusUnderTest)
	}{
		{"RoundTrip", busRoundTrip},
		{"ResultsInOrder", busResultsInOrder},
		{"Check", busCheck},
		{"MalformedDetail", busMalformedDetail},
		{"Concurrent", busConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, f, newBus(t))
		})
	}
}

func byID(t *testing.T, got []DeliveredEvent) map[string]DeliveredEvent {
	t.Helper()
	m := make(map[string]DeliveredEvent, len(got))
	for _, e := range got {
		if _, dup := m[e.ID]; dup {
			t.Errorf("event %s delivered twice", e.ID)
		}
		m[e.ID] = e
	}
	return m
}

// busRoundTrip: every field of an entry arrives as sent.
func busRoundTrip(t *testing.T, f Features, b BusUnderTest) {
	when := time.Date(2024, 5, 17, 10, 30, 45, 250_000_000, time.UTC)
	entries := []producers.BusEntry{
		{
			Source: "producertest.orders", DetailType: "orders.OrderPlaced", Detail: detail(t.Name(), 0),
			Time: when, Resources: []string{"arn:aws:test:us-east-1:123456789012:order/1"},
			TraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
		},
		{
			Source: "producertest.payments", DetailType: "payments.PaymentTaken", Detail: detail(t.Name(), 1),
			Time: when.Add(time.Hour),
		},
	}
	results, err := b.Sender.SendBatch(t.Context(), entries)
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	checkResults(t, results, len(entries))
	mustAccepted(t, results)

	got := byID(t, b.Delivered(t, len(entries)))
	if len(got) != len(entries) {
		t.Fatalf("delivered %d events, want %d", len(got), len(entries))
	}
	for i, e := range entries {
		d, ok := got[results[i].ID]
		if !ok {
			t.Errorf("entry %d: no delivered event has its ID %q", i, results[i].ID)
			continue
		}
		if d.Source != e.Source || d.DetailType != e.DetailType {
			t.Errorf("entry %d: delivered source/detail-type %q/%q, want %q/%q", i, d.Source, d.DetailType, e.Source, e.DetailType)
		}
		if !jsonEqual(d.Detail, e.Detail) {
			t.Errorf("entry %d: delivered detail %s, want %s", i, d.Detail, e.Detail)
		}
		if want := e.Time.Truncate(time.Second); !d.Time.Truncate(time.Second).Equal(want) {
			t.Errorf("entry %d: delivered time %v, want %v (to the second)", i, d.Time, want)
		}
		if f.Resources && !slices.Equal(d.Resources, e.Resources) {
			t.Errorf("entry %d: delivered resources %q, want %q", i, d.Resources, e.Resources)
		}
		if f.TraceHeader && d.TraceHeader != e.TraceHeader {
			t.Errorf("entry %d: delivered trace header %q, want %q", i, d.TraceHeader, e.TraceHeader)
		}
	}
	if !f.Resources {
		t.Log("backend lacks feature Resources: resources not compared")
	}
	if !f.TraceHeader {
		t.Log("backend lacks feature TraceHeader: trace header not compared")
	}
}

// busResultsInOrder: result i belongs to entry i.
func busResultsInOrder(t *testing.T, _ Features, b BusUnderTest) {
	var entries []producers.BusEntry
	for i := range 4 {
		entries = append(entries, producers.BusEntry{
			Source: fmt.Sprintf("producertest.s%d", i), DetailType: fmt.Sprintf("producertest.T%d", i),
			Detail: detail(t.Name(), i), Time: time.Now(),
		})
	}
	results, err := b.Sender.SendBatch(t.Context(), entries)
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	checkResults(t, results, len(entries))
	mustAccepted(t, results)
	got := byID(t, b.Delivered(t, len(entries)))
	for i, e := range entries {
		d, ok := got[results[i].ID]
		if !ok {
			t.Errorf("result %d: ID %q was not delivered", i, results[i].ID)
			continue
		}
		if d.Source != e.Source || !jsonEqual(d.Detail, e.Detail) {
			t.Errorf("result %d: its ID %q was delivered with entry (%s, %s), want entry %d (%s, %s)",
				i, results[i].ID, d.Source, d.Detail, i, e.Source, e.Detail)
		}
	}
}

// busCheck: Check passes on the bus and wraps ErrNotFound on a missing one.
func busCheck(t *testing.T, _ Features, b BusUnderTest) {
	if err := b.Sender.Check(t.Context()); err != nil {
		t.Errorf("Check on an existing bus: %v", err)
	}
	err := b.Missing.Check(t.Context())
	if !errors.Is(err, producers.ErrNotFound) {
		t.Errorf("Check on a missing bus: got %v, want an error wrapping producers.ErrNotFound", err)
	}
	if errors.Is(err, producers.ErrRetryable) {
		t.Errorf("Check on a missing bus: %v is retryable; a missing bus stays missing", err)
	}
}

// busMalformedDetail: a bad entry fails alone, not retryable; the rest land.
func busMalformedDetail(t *testing.T, f Features, b BusUnderTest) {
	f.need(t, "RejectsMalformedDetail", f.RejectsMalformedDetail)
	entries := []producers.BusEntry{
		{Source: "producertest.ok", DetailType: "producertest.Good", Detail: detail(t.Name(), 0)},
		{Source: "producertest.bad", DetailType: "producertest.Bad", Detail: []byte(`{"not": json`)},
		{Source: "producertest.ok", DetailType: "producertest.Good", Detail: detail(t.Name(), 2)},
	}
	results, err := b.Sender.SendBatch(t.Context(), entries)
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	checkResults(t, results, len(entries))
	if r := results[1]; !r.Failed() || r.Retryable || r.ID != "" {
		t.Errorf("malformed entry: result %+v, want failed, not retryable, no ID", r)
	}
	for _, i := range []int{0, 2} {
		if results[i].Failed() {
			t.Errorf("entry %d: rejected beside a malformed one: %s: %s", i, results[i].ErrorCode, results[i].ErrorMessage)
		}
	}
	got := byID(t, b.Delivered(t, 2))
	if len(got) != 2 {
		t.Fatalf("delivered %d events, want the 2 good ones", len(got))
	}
	for _, i := range []int{0, 2} {
		if _, ok := got[results[i].ID]; !ok {
			t.Errorf("entry %d (ID %q) not delivered", i, results[i].ID)
		}
	}
}

// busConcurrent: one sender used from several goroutines at once.
func busConcurrent(t *testing.T, _ Features, b BusUnderTest) {
	const n = 4
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			res, err := b.Sender.SendBatch(context.Background(), []producers.BusEntry{{
				Source: "producertest.concurrent", DetailType: "producertest.C", Detail: detail(t.Name(), i),
			}})
			switch {
			case err != nil:
				errs <- err
			case len(res) != 1 || res[0].Failed():
				errs <- fmt.Errorf("sender %d: results %+v", i, res)
			default:
				ids[i] = res[0].ID
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	got := byID(t, b.Delivered(t, n))
	for i, id := range ids {
		if _, ok := got[id]; !ok {
			t.Errorf("sender %d: event %q not delivered", i, id)
		}
	}
}
