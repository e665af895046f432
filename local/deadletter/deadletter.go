// Package deadletter is the embedded adapter of consumers.DeadLetterQueue
// behind `troupe dev`: dead letters are kept in a bbolt database, one
// queue per consumer, so that `troupe dlq` can list each consumer's depth
// and oldest message, read messages, and delete one after a replay.
//
// Messages are stored exactly as the SQS adapter sends them (the
// deadletter/v1 body of github.com/troupehq/troupe/aws/deadletter, gzipped
// when over the limit, and its message attributes), under the same size
// limit: a dead letter that SQS would refuse is refused here too.
//
// Layout in the database: a top-level bucket (New's bucket) holding one
// nested bucket per consumer, named after it; in each, one key per message,
// its id as 8 bytes big-endian, whose value is the stored record (JSON). Ids
// come from the top-level bucket's sequence: unique across consumers and
// increasing in the order of Send.
package deadletter

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.etcd.io/bbolt"

	awsdl "github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/consumers"
)

// ErrNotFound marks a consumer or message the queue does not hold.
var ErrNotFound = errors.New("dead letter not found")

// Option configures a Queue.
type Option func(*options) error

type options struct {
	maxBytes int
	now      func() time.Time
}

// WithMaxMessageBytes sets the size limit (body and attributes, counted as
// SQS counts them) from its default, SQS's 1 MiB; valid, as on SQS: 1,024 to
// 1,048,576. Set it to the MaximumMessageSize of the AWS queue it stands
// for.
func WithMaxMessageBytes(n int) Option {
	return func(o *options) error {
		if n < awsdl.MinMaxMessageBytes || n > awsdl.DefaultMaxMessageBytes {
			return fmt.Errorf("deadletter: WithMaxMessageBytes(%d) is out of SQS's range %d to %d",
				n, awsdl.MinMaxMessageBytes, awsdl.DefaultMaxMessageBytes)
		}
		o.maxBytes = n
		return nil
	}
}

// WithClock sets the clock that stamps each message's SentAt (default
// time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("deadletter: WithClock(nil): pass a clock, e.g. time.Now")
		}
		o.now = now
		return nil
	}
}

// Queue keeps dead letters in a bbolt database, per consumer. It implements
// consumers.DeadLetterQueue and is safe for concurrent use (bbolt
// serialises writers); several Queues may share one database with
// different buckets.
type Queue struct {
	db     *bbolt.DB
	bucket []byte
	opts   options
}

var _ consumers.DeadLetterQueue = (*Queue)(nil)

// New returns a Queue that keeps its messages in the named top-level bucket
// of db, creating the bucket if needed. The caller opens and closes db.
func New(db *bbolt.DB, bucket string, opts ...Option) (*Queue, error) {
	if db == nil {
		return nil, errors.New("deadletter: New: db is nil: pass an open *bbolt.DB")
	}
	if bucket == "" {
		return nil, errors.New("deadletter: New: bucket is empty: name the bucket that holds the dead letters, e.g. \"deadletters\"")
	}
	o := options{maxBytes: awsdl.DefaultMaxMessageBytes, now: time.Now}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	q := &Queue{db: db, bucket: []byte(bucket), opts: o}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(q.bucket)
		return err
	}); err != nil {
		return nil, fmt.Errorf("deadletter: create bucket %q in %s: %w", bucket, db.Path(), err)
	}
	return q, nil
}

// Send stores the dead letter durably (one bbolt transaction, synced to disk
// unless db was opened with NoSync) before it returns nil. It wraps
// consumers.ErrTooLarge, and stores nothing, when the message does not fit
// the limit even gzipped. ctx is checked before the write starts; a write
// under way is not interrupted.
func (q *Queue) Send(ctx context.Context, dl consumers.DeadLetter) error {
	body, attrs, err := awsdl.EncodeMessage(dl, q.opts.maxBytes)
	if err != nil {
		return err
	}
	rec := record{SentAt: q.opts.now().UTC(), Body: body, Attributes: make(map[string]attribute, len(attrs))}
	for name, a := range attrs {
		rec.Attributes[name] = attribute{DataType: aws.ToString(a.DataType), StringValue: aws.ToString(a.StringValue)}
	}
	val, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("deadletter: encode record: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deadletter: store dead letter for consumer %q: %w", dl.Consumer, err)
	}
	err = q.db.Update(func(tx *bbolt.Tx) error {
		top := tx.Bucket(q.bucket)
		if top == nil {
			return fmt.Errorf("bucket %q is gone", q.bucket)
		}
		b, err := top.CreateBucketIfNotExists([]byte(dl.Consumer))
		if err != nil {
			return err
		}
		id, err := top.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(idKey(id), val)
	})
	if err != nil {
		return fmt.Errorf("deadletter: store dead letter for consumer %q in %s: %w", dl.Consumer, q.db.Path(), err)
	}
	return nil
}

// Message is one stored dead letter.
type Message struct {
	// ID identifies the message in the queue; ids increase in the order of
	// Send, across consumers.
	ID uint64
	// SentAt is when Send stored it, in UTC.
	SentAt time.Time
	// DeadLetter is the message decoded.
	DeadLetter consumers.DeadLetter
	// Body and Attributes are the message as SQS would hold it: the
	// deadletter/v1 body (gzip in base64 when Attributes["troupe-encoding"]
	// is "gzip") and the message attributes' string values.
	Body       string
	Attributes map[string]string
}

