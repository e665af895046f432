package dlq

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/time/rate"
)

// Action is what a replay, a purge or an export did with one message.
type Action string

const (
	// Replayed: redelivered and acknowledged (and deleted, unless Keep or
	// the delete failed: see Result.Deleted and Result.Err).
	Replayed Action = "replayed"
	// WouldReplay: a dry run's answer; nothing was touched.
	WouldReplay Action = "would-replay"
	// Failed: the redelivery failed; the message is still in its queue.
	Failed Action = "failed"
	// Unreadable: the message is in no shape troupe reads, or its envelope
	// cannot be judged; it is reported, skipped and never deleted.
	Unreadable Action = "unreadable"
	// Purged: deleted for good by a purge.
	Purged Action = "purged"
	// WouldPurge: a dry run of a purge.
	WouldPurge Action = "would-purge"
)

// Result is what happened to one message.
type Result struct {
	Entry  Entry
	Action Action
	// Deleted says the message left its queue.
	Deleted bool
	// Err says what went wrong: the redelivery's error (Failed), the
	// reason it is unreadable, or a delete that failed after an
	// acknowledged redelivery (Replayed, Deleted false: the next replay
	// redelivers it again, which idempotency makes harmless).
	Err error
}

// Summary counts a run's results.
type Summary struct {
	// Seen counts the messages read, selected or not.
	Seen int `json:"seen"`
	// Selected counts the messages the selector picked (up to the limit).
	Selected   int `json:"selected"`
	Replayed   int `json:"replayed"`
	Purged     int `json:"purged"`
	Deleted    int `json:"deleted"`
	Failed     int `json:"failed"`
	Unreadable int `json:"unreadable"`
}

// OK reports whether every selected message was handled and every message
// could be read: what a zero exit code means.
func (s Summary) OK() bool { return s.Failed == 0 && s.Unreadable == 0 }

// ReplayConfig says what to replay and how.
type ReplayConfig struct {
	// Queue is drained once; or From, when set, is replayed instead (a
	// `troupe dlq export` file: nothing is deleted anywhere).
	Queue Queue
	From  []Entry
	// To redelivers; required unless DryRun.
	To Redeliverer
	// Select picks the messages; the zero Selector picks all.
	Select Selector
	// DryRun reports what would be replayed and touches nothing.
	DryRun bool
	// Keep leaves replayed messages in their queue.
	Keep bool
	// Rate caps redeliveries per second; 0 is no cap.
	Rate float64
	// Concurrency is how many redeliveries run at once (default 1).
	Concurrency int
	// Limit stops after this many selected messages; 0 is no limit.
	Limit int
	// Batch is how many messages to ask the queue for at a time
	// (default DefaultBatch).
	Batch int
	// OnResult is told each result as it happens, from one goroutine at a
	// time: Unreadable, WouldReplay, Replayed or Failed. Messages the
	// selector leaves out are not reported.
	OnResult func(Result)
}

