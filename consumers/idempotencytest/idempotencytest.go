// Package idempotencytest is the conformance suite of
// consumers.IdempotencyStore: every adapter (DynamoDB, the embedded store)
// runs the same Run from its own tests, so they agree on what a duplicate,
// an expiry and a lost lock mean.
//
// The suite passes `now` explicitly and never waits on the wall clock, so
// expiry cases are instant. Every case runs in parallel with keys of its own,
// so one store (one table) may serve them all.
package idempotencytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/consumers"
)

// Run runs the conformance suite against the stores newStore returns. It is
// called once per case, from the case's own (parallel) test; it may return
// the same store every time.
//
// What a store must do beyond the port's documentation:
//   - keep Expiry at least to the second and InProgressExpiry at least to
//     the millisecond, and compare them with now at that precision;
//   - Complete a key the caller does not hold (absent, or COMPLETED) with an
//     error;
//   - Release an absent key without error;
//   - reject a record without Key, Expiry or InProgressExpiry;
//   - answer a cancelled ctx with an error that wraps ctx.Err() and change
//     nothing.
func Run(t *testing.T, newStore func(t *testing.T) consumers.IdempotencyStore) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

var cases = []struct {
	name string
	run  func(t *testing.T, s consumers.IdempotencyStore)
}{
	{"AcquireNew", testAcquireNew},
	{"AcquireHeld", testAcquireHeld},
	{"AcquireConcurrent", testAcquireConcurrent},
	{"ReleaseThenAcquire", testReleaseThenAcquire},
	{"ReleaseAbsent", testReleaseAbsent},
	{"CompleteThenAcquire", testCompleteThenAcquire},
	{"CompleteWithoutResult", testCompleteWithoutResult},
	{"ExpiredCompleted", testExpiredCompleted},
	{"ExpiredInProgress", testExpiredInProgress},
	{"InProgressTakeover", testInProgressTakeover},
	{"CompleteNotHeld", testCompleteNotHeld},
	{"Precision", testPrecision},
	{"InvalidRecord", testInvalidRecord},
	{"ContextCancelled", testContextCancelled},
}

// Windows of the records the cases write.
const (
	window = time.Hour        // Expiry - now
	lock   = 30 * time.Second // InProgressExpiry - now
)

// base is the cases' "now": whole seconds, a day ahead of the wall clock so
// that a real TTL (which deletes items past their expiry by the wall clock)
// never removes a record during the run.
func base() time.Time {
	return time.Now().Add(24 * time.Hour).Truncate(time.Second)
}

// newKey returns a key no other case or run uses, shaped like the runtime's
// "<consumer>#<key>".
func newKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := t.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return "idempotencytest-" + name + "#" + hex.EncodeToString(b)
}

func record(key, hash string, now time.Time) consumers.IdempotencyRecord {
	return consumers.IdempotencyRecord{
		Key:              key,
		PayloadHash:      hash,
		Status:           consumers.InProgress,
		Expiry:           now.Add(window),
		InProgressExpiry: now.Add(lock),
	}
}

func mustAcquire(t *testing.T, s consumers.IdempotencyStore, rec consumers.IdempotencyRecord, now time.Time) {
	t.Helper()
	existing, ok, err := s.Acquire(t.Context(), rec, now)
	if err != nil {
		t.Fatalf("Acquire(%q, now %v): %v", rec.Key, now, err)
	}
	if !ok {
		t.Fatalf("Acquire(%q, now %v): not acquired; the record in the way: %+v", rec.Key, now, existing)
	}
	if !reflect.DeepEqual(existing, consumers.IdempotencyRecord{}) {
		t.Errorf("Acquire(%q) acquired and returned %+v, want the zero record", rec.Key, existing)
	}
}