// Depth is one consumer's queue at a glance.
type Depth struct {
	Consumer string
	// Count is the number of messages.
	Count int
	// Oldest is the SentAt of the oldest message.
	Oldest time.Time
}

// Consumers returns the depth of every consumer's queue that holds
// messages, in byte order of the consumer names.
func (q *Queue) Consumers(ctx context.Context) ([]Depth, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Depth
	err := q.db.View(func(tx *bbolt.Tx) error {
		top := tx.Bucket(q.bucket)
		if top == nil {
			return fmt.Errorf("bucket %q is gone", q.bucket)
		}
		return top.ForEachBucket(func(name []byte) error {
			b := top.Bucket(name)
			d := Depth{Consumer: string(name), Count: count(b)}
			if d.Count == 0 {
				return nil
			}
			k, v := b.Cursor().First()
			rec, err := readRecord(v)
			if err != nil {
				return fmt.Errorf("consumer %q, message %d: %w", name, binary.BigEndian.Uint64(k), err)
			}
			d.Oldest = rec.SentAt
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("deadletter: list consumers in %s: %w", q.db.Path(), err)
	}
	return out, nil
}

// Len returns the number of messages in the consumer's queue (0 for a
// consumer with none).
func (q *Queue) Len(ctx context.Context, consumer string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := q.db.View(func(tx *bbolt.Tx) error {
		if b := q.consumerBucket(tx, consumer); b != nil {
			n = count(b)
		}
		return nil
	})
	return n, err
}

// List returns the consumer's messages with an id above after, oldest
// first, at most limit of them (limit <= 0: all). Page with the last id
// returned as the next after.
func (q *Queue) List(ctx context.Context, consumer string, after uint64, limit int) ([]Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Message
	err := q.db.View(func(tx *bbolt.Tx) error {
		b := q.consumerBucket(tx, consumer)
		if b == nil || after == ^uint64(0) {
			return nil
		}
		c := b.Cursor()
		k, v := c.Seek(idKey(after + 1))
		for ; k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			m, err := message(k, v)
			if err != nil {
				return fmt.Errorf("consumer %q: %w", consumer, err)
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deadletter: list dead letters in %s: %w", q.db.Path(), err)
	}
	return out, nil
}

// Get returns one message of the consumer's queue; the error wraps
// ErrNotFound when there is none with that id.
func (q *Queue) Get(ctx context.Context, consumer string, id uint64) (Message, error) {
	if err := ctx.Err(); err != nil {
		return Message{}, err
	}
	var m Message
	err := q.db.View(func(tx *bbolt.Tx) error {
		var v []byte
		if b := q.consumerBucket(tx, consumer); b != nil {
			v = b.Get(idKey(id))
		}
		if v == nil {
			return fmt.Errorf("consumer %q has no message %d: %w", consumer, id, ErrNotFound)
		}
		var err error
		m, err = message(idKey(id), v)
		return err
	})
	if err != nil {
		return Message{}, fmt.Errorf("deadletter: get: %w", err)
	}
	return m, nil
}

// Delete removes one message of the consumer's queue (e.g. after a
// successful replay), durably; the error wraps ErrNotFound when there is
// none with that id.
func (q *Queue) Delete(ctx context.Context, consumer string, id uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := q.db.Update(func(tx *bbolt.Tx) error {
		b := q.consumerBucket(tx, consumer)
		if b == nil || b.Get(idKey(id)) == nil {
			return fmt.Errorf("consumer %q has no message %d: %w", consumer, id, ErrNotFound)
		}
		if err := b.Delete(idKey(id)); err != nil {
			return err
		}
		if k, _ := b.Cursor().First(); k == nil {
			return tx.Bucket(q.bucket).DeleteBucket([]byte(consumer))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deadletter: delete: %w", err)
	}
	return nil
}

func (q *Queue) consumerBucket(tx *bbolt.Tx, consumer string) *bbolt.Bucket {
	top := tx.Bucket(q.bucket)
	if top == nil || consumer == "" {
		return nil
	}
	return top.Bucket([]byte(consumer))
}

// record is a stored message.
type record struct {
	SentAt     time.Time            `json:"sentAt"`
	Body       string               `json:"body"`
	Attributes map[string]attribute `json:"attributes"`
}

type attribute struct {
	DataType    string `json:"dataType"`
	StringValue string `json:"stringValue"`
}

func readRecord(v []byte) (record, error) {
	var rec record
	if err := json.Unmarshal(v, &rec); err != nil {
		return record{}, fmt.Errorf("stored record is not readable: %w", err)
	}
	return rec, nil
}

func message(k, v []byte) (Message, error) {
	id := binary.BigEndian.Uint64(k)
	rec, err := readRecord(v)
	if err != nil {
		return Message{}, fmt.Errorf("message %d: %w", id, err)
	}
	attrs := make(map[string]types.MessageAttributeValue, len(rec.Attributes))
	strs := make(map[string]string, len(rec.Attributes))
	for name, a := range rec.Attributes {
		attrs[name] = types.MessageAttributeValue{DataType: aws.String(a.DataType), StringValue: aws.String(a.StringValue)}
		strs[name] = a.StringValue
	}
	dl, err := awsdl.DecodeMessage(rec.Body, attrs)
	if err != nil {
		return Message{}, fmt.Errorf("message %d: %w", id, err)
	}
	return Message{ID: id, SentAt: rec.SentAt, DeadLetter: dl, Body: rec.Body, Attributes: strs}, nil
}

func count(b *bbolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

func idKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, id)
}
