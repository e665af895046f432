// Package bus is the event bus of the embedded engine behind `troupe dev`:
// an EventBridge bus in one process, kept in a bbolt database so that what
// SendBatch acknowledged survives kill -9.
//
// It implements producers.BusSender: SendBatch validates each entry as
// PutEvents does (per-entry ErrorCode and ErrorMessage), turns the accepted
// ones into the event JSON an EventBridge target receives ({"version":"0",
// "id", "detail-type", "source", "account", "time", "region", "resources",
// "detail"}) and appends them to a durable log before it returns.
//
// Targets stand for a rule's targets: each has an EventBridge event pattern,
// a Deliver function, a RetryPolicy (MaximumRetryAttempts,
// MaximumEventAgeInSeconds, with exponential backoff and jitter) and a
// DeadLetter function (the target's DeadLetterConfig). Once Start runs, every
// event in the log is delivered at least once to every target whose pattern
// matches it, including events appended before a restart. Like EventBridge,
// the bus keeps no order.
//
// # Layout in the database
//
// One top-level bucket per bus, "bus." + name, holding:
//
//   - "log": one key per event, its sequence number (8 bytes big-endian,
//     from the bucket's sequence, so increasing in the order of appends), whose
//     value is the time the bus received it (8 bytes, Unix nanoseconds) then
//     the event JSON a target receives.
//   - "targets": one nested bucket per target name, holding "watermark" (8
//     bytes: every event below it is done for this target: delivered, dead-
//     lettered, or not matched) and a nested bucket "done" with one empty key
//     per event at or above the watermark that is done.
//
// A target seen for the first time starts at the oldest event of the log.
// Events below every current target's watermark are deleted from the log.
//
// # Concurrency
//
// SendBatch, Check and Stats may be called from any number of goroutines at
// once, before and after Start. AddTarget must be called before Start (the
// set of targets is fixed while delivering); Start once; Close once all
// callers are done with the bus (a SendBatch after Close wraps
// producers.ErrNotFound). Deliver and DeadLetter are called from the bus's
// goroutines, up to Target.Concurrency at once per target.
package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/events/pattern"
	"github.com/troupehq/troupe/local/commit"
	"github.com/troupehq/troupe/producers"
)

// MaxEntries is the most entries one SendBatch takes, as on PutEvents.
const MaxEntries = 10

// DefaultMaxEntryBytes is EventBridge's limit on one PutEvents entry.
const DefaultMaxEntryBytes = 1 << 20

// ErrClosed marks a call to a bus after Close. It wraps producers.ErrNotFound:
// to a sender, a closed bus is a bus that is not there.
var ErrClosed = fmt.Errorf("bus is closed: %w", producers.ErrNotFound)

// ErrValidation marks a SendBatch call refused as a whole, as PutEvents
// answers ValidationException: no entry was accepted; sending the same call
// again fails the same way.
var ErrValidation = errors.New("ValidationException")

// Config configures a Bus. The zero value is valid.
type Config struct {
	// Account and Region are the "account" and "region" of every event
	// (default "000000000000" and "us-east-1").
	Account string
	Region  string
	// MaxEntryBytes is the largest entry SendBatch accepts, counted as
	// EventBridge counts it: 14 bytes for Time when set, plus the UTF-8 bytes
	// of Source, DetailType, Detail and each of Resources (default 1 MiB).
	MaxEntryBytes int
	// Now is the clock that stamps events without a Time and measures their
	// age against MaximumEventAgeInSeconds (default time.Now).
	Now func() time.Time
	// Commit runs the bus's write transactions: the log's appends and the
	// targets' progress (default db.Update). An engine passes its
	// commit.Group's Do, to share commits with its other writers.
	Commit commit.Func
	// Enqueue, when set, runs the log's appends instead of Commit: it
	// queues a write and returns at once, and its wait returns once the
	// write is committed. Transactions must commit in queue order
	// (commit.Group.Enqueue does), so that nothing a target does about an
	// event can be durable before the event: the bus then hands events to
	// its targets as soon as their append is queued, before their commit is
	// synced, and queues the next appends without waiting for it. SendBatch
	// still returns only once its events are on disk.
	Enqueue func(fn func(*bbolt.Tx) error) (wait func() error)
}

