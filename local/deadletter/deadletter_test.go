package deadletter_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	awsdl "github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/consumers/deadlettertest"
	"github.com/troupehq/troupe/local/deadletter"
)

func openDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newQueue(t *testing.T, opts ...deadletter.Option) *deadletter.Queue {
	t.Helper()
	q, err := deadletter.New(openDB(t, filepath.Join(t.TempDir(), "troupe.db")), "deadletters", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// readAll returns every stored dead letter, consumer by consumer.
func readAll(t *testing.T, q *deadletter.Queue) []deadletter.Message {
	t.Helper()
	depths, err := q.Consumers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []deadletter.Message
	for _, d := range depths {
		msgs, err := q.List(t.Context(), d.Consumer, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, msgs...)
	}
	return out
}

func TestConformance(t *testing.T) {
	deadlettertest.Run(t, func(t *testing.T) deadlettertest.QueueUnderTest {
		q := newQueue(t)
		return deadlettertest.QueueUnderTest{
			Queue: q,
			Read: func(t *testing.T, want int) []consumers.DeadLetter {
				var out []consumers.DeadLetter
				for _, m := range readAll(t, q) {
					out = append(out, m.DeadLetter)
				}
				if len(out) < want {
					t.Fatalf("the queue holds %d dead letters, want %d", len(out), want)
				}
				return out
			},
		}
	})
}

// clock is a settable clock for WithClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestPerConsumer: depth and oldest age per consumer; list in order with
// paging; get; delete one, then the last (the consumer disappears).
func TestPerConsumer(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	q := newQueue(t, deadletter.WithClock(clk.Now))
	ctx := t.Context()
	send := func(consumer string, n int) {
		dl := deadlettertest.DeadLetter(consumer, fmt.Sprintf("%s-%d", consumer, n))
		if err := q.Send(ctx, dl); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	send("billing", 0)  // id 1, 12:00
	send("shipping", 0) // id 2, 12:01
	send("billing", 1)  // id 3, 12:02
	send("billing", 2)  // id 4, 12:03

	depths, err := q.Consumers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []deadletter.Depth{
		{Consumer: "billing", Count: 3, Oldest: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)},
		{Consumer: "shipping", Count: 1, Oldest: time.Date(2025, 6, 1, 12, 1, 0, 0, time.UTC)},
	}
	if fmt.Sprint(depths) != fmt.Sprint(want) {
		t.Errorf("Consumers = %v, want %v", depths, want)
	}
	for consumer, n := range map[string]int{"billing": 3, "shipping": 1, "nobody": 0} {
		if got, err := q.Len(ctx, consumer); err != nil || got != n {
			t.Errorf("Len(%s) = %d, %v; want %d", consumer, got, err, n)
		}
	}

	page1, err := q.List(ctx, "billing", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	page2, err := q.List(ctx, "billing", page1[len(page1)-1].ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range append(page1, page2...) {
		ids = append(ids, fmt.Sprintf("%d:%s", m.ID, m.DeadLetter.Envelope.ID))
	}
	if got := strings.Join(ids, " "); got != "1:billing-0 3:billing-1 4:billing-2" {
		t.Errorf("List pages = %s", got)
	}
	if msgs, err := q.List(ctx, "nobody", 0, 0); err != nil || len(msgs) != 0 {
		t.Errorf("List(nobody) = %v, %v", msgs, err)
	}
	if msgs, err := q.List(ctx, "billing", ^uint64(0), 0); err != nil || len(msgs) != 0 {
		t.Errorf("List after the largest id = %v, %v", msgs, err)
	}

	m, err := q.Get(ctx, "billing", 3)
	if err != nil {
		t.Fatal(err)
	}
	deadlettertest.Equal(t, m.DeadLetter, deadlettertest.DeadLetter("billing", "billing-1"))
	if !m.SentAt.Equal(time.Date(2025, 6, 1, 12, 2, 0, 0, time.UTC)) {
		t.Errorf("SentAt = %v", m.SentAt)
	}
	// The message as SQS would hold it.
	body, attrs, _ := awsdl.EncodeMessage(m.DeadLetter, 0)
	if m.Body != body || len(m.Attributes) != len(attrs) || m.Attributes[awsdl.AttrConsumer] != "billing" {
		t.Errorf("Body/Attributes differ from the SQS message: %v", m.Attributes)
	}
	if _, err := q.Get(ctx, "shipping", 3); !errors.Is(err, deadletter.ErrNotFound) {
		t.Errorf("Get of another consumer's id: %v, want ErrNotFound", err)
	}

	if err := q.Delete(ctx, "billing", 3); err != nil {
		t.Fatal(err)
	}
	if err := q.Delete(ctx, "billing", 3); !errors.Is(err, deadletter.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	if _, err := q.Get(ctx, "billing", 3); !errors.Is(err, deadletter.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if n, _ := q.Len(ctx, "billing"); n != 2 {
		t.Errorf("Len after Delete = %d, want 2", n)
	}
	if err := q.Delete(ctx, "shipping", 2); err != nil {
		t.Fatal(err)
	}
	depths, _ = q.Consumers(ctx)
	if len(depths) != 1 || depths[0].Consumer != "billing" {
		t.Errorf("Consumers after emptying shipping = %v", depths)
	}
	if err := q.Delete(ctx, "nobody", 1); !errors.Is(err, deadletter.ErrNotFound) {
		t.Errorf("Delete(nobody): %v, want ErrNotFound", err)
	}
}

// TestReopen: what Send stored survives closing and reopening the
// database, and ids keep increasing.
func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "troupe.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := deadletter.New(db, "dlq")
	if err != nil {
		t.Fatal(err)
	}
	want := deadlettertest.DeadLetter("billing", "before-close")
	if err := q.Send(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	q, err = deadletter.New(openDB(t, path), "dlq")
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Send(t.Context(), deadlettertest.DeadLetter("billing", "after-reopen")); err != nil {
		t.Fatal(err)
	}
	msgs, err := q.List(t.Context(), "billing", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].ID != 1 || msgs[1].ID != 2 {
		t.Fatalf("after reopen: %d messages %v", len(msgs), msgs)
	}
	deadlettertest.Equal(t, msgs[0].DeadLetter, want)
}

// TestLimit: the limit is SQS's, and configurable like a queue's.
func TestLimit(t *testing.T) {
	t.Parallel()
	q := newQueue(t, deadletter.WithMaxMessageBytes(1024))
	dl := deadlettertest.DeadLetter("billing", "small-limit")
	dl.Envelope.Data = []byte(`{"pad":"` + strings.Repeat("a", 3000) + `"}`)
	if err := q.Send(t.Context(), dl); err != nil {
		t.Fatalf("a compressible letter over 1 KiB: %v", err)
	}
	msgs := readAll(t, q)
	if len(msgs) != 1 || msgs[0].Attributes[awsdl.AttrEncoding] != awsdl.EncodingGzip {
		t.Fatalf("not stored gzipped: %v", msgs)
	}
	deadlettertest.Equal(t, msgs[0].DeadLetter, dl)

	dl.Error = strings.Repeat("x", 2000) + fmt.Sprint(time.Now().UnixNano())
	dl.Envelope.Data = []byte(`{"noise":"` + noise(1500) + `"}`)
	if err := q.Send(t.Context(), dl); !errors.Is(err, consumers.ErrTooLarge) {
		t.Errorf("an incompressible letter over 1 KiB: %v, want ErrTooLarge", err)
	}
}

func noise(n int) string {
	var b strings.Builder
	x := uint32(2463534242)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[x%64])
	}
	return b.String()
}

func TestOptions(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "troupe.db"))
	for _, tc := range []struct {
		db     *bbolt.DB
		bucket string
		opts   []deadletter.Option
		want   string
	}{
		{nil, "dlq", nil, "db is nil"},
		{db, "", nil, "bucket is empty"},
		{db, "dlq", []deadletter.Option{deadletter.WithMaxMessageBytes(2 << 20)}, "out of SQS's range"},
		{db, "dlq", []deadletter.Option{deadletter.WithMaxMessageBytes(10)}, "out of SQS's range"},
		{db, "dlq", []deadletter.Option{deadletter.WithClock(nil)}, "WithClock(nil)"},
	} {
		if _, err := deadletter.New(tc.db, tc.bucket, tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q, %d options): %v, want %q", tc.bucket, len(tc.opts), err, tc.want)
		}
	}
}
