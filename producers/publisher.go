// Package producers publishes troupe events to both legs of the platform: the
// EventBridge bus (for rules and fan-out) and the Kinesis stream (for ordered
// consumers and replay).
//
// A Publisher validates each event against its schema, checks it fits both
// legs, batches it (10 entries per PutEvents, 500 records and 5 MiB per
// PutRecords), and resends only the entries a leg failed, with exponential
// backoff and jitter, within the caller's deadline. On the stream it keeps
// per-partition-key order: a record goes out only after every earlier record
// with the same key is acknowledged.
//
// The package talks to the legs through two ports, BusSender and
// StreamWriter; aws/bus and aws/stream are their AWS adapters.
package producers

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/troupehq/troupe/events"
)

// Publisher publishes events to the bus and the stream. It is safe for
// concurrent use.
type Publisher struct {
	cfg Config

	checkMu sync.Mutex
	checked bool
}

// New returns a Publisher, or an error naming every missing or inconsistent
// setting.
func New(cfg Config) (*Publisher, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("producers: %w", err)
	}
	return &Publisher{cfg: cfg}, nil
}

// Publish sends the events to both legs and returns one Result per event, in
// order. The error is nil when every event reached both legs; else it is a
// *PublishError (or the reason nothing was sent, such as a missing bus).
//
// An event that fails validation or is too large is sent on neither leg.
// Publish returns when every event is settled or ctx is done; an entry in
// flight when ctx ends is reported failed, though the leg may have taken it:
// publishing the same envelope again is safe, consumers deduplicate by id.
func (p *Publisher) Publish(ctx context.Context, evs ...events.Envelope) ([]Result, error) {
	results := make([]Result, len(evs))
	batch := p.prepare(evs, results)
	if len(batch.valid) == 0 {
		return results, summarize(results)
	}
	if err := p.check(ctx); err != nil {
		for i := range results {
			if results[i].Bus.Status == Pending {
				results[i].Bus = LegResult{Status: NotSent, Err: err}
				results[i].Stream = LegResult{Status: NotSent, Err: err}
			}
		}
		return results, err
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.run(ctx, p.busLeg(batch, results), batch.valid) }()
	go func() { defer wg.Done(); p.run(ctx, p.streamLeg(batch, results), batch.valid) }()
	wg.Wait()
	return results, summarize(results)
}

// check verifies once, before the first send, that both legs exist. A failed
// check is tried again on the next Publish.
func (p *Publisher) check(ctx context.Context) error {
	if p.cfg.SkipCheck {
		return nil
	}
	p.checkMu.Lock()
	defer p.checkMu.Unlock()
	if p.checked {
		return nil
	}
	var busErr, streamErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); busErr = p.cfg.Bus.Check(ctx) }()
	go func() { defer wg.Done(); streamErr = p.cfg.Stream.Check(ctx) }()
	wg.Wait()
	switch {
	case busErr != nil:
		return fmt.Errorf("bus: %w", busErr)
	case streamErr != nil:
		return fmt.Errorf("stream: %w", streamErr)
	}
	p.checked = true
	return nil
}

func summarize(results []Result) error {
	var failed []Result
	for _, r := range results {
		if !r.OK() {
			failed = append(failed, r)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &PublishError{Failed: failed, Total: len(results)}
}

// prepared holds the wire forms of a Publish call's events.
type prepared struct {
	valid   []int // indexes of the events that passed validation, in order
	entries []BusEntry
	records []StreamRecord
}

// prepare validates and encodes every event once for both legs, and settles
// the ones that cannot be sent.
func (p *Publisher) prepare(evs []events.Envelope, results []Result) *prepared {
	b := &prepared{entries: make([]BusEntry, len(evs)), records: make([]StreamRecord, len(evs))}
	for i, e := range evs {
		results[i].EventID, results[i].Type = e.ID, e.Type
		if err := p.encode(e, i, b); err != nil {
			results[i].Bus = LegResult{Status: NotSent, Err: err}
			results[i].Stream = LegResult{Status: NotSent, Err: err}
			continue
		}
		b.valid = append(b.valid, i)
	}
	return b
}

func (p *Publisher) encode(e events.Envelope, i int, b *prepared) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, e.Ref(), err)
	}
	if err := p.cfg.Validator.Validate(e); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	entry, rec, err := Entries(e)
	if err != nil {
		return fmt.Errorf("%w: %s: encode: %w", ErrInvalid, e.Ref(), err)
	}
	b.entries[i], b.records[i] = entry, rec
	body := rec.Data
	if n := BusEntrySize(b.entries[i]); n > p.cfg.MaxBusEntryBytes {
		return tooLarge(e, "bus entry", n, p.cfg.MaxBusEntryBytes)
	}
	if n := len(body) + len(b.records[i].PartitionKey); n > p.cfg.MaxStreamRecordBytes {
		return tooLarge(e, "stream record", n, p.cfg.MaxStreamRecordBytes)
	}
	return nil
}

// Entries returns the bus entry and the stream record that carry e, as
// Publish sends them: the envelope's JSON as the Detail and as the Data, the
// partition key from e.Key(). It does not validate e. Whoever redelivers an
// event (the DLQ replay) builds it the same way.
func Entries(e events.Envelope) (BusEntry, StreamRecord, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return BusEntry{}, StreamRecord{}, err
	}
	return BusEntry{Source: e.Source, DetailType: e.Type, Detail: body, Time: e.Time, TraceHeader: xrayTraceHeader(e.TraceParent)},
		StreamRecord{PartitionKey: e.Key(), Data: body}, nil
}

func tooLarge(e events.Envelope, what string, n, limit int) error {
	return fmt.Errorf("%w: %s is %d bytes as a %s, over the %d-byte limit: "+
		"store the payload elsewhere (e.g. S3) and publish a reference to it", ErrTooLarge, e.Ref(), n, what, limit)
}

// BusEntrySize is the size of an entry as EventBridge counts it against its
// limit: 14 bytes for Time, plus Source, DetailType, Detail and each Resource
// in UTF-8.
func BusEntrySize(e BusEntry) int {
	n := len(e.Source) + len(e.DetailType) + len(e.Detail)
	if !e.Time.IsZero() {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// xrayTraceHeader turns a W3C traceparent into the X-Ray trace header that
// EventBridge carries (TraceHeader); an unparsable one gives "".
func xrayTraceHeader(traceparent string) string {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 || len(parts[1]) != 32 || len(parts[2]) != 16 || len(parts[3]) != 2 {
		return ""
	}
	flags, err := strconv.ParseUint(parts[3], 16, 8)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("Root=1-%s-%s;Parent=%s;Sampled=%d", parts[1][:8], parts[1][8:], parts[2], flags&1)
}