// SetDefaults fills in the fields left zero.
func (c *Config) SetDefaults() {
	if c.Account == "" {
		c.Account = "000000000000"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.MaxEntryBytes == 0 {
		c.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports a setting that cannot work.
func (c *Config) Validate() error {
	if c.MaxEntryBytes < 0 {
		return fmt.Errorf("bus: Config.MaxEntryBytes %d is negative: leave it 0 for EventBridge's 1 MiB", c.MaxEntryBytes)
	}
	return nil
}

// TargetStats counts what one target's deliveries came to since Start.
type TargetStats struct {
	// Delivered counts events Deliver accepted.
	Delivered int64
	// Retried counts Deliver calls after a first one failed.
	Retried int64
	// DeadLettered counts events handed to DeadLetter after their retries.
	DeadLettered int64
	// Dropped counts events that ran out of retries on a target without
	// DeadLetter (EventBridge drops them too).
	Dropped int64
	// Pending counts events taken from the log for this target and not yet
	// done: being delivered, waiting for a retry or for their dead letter.
	Pending int64
	// Backlog counts events in the log this target has not looked at yet.
	Backlog int64
}

// Bus is an event bus in a bbolt database. See the package comment for who
// may call what concurrently.
type Bus struct {
	db   *bbolt.DB
	name string
	top  []byte // top-level bucket
	cfg  Config

	// send side
	mu         sync.RWMutex // guards closed; SendBatch holds it shared while it appends
	closed     bool
	closeOnce  sync.Once
	closeErr   error // set in closeOnce
	appends    chan *appendReq
	commitDone chan struct{}
	pending    chan queuedAppend // queued appends, in order, for settle (Enqueue only)
	head       atomic.Uint64     // the next sequence number the log will assign
	durable    atomic.Uint64     // the first sequence number not yet known to be on disk
	next       uint64            // the next sequence number to assign; owned by commitLoop
	recent     recent

	// delivery side
	tmu      sync.Mutex // guards targets, started
	targets  []*runner
	matcher  *pattern.Matcher
	catchAll []string // names of targets without a pattern, sorted
	started  bool
	live     atomic.Pointer[[]*runner] // the running targets, for the committer to wake
	cancel   context.CancelFunc
	running  sync.WaitGroup // runners
	acks     *ackWriter
}

var _ producers.BusSender = (*Bus)(nil)

// Open opens the bus name in db, creating its buckets if needed, and starts
// taking events; delivery waits for Start. The caller opens and closes db,
// and closes the Bus before db.
func Open(db *bbolt.DB, name string, cfg Config) (*Bus, error) {
	if db == nil {
		return nil, errors.New("bus: Open: db is nil: pass an open *bbolt.DB")
	}
	if name == "" {
		return nil, errors.New("bus: Open: name is empty: name the bus, e.g. \"default\"")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Commit == nil {
		cfg.Commit = db.Update
	}
	b := &Bus{
		db: db, name: name, top: []byte("bus." + name), cfg: cfg,
		appends:    make(chan *appendReq, 64),
		commitDone: make(chan struct{}),
		matcher:    pattern.NewMatcher(),
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists(b.top)
		if err != nil {
			return err
		}
		lg, err := top.CreateBucketIfNotExists(bucketLog)
		if err != nil {
			return err
		}
		if _, err := top.CreateBucketIfNotExists(bucketTargets); err != nil {
			return err
		}
		b.next = lg.Sequence() + 1
		b.head.Store(b.next)
		b.durable.Store(b.next)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bus %q: open in %s: %w", name, db.Path(), err)
	}
	b.recent.init(recentSize)
	go b.commitLoop()
	return b, nil
}

// Name returns the bus's name.
func (b *Bus) Name() string { return b.name }

// Check returns nil while the bus is open and its buckets exist, and an error
// wrapping producers.ErrNotFound after Close or if they were deleted.
func (b *Bus) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.RLock()
	closed := b.closed
	b.mu.RUnlock()
	if closed {
		return fmt.Errorf("bus %q: %w", b.name, ErrClosed)
	}
	return b.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(b.top) == nil {
			return fmt.Errorf("bus %q: no bucket %q in %s: %w", b.name, b.top, b.db.Path(), producers.ErrNotFound)
		}
		return nil
	})
}

// Stats returns each target's counters, by target name.
func (b *Bus) Stats() map[string]TargetStats {
	b.tmu.Lock()
	defer b.tmu.Unlock()
	head := b.head.Load()
	out := make(map[string]TargetStats, len(b.targets))
	for _, r := range b.targets {
		out[r.t.Name] = r.stats.snapshot(head)
	}
	return out
}

// Close stops taking events, stops delivery (cancelling the context of the
// Deliver and DeadLetter calls under way and waiting for them to return),
// and writes the targets' progress. Events not yet delivered stay in the log
// and are delivered after the bus is opened and started again. Close does
// not close the database. Calling Close again waits for the first call and
// returns its result.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true // SendBatch calls under way hold mu shared: none is left now
		close(b.appends)
		b.mu.Unlock()
		<-b.commitDone

		b.tmu.Lock()
		started := b.started
		b.tmu.Unlock()
		if started { // not holding tmu: a Deliver may call Stats
			b.cancel()
			b.running.Wait()
			b.closeErr = b.acks.close()
		}
	})
	return b.closeErr
}
