// Package stream is the embedded Kinesis data stream behind `troupe dev`:
// records kept in a bbolt database, in shards chosen by the MD5 hash of the
// partition key, each shard in the order its records were written, read back
// by one reader per shard and kept for a retention period.
//
// It implements producers.StreamWriter, so the Publisher writes to it as it
// writes to Kinesis, and it mirrors what a consumer of Kinesis relies on:
//
//   - Shards split the 128-bit hash key space evenly, as Kinesis does for a
//     new stream: shard i of n holds the keys from i*2^128/n to
//     (i+1)*2^128/n - 1, and a record goes to the shard whose range holds
//     MD5(partition key) read as a big-endian unsigned integer. Shard ids
//     are Kinesis's: shardId-000000000000, shardId-000000000001, ...
//   - Sequence numbers are decimal strings that increase within a shard.
//     They are per-shard counters written as 20 digits with leading zeros
//     (00000000000000000001), so they compare correctly as numbers (as
//     Kinesis's do) and as strings. They are unique within a shard, not
//     across shards, and never reused, not even after a Trim.
//   - A record is durable when WriteBatch returns: its bbolt transaction has
//     been committed and synced (unless the caller opened the database with
//     NoSync).
//   - Read, Latest and Wait give what GetShardIterator and GetRecords give:
//     from TRIM_HORIZON, after a sequence number, or from LATEST.
//   - Consumers keep a durable checkpoint per shard, which only moves forward.
//   - Trim deletes what is older than the retention period, and a reader
//     whose position was trimmed away learns it (ReadResult.Trimmed).
//
// # Layout in the database
//
// One top-level bucket per stream, "stream:" followed by the stream's name,
// holding: the key "config" (JSON: the shard count fixed at creation);
// a bucket "shards" with one bucket per shard id, whose keys are sequence
// numbers as 8 bytes big-endian and whose values are the encoded records
// (see record.go), the bucket's own sequence being the last one assigned;
// a bucket "trimmed" (shard id to the last sequence number Trim deleted);
// and a bucket "checkpoints" with one bucket per consumer (shard id to
// sequence number). Several streams, and the other embedded stores, may
// share one database.
//
// # Concurrency
//
// A *Stream is safe for concurrent use by any number of goroutines: many
// writers, readers, Trim and checkpoints at once. Writers are grouped into
// one transaction (see WriteBatch). Reading is meant to be done by one
// reader per shard per consumer, as with Kinesis; SetCheckpoint refuses to
// move a checkpoint back, so two readers of one shard for one consumer
// cannot silently undo each other's progress, but they would see the same
// records. Open a stream once per database and share the *Stream: Wait
// wakes only on writes made through the same *Stream.
package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/local/commit"
	"github.com/troupehq/troupe/producers"
)

// Defaults and limits, as Kinesis sets them.
const (
	// DefaultShards is the shard count of a stream whose Config says none.
	DefaultShards = 4
	// MaxShards bounds the shard count of an embedded stream.
	MaxShards = 64
	// DefaultRetention is Kinesis's default retention period.
	DefaultRetention = 24 * time.Hour
	// MinRetention and MaxRetention are Kinesis's bounds (24 hours to 365
	// days).
	MinRetention = 24 * time.Hour
	MaxRetention = 8760 * time.Hour
	// DefaultMaxRecordBytes is Kinesis's record limit, counted over data
	// plus partition key.
	DefaultMaxRecordBytes = 1 << 20
	// MaxMaxRecordBytes is the largest record limit Kinesis can be set to.
	MaxMaxRecordBytes = 10 << 20
	// DefaultMaxBatchBytes is PutRecords' limit on one call, partition keys
	// included.
	DefaultMaxBatchBytes = 5 << 20
	// MaxBatchRecords is PutRecords' limit on records per call.
	MaxBatchRecords = 500
	// MaxPartitionKeyLength is Kinesis's limit, in Unicode characters.
	MaxPartitionKeyLength = 256
	// MaxReadLimit is GetRecords' limit on records per call.
	MaxReadLimit = 10000
)

var (
	// ErrValidation marks a WriteBatch call rejected as a whole because a
	// record or the batch breaks Kinesis's limits (Kinesis answers such a
	// PutRecords with ValidationException or InvalidArgumentException).
	// Nothing was written; sending the same call again fails again.
	ErrValidation = errors.New("ValidationException")
	// ErrInvalidSequence marks a sequence number that is not one of the
	// shard's: not a decimal number, or beyond the last one assigned (a
	// checkpoint from a deleted and recreated stream, say).
	ErrInvalidSequence = errors.New("invalid sequence number")
	// ErrCheckpointBackwards marks a SetCheckpoint that would move a
	// consumer's checkpoint back.
	ErrCheckpointBackwards = errors.New("checkpoint cannot move backwards")
)

