package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/producers"
)

// Per-entry error codes, as PutEvents answers them.
const (
	CodeInvalidArgument = "InvalidArgument"
	CodeMalformedDetail = "MalformedDetail"
)

// maxCommit caps the events one log transaction appends.
const maxCommit = 2000

// appendReq is one SendBatch's accepted events on their way to the log.
type appendReq struct {
	events [][]byte
	only   string // the one target these events are for (Redeliver)
	ingest time.Time
	seqs   []uint64 // set by the committer
	err    error    // set by the committer
	done   chan struct{}
}

// SendBatch puts up to MaxEntries entries on the bus, as PutEvents does. An
// entry that PutEvents would refuse fails alone, with its ErrorCode
// (InvalidArgument, MalformedDetail) and a message saying what to fix, not
// Retryable; the others are accepted, each with a new event id. Accepted
// events are on disk (one bbolt transaction, shared by concurrent callers,
// synced unless db has NoSync) when SendBatch returns.
//
// It returns an error wrapping ErrValidation, accepting nothing, for no
// entries or more than MaxEntries; wrapping ErrClosed after Close; ctx's
// error if ctx ends first (the events may then still be appended). Safe for
// concurrent use.
func (b *Bus) SendBatch(ctx context.Context, entries []producers.BusEntry) ([]producers.EntryResult, error) {
	if n := len(entries); n == 0 || n > MaxEntries {
		return nil, fmt.Errorf("bus %q: %w: 1 validation error detected: Value at 'entries' failed to satisfy constraint: "+
			"Member must have length between 1 and %d, got %d entries: split the batch", b.name, ErrValidation, MaxEntries, n)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := b.cfg.Now()
	results := make([]producers.EntryResult, len(entries))
	req := &appendReq{ingest: now, done: make(chan struct{})}
	for i := range entries {
		e := &entries[i]
		if code, msg := b.validate(e); code != "" {
			results[i] = producers.EntryResult{ErrorCode: code, ErrorMessage: msg}
			continue
		}
		id := uuid.New().String()
		ev, err := b.event(id, e, now)
		if err != nil { // the detail passed json.Valid: cannot happen
			results[i] = producers.EntryResult{ErrorCode: CodeMalformedDetail, ErrorMessage: "Detail is malformed: " + err.Error()}
			continue
		}
		results[i].ID = id
		req.events = append(req.events, ev)
	}
	if len(req.events) == 0 {
		return results, nil
	}

	if err := b.append(ctx, req); err != nil {
		return nil, err
	}
	return results, nil
}

// append hands req to the committer and waits until its events are on disk.
func (b *Bus) append(ctx context.Context, req *appendReq) error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return fmt.Errorf("bus %q: %w", b.name, ErrClosed)
	}
	select { // the committer drains appends until Close closes it, which waits for mu
	case b.appends <- req:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-req.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if req.err != nil {
		return fmt.Errorf("bus %q: append %d events to the log in %s: %w", b.name, len(req.events), b.db.Path(), req.err)
	}
	return nil
}

// Redeliver puts an event on the bus for one target only, as invoking one
// consumer's function asynchronously does on AWS: it goes to target, under
// target's retry policy and dead letter, and to no other target whatever its
// pattern. The entry is checked as SendBatch checks it (an error names the
// problem). The event is on disk when Redeliver returns its new id.
func (b *Bus) Redeliver(ctx context.Context, target string, e producers.BusEntry) (string, error) {
	b.tmu.Lock()
	known := slices.ContainsFunc(b.targets, func(r *runner) bool { return r.t.Name == target })
	b.tmu.Unlock()
	if !known {
		return "", fmt.Errorf("bus %q: Redeliver: no target named %q", b.name, target)
	}
	if code, msg := b.validate(&e); code != "" {
		return "", fmt.Errorf("bus %q: Redeliver to %q: %w: %s: %s", b.name, target, ErrValidation, code, msg)
	}
	now := b.cfg.Now()
	id := uuid.New().String()
	ev, err := b.event(id, &e, now)
	if err != nil {
		return "", err
	}
	if err := b.append(ctx, &appendReq{events: [][]byte{ev}, only: target, ingest: now, done: make(chan struct{})}); err != nil {
		return "", err
	}
	return id, nil
}

// validate returns the ErrorCode and ErrorMessage PutEvents gives the entry,
// or "" if it is accepted.
func (b *Bus) validate(e *producers.BusEntry) (code, msg string) {
	switch {
	case e.Source == "":
		return CodeInvalidArgument, "Parameter Source is not valid. Reason: Source is a required argument: set BusEntry.Source, e.g. \"com.example.orders\"."
	case e.DetailType == "":
		return CodeInvalidArgument, "Parameter DetailType is not valid. Reason: DetailType is a required argument: set BusEntry.DetailType, e.g. \"orders.OrderPlaced\"."
	case len(bytes.TrimSpace(e.Detail)) == 0:
		return CodeInvalidArgument, "Parameter Detail is not valid. Reason: Detail is a required argument: set BusEntry.Detail to a JSON object, e.g. {}."
	case !json.Valid(e.Detail):
		return CodeMalformedDetail, "Detail is malformed: it is not valid JSON; send a JSON object."
	case bytes.TrimSpace(e.Detail)[0] != '{':
		return CodeMalformedDetail, "Detail is malformed: it is JSON but not an object; wrap the value in an object, e.g. {\"value\": ...}."
	case !utf8.ValidString(e.Source) || !utf8.ValidString(e.DetailType):
		return CodeInvalidArgument, "Parameter Source or DetailType is not valid. Reason: not valid UTF-8."
	}
	if n := EntrySize(e); n > b.cfg.MaxEntryBytes {
		return CodeInvalidArgument, fmt.Sprintf("Entry size %d bytes is over the limit of %d bytes (counted as EventBridge counts it: "+
			"Time 14 + Source + DetailType + Detail + Resources); put the payload elsewhere (e.g. S3) and send a reference.", n, b.cfg.MaxEntryBytes)
	}
	return "", ""
}

