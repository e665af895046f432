package bus

import (
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/internal/workers"
)

// window bounds the events one target holds in memory (being delivered,
// waiting for a retry or a dead letter). A target that falls behind stops
// reading the log, and catches up from the log later; it never holds up
// the others.
const window = 1024

// Start starts delivering: from now on every event in the log, old and new,
// goes to every target whose pattern matches it, until ctx ends or Close.
// It returns at once. Call it once, after AddTarget.
func (b *Bus) Start(ctx context.Context) error {
	b.tmu.Lock() // then mu: Close sets closed before it reads started
	defer b.tmu.Unlock()
	b.mu.RLock()
	closed := b.closed
	b.mu.RUnlock()
	if closed {
		return fmt.Errorf("bus %q: Start: %w", b.name, ErrClosed)
	}
	if b.started {
		return fmt.Errorf("bus %q: Start called twice: call it once", b.name)
	}
	err := b.db.Update(func(tx *bbolt.Tx) error {
		top := tx.Bucket(b.top)
		first := b.head.Load()
		if k, _ := top.Bucket(bucketLog).Cursor().First(); k != nil {
			first = binary.BigEndian.Uint64(k)
		}
		tgts := top.Bucket(bucketTargets)
		for _, r := range b.targets {
			name := []byte(r.t.Name)
			tb := tgts.Bucket(name)
			if tb == nil { // new: from the oldest event of the log
				var err error
				if tb, err = tgts.CreateBucket(name); err != nil {
					return err
				}
				if _, err := tb.CreateBucket(bucketDone); err != nil {
					return err
				}
				if err := tb.Put(keyWatermark, seqKey(first)); err != nil {
					return err
				}
				r.next = first
				continue
			}
			w := tb.Get(keyWatermark)
			done := tb.Bucket(bucketDone)
			if len(w) != 8 || done == nil {
				return fmt.Errorf("target %q: its progress is damaged (watermark %x): delete bucket %q of bucket %q to deliver it all again", r.t.Name, w, name, b.top)
			}
			// Progress at or past the log's end is for events that never
			// reached it: handed out early (Config.Enqueue) from an append
			// whose commit failed. Their sequence numbers go to new
			// events, which must not be taken for done.
			end := b.head.Load()
			r.next = min(binary.BigEndian.Uint64(w), end)
			if err := done.ForEach(func(k, _ []byte) error {
				if seq := binary.BigEndian.Uint64(k); seq < end {
					r.skip[seq] = struct{}{}
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bus %q: Start: read the targets' progress in %s: %w", b.name, b.db.Path(), err)
	}
	ctx, b.cancel = context.WithCancel(ctx)
	b.acks = newAckWriter(b)
	for _, r := range b.targets {
		r.lastW = r.next
		r.stats.next.Store(r.next)
		b.acks.wms[r.t.Name] = r.next
	}
	go b.acks.loop()
	b.started = true
	runners := slices.Clone(b.targets)
	b.live.Store(&runners)
	for _, r := range runners {
		b.running.Add(1)
		go r.run(ctx)
	}
	return nil
}

func (b *Bus) wakeRunners() {
	rs := b.live.Load()
	if rs == nil {
		return
	}
	for _, r := range *rs {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// stats are a runner's counters, read by Stats from any goroutine.
type stats struct {
	delivered, retried, deadLettered, dropped, pending atomic.Int64
	next                                               atomic.Uint64
}

// snapshot reads next before pending: fill adds to pending before it moves
// next, so an event is never in neither.
func (s *stats) snapshot(head uint64) TargetStats {
	next := s.next.Load()
	return TargetStats{
		Delivered: s.delivered.Load(), Retried: s.retried.Load(), DeadLettered: s.deadLettered.Load(),
		Dropped: s.dropped.Load(), Pending: s.pending.Load(), Backlog: int64(head - min(next, head)),
	}
}

// delivery is one event on its way to one target.
type delivery struct {
	rec      *record
	attempts int   // Deliver calls made
	lastErr  error // of the last one
	dead     bool  // retries are over: DeadLetter is what is left
	dlFails  int   // DeadLetter calls that failed
	due      time.Time
	index    int // in the retry heap
}

// outcome is what a Deliver or DeadLetter call came to.
type outcome struct {
	d   *delivery
	err error
}

// runner delivers to one target. Its fields below the line are owned by its
// run goroutine; Deliver and DeadLetter run on its workers and
// report to it on results.
type runner struct {
	b          *Bus
	t          Target
	maxRetries int
	maxAge     time.Duration
	wake       chan struct{} // new events in the log
	workers    *workers.Pool // run Deliver and DeadLetter calls
	results    chan outcome
	stats      stats
	skip       map[uint64]struct{} // done before the restart, at or above next; set by Start

	// ---
	next     uint64               // next sequence number to read from the log
	pending  map[uint64]*delivery // taken from the log, not done
	order    []uint64             // pending sequence numbers in log order, and some done ones not yet dropped
	ready    []*delivery          // to call now
	retries  retryHeap            // to call later
	inflight int                  // calls under way
	acked    []uint64             // done since the last post to the ack writer
	lastW    uint64               // watermark last posted
}

func newRunner(b *Bus, t Target) *runner {
	return &runner{
		b: b, t: t,
		maxRetries: *t.RetryPolicy.MaximumRetryAttempts,
		maxAge:     time.Duration(t.RetryPolicy.MaximumEventAgeInSeconds) * time.Second,
		wake:       make(chan struct{}, 1),
		workers:    workers.New(10 * time.Second),
		results:    make(chan outcome, t.Concurrency),
		skip:       map[uint64]struct{}{},
		pending:    map[uint64]*delivery{},
	}
}

func (r *runner) run(ctx context.Context) {
	defer r.b.running.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for ctx.Err() == nil {
		more := r.fill()
		r.promote()
		r.launch(ctx)
		r.post()
		var due <-chan time.Time
		if len(r.retries) > 0 {
			timer.Reset(time.Until(r.retries[0].due))
			due = timer.C
		}
		if more && r.inflight < r.t.Concurrency {
			select {
			case o := <-r.results:
				r.handle(ctx, o)
			default:
			}
		} else {
			select {
			case o := <-r.results:
				r.handle(ctx, o)
			case <-r.wake:
			case <-due:
			case <-ctx.Done():
			}
		}
		timer.Stop()
	}
	for r.inflight > 0 { // closing: wait for the calls under way
		r.handle(ctx, <-r.results)
	}
	r.post()
}

// fill takes events from the log while the window has room, one page at a
// time. It reports whether more could be read at once.
func (r *runner) fill() bool {
	head := r.b.head.Load()
	if r.next >= head || len(r.pending) >= window {
		return false
	}
	recs, upto, err := r.b.read(r.next, head, readPage)
	if err != nil { // the database failed; try again on the next wake
		return false
	}
	for _, rec := range recs {
		if _, ok := r.skip[rec.seq]; ok {
			delete(r.skip, rec.seq)
			continue
		}
		if _, ok := slices.BinarySearch(rec.matches(r.b), r.t.Name); !ok {
			continue
		}
		d := &delivery{rec: rec}
		r.pending[rec.seq] = d
		r.order = append(r.order, rec.seq)
		r.ready = append(r.ready, d)
		r.stats.pending.Add(1)
	}
	r.next = upto
	r.stats.next.Store(upto)
	return r.next < head && len(r.pending) < window
}

// promote moves the retries that are due to ready; those past the maximum
// event age go to their dead letter instead.
func (r *runner) promote() {
	now := time.Now()
	for len(r.retries) > 0 && !r.retries[0].due.After(now) {
		d := heap.Pop(&r.retries).(*delivery)
		if !d.dead && r.age(d) >= r.maxAge {
			d.dead = true
		}
		r.ready = append(r.ready, d)
	}
}

func (r *runner) age(d *delivery) time.Duration {
	return r.b.cfg.Now().Sub(time.Unix(0, d.rec.ingest))
}

// launch starts calls for the ready deliveries, up to Concurrency at once.
func (r *runner) launch(ctx context.Context) {
	for r.inflight < r.t.Concurrency && len(r.ready) > 0 {
		d := r.ready[0]
		r.ready[0] = nil
		r.ready = r.ready[1:]
		if d.dead && r.t.DeadLetter == nil {
			r.stats.dropped.Add(1)
			r.done(d)
			continue
		}
		r.inflight++
		if d.dead {
			r.workers.Go(func() {
				r.results <- outcome{d, safely("DeadLetter", func() error {
					return r.t.DeadLetter(ctx, d.rec.event, d.lastErr, d.attempts)
				})}
			})
			continue
		}
		d.attempts++
		if d.attempts > 1 {
			r.stats.retried.Add(1)
		}
		r.workers.Go(func() {
			r.results <- outcome{d, safely("Deliver", func() error { return r.t.Deliver(ctx, d.rec.event) })}
		})
	}
}

// safely calls f, turning a panic into an error, so that a target's bug
// fails its deliveries instead of the process.
func safely(what string, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s panicked: %v", what, p)
		}
	}()
	return f()
}

// handle takes the outcome of a call.
func (r *runner) handle(ctx context.Context, o outcome) {
	r.inflight--
	d := o.d
	switch {
	case o.err == nil && d.dead:
		r.stats.deadLettered.Add(1)
		r.done(d)
	case o.err == nil:
		r.stats.delivered.Add(1)
		r.done(d)
	case ctx.Err() != nil: // closing: the event stays pending on disk, uncounted
		if !d.dead {
			d.attempts--
		}
	case d.dead: // DeadLetter failed: never drop, try again later
		d.dlFails++
		r.retry(d, d.dlFails)
	default:
		d.lastErr = o.err
		if d.attempts-1 >= r.maxRetries || r.age(d) >= r.maxAge {
			d.dead = true
			r.ready = append(r.ready, d)
			return
		}
		r.retry(d, d.attempts)
	}
}

// retry schedules d after the n-th failure: a random wait between half and
// all of min(Max, Base*2^(n-1)).
func (r *runner) retry(d *delivery, n int) {
	wait := r.t.Backoff.Max
	if n-1 < 32 {
		wait = min(wait, r.t.Backoff.Base<<(n-1))
	}
	if half := int64(wait / 2); half > 0 {
		wait = time.Duration(half + rand.Int64N(half+1))
	}
	d.due = time.Now().Add(wait)
	heap.Push(&r.retries, d)
}

func (r *runner) done(d *delivery) {
	delete(r.pending, d.rec.seq)
	r.acked = append(r.acked, d.rec.seq)
	r.stats.pending.Add(-1)
}

// post hands what is done since the last post to the ack writer, with the
// watermark: every event below it is done for this target.
func (r *runner) post() {
	i := 0
	for i < len(r.order) {
		if _, ok := r.pending[r.order[i]]; ok {
			break
		}
		i++
	}
	r.order = r.order[i:]
	if len(r.order) == 0 {
		r.order = nil
	}
	w := r.next
	if len(r.order) > 0 {
		w = r.order[0]
	}
	// Events done below the watermark need no key of their own: most are,
	// as events mostly finish in the order they were read.
	above := r.acked[:0]
	for _, seq := range r.acked {
		if seq >= w {
			above = append(above, seq)
		}
	}
	r.acked = above
	if w == r.lastW && len(r.acked) == 0 {
		return
	}
	r.b.acks.post(r.t.Name, r.acked, w)
	r.acked, r.lastW = nil, w
}

// retryHeap orders deliveries by due time.
type retryHeap []*delivery

func (h retryHeap) Len() int           { return len(h) }
func (h retryHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h retryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *retryHeap) Push(x any) {
	d := x.(*delivery)
	d.index = len(*h)
	*h = append(*h, d)
}
func (h *retryHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return d
}
