package producers

import (
	"errors"
	"fmt"
	"time"

	"github.com/troupehq/troupe/events"
)

// Validator checks an event's data against its schema. schemas.Set is one.
type Validator interface {
	// Validate returns nil if the data of e is valid for e's type and version,
	// else an error that says what is wrong and where. It is called
	// concurrently.
	Validate(e events.Envelope) error
}

// Limits of the two legs, as AWS sets them today. Each is a Config field, so
// a bus or stream with other quotas can say so.
const (
	// DefaultMaxBusEntryBytes is EventBridge's entry size limit (1 MiB since
	// 2026; it was 256 KiB before), counted as AWS counts it: 14 bytes for
	// Time, plus Source, DetailType, Detail and Resources in UTF-8.
	DefaultMaxBusEntryBytes = 1 << 20
	// DefaultMaxBusBatchBytes bounds the entries of one PutEvents call.
	DefaultMaxBusBatchBytes = 1 << 20
	// DefaultMaxBusBatchEntries is PutEvents' entry limit.
	DefaultMaxBusBatchEntries = 10
	// DefaultMaxStreamRecordBytes is Kinesis's record limit: data plus
	// partition key.
	DefaultMaxStreamRecordBytes = 1 << 20
	// DefaultMaxStreamBatchBytes bounds one PutRecords call.
	DefaultMaxStreamBatchBytes = 5 << 20
	// DefaultMaxStreamBatchRecords is PutRecords' record limit.
	DefaultMaxStreamBatchRecords = 500
)

// Config configures a Publisher.
type Config struct {
	// Bus and Stream are the two legs. Both are required.
	Bus    BusSender
	Stream StreamWriter
	// Validator checks each event against its schema before anything is
	// sent. Required: use schemas.Sample(), or your own schemas.Set.
	Validator Validator

	MaxBusEntryBytes      int
	MaxBusBatchBytes      int
	MaxBusBatchEntries    int
	MaxStreamRecordBytes  int
	MaxStreamBatchBytes   int
	MaxStreamBatchRecords int

	// MaxAttempts bounds the sends of one entry (default 8). Retries also
	// stop at the caller's context deadline.
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the exponential backoff with full
	// jitter between retries (defaults 50ms and 2s).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Concurrency is the number of calls in flight per leg (default 4).
	Concurrency int
	// SkipCheck turns off the check, before the first send, that the bus and
	// the stream exist. AWS accepts PutEvents to a bus that does not exist and
	// drops the events; the check spares you that.
	SkipCheck bool
}

// SetDefaults fills every zero limit and setting with its default.
func (c *Config) SetDefaults() {
	setDefault(&c.MaxBusEntryBytes, DefaultMaxBusEntryBytes)
	setDefault(&c.MaxBusBatchBytes, DefaultMaxBusBatchBytes)
	setDefault(&c.MaxBusBatchEntries, DefaultMaxBusBatchEntries)
	setDefault(&c.MaxStreamRecordBytes, DefaultMaxStreamRecordBytes)
	setDefault(&c.MaxStreamBatchBytes, DefaultMaxStreamBatchBytes)
	setDefault(&c.MaxStreamBatchRecords, DefaultMaxStreamBatchRecords)
	setDefault(&c.MaxAttempts, 8)
	setDefault(&c.Concurrency, 4)
	setDefault(&c.BaseBackoff, 50*time.Millisecond)
	setDefault(&c.MaxBackoff, 2*time.Second)
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Validate reports what is missing or inconsistent.
func (c *Config) Validate() error {
	var errs []error
	if c.Bus == nil {
		errs = append(errs, errors.New("no bus: set Config.Bus (e.g. bus.NewFromConfig)"))
	}
	if c.Stream == nil {
		errs = append(errs, errors.New("no stream: set Config.Stream (e.g. stream.NewFromConfig)"))
	}
	if c.Validator == nil {
		errs = append(errs, errors.New("no validator: set Config.Validator (e.g. schemas.Sample())"))
	}
	if c.MaxBusEntryBytes > c.MaxBusBatchBytes {
		errs = append(errs, fmt.Errorf("MaxBusEntryBytes %d exceeds MaxBusBatchBytes %d", c.MaxBusEntryBytes, c.MaxBusBatchBytes))
	}
	if c.MaxStreamRecordBytes > c.MaxStreamBatchBytes {
		errs = append(errs, fmt.Errorf("MaxStreamRecordBytes %d exceeds MaxStreamBatchBytes %d", c.MaxStreamRecordBytes, c.MaxStreamBatchBytes))
	}
	if c.MaxBusBatchEntries > 10 || c.MaxStreamBatchRecords > 500 {
		errs = append(errs, errors.New("batches are limited to 10 entries on the bus and 500 records on the stream"))
	}
	if c.BaseBackoff > c.MaxBackoff {
		errs = append(errs, fmt.Errorf("BaseBackoff %v exceeds MaxBackoff %v", c.BaseBackoff, c.MaxBackoff))
	}
	return errors.Join(errs...)
}
