package producers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// leg is one destination of a Publish call, seen by the send loop: how to
// batch its entries, how to send a batch, and where its results go.
type leg struct {
	name       string
	ordered    bool // keep per-key order (the stream)
	maxEntries int
	maxBytes   int
	size       func(i int) int
	key        func(i int) string
	id         func(i int) string // the event id, for messages
	send       func(ctx context.Context, idxs []int) ([]EntryResult, error)
	result     func(i int) *LegResult
}

func (p *Publisher) busLeg(b *prepared, results []Result) *leg {
	return &leg{
		name:       "bus",
		maxEntries: p.cfg.MaxBusBatchEntries,
		maxBytes:   p.cfg.MaxBusBatchBytes,
		size:       func(i int) int { return BusEntrySize(b.entries[i]) },
		send: func(ctx context.Context, idxs []int) ([]EntryResult, error) {
			batch := make([]BusEntry, len(idxs))
			for j, i := range idxs {
				batch[j] = b.entries[i]
			}
			return p.cfg.Bus.SendBatch(ctx, batch)
		},
		result: func(i int) *LegResult { return &results[i].Bus },
	}
}

func (p *Publisher) streamLeg(b *prepared, results []Result) *leg {
	return &leg{
		name:       "stream",
		ordered:    true,
		maxEntries: p.cfg.MaxStreamBatchRecords,
		maxBytes:   p.cfg.MaxStreamBatchBytes,
		size:       func(i int) int { return len(b.records[i].Data) + len(b.records[i].PartitionKey) },
		key:        func(i int) string { return b.records[i].PartitionKey },
		id:         func(i int) string { return results[i].EventID },
		send: func(ctx context.Context, idxs []int) ([]EntryResult, error) {
			batch := make([]StreamRecord, len(idxs))
			for j, i := range idxs {
				batch[j] = b.records[i]
			}
			return p.cfg.Stream.WriteBatch(ctx, batch)
		},
		result: func(i int) *LegResult { return &results[i].Stream },
	}
}

// run sends the pending entries of one leg in rounds until each is settled:
// sent, failed for good, out of attempts, or cut off by ctx. Only entries a
// round failed with a retryable error go into the next round.
func (p *Publisher) run(ctx context.Context, l *leg, pending []int) {
	for round := 0; len(pending) > 0; round++ {
		retried := p.round(ctx, l, pending)
		pending = p.unsettled(l, pending)
		if len(pending) == 0 {
			return
		}
		if retried && !p.sleep(ctx, round) {
			for _, i := range pending {
				r := l.result(i)
				r.Status, r.Err = Failed, fmt.Errorf("%s: not acknowledged before the context ended (%w); last error: %w", l.name, context.Cause(ctx), r.Err)
			}
			return
		}
	}
}

// round plans the pending entries into batches and sends them, up to
// Concurrency at a time. It reports whether any entry needs a retry.
func (p *Publisher) round(ctx context.Context, l *leg, pending []int) (retried bool) {
	batches := l.plan(pending)
	if len(batches) == 1 { // the usual case (a consumer's emits): no goroutine to wait for
		return p.sendBatch(ctx, l, batches[0])
	}
	var mu sync.Mutex
	sem := make(chan struct{}, p.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, batch := range batches {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if p.sendBatch(ctx, l, batch) {
				mu.Lock()
				retried = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return retried
}

// plan cuts the pending entries, in order, into batches within the leg's
// limits. On an ordered leg only the first pending entry of each key goes
// into a round: a later one waits until the earlier is acknowledged, because
// a partial failure could otherwise write it first.
func (l *leg) plan(pending []int) [][]int {
	var batches [][]int
	var cur []int
	curBytes := 0
	seen := map[string]bool{}
	for _, i := range pending {
		if l.ordered {
			if seen[l.key(i)] {
				continue
			}
			seen[l.key(i)] = true
		}
		n := l.size(i)
		if len(cur) == l.maxEntries || (len(cur) > 0 && curBytes+n > l.maxBytes) {
			batches = append(batches, cur)
			cur, curBytes = nil, 0
		}
		cur = append(cur, i)
		curBytes += n
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches
}

// sendBatch makes one call and records each entry's outcome. It reports
// whether any entry is left for a retry.
func (p *Publisher) sendBatch(ctx context.Context, l *leg, batch []int) (retry bool) {
	res, err := l.send(ctx, batch)
	if err == nil && len(res) != len(batch) {
		err = fmt.Errorf("%s answered %d results for %d entries", l.name, len(res), len(batch))
	}
	for j, i := range batch {
		r := l.result(i)
		r.Attempts++
		switch {
		case err != nil:
			r.Err = fmt.Errorf("%s: %w", l.name, err)
			r.Status = p.retryOrFail(r, errors.Is(err, ErrRetryable) && ctx.Err() == nil)
		case res[j].Failed():
			r.Err = fmt.Errorf("%s: %s: %s", l.name, res[j].ErrorCode, res[j].ErrorMessage)
			r.Status = p.retryOrFail(r, res[j].Retryable)
		default:
			r.Status, r.ID, r.Shard, r.Err = Sent, res[j].ID, res[j].Shard, nil
		}
		retry = retry || r.Status == Pending
	}
	return retry
}

func (p *Publisher) retryOrFail(r *LegResult, retryable bool) Status {
	if !retryable {
		return Failed
	}
	if r.Attempts >= p.cfg.MaxAttempts {
		r.Err = fmt.Errorf("gave up after %d attempts: %w", r.Attempts, r.Err)
		return Failed
	}
	return Pending
}

// unsettled returns the entries still pending, in order. On an ordered leg,
// an entry whose key has an earlier entry that failed for good is settled as
// NotSent: writing it would put it on the stream without its predecessor.
func (p *Publisher) unsettled(l *leg, pending []int) []int {
	var next []int
	broken := map[string]string{} // key -> id of the event that failed
	for _, i := range pending {
		r := l.result(i)
		if l.ordered {
			if failed, ok := broken[l.key(i)]; ok && r.Status == Pending {
				r.Status, r.Err = NotSent, fmt.Errorf("%s: %w: the earlier event %s with partition key %q failed", l.name, ErrOrderHeld, failed, l.key(i))
				continue
			}
			if _, ok := broken[l.key(i)]; !ok && r.Status == Failed {
				broken[l.key(i)] = l.id(i)
			}
		}
		if r.Status == Pending {
			next = append(next, i)
		}
	}
	return next
}

// sleep waits the backoff of the given round (exponential, full jitter) and
// reports false if ctx ended first.
func (p *Publisher) sleep(ctx context.Context, round int) bool {
	ceiling := p.cfg.BaseBackoff << min(round, 20)
	if ceiling > p.cfg.MaxBackoff || ceiling <= 0 {
		ceiling = p.cfg.MaxBackoff
	}
	t := time.NewTimer(rand.N(ceiling) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
