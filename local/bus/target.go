package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/troupehq/troupe/events/pattern"
)

// Target is a rule's target: where the events matching Pattern go.
type Target struct {
	// Name identifies the target; its progress is kept under this name, so
	// the same target keeps its name across restarts.
	Name string
	// Pattern selects the events; nil selects every event (a catch-all, for
	// archives and tests; EventBridge itself needs a pattern).
	Pattern *pattern.Pattern
	// Deliver hands one event (the JSON an EventBridge target receives) to
	// the target. A nil error means delivered; an error is retried under
	// RetryPolicy. ctx ends when the bus closes: an error then is not
	// counted as an attempt, and the event is delivered after a restart.
	// A panic counts as an error.
	//
	// For a Lambda target, EventBridge's delivery is the asynchronous Invoke
	// being accepted: the function's own errors then follow Lambda's
	// asynchronous retries (0-2, maximum event age 60-21600 s) and its
	// OnFailure destination, which belong to the consumer runtime behind
	// Deliver, not to this RetryPolicy.
	Deliver func(ctx context.Context, event []byte) error
	// RetryPolicy bounds the retries of a failing Deliver.
	RetryPolicy RetryPolicy
	// Backoff spaces the retries.
	Backoff Backoff
	// DeadLetter takes an event whose retries are over, with Deliver's last
	// error and the number of Deliver calls made (the target's
	// DeadLetterConfig). If it fails, the event stays pending and DeadLetter
	// is called again later, with backoff: an event is never dropped. Nil
	// drops such events, as EventBridge does without a dead-letter queue.
	DeadLetter func(ctx context.Context, event []byte, cause error, attempts int) error
	// Concurrency is how many Deliver (and DeadLetter) calls may run at once
	// for this target (default 8).
	Concurrency int
	// Direct, when set, makes the target receive only the events redelivered
	// to it by name (Redeliver), never events by pattern: a stream consumer
	// takes its DLQ replays this way. Pattern must be nil.
	Direct bool
}

// RetryPolicy is the EventBridge target's RetryPolicy: retries continue until
// either limit is reached.
type RetryPolicy struct {
	// MaximumRetryAttempts is how many times a failed delivery is retried
	// (0-185; nil means EventBridge's default, 185). A pointer, as in the
	// topology and the AWS SDK, so that 0 can be said: new(0).
	MaximumRetryAttempts *int
	// MaximumEventAgeInSeconds is how long after the bus received the event
	// retries may go on (60-86400; 0 means the default, 86400).
	MaximumEventAgeInSeconds int
}

// Backoff spaces retries exponentially with jitter, as EventBridge does:
// before retry n, a random wait between half and all of min(Max, Base*2^(n-1)).
type Backoff struct {
	Base time.Duration // default 100ms
	Max  time.Duration // default 5s
}

// Default settings of a Target.
const (
	DefaultMaximumRetryAttempts     = 185
	DefaultMaximumEventAgeInSeconds = 86400
	DefaultBackoffBase              = 100 * time.Millisecond
	DefaultBackoffMax               = 5 * time.Second
	DefaultConcurrency              = 8
)

// SetDefaults fills in the settings left zero.
func (t *Target) SetDefaults() {
	if t.RetryPolicy.MaximumRetryAttempts == nil {
		t.RetryPolicy.MaximumRetryAttempts = new(DefaultMaximumRetryAttempts)
	}
	if t.RetryPolicy.MaximumEventAgeInSeconds == 0 {
		t.RetryPolicy.MaximumEventAgeInSeconds = DefaultMaximumEventAgeInSeconds
	}
	if t.Backoff.Base == 0 {
		t.Backoff.Base = DefaultBackoffBase
	}
	if t.Backoff.Max == 0 {
		t.Backoff.Max = max(DefaultBackoffMax, t.Backoff.Base)
	}
	if t.Concurrency == 0 {
		t.Concurrency = DefaultConcurrency
	}
}

// Validate reports the settings that cannot work, all at once.
func (t *Target) Validate() error {
	var errs []error
	if t.Name == "" {
		errs = append(errs, errors.New("Name is empty: name the target, e.g. after its consumer"))
	}
	if t.Deliver == nil {
		errs = append(errs, errors.New("Deliver is nil: pass the function that hands an event to the target"))
	}
	if n := *t.RetryPolicy.MaximumRetryAttempts; n < 0 || n > 185 {
		errs = append(errs, fmt.Errorf("RetryPolicy.MaximumRetryAttempts %d: out of EventBridge's range 0-185", n))
	}
	if n := t.RetryPolicy.MaximumEventAgeInSeconds; n < 60 || n > 86400 {
		errs = append(errs, fmt.Errorf("RetryPolicy.MaximumEventAgeInSeconds %d: out of EventBridge's range 60-86400", n))
	}
	if t.Backoff.Base < 0 || t.Backoff.Max < t.Backoff.Base {
		errs = append(errs, fmt.Errorf("Backoff: Base %v must be >= 0 and <= Max %v", t.Backoff.Base, t.Backoff.Max))
	}
	if t.Direct && t.Pattern != nil {
		errs = append(errs, errors.New("Direct is set and so is Pattern: a direct target takes only redeliveries, leave Pattern nil"))
	}
	if t.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("Concurrency %d is negative: leave it 0 for %d", t.Concurrency, DefaultConcurrency))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bus: target %q: %w", t.Name, err)
	}
	return nil
}

// AddTarget adds a target, which gets every matching event from Start on,
// including those in the log from before (a target seen for the first time
// starts at the oldest event of the log). Call it before Start.
func (b *Bus) AddTarget(t Target) error {
	t.SetDefaults()
	if err := t.Validate(); err != nil {
		return err
	}
	b.tmu.Lock()
	defer b.tmu.Unlock()
	if b.started {
		return fmt.Errorf("bus %q: AddTarget(%q) after Start: add every target before Start", b.name, t.Name)
	}
	for _, r := range b.targets {
		if r.t.Name == t.Name {
			return fmt.Errorf("bus %q: AddTarget: a target named %q is already added: give each target its own name", b.name, t.Name)
		}
	}
	switch {
	case t.Direct:
	case t.Pattern == nil:
		b.catchAll = append(b.catchAll, t.Name)
		slices.Sort(b.catchAll)
	default:
		b.matcher.AddPattern(t.Name, t.Pattern)
	}
	b.targets = append(b.targets, newRunner(b, t))
	return nil
}

// match returns the names of the targets the event goes to, sorted, each
// once. Targets are fixed once Start runs, so the result holds as long as
// the bus runs.
func (b *Bus) match(event []byte) []string {
	names, err := b.matcher.Match(event)
	if err != nil { // the bus wrote the event: cannot happen
		names = nil
	}
	if len(b.catchAll) == 0 {
		return names
	}
	out := slices.Concat(names, b.catchAll)
	slices.Sort(out)
	return slices.Compact(out)
}