// Config configures a stream. The zero value is valid: SetDefaults fills it.
type Config struct {
	// Shards is the shard count (default 4, 1 to 64). It is fixed when the
	// stream is created; opening an existing stream with another count is an
	// error.
	Shards int
	// Retention is how long Trim keeps records (default 24h, Kinesis's
	// default; 24h to 8760h, Kinesis's bounds).
	Retention time.Duration
	// MaxRecordBytes bounds one record, data plus partition key (default
	// 1 MiB, Kinesis's; at most 10 MiB).
	MaxRecordBytes int
	// MaxBatchBytes bounds one WriteBatch call, data plus partition keys
	// (default 5 MiB, PutRecords'; at least MaxRecordBytes).
	MaxBatchBytes int
	// Now is the clock that stamps each record's ArrivedAt (default
	// time.Now).
	Now func() time.Time
	// Commit runs the stream's appends and checkpoints (default: the
	// stream's own group commit for appends, db.Batch for checkpoints). An
	// engine passes its commit.Group's Do, to share commits with its other
	// writers.
	Commit commit.Func
	// Enqueue, when set, runs WriteBatch's appends instead of Commit: it
	// queues a write and returns at once, and its wait returns once the
	// write is committed (commit.Group.Enqueue). Each WriteBatch then queues
	// its own write at once, with no group of the stream's own, and calls
	// the hook of WithQueued when it has.
	Enqueue func(fn func(*bbolt.Tx) error) (wait func() error)
}

