// Package commit shares bbolt write transactions between the writers of one
// database: group commit, engine-wide.
//
// bbolt has one writer at a time, and each commit costs two fsyncs and a
// write of every page it dirtied. When the bus, the stream, the idempotency
// store, the acks and the trace each commit on their own, they queue for
// the writer lock and pay those costs once each. A Group runs everything
// that is waiting in one transaction instead: while one commit is under way
// the next writers queue, and the next commit takes them all. A lone writer
// waits for nothing but its own commit (unlike db.Batch, which waits up to
// db.MaxBatchDelay for company first).
package commit

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"go.etcd.io/bbolt"
)

// Func runs fn in a write transaction and returns once the transaction is
// committed (and synced, unless the database has NoSync), or fn's error, or
// the commit's. fn may be called more than once (its transaction may be
// rolled back because another function in it failed), so it must depend
// only on the transaction's state and reset any result it builds.
type Func func(fn func(*bbolt.Tx) error) error

// maxJobs bounds the functions one transaction runs, so that one commit
// stays a few megabytes however many writers wait.
const maxJobs = 4096

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("commit: the group is closed")

type job struct {
	fn   func(*bbolt.Tx) error
	err  error
	done chan struct{}
}

// Group commits the functions given to Do in shared transactions. Do is
// safe for concurrent use.
type Group struct {
	db     *bbolt.DB
	mu     sync.RWMutex // Close waits for Do calls under way to queue
	closed bool
	in     chan *job
	loop   chan struct{} // closed when the loop ends

	commits, jobs atomic.Int64
}

// Stats are a group's counts so far.
type Stats struct {
	Commits int64 // transactions committed (or failed at commit)
	Jobs    int64 // functions they ran
}

// Stats returns the group's counts so far. Safe for concurrent use.
func (g *Group) Stats() Stats { return Stats{Commits: g.commits.Load(), Jobs: g.jobs.Load()} }

// New starts a group on db. Close it before closing db.
func New(db *bbolt.DB) *Group {
	g := &Group{db: db, in: make(chan *job, maxJobs), loop: make(chan struct{})}
	go g.run()
	return g
}

// Do is a Func: it runs fn in the next shared transaction.
func (g *Group) Do(fn func(*bbolt.Tx) error) error { return g.Enqueue(fn)() }

// Enqueue queues fn for the next shared transaction and returns at once;
// wait returns fn's outcome once its transaction is committed (or at once,
// ErrClosed, after Close). Transactions commit in queue order: whatever any
// writer queues after Enqueue returns is committed in the same transaction
// as fn or a later one, never before it.
func (g *Group) Enqueue(fn func(*bbolt.Tx) error) (wait func() error) {
	j := &job{fn: fn, done: make(chan struct{})}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return func() error { return ErrClosed }
	}
	g.in <- j
	g.mu.RUnlock()
	return func() error {
		<-j.done
		return j.err
	}
}

// Close commits what is queued, then stops the group; Do returns ErrClosed
// from then on.
func (g *Group) Close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.in)
	}
	g.mu.Unlock()
	<-g.loop
}

// maxYields bounds the yields before a commit (see gather).
const maxYields = 8

// run commits what is waiting, as one transaction, until Close.
func (g *Group) run() {
	defer close(g.loop)
	batch := make([]*job, 0, 64)
	for j := range g.in {
		gather(g.in)
		batch = append(batch[:0], j)
	more:
		for len(batch) < maxJobs {
			select {
			case j, ok := <-g.in:
				if !ok {
					break more
				}
				batch = append(batch, j)
			default:
				break more
			}
		}
		g.commit(batch)
	}
}

// gather lets the writers that are about to queue do so before a commit
// starts. A commit wakes every writer it carried at once; they run, and
// each soon queues its next write. Committing as soon as the first arrived
// made a commit, and two fsyncs, of it alone, while the others queued for
// the next. So the group yields the processor as long as the queue grows
// (at most maxYields times): under load the next commit takes them all;
// idle, nothing else is runnable and a yield returns at once.
func gather(in chan *job) {
	for range maxYields {
		n := len(in)
		runtime.Gosched()
		if len(in) == n {
			return
		}
	}
}

// commit runs jobs in one transaction. When one fails, the transaction is
// rolled back, that job gets its error, and the others run again without it.
func (g *Group) commit(jobs []*job) {
	for len(jobs) > 0 {
		failed := -1
		var fnErr error
		err := g.db.Update(func(tx *bbolt.Tx) error {
			for i, j := range jobs {
				if fnErr = safely(j.fn, tx); fnErr != nil {
					failed = i
					return fnErr
				}
			}
			return nil
		})
		if failed < 0 { // committed, or the commit itself failed: all share err
			g.commits.Add(1)
			g.jobs.Add(int64(len(jobs)))
			for _, j := range jobs {
				finish(j, err)
			}
			return
		}
		finish(jobs[failed], fnErr)
		jobs = append(jobs[:failed:failed], jobs[failed+1:]...)
	}
}

func finish(j *job, err error) {
	j.err = err
	close(j.done)
}

// safely calls fn, turning a panic into its error: one writer's bug must
// not take the others' commits (and the group's goroutine) down with it.
func safely(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("commit: panic in a transaction function: %v", p)
		}
	}()
	return fn(tx)
}
