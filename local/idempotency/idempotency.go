// Package idempotency is the embedded adapter of consumers.IdempotencyStore
// behind `troupe dev`: records in a bbolt bucket, one JSON document per key,
// with the same layout, precision and conditions as the DynamoDB adapter
// (github.com/troupehq/troupe/aws/idempotency), so a consumer behaves the same
// on a laptop and on AWS.
//
// An INPROGRESS lock lives in the Store's memory; a COMPLETED record is
// written to the database (durable: bbolt syncs on commit) before Complete
// returns. A lock never outlives its process anyway: bbolt locks the file to
// one process, and a process that dies takes its runs with it (troupe dev
// releases any lock left in the file at start). Keeping locks in memory
// saves one synced commit per delivery. So one Store per bucket: a second
// Store on the same bucket sees the first one's COMPLETED records, not its
// locks. Purge stands in for DynamoDB's TTL and deletes expired records.
package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/local/commit"
)

// Store keeps idempotency records in one bucket of a bbolt database, and
// its INPROGRESS locks in memory. It implements consumers.IdempotencyStore
// and is safe for concurrent use by many goroutines. bbolt locks its file,
// so one process at a time opens it.
type Store struct {
	db      *bbolt.DB
	bucket  []byte
	commit  commit.Func                                        // writes that may share a commit (WithCommit)
	enqueue func(fn func(*bbolt.Tx) error) (wait func() error) // completions queued, not waited for (WithEnqueue)

	mu     sync.Mutex
	held   map[string]item // INPROGRESS locks, by key
	claims uint64          // numbers the claims in held
}

var _ consumers.IdempotencyStore = (*Store)(nil)

// item is a record as stored: the DynamoDB adapter's attributes, Expiry in
// epoch seconds and InProgressExpiry in epoch milliseconds (both truncated).
type item struct {
	ID                   string          `json:"id"`
	Status               string          `json:"status"`
	Expiration           int64           `json:"expiration"`
	InProgressExpiration *int64          `json:"in_progress_expiration,omitempty"`
	Validation           string          `json:"validation,omitempty"`
	Data                 json.RawMessage `json:"data,omitempty"`

	claim uint64 // which Acquire holds it (in memory only)
}

// Option configures a Store.
type Option func(*Store)

// WithCommit runs the Store's completions and deletions with f (default
// db.Batch): an engine passes its commit.Group's Do, so that they share
// commits with its other writers.
func WithCommit(f commit.Func) Option { return func(s *Store) { s.commit = f } }

// WithEnqueue makes Complete return once its write is queued for commit (f
// is commit.Group.Enqueue: transactions commit in queue order), not once it
// is committed. Until then the record is held in memory as COMPLETED, so a
// duplicate in this process is answered from memory. Whatever the caller
// writes after Complete returns (the bus's progress, a stream checkpoint)
// is committed with the record or after it, never before: after a crash, a
// delivery whose completion was lost is not marked done either, and runs
// again, as one that crashed before Complete does. If the commit fails, the
// record stays held in memory until the process ends.
func WithEnqueue(f func(fn func(*bbolt.Tx) error) (wait func() error)) Option {
	return func(s *Store) { s.enqueue = f }
}

// New returns a Store on the bucket of db, creating the bucket if needed.
// The caller opens and closes db; the Store must not be used after.
func New(db *bbolt.DB, bucket string, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("idempotency: New: db is nil: pass an open *bbolt.DB")
	}
	if bucket == "" {
		return nil, errors.New("idempotency: New: the bucket name is empty")
	}
	s := &Store{db: db, bucket: []byte(bucket), held: map[string]item{}, commit: db.Batch}
	for _, o := range opts {
		o(s)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(s.bucket)
		return err
	}); err != nil {
		return nil, fmt.Errorf("idempotency: create bucket %q in %s: %w", bucket, db.Path(), err)
	}
	return s, nil
}