// Replay redelivers each selected message to the consumer that failed it,
// and only to it, then deletes it from its queue (unless Keep): a message is
// deleted only after its redelivery is acknowledged, so a replay killed at
// any point loses nothing (the next one redelivers what was not deleted;
// the consumer's idempotency keeps the effect single). Messages not selected,
// unreadable or failed stay in their queue. The error is for the run as a
// whole (the queue cannot be read, ctx ended); per-message failures are in
// the Summary and the results.
func Replay(ctx context.Context, cfg ReplayConfig) (Summary, error) {
	if cfg.To == nil && !cfg.DryRun {
		return Summary{}, errors.New("dlq: Replay needs a Redeliverer (or DryRun)")
	}
	r := &replay{cfg: cfg, report: cfg.OnResult}
	if r.report == nil {
		r.report = func(Result) {}
	}
	if cfg.Rate > 0 {
		r.limit = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	if cfg.From != nil {
		return r.sum, r.batch(ctx, cfg.From, nil)
	}
	if cfg.Queue == nil {
		return Summary{}, errors.New("dlq: Replay needs a Queue or From")
	}
	p := newPass(cfg.Queue, cfg.Batch)
	err := r.drain(ctx, p)
	return r.sum, errors.Join(err, p.release(ctx))
}

type replay struct {
	cfg    ReplayConfig
	limit  *rate.Limiter
	report func(Result)
	sum    Summary
}

func (r *replay) full() bool { return r.cfg.Limit > 0 && r.sum.Selected >= r.cfg.Limit }

func (r *replay) drain(ctx context.Context, p *pass) error {
	for !r.full() {
		if err := ctx.Err(); err != nil {
			return err
		}
		got, err := p.next(ctx)
		if err != nil {
			return err
		}
		if len(got) == 0 {
			return nil
		}
		if err := r.batch(ctx, got, p); err != nil {
			return err
		}
	}
	return nil
}

// batch replays one batch: it picks, redelivers the picked concurrently, then
// deletes the acknowledged ones in one call (p nil: from a file, nothing to
// delete).
func (r *replay) batch(ctx context.Context, got []Entry, p *pass) error {
	var todo []Entry
	for _, e := range got {
		r.sum.Seen++
		sel := selects(r.cfg.Select, &e)
		switch {
		case e.Err != nil:
			r.sum.Unreadable++
			r.report(Result{Entry: e, Action: Unreadable, Err: e.Err})
		case !sel || r.full():
		case r.cfg.DryRun:
			r.sum.Selected++
			r.report(Result{Entry: e, Action: WouldReplay})
		default:
			r.sum.Selected++
			todo = append(todo, e)
		}
	}
	results := r.redeliver(ctx, todo)
	var acked []Entry
	for _, res := range results {
		if res.Action == Replayed && p != nil && !r.cfg.Keep {
			acked = append(acked, res.Entry)
		}
	}
	failed := deleteAcked(ctx, p, acked)
	for _, res := range results {
		switch {
		case res.Action == Failed:
			r.sum.Failed++
		case failed[res.Entry.ID] != nil:
			res.Err = fmt.Errorf("redelivered, but not deleted (the next replay redelivers it again; idempotency makes that harmless): %w", failed[res.Entry.ID])
			r.sum.Replayed++
			r.sum.Failed++
		default:
			r.sum.Replayed++
			if res.Deleted = p != nil && !r.cfg.Keep; res.Deleted {
				r.sum.Deleted++
			}
		}
		r.report(res)
	}
	return ctx.Err()
}

// redeliver runs the redeliveries, Concurrency at a time, paced by Rate.
// Once ctx ends no new redelivery starts; those not started are not
// reported (they stay in the queue).
func (r *replay) redeliver(ctx context.Context, todo []Entry) []Result {
	n := max(r.cfg.Concurrency, 1)
	results := make([]Result, len(todo))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	started := 0
	for i, e := range todo {
		if r.limit != nil && r.limit.Wait(ctx) != nil {
			break
		}
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		started++
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = Result{Entry: e, Action: Replayed}
			if err := r.cfg.To.Redeliver(ctx, e); err != nil {
				results[i] = Result{Entry: e, Action: Failed, Err: err}
			}
		}()
	}
	wg.Wait()
	return results[:started]
}

// delete deletes the acknowledged messages even when ctx has ended (a
// Ctrl-C after their redelivery must not leave them to be replayed again),
// and returns the ids it could not delete, with why.
func deleteAcked(ctx context.Context, p *pass, acked []Entry) map[string]error {
	if len(acked) == 0 {
		return nil
	}
	err := p.q.Delete(context.WithoutCancel(ctx), acked)
	var de *DeleteError
	switch {
	case err == nil:
		p.deleted(acked)
		return nil
	case errors.As(err, &de):
		var gone []Entry
		for _, e := range acked {
			if de.Failed[e.ID] == nil {
				gone = append(gone, e)
			}
		}
		p.deleted(gone)
		return de.Failed
	default:
		failed := map[string]error{}
		for _, e := range acked {
			failed[e.ID] = err
		}
		return failed
	}
}