// EntrySize is the size of an entry as EventBridge counts it against its
// limit: 14 bytes for Time if set, plus the UTF-8 bytes of Source,
// DetailType, Detail and each of Resources.
func EntrySize(e *producers.BusEntry) int {
	n := len(e.Source) + len(e.DetailType) + len(e.Detail)
	if !e.Time.IsZero() {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// TimeFormat is how an event's "time" reads: RFC 3339 in UTC, to the second,
// as EventBridge writes it (2025-03-14T09:26:53Z).
const TimeFormat = "2006-01-02T15:04:05Z"

// Event is the JSON an EventBridge target receives, fields in EventBridge's
// order.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// event encodes the entry as the event JSON a target receives.
func (b *Bus) event(id string, e *producers.BusEntry, now time.Time) ([]byte, error) {
	t := e.Time
	if t.IsZero() {
		t = now
	}
	res := e.Resources
	if res == nil {
		res = []string{}
	}
	// An Encoder, not json.Marshal: EventBridge passes "<", ">" and "&" on
	// as they are, where Marshal would escape them, in the detail too.
	var buf bytes.Buffer
	buf.Grow(256 + len(e.Detail))
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(Event{
		Version: "0", ID: id, DetailType: e.DetailType, Source: e.Source, Account: b.cfg.Account,
		Time: t.UTC().Format(TimeFormat), Region: b.cfg.Region, Resources: res, Detail: e.Detail,
	})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// commitLoop appends the events of SendBatch calls to the log, as many calls
// per transaction as are waiting (group commit: while one transaction
// syncs, the next calls queue up and share the next sync). It runs from Open
// until Close closes appends. With Config.Enqueue it does not wait for a
// commit: settle does, in order.
func (b *Bus) commitLoop() {
	defer close(b.commitDone)
	if b.cfg.Enqueue != nil {
		b.pending = make(chan queuedAppend, 1024)
		settled := make(chan struct{})
		go b.settle(settled)
		defer func() { close(b.pending); <-settled }()
	}
	var batch []*appendReq
	for req := range b.appends {
		batch = append(batch[:0], req)
		n := len(req.events)
	more:
		for n < maxCommit {
			select {
			case r, ok := <-b.appends:
				if !ok {
					break more
				}
				batch = append(batch, r)
				n += len(r.events)
			default:
				break more
			}
		}
		b.commit(batch)
	}
}

// queuedAppend is a batch of appends queued for commit, for settle.
type queuedAppend struct {
	batch []*appendReq
	end   uint64 // the sequence number after its last event
	wait  func() error
}

func (b *Bus) commit(batch []*appendReq) {
	// Sequence numbers are assigned here, in the order of the queue, rather
	// than in the transaction: the events may be handed out before it
	// commits (Config.Enqueue), and a rolled-back transaction that runs
	// again must write the same ones.
	var recs []*record
	seq := b.next
	for _, req := range batch {
		req.seqs = req.seqs[:0]
		ingest := req.ingest.UnixNano()
		for _, ev := range req.events {
			req.seqs = append(req.seqs, seq)
			recs = append(recs, &record{seq: seq, ingest: ingest, event: ev, only: req.only})
			seq++
		}
	}
	b.next = seq
	write := func(tx *bbolt.Tx) error {
		lg := tx.Bucket(b.top).Bucket(bucketLog)
		for _, r := range recs {
			if err := lg.Put(seqKey(r.seq), encodeValue(r.ingest, r.only, r.event)); err != nil {
				return err
			}
		}
		return lg.SetSequence(seq - 1)
	}
	publish := func() {
		b.recent.add(recs)
		b.head.Store(seq)
		b.wakeRunners()
	}
	if b.cfg.Enqueue != nil {
		wait := b.cfg.Enqueue(write)
		publish()
		b.pending <- queuedAppend{batch: slices.Clone(batch), end: seq, wait: wait}
		return
	}
	err := b.cfg.Commit(write)
	if err == nil {
		publish()
	}
	b.settled(batch, seq, err)
}

// settle waits for the queued appends' commits, in order, until pending is
// closed.
func (b *Bus) settle(done chan<- struct{}) {
	defer close(done)
	for q := range b.pending {
		b.settled(q.batch, q.end, q.wait())
	}
}

// settled answers the SendBatch calls of a batch whose commit is over.
func (b *Bus) settled(batch []*appendReq, end uint64, err error) {
	if err == nil {
		// Commits are in queue order: all before end is on disk.
		b.durable.Store(end)
		if b.cfg.Enqueue != nil {
			b.wakeRunners() // a runner may wait to read the log up to here
		}
	}
	for _, req := range batch {
		req.err = err
		close(req.done)
	}
}