// SetDefaults fills the zero fields with their defaults.
func (c *Config) SetDefaults() {
	if c.Shards == 0 {
		c.Shards = DefaultShards
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = max(DefaultMaxBatchBytes, c.MaxRecordBytes)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports every field out of range, after SetDefaults.
func (c Config) Validate() error {
	var errs []error
	if c.Shards < 1 || c.Shards > MaxShards {
		errs = append(errs, fmt.Errorf("Shards is %d: pick 1 to %d", c.Shards, MaxShards))
	}
	if c.Retention < MinRetention || c.Retention > MaxRetention {
		errs = append(errs, fmt.Errorf("Retention is %v: Kinesis keeps records from %v to %v", c.Retention, MinRetention, MaxRetention))
	}
	if c.MaxRecordBytes < 1 || c.MaxRecordBytes > MaxMaxRecordBytes {
		errs = append(errs, fmt.Errorf("MaxRecordBytes is %d: pick 1 to %d (10 MiB, Kinesis's largest record)", c.MaxRecordBytes, MaxMaxRecordBytes))
	}
	if c.MaxBatchBytes < c.MaxRecordBytes {
		errs = append(errs, fmt.Errorf("MaxBatchBytes is %d, below MaxRecordBytes %d: a batch must hold at least one record", c.MaxBatchBytes, c.MaxRecordBytes))
	}
	if c.Now == nil {
		errs = append(errs, errors.New("Now is nil: pass a clock, e.g. time.Now"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("stream config: %w", errors.Join(errs...))
	}
	return nil
}

// Shard is one shard of a stream, described as Kinesis's ListShards
// describes it; the hash keys are decimal strings.
type Shard struct {
	ID              string
	StartingHashKey string
	EndingHashKey   string
}

// Stream is one embedded Kinesis data stream in a bbolt database. See the
// package documentation for who may call what concurrently.
type Stream struct {
	db     *bbolt.DB
	name   string
	bucket []byte
	cfg    Config
	shards []Shard
	starts [][16]byte // StartingHashKey of each shard, big-endian
	state  []*shardState

	// appendCommit runs appends, batchCommit checkpoints (Config.Commit).
	appendCommit, batchCommit commit.Func

	// group commit (write.go)
	gmu     sync.Mutex
	queue   []*request
	leading bool
	// dbBatch makes WriteBatch use bbolt's db.Batch instead of the group
	// commit; the benchmarks compare the two.
	dbBatch bool
}

var _ producers.StreamWriter = (*Stream)(nil)

var (
	keyConfig      = []byte("config")
	keyShards      = []byte("shards")
	keyTrimmed     = []byte("trimmed")
	keyCheckpoints = []byte("checkpoints")
)

// storedConfig is what the "config" key holds: what may not change once the
// stream exists.
type storedConfig struct {
	Shards  int       `json:"shards"`
	Created time.Time `json:"created"`
}

var validName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

func bucketName(name string) []byte { return []byte("stream:" + name) }

// Open returns the stream called name in db, creating it with cfg.Shards
// shards if it does not exist. An existing stream keeps its records, its
// sequence numbers and its consumers' checkpoints; opening it with another
// shard count is an error. The caller opens and closes db, and opens each
// stream once per database (see the package documentation).
//
// Names follow Kinesis's rules: 1 to 128 letters, digits, '_', '.' and '-'.
func Open(db *bbolt.DB, name string, cfg Config) (*Stream, error) {
	if db == nil {
		return nil, errors.New("stream: Open: db is nil: pass an open *bbolt.DB")
	}
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("stream: Open: name %q is not a Kinesis stream name: use 1 to 128 letters, digits, '_', '.' or '-'", name)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	s := &Stream{db: db, name: name, bucket: bucketName(name), cfg: cfg, appendCommit: cfg.Commit, batchCommit: cfg.Commit}
	if s.appendCommit == nil {
		s.appendCommit, s.batchCommit = db.Update, db.Batch
	}
	s.shards, s.starts = splitHashKeys(cfg.Shards)
	s.state = make([]*shardState, cfg.Shards)
	for i := range s.state {
		s.state[i] = &shardState{ch: make(chan struct{})}
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(s.bucket)
		if err != nil {
			return err
		}
		if raw := root.Get(keyConfig); raw != nil {
			var sc storedConfig
			if err := json.Unmarshal(raw, &sc); err != nil {
				return fmt.Errorf("stored config %q is corrupt: %w", raw, err)
			}
			if sc.Shards != cfg.Shards {
				return fmt.Errorf("the stream exists with %d shards and Config asks for %d: "+
					"the shard count is fixed when a stream is created; open it with Shards: %d, "+
					"or delete the stream (Delete) to recreate it", sc.Shards, cfg.Shards, sc.Shards)
			}
		} else {
			raw, err := json.Marshal(storedConfig{Shards: cfg.Shards, Created: cfg.Now().UTC()})
			if err != nil {
				return err
			}
			if err := root.Put(keyConfig, raw); err != nil {
				return err
			}
		}
		shards, err := root.CreateBucketIfNotExists(keyShards)
		if err != nil {
			return err
		}
		for i, sh := range s.shards {
			b, err := shards.CreateBucketIfNotExists([]byte(sh.ID))
			if err != nil {
				return err
			}
			s.state[i].latest = b.Sequence()
		}
		for _, k := range [][]byte{keyTrimmed, keyCheckpoints} {
			if _, err := root.CreateBucketIfNotExists(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stream %s: open in %s: %w", name, db.Path(), err)
	}
	return s, nil
}

// Delete deletes the stream called name from db, with its records and
// checkpoints, as Kinesis's DeleteStream does. Streams opened on it before
// then answer every call with an error wrapping producers.ErrNotFound. It
// wraps producers.ErrNotFound when there is no such stream.
func Delete(db *bbolt.DB, name string) error {
	err := db.Update(func(tx *bbolt.Tx) error {
		return tx.DeleteBucket(bucketName(name))
	})
	if errors.Is(err, bbolt.ErrBucketNotFound) {
		return fmt.Errorf("stream %s: delete: %w: there is no such stream in %s", name, producers.ErrNotFound, db.Path())
	}
	if err != nil {
		return fmt.Errorf("stream %s: delete: %w", name, err)
	}
	return nil
}

// Name returns the stream's name.
func (s *Stream) Name() string { return s.name }

// Config returns the stream's configuration, defaults filled in.
func (s *Stream) Config() Config { return s.cfg }

// Shards returns the stream's shards in order, as ListShards would.
func (s *Stream) Shards() []Shard { return append([]Shard(nil), s.shards...) }

// Check verifies that the stream exists in an open database. It wraps
// producers.ErrNotFound when the stream was deleted; it never wraps
// producers.ErrRetryable (a closed database stays closed).
func (s *Stream) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stream %s: check: %w", s.name, err)
	}
	return s.view("check", func(*bbolt.Bucket) error { return nil })
}

// view runs fn in a read transaction on the stream's bucket.
func (s *Stream) view(what string, fn func(root *bbolt.Bucket) error) error {
	err := s.db.View(func(tx *bbolt.Tx) error {
		root := tx.Bucket(s.bucket)
		if root == nil {
			return s.notFound()
		}
		return fn(root)
	})
	return s.wrap(what, err)
}

// update runs fn in a read-write transaction on the stream's bucket.
// batch is update through db.Batch: concurrent callers share one commit.
// fn may run more than once (after a rolled-back batch) and must only
// depend on the transaction's state.
func (s *Stream) batch(what string, fn func(root *bbolt.Bucket) error) error {
	err := s.batchCommit(func(tx *bbolt.Tx) error {
		root := tx.Bucket(s.bucket)
		if root == nil {
			return s.notFound()
		}
		return fn(root)
	})
	return s.wrap(what, err)
}

func (s *Stream) update(what string, fn func(root *bbolt.Bucket) error) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		root := tx.Bucket(s.bucket)
		if root == nil {
			return s.notFound()
		}
		return fn(root)
	})
	return s.wrap(what, err)
}

func (s *Stream) notFound() error {
	return fmt.Errorf("%w: stream %s does not exist in %s (it was deleted): open it again to recreate it",
		producers.ErrNotFound, s.name, s.db.Path())
}

func (s *Stream) wrap(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bbolt.ErrDatabaseNotOpen):
		return fmt.Errorf("stream %s: %s: the database is closed: open it again, and the stream with it: %w", s.name, what, err)
	default:
		return fmt.Errorf("stream %s: %s: %w", s.name, what, err)
	}
}

// shardIndex returns the index of the shard with this id.
func (s *Stream) shardIndex(id string) (int, error) {
	for i, sh := range s.shards {
		if sh.ID == id {
			return i, nil
		}
	}
	return 0, fmt.Errorf("stream %s: %w: no shard %q: the stream has %s to %s",
		s.name, producers.ErrNotFound, id, s.shards[0].ID, s.shards[len(s.shards)-1].ID)
}