// Acquire implements consumers.IdempotencyStore. rec.Status must be empty or
// INPROGRESS (it is held, in memory, as INPROGRESS); rec.Expiry and
// rec.InProgressExpiry must be set. Expiry is kept in whole seconds and
// InProgressExpiry in milliseconds, and compared with now at that precision.
func (s *Store) Acquire(ctx context.Context, rec consumers.IdempotencyRecord, now time.Time) (consumers.IdempotencyRecord, bool, error) {
	if err := rec.CheckAcquire(); err != nil {
		return consumers.IdempotencyRecord{}, false, err
	}
	if err := ctx.Err(); err != nil {
		return consumers.IdempotencyRecord{}, false, fmt.Errorf("idempotency: acquire %q: %w", rec.Key, err)
	}
	ipe := rec.InProgressExpiry.UnixMilli()
	next := item{
		ID:                   rec.Key,
		Status:               string(consumers.InProgress),
		Expiration:           rec.Expiry.Unix(),
		InProgressExpiration: &ipe,
		Validation:           rec.PayloadHash,
		Data:                 rec.Result,
	}
	// Claim the key in memory first, then look for a stored record without
	// the lock (a read transaction can wait for the writer; every delivery
	// of every consumer used to queue behind it). This is safe because a
	// COMPLETED record is committed by the key's holder before it lets go of
	// its claim: whoever completed the key before our claim did so before
	// our read, and nobody can complete it after, since we hold it.
	s.mu.Lock()
	if old, ok := s.held[rec.Key]; ok && !old.free(now) {
		s.mu.Unlock()
		return old.record(), false, nil
	}
	s.claims++
	next.claim = s.claims
	s.held[rec.Key] = next
	s.mu.Unlock()

	existing, err := s.stored(rec.Key, now)
	if err == nil && existing == nil {
		return consumers.IdempotencyRecord{}, true, nil
	}
	s.mu.Lock()
	if cur, ok := s.held[rec.Key]; ok && cur.claim == next.claim {
		delete(s.held, rec.Key)
	}
	s.mu.Unlock()
	if err != nil {
		return consumers.IdempotencyRecord{}, false, s.fail("acquire", rec.Key, err)
	}
	return existing.record(), false, nil
}

// stored returns key's record in the file, or nil if there is none or it is
// free to take (expired, or INPROGRESS past its in-progress expiry).
func (s *Store) stored(key string, now time.Time) (*item, error) {
	var existing *item
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.bucketOf(tx)
		if err != nil {
			return err
		}
		v := b.Get([]byte(key))
		if v == nil {
			return nil
		}
		old, err := decode(v)
		if err == nil && !old.free(now) {
			existing = &old
		}
		return err
	})
	return existing, err
}

// Complete implements consumers.IdempotencyStore: it sets the status, the
// expiry and the result (removing a previous result when result is empty)
// of a record that is still INPROGRESS. Completing a key that is absent or
// already COMPLETED is an error that says which.
func (s *Store) Complete(ctx context.Context, key string, expiry time.Time, result json.RawMessage) error {
	if err := consumers.CheckComplete(key, expiry, result); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("idempotency: complete %q: %w", key, err)
	}
	s.mu.Lock()
	it, ok := s.held[key]
	s.mu.Unlock()
	switch {
	case !ok:
		return s.fail("complete", key, s.notHeld(key))
	case it.Status != string(consumers.InProgress): // a completion on its way to disk (WithEnqueue)
		return s.fail("complete", key, fmt.Errorf("the record is %s, not %s: the caller does not hold it", it.Status, consumers.InProgress))
	}
	it.Status = string(consumers.Completed)
	it.Expiration = expiry.Unix()
	it.Data = nil
	if len(result) > 0 {
		it.Data = result
	}
	nv, err := json.Marshal(it)
	if err != nil {
		return s.fail("complete", key, err)
	}
	// fn may run again after a rolled-back batch: it only puts.
	put := func(tx *bbolt.Tx) error {
		b, err := s.bucketOf(tx)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), nv)
	}
	if s.enqueue != nil {
		s.mu.Lock()
		s.held[key] = it // COMPLETED, until its commit
		s.mu.Unlock()
		wait := s.enqueue(put)
		go func() {
			if wait() == nil {
				s.release(key, it.claim)
			}
		}()
		return nil
	}
	// Concurrent completions share one commit (one fsync).
	err = s.commit(put)
	if err != nil {
		return s.fail("complete", key, err)
	}
	s.mu.Lock()
	delete(s.held, key)
	s.mu.Unlock()
	return nil
}

// release lets go of the key held by claim, if it still holds it.
func (s *Store) release(key string, claim uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.held[key]; ok && cur.claim == claim {
		delete(s.held, key)
	}
}

// notHeld says why the caller does not hold key.
func (s *Store) notHeld(key string) error {
	var status string
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.bucketOf(tx)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(key)); v != nil {
			it, err := decode(v)
			status = it.Status
			return err
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case status == "":
		return errors.New("no record: the key was never acquired, was released, or expired and was purged; " +
			"the caller does not hold it")
	default:
		return fmt.Errorf("the record is %s, not %s: the caller does not hold it", status, consumers.InProgress)
	}
}

