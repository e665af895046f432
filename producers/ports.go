package producers

import (
	"context"
	"errors"
	"time"
)

// BusEntry is one event as the bus receives it: on EventBridge, one
// PutEventsRequestEntry.
type BusEntry struct {
	Source      string
	DetailType  string
	Detail      []byte // the whole envelope JSON
	Time        time.Time
	Resources   []string
	TraceHeader string
}

// StreamRecord is one event as the stream receives it: on Kinesis, one
// PutRecordsRequestEntry.
type StreamRecord struct {
	PartitionKey string
	Data         []byte // the whole envelope JSON
}

// EntryResult is the outcome of one entry of a batch, in the order the entries
// were sent. An empty ErrorCode means the entry was accepted.
type EntryResult struct {
	// ID is what the backend assigned: the bus's event id, or the stream's
	// sequence number.
	ID string
	// Shard is the stream shard that took the record; empty on the bus.
	Shard string
	// ErrorCode and ErrorMessage are the backend's words for a rejected entry.
	ErrorCode    string
	ErrorMessage string
	// Retryable says that sending the same entry again may succeed
	// (throttling, an internal failure), as opposed to a rejection that
	// will repeat (validation, access denied).
	Retryable bool
}

// Failed reports whether the backend rejected the entry.
func (r EntryResult) Failed() bool { return r.ErrorCode != "" }

// BusSender puts entries on an event bus.
//
// SendBatch makes ONE call to the bus with all entries (the Publisher keeps
// batches within the bus's limits) and returns one result per entry, in order.
// A non-nil error means the call as a whole failed and no entry is known to
// have been accepted; it wraps ErrRetryable when sending again may succeed,
// and ErrNotFound when the bus does not exist. Cancelling ctx abandons the call.
// Implementations are safe for concurrent use.
type BusSender interface {
	SendBatch(ctx context.Context, entries []BusEntry) ([]EntryResult, error)
	// Check verifies that the bus exists and is reachable, wrapping
	// ErrNotFound when it does not exist.
	Check(ctx context.Context) error
}

// StreamWriter appends records to a stream, with the same contract as
// BusSender: one call per batch, one result per record, in order.
type StreamWriter interface {
	WriteBatch(ctx context.Context, records []StreamRecord) ([]EntryResult, error)
	// Check verifies that the stream exists and is reachable, wrapping
	// ErrNotFound when it does not exist.
	Check(ctx context.Context) error
}

var (
	// ErrRetryable marks a whole-call failure that may succeed if sent again:
	// throttling, a 5xx, a broken connection.
	ErrRetryable = errors.New("retryable")
	// ErrNotFound marks a bus or stream that does not exist.
	ErrNotFound = errors.New("not found")
)