// mustFind acquires at now expecting a record in the way, and returns it.
func mustFind(t *testing.T, s consumers.IdempotencyStore, key string, now time.Time) consumers.IdempotencyRecord {
	t.Helper()
	existing, ok, err := s.Acquire(t.Context(), record(key, "probe", now), now)
	if err != nil {
		t.Fatalf("Acquire(%q, now %v): %v", key, now, err)
	}
	if ok {
		t.Fatalf("Acquire(%q, now %v): acquired, want the existing record to stand in the way", key, now)
	}
	if existing.Key != key {
		t.Errorf("existing record's Key = %q, want %q", existing.Key, key)
	}
	return existing
}

func mustComplete(t *testing.T, s consumers.IdempotencyStore, key string, expiry time.Time, result json.RawMessage) {
	t.Helper()
	if err := s.Complete(t.Context(), key, expiry, result); err != nil {
		t.Fatalf("Complete(%q): %v", key, err)
	}
}

func mustRelease(t *testing.T, s consumers.IdempotencyStore, key string) {
	t.Helper()
	if err := s.Release(t.Context(), key); err != nil {
		t.Fatalf("Release(%q): %v", key, err)
	}
}

// checkTimes compares Expiry at second precision and InProgressExpiry at
// millisecond precision (what DynamoDB keeps: epoch seconds for the TTL
// attribute, epoch milliseconds for the lock).
func checkTimes(t *testing.T, got consumers.IdempotencyRecord, expiry, inProgressExpiry time.Time) {
	t.Helper()
	if got.Expiry.Unix() != expiry.Unix() {
		t.Errorf("Expiry = %v, want %v (to the second)", got.Expiry, expiry)
	}
	if got.InProgressExpiry.UnixMilli() != inProgressExpiry.UnixMilli() {
		t.Errorf("InProgressExpiry = %v, want %v (to the millisecond)", got.InProgressExpiry, inProgressExpiry)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

// testAcquireNew: a key nobody holds is acquired, and keys are independent.
func testAcquireNew(t *testing.T, s consumers.IdempotencyStore) {
	now := base()
	mustAcquire(t, s, record(newKey(t), "h1", now), now)
	mustAcquire(t, s, record(newKey(t), "h1", now), now)
}

// testAcquireHeld: a second Acquire of a held key returns the holder's
// record, with the first payload's hash, not the second's.
func testAcquireHeld(t *testing.T, s consumers.IdempotencyStore) {
	now := base()
	key := newKey(t)
	first := record(key, "hash-first", now)
	mustAcquire(t, s, first, now)

	for _, at := range []time.Time{now, now.Add(lock / 2)} {
		existing, ok, err := s.Acquire(t.Context(), record(key, "hash-second", at), at)
		if err != nil {
			t.Fatalf("second Acquire at %v: %v", at, err)
		}
		if ok {
			t.Fatalf("second Acquire at %v of a held key: acquired", at)
		}
		if existing.Key != key || existing.Status != consumers.InProgress || existing.PayloadHash != "hash-first" {
			t.Errorf("existing = %+v, want key %q, INPROGRESS, hash-first", existing, key)
		}
		if len(existing.Result) != 0 {
			t.Errorf("existing.Result = %s, want none", existing.Result)
		}
		checkTimes(t, existing, first.Expiry, first.InProgressExpiry)
	}
}

// testAcquireConcurrent: of N concurrent Acquires of one key, exactly one
// wins and every other one sees the winner's record.
func testAcquireConcurrent(t *testing.T, s consumers.IdempotencyStore) {
	const n = 32
	now := base()
	key := newKey(t)
	type result struct {
		existing consumers.IdempotencyRecord
		ok       bool
		err      error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			rec := record(key, "hash-"+string(rune('A'+i)), now)
			r := &results[i]
			r.existing, r.ok, r.err = s.Acquire(t.Context(), rec, now)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, r := range results {
		if r.err != nil {
			t.Errorf("goroutine %d: Acquire: %v", i, r.err)
			continue
		}
		if r.ok {
			if winner >= 0 {
				t.Errorf("goroutines %d and %d both acquired %q", winner, i, key)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("none of %d concurrent Acquires of a new key acquired it", n)
	}
	want := "hash-" + string(rune('A'+winner))
	for i, r := range results {
		if r.err != nil || r.ok {
			continue
		}
		if r.existing.Status != consumers.InProgress || r.existing.PayloadHash != want {
			t.Errorf("goroutine %d saw %+v, want the winner's INPROGRESS record with %s", i, r.existing, want)
		}
	}
}

// testReleaseThenAcquire: a failed run releases the key, and the retry
// acquires it.
func testReleaseThenAcquire(t *testing.T, s consumers.IdempotencyStore) {
	now := base()
	key := newKey(t)
	mustAcquire(t, s, record(key, "h1", now), now)
	mustRelease(t, s, key)
	mustAcquire(t, s, record(key, "h2", now), now)
	if got := mustFind(t, s, key, now); got.PayloadHash != "h2" {
		t.Errorf("after release and re-acquire: hash %q, want h2", got.PayloadHash)
	}
}

// testReleaseAbsent: Release of a key nobody holds is not an error, so a
// Release repeated after a lost answer is harmless.
func testReleaseAbsent(t *testing.T, s consumers.IdempotencyStore) {
	key := newKey(t)
	mustRelease(t, s, key)
	now := base()
	mustAcquire(t, s, record(key, "h1", now), now)
	mustRelease(t, s, key)
	mustRelease(t, s, key)
}

// testCompleteThenAcquire: a duplicate of a completed key sees the
// COMPLETED record with the first payload's hash, the result and the new
// expiry, so the runtime can tell a different payload under the same key.
func testCompleteThenAcquire(t *testing.T, s consumers.IdempotencyStore) {
	now := base()
	key := newKey(t)
	rec := record(key, "hash-first", now)
	mustAcquire(t, s, rec, now)
	expiry := now.Add(2 * window)
	result := json.RawMessage(`{"order": "o-1", "lines": [1, 2], "ok": true}`)
	mustComplete(t, s, key, expiry, result)

	later := now.Add(window) // past the INPROGRESS record's own Expiry, not the completed one's
	existing, ok, err := s.Acquire(t.Context(), record(key, "hash-second", later), later)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatal("Acquire of a completed, unexpired key: acquired")
	}
	if existing.Key != key || existing.Status != consumers.Completed || existing.PayloadHash != "hash-first" {
		t.Errorf("existing = %+v, want key %q, COMPLETED, hash-first", existing, key)
	}
	if !jsonEqual(existing.Result, result) {
		t.Errorf("existing.Result = %s, want %s", existing.Result, result)
	}
	if existing.Expiry.Unix() != expiry.Unix() {
		t.Errorf("existing.Expiry = %v, want %v (to the second)", existing.Expiry, expiry)
	}
}

// testCompleteWithoutResult: a result is optional.
func testCompleteWithoutResult(t *testing.T, s consumers.IdempotencyStore) {
	now := base()
	key := newKey(t)
	mustAcquire(t, s, record(key, "h1", now), now)
	mustComplete(t, s, key, now.Add(window), nil)
	got := mustFind(t, s, key, now)
	if got.Status != consumers.Completed || got.PayloadHash != "h1" || len(got.Result) != 0 {
		t.Errorf("existing = %+v, want COMPLETED, h1, no result", got)
	}
}

// testExpiredCompleted: a completed record is in the way until its Expiry;
// at Expiry (Expiry <= now) the key runs again, and the new run's record
// replaces it.
func testExpiredCompleted(t *testing.T, s consumers.IdempotencyStore) {
	now := base()
	key := newKey(t)
	mustAcquire(t, s, record(key, "h1", now), now)
	expiry := now.Add(10 * time.Second)
	mustComplete(t, s, key, expiry, json.RawMessage(`"done"`))

	if got := mustFind(t, s, key, expiry.Add(-time.Second)); got.Status != consumers.Completed {
		t.Errorf("a second before Expiry: %+v, want the COMPLETED record", got)
	}
	mustAcquire(t, s, record(key, "h2", expiry), expiry)
	got := mustFind(t, s, key, expiry)
	if got.Status != consumers.InProgress || got.PayloadHash != "h2" || len(got.Result) != 0 {
		t.Errorf("after re-acquiring an expired key: %+v, want the new INPROGRESS record (h2, no result)", got)
	}
	checkTimes(t, got, expiry.Add(window), expiry.Add(lock))
}

// testExpiredInProgress: an INPROGRESS record past its Expiry is gone too,
// even if its lock has not expired.
func testExpiredInProgress(t *testing.T, s consumers.IdempotencyStore) {
	now := base()
	key := newKey(t)
	rec := record(key, "h1", now)
	rec.Expiry = now.Add(time.Minute)
	rec.InProgressExpiry = now.Add(window)
	mustAcquire(t, s, rec, now)
	mustFind(t, s, key, rec.Expiry.Add(-time.Second))
	mustAcquire(t, s, record(key, "h2", rec.Expiry), rec.Expiry)
}

// testInProgressTakeover: an INPROGRESS lock holds until InProgressExpiry
// (to the millisecond); at it (InProgressExpiry <= now) another run takes
// the key over.
func testInProgressTakeover(t *testing.T, s consumers.IdempotencyStore) {
	now := base()
	key := newKey(t)
	rec := record(key, "h1", now)
	// Off the whole second, so that comparing in seconds takes over early.
	rec.InProgressExpiry = rec.InProgressExpiry.Add(500 * time.Millisecond)
	mustAcquire(t, s, rec, now)

	before := rec.InProgressExpiry.Add(-time.Millisecond)
	if got := mustFind(t, s, key, before); got.PayloadHash != "h1" || got.Status != consumers.InProgress {
		t.Errorf("a millisecond before InProgressExpiry: %+v, want the h1 lock", got)
	}
	at := rec.InProgressExpiry
	mustAcquire(t, s, record(key, "h2", at), at)
	got := mustFind(t, s, key, at)
	if got.PayloadHash != "h2" || got.Status != consumers.InProgress {
		t.Errorf("after takeover: %+v, want the h2 lock", got)
	}
	checkTimes(t, got, at.Add(window), at.Add(lock))
}

// testCompleteNotHeld: Complete of a key the caller does not hold fails and
// changes nothing.
func testCompleteNotHeld(t *testing.T, s consumers.IdempotencyStore) {
	now := base()
	never := newKey(t)
	if err := s.Complete(t.Context(), never, now.Add(window), nil); err == nil {
		t.Error("Complete of a key never acquired: no error")
	}
	if _, ok, err := s.Acquire(t.Context(), record(never, "h1", now), now); err != nil || !ok {
		t.Errorf("Acquire after a failed Complete: acquired %v, err %v; want the key free", ok, err)
	}

	released := newKey(t)
	mustAcquire(t, s, record(released, "h1", now), now)
	mustRelease(t, s, released)
	if err := s.Complete(t.Context(), released, now.Add(window), nil); err == nil {
		t.Error("Complete of a released key: no error")
	}

	twice := newKey(t)
	mustAcquire(t, s, record(twice, "h1", now), now)
	mustComplete(t, s, twice, now.Add(window), json.RawMessage(`1`))
	if err := s.Complete(t.Context(), twice, now.Add(2*window), json.RawMessage(`2`)); err == nil {
		t.Error("second Complete of a completed key: no error")
	}
	got := mustFind(t, s, twice, now)
	if got.Status != consumers.Completed || !jsonEqual(got.Result, []byte(`1`)) || got.Expiry.Unix() != now.Add(window).Unix() {
		t.Errorf("after a refused second Complete: %+v, want the first completion (result 1)", got)
	}
}

// testPrecision: times that are not whole round-trip at the store's
// precision: Expiry to the second, InProgressExpiry to the millisecond.
func testPrecision(t *testing.T, s consumers.IdempotencyStore) {
	now := base().Add(123456789 * time.Nanosecond)
	key := newKey(t)
	rec := record(key, "h1", now)
	rec.Expiry = rec.Expiry.Add(987654321 * time.Nanosecond)
	rec.InProgressExpiry = rec.InProgressExpiry.Add(456789 * time.Nanosecond)
	mustAcquire(t, s, rec, now)
	checkTimes(t, mustFind(t, s, key, now), rec.Expiry, rec.InProgressExpiry)

	expiry := now.Add(window).Add(555 * time.Millisecond)
	mustComplete(t, s, key, expiry, nil)
	if got := mustFind(t, s, key, now); got.Expiry.Unix() != expiry.Unix() {
		t.Errorf("completed Expiry = %v, want %v (to the second)", got.Expiry, expiry)
	}
}

// testInvalidRecord: a record without key, Expiry or InProgressExpiry, or
// with another status, is refused, not stored.
func testInvalidRecord(t *testing.T, s consumers.IdempotencyStore) {
	now := base()
	key := newKey(t)
	bad := map[string]func(r *consumers.IdempotencyRecord){
		"no key":              func(r *consumers.IdempotencyRecord) { r.Key = "" },
		"no Expiry":           func(r *consumers.IdempotencyRecord) { r.Expiry = time.Time{} },
		"no InProgressExpiry": func(r *consumers.IdempotencyRecord) { r.InProgressExpiry = time.Time{} },
		"status COMPLETED":    func(r *consumers.IdempotencyRecord) { r.Status = consumers.Completed },
		"Result not JSON":     func(r *consumers.IdempotencyRecord) { r.Result = json.RawMessage(`{`) },
		"status EXPIRED":      func(r *consumers.IdempotencyRecord) { r.Status = "EXPIRED" },
	}
	for what, spoil := range bad {
		rec := record(key, "h1", now)
		spoil(&rec)
		if _, ok, err := s.Acquire(t.Context(), rec, now); err == nil {
			t.Errorf("Acquire of a record with %s: no error (acquired %v)", what, ok)
		}
	}
	mustAcquire(t, s, record(key, "h1", now), now)
	if err := s.Complete(t.Context(), key, time.Time{}, nil); err == nil {
		t.Error("Complete with a zero expiry: no error")
	}
	if err := s.Complete(t.Context(), key, now.Add(window), json.RawMessage(`{`)); err == nil {
		t.Error("Complete with a result that is not JSON: no error")
	}
	if got := mustFind(t, s, key, now); got.Status != consumers.InProgress {
		t.Errorf("after refused Completes: %+v, want the INPROGRESS record", got)
	}
}

// testContextCancelled: with ctx cancelled every method fails with an error
// that wraps ctx's, and changes nothing.
func testContextCancelled(t *testing.T, s consumers.IdempotencyStore) {
	now := base()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	free := newKey(t)
	if _, ok, err := s.Acquire(ctx, record(free, "h1", now), now); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with ctx cancelled: acquired %v, err %v; want an error wrapping context.Canceled", ok, err)
	}
	mustAcquire(t, s, record(free, "h1", now), now)

	if err := s.Complete(ctx, free, now.Add(window), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Complete with ctx cancelled: %v, want an error wrapping context.Canceled", err)
	}
	if err := s.Release(ctx, free); !errors.Is(err, context.Canceled) {
		t.Errorf("Release with ctx cancelled: %v, want an error wrapping context.Canceled", err)
	}
	if got := mustFind(t, s, free, now); got.Status != consumers.InProgress || got.PayloadHash != "h1" {
		t.Errorf("after cancelled Complete and Release: %+v, want the h1 INPROGRESS record", got)
	}
}