// Release implements consumers.IdempotencyStore: it deletes the key's
// record, whatever its state. Releasing an absent key is not an error.
func (s *Store) Release(ctx context.Context, key string) error {
	if key == "" {
		return errors.New("idempotency: release: the key is empty")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("idempotency: release %q: %w", key, err)
	}
	s.mu.Lock()
	delete(s.held, key)
	s.mu.Unlock()
	// A held key may have a record in the file too (an expired one that
	// Acquire took over), and a released key has none.
	return s.deleteRecord("release", key)
}

// deleteRecord deletes key's record from the file, if there is one (a read
// first: most keys released were only held in memory, and a delete of
// nothing would still cost a commit).
func (s *Store) deleteRecord(op, key string) error {
	var present bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.bucketOf(tx)
		if err == nil {
			present = b.Get([]byte(key)) != nil
		}
		return err
	})
	if err == nil && present {
		err = s.commit(func(tx *bbolt.Tx) error {
			b, err := s.bucketOf(tx)
			if err != nil {
				return err
			}
			return b.Delete([]byte(key))
		})
	}
	if err != nil {
		return s.fail(op, key, err)
	}
	return nil
}

// ReleaseInProgress drops every INPROGRESS lock, held in memory or left in
// the file by an earlier version, so that their events
// can run again at once. Call it only when the caller owns the database
// exclusively and no run is under way, as `troupe dev` does at start (bbolt
// locks the file to one process): every INPROGRESS lock then belongs to a
// process that died, and waiting for its expiry would only delay its events.
func (s *Store) ReleaseInProgress() (int, error) {
	s.mu.Lock()
	n := 0
	for key, it := range s.held {
		if it.Status == string(consumers.InProgress) { // not a completion on its way to disk
			delete(s.held, key)
			n++
		}
	}
	s.mu.Unlock()
	m, err := s.deleteWhere(func(it item) bool { return it.Status == string(consumers.InProgress) })
	return n + m, err
}

// Purge deletes every record whose Expiry has passed (Expiry <= now, to the
// second), INPROGRESS or COMPLETED, and returns how many it deleted: the
// local stand-in for DynamoDB's TTL. Expired records already behave as
// absent; Purge only reclaims their space. It is one transaction.
func (s *Store) Purge(now time.Time) (int, error) {
	s.mu.Lock()
	n := 0
	for key, it := range s.held {
		if it.expired(now) {
			delete(s.held, key)
			n++
		}
	}
	s.mu.Unlock()
	m, err := s.deleteWhere(func(it item) bool { return it.expired(now) })
	return n + m, err
}

// deleteWhere deletes the records that match, in one transaction.
func (s *Store) deleteWhere(match func(item) bool) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := s.bucketOf(tx)
		if err != nil {
			return err
		}
		var expired [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			it, err := decode(v)
			if err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			if match(it) {
				expired = append(expired, k)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("idempotency: clean bucket %q of %s: %w", s.bucket, s.db.Path(), err)
	}
	return n, nil
}

func (s *Store) bucketOf(tx *bbolt.Tx) (*bbolt.Bucket, error) {
	b := tx.Bucket(s.bucket)
	if b == nil {
		return nil, fmt.Errorf("bucket %q is missing: was it deleted after New?", s.bucket)
	}
	return b, nil
}

func (s *Store) fail(op, key string, err error) error {
	return fmt.Errorf("idempotency: %s %q in bucket %q of %s: %w", op, key, s.bucket, s.db.Path(), err)
}

func decode(v []byte) (item, error) {
	var it item
	if err := json.Unmarshal(v, &it); err != nil {
		return it, fmt.Errorf("stored record is not valid: %w", err)
	}
	return it, nil
}

// expired: Expiry <= now, to the second.
func (it item) expired(now time.Time) bool { return it.Expiration <= now.Unix() }

// free reports whether Acquire may replace the record at now: the DynamoDB
// adapter's condition, `#expiry <= :now OR (#status = :inprogress AND
// attribute_exists(#in_progress_expiry) AND #in_progress_expiry <= :now_in_millis)`.
func (it item) free(now time.Time) bool {
	return it.expired(now) ||
		it.Status == string(consumers.InProgress) && it.InProgressExpiration != nil && *it.InProgressExpiration <= now.UnixMilli()
}

func (it item) record() consumers.IdempotencyRecord {
	rec := consumers.IdempotencyRecord{
		Key:         it.ID,
		PayloadHash: it.Validation,
		Status:      consumers.IdempotencyStatus(it.Status),
		Expiry:      time.Unix(it.Expiration, 0),
	}
	if it.InProgressExpiration != nil {
		rec.InProgressExpiry = time.UnixMilli(*it.InProgressExpiration)
	}
	if len(it.Data) > 0 {
		rec.Result = append(json.RawMessage(nil), it.Data...)
	}
	return rec
}
