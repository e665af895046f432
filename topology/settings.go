package topology

import (
	"errors"
	"fmt"
	"time"
)

// Int returns a pointer to n, for the settings where 0 is a real value.
func Int(n int) *int { return &n }

// Idempotency configures duplicate suppression (the semantics of Powertools
// for AWS Lambda).
type Idempotency struct {
	// Disabled turns it off: every delivery runs the handler.
	Disabled bool
	// KeyPath takes the key from the envelope by a dotted path (e.g.
	// "data.orderId"); "" uses the event id, the default.
	KeyPath string
	// ExpiresAfter is how long a completed key suppresses duplicates
	// (default 1h).
	ExpiresAfter time.Duration
}

func (i *Idempotency) validate() error {
	if i.ExpiresAfter == 0 {
		i.ExpiresAfter = time.Hour
	}
	if i.ExpiresAfter < time.Second {
		return fmt.Errorf("Idempotency.ExpiresAfter %v: at least 1s", i.ExpiresAfter)
	}
	return nil
}

// Retry configures troupe's in-process retries of a failing event, before it
// is dead-lettered (stream consumers) or handed back to Lambda's async
// retries (bus consumers).
type Retry struct {
	// MaxAttempts counts handler runs per delivery (default 3; 1 = no retry).
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape exponential backoff with full jitter
	// (defaults 100ms and 2s).
	BaseBackoff, MaxBackoff time.Duration
}

func (r *Retry) validate() error {
	setDefault(&r.MaxAttempts, 3)
	setDefault(&r.BaseBackoff, 100*time.Millisecond)
	setDefault(&r.MaxBackoff, 2*time.Second)
	if r.MaxAttempts < 1 || r.BaseBackoff > r.MaxBackoff {
		return fmt.Errorf("Retry: MaxAttempts %d must be >= 1 and BaseBackoff %v <= MaxBackoff %v", r.MaxAttempts, r.BaseBackoff, r.MaxBackoff)
	}
	return nil
}

// Function configures the consumer's Lambda function.
type Function struct {
	// TimeoutSeconds is the function timeout (default 30, 1-900).
	TimeoutSeconds int
	// MemorySize in MB (default 256, 128-10240).
	MemorySize int
	// Concurrency bounds the partition keys a stream consumer runs at once
	// within a batch (default 32); records of one key always run in order.
	// A handler mostly waits (for its idempotency record, its emits), so a
	// batch of 100 records at 8 keys at once waited 13 times in a row; at
	// 32, 4 times.
	Concurrency int
}

func (f *Function) validate() error {
	setDefault(&f.TimeoutSeconds, 30)
	setDefault(&f.MemorySize, 256)
	setDefault(&f.Concurrency, 32)
	return errors.Join(
		inRange("Function.TimeoutSeconds", f.TimeoutSeconds, 1, 900),
		inRange("Function.MemorySize", f.MemorySize, 128, 10240),
		inRange("Function.Concurrency", f.Concurrency, 1, 1000),
	)
}

// Timeout is TimeoutSeconds as a duration.
func (f Function) Timeout() time.Duration { return time.Duration(f.TimeoutSeconds) * time.Second }

// TargetRetryPolicy is the EventBridge rule target's RetryPolicy: how long
// EventBridge keeps trying to deliver an event to the function before it
// goes to the target's dead-letter queue.
type TargetRetryPolicy struct {
	MaximumRetryAttempts     *int // default 185 (0-185)
	MaximumEventAgeInSeconds int  // default 86400 (60-86400)
}

func (p *TargetRetryPolicy) validate() error {
	if p.MaximumRetryAttempts == nil {
		p.MaximumRetryAttempts = Int(185)
	}
	setDefault(&p.MaximumEventAgeInSeconds, 86400)
	return errors.Join(
		inRange("Target.MaximumRetryAttempts", *p.MaximumRetryAttempts, 0, 185),
		inRange("Target.MaximumEventAgeInSeconds", p.MaximumEventAgeInSeconds, 60, 86400),
	)
}

// AsyncInvokeConfig is the function's asynchronous invocation config: how
// often Lambda retries a handler error (the OnFailure destination is the
// consumer's DLQ).
type AsyncInvokeConfig struct {
	MaximumRetryAttempts     *int // default 2 (0-2)
	MaximumEventAgeInSeconds int  // default 21600 (60-21600)
}

func (c *AsyncInvokeConfig) validate() error {
	if c.MaximumRetryAttempts == nil {
		c.MaximumRetryAttempts = Int(2)
	}
	setDefault(&c.MaximumEventAgeInSeconds, 21600)
	return errors.Join(
		inRange("Async.MaximumRetryAttempts", *c.MaximumRetryAttempts, 0, 2),
		inRange("Async.MaximumEventAgeInSeconds", c.MaximumEventAgeInSeconds, 60, 21600),
	)
}

// EventSourceMapping is the Kinesis event source mapping of a stream
// consumer. ReportBatchItemFailures is always on.
type EventSourceMapping struct {
	BatchSize                      int    // default 100 (1-10000)
	MaximumBatchingWindowInSeconds int    // default 0 (0-300)
	ParallelizationFactor          int    // default 1 (1-10)
	BisectBatchOnFunctionError     bool   // default false
	MaximumRetryAttempts           *int   // default -1, infinite (-1-10000)
	MaximumRecordAgeInSeconds      *int   // default -1, infinite (-1, or 60-604800)
	StartingPosition               string // TRIM_HORIZON (default) or LATEST
}

func (m *EventSourceMapping) validate() error {
	setDefault(&m.BatchSize, 100)
	setDefault(&m.ParallelizationFactor, 1)
	setDefault(&m.StartingPosition, "TRIM_HORIZON")
	if m.MaximumRetryAttempts == nil {
		m.MaximumRetryAttempts = Int(-1)
	}
	if m.MaximumRecordAgeInSeconds == nil {
		m.MaximumRecordAgeInSeconds = Int(-1)
	}
	var errs []error
	errs = append(errs,
		inRange("Mapping.BatchSize", m.BatchSize, 1, 10000),
		inRange("Mapping.MaximumBatchingWindowInSeconds", m.MaximumBatchingWindowInSeconds, 0, 300),
		inRange("Mapping.ParallelizationFactor", m.ParallelizationFactor, 1, 10),
		inRange("Mapping.MaximumRetryAttempts", *m.MaximumRetryAttempts, -1, 10000))
	if age := *m.MaximumRecordAgeInSeconds; age != -1 && (age < 60 || age > 604800) {
		errs = append(errs, fmt.Errorf("Mapping.MaximumRecordAgeInSeconds %d: -1 (infinite) or 60-604800", age))
	}
	if m.StartingPosition != "TRIM_HORIZON" && m.StartingPosition != "LATEST" {
		errs = append(errs, fmt.Errorf("Mapping.StartingPosition %q: TRIM_HORIZON or LATEST", m.StartingPosition))
	}
	return errors.Join(errs...)
}

func inRange(name string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s %d: out of range %d-%d", name, v, lo, hi)
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
