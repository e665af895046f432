// Package workers runs calls on goroutines that outlive them.
//
// A goroutine starts with a small stack and copies it to a bigger one each
// time a call goes deeper than it has room for. The engine's calls go deep
// (decoding, schema validation, the consumer's middleware), so a goroutine
// per call grew a fresh stack every time: a tenth of troupe dev's CPU under
// load. A Pool's workers keep theirs for the next call.
package workers

import "time"

// Pool runs calls on idle workers, or on new ones: a call never waits for a
// worker. A worker ends after it has been idle for the pool's idle time, so
// an idle pool holds no goroutines. The zero Pool is not usable; use New.
type Pool struct {
	calls chan func()
	idle  time.Duration
}

// New returns a pool whose workers end after idle without a call.
func New(idle time.Duration) *Pool {
	return &Pool{calls: make(chan func()), idle: idle}
}

// Go runs call on a worker. Safe for concurrent use.
func (p *Pool) Go(call func()) {
	select {
	case p.calls <- call:
	default:
		go p.work(call)
	}
}

// work runs call, then the calls Go hands it, until it has been idle for
// p.idle.
func (p *Pool) work(call func()) {
	idle := time.NewTimer(p.idle)
	defer idle.Stop()
	for {
		call()
		idle.Reset(p.idle)
		select {
		case call = <-p.calls:
		case <-idle.C:
			return
		}
	}
}
