package local

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/topology"
)

// readShard is one stream consumer's reader of one shard, as a Kinesis event
// source mapping: batches of up to BatchSize records in sequence order, from
// a durable checkpoint, filtered by the subscription's filter; the runtime
// reports the records to deliver again (ReportBatchItemFailures), and the
// reader resumes from the lowest of them after a backoff. With
// MaximumRetryAttempts >= 0, a batch that keeps failing is given up past that
// many retries: its failed records go to the consumer's DLQ and the reader
// moves on, as the mapping's OnFailure destination would.
func (e *Engine) readShard(ctx context.Context, c topology.Consumer, rt *consumers.Runtime, shard string) {
	log := e.cfg.Logger.With("consumer", c.Name, "shard", shard)
	pos, err := e.startPosition(c, shard)
	if err != nil {
		log.Error("stream consumer cannot start", "error", err)
		return
	}
	retries := 0
	for ctx.Err() == nil {
		batch, err := e.nextBatch(ctx, c, shard, pos)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("read shard", "error", err)
				sleepCtx(ctx, time.Second)
			}
			continue
		}
		if len(batch) == 0 {
			continue
		}
		failed := rt.HandleStreamBatch(ctx, toRuntime(e.stream.Name(), filter(c, batch)))
		next, done := resumeAfter(pos, batch, failed)
		if !done {
			retries++
			if max := *c.Mapping.MaximumRetryAttempts; max >= 0 && retries > max {
				next = e.giveUp(ctx, c, batch, failed)
				done = true
			}
		}
		if next != pos {
			if err := e.stream.SetCheckpoint(c.Name, shard, next); err != nil {
				log.Error("checkpoint", "error", err)
				sleepCtx(ctx, time.Second)
				continue
			}
			pos = next
		}
		if done {
			retries = 0
			continue
		}
		sleepCtx(ctx, retryBackoff(retries))
	}
}

// startPosition is the consumer's checkpoint, or where a new consumer starts:
// the oldest record (TRIM_HORIZON) or the newest (LATEST).
func (e *Engine) startPosition(c topology.Consumer, shard string) (string, error) {
	pos, err := e.stream.Checkpoint(c.Name, shard)
	if err != nil || pos != "" || c.Mapping.StartingPosition != "LATEST" {
		return pos, err
	}
	if pos, err = e.stream.Latest(shard); err != nil || pos == "" {
		return pos, err
	}
	return pos, e.stream.SetCheckpoint(c.Name, shard, pos)
}

// nextBatch waits for records after pos and returns up to BatchSize of them,
// waiting up to MaximumBatchingWindowInSeconds for a fuller batch.
func (e *Engine) nextBatch(ctx context.Context, c topology.Consumer, shard, pos string) ([]stream.Record, error) {
	if err := e.stream.Wait(ctx, shard, pos); err != nil {
		return nil, err
	}
	if w := c.Mapping.MaximumBatchingWindowInSeconds; w > 0 {
		sleepCtx(ctx, time.Duration(w)*time.Second)
	}
	res, err := e.stream.Read(ctx, shard, pos, c.Mapping.BatchSize)
	if err != nil {
		return nil, err
	}
	if res.Trimmed {
		e.cfg.Logger.Warn("records passed retention before this consumer read them: they are lost to it",
			"consumer", c.Name, "shard", shard, "after", pos, "trimmedThrough", res.TrimmedThrough)
	}
	return res.Records, nil
}

// resumeAfter returns the position to read on from: the batch's last record
// when nothing failed (done), else the record before the lowest failed one.
func resumeAfter(pos string, batch []stream.Record, failed []string) (next string, done bool) {
	if len(failed) == 0 {
		return batch[len(batch)-1].SequenceNumber, true
	}
	next = pos
	for _, r := range batch {
		if slices.Contains(failed, r.SequenceNumber) {
			return next, false
		}
		next = r.SequenceNumber
	}
	return next, false
}

// giveUp sends the batch's failed records to the consumer's DLQ with their
// payload and returns the position past the batch.
func (e *Engine) giveUp(ctx context.Context, c topology.Consumer, batch []stream.Record, failed []string) string {
	for _, r := range batch {
		if !slices.Contains(failed, r.SequenceNumber) {
			continue
		}
		dl := consumers.DeadLetter{
			Consumer: c.Name, Reason: "retries-exhausted", Raw: r.Data,
			Error: "the event source mapping's MaximumRetryAttempts ran out", Attempts: *c.Mapping.MaximumRetryAttempts + 1,
			FirstFailure: time.Now(), LastFailure: time.Now(),
			Origin: consumers.Origin{Source: "stream", Stream: e.stream.Name(), Shard: r.Shard, SequenceNumber: r.SequenceNumber},
		}
		if err := e.dlq.Send(ctx, dl); err != nil {
			e.cfg.Logger.Error("dead-letter after retries", "consumer", c.Name, "sequence", r.SequenceNumber, "error", err)
		}
	}
	return batch[len(batch)-1].SequenceNumber
}

// filter keeps the records the subscription's filter selects (see
// topology.StreamSubscription.Selects).
func filter(c topology.Consumer, batch []stream.Record) []stream.Record {
	if c.Stream.Compiled() == nil {
		return batch
	}
	var kept []stream.Record
	for _, r := range batch {
		if c.Stream.Selects(r.PartitionKey, r.Data) {
			kept = append(kept, r)
		}
	}
	return kept
}

func toRuntime(streamName string, recs []stream.Record) []consumers.StreamRecord {
	out := make([]consumers.StreamRecord, len(recs))
	for i, r := range recs {
		out[i] = consumers.StreamRecord{Stream: streamName, Shard: r.Shard, SequenceNumber: r.SequenceNumber, PartitionKey: r.PartitionKey, Data: r.Data}
	}
	return out
}

func retryBackoff(retries int) time.Duration {
	ceiling := 100 * time.Millisecond << min(retries, 7)
	return ceiling/2 + rand.N(ceiling/2)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
