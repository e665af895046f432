package consumers

import (
	"context"
	"fmt"
	"sync"

	"github.com/troupehq/troupe/events"
)

// StreamRecord is one stream record as the runtime receives it.
type StreamRecord struct {
	Stream         string // the stream's name or ARN
	Shard          string
	SequenceNumber string
	PartitionKey   string
	Data           []byte
}

// HandleStreamBatch runs the consumer on one batch of stream records and
// returns the sequence numbers that must be delivered again (for Lambda's
// ReportBatchItemFailures).
//
// Records with the same partition key run one after the other, in batch
// order; different keys run concurrently, up to Function.Concurrency. A
// failing record is retried in-process, then dead-lettered with its payload,
// and its key carries on: a poison record never blocks the shard. Only if a
// record cannot be handled nor dead-lettered (the DLQ or the idempotency
// store is down, or ctx ends) is it reported, with every later record of its
// key, which must not run before it.
func (r *Runtime) HandleStreamBatch(ctx context.Context, records []StreamRecord) (failed []string) {
	keys, byKey := groupByKey(records)
	failedIdx := make([]bool, len(records))
	// Up to Concurrency of the runtime's workers take the keys in turn.
	next := make(chan []int)
	var wg sync.WaitGroup
	for range min(r.consumer.Function.Concurrency, len(keys)) {
		wg.Add(1)
		r.workers.Go(func() {
			defer wg.Done()
			for idxs := range next {
				r.handleKey(ctx, records, idxs, failedIdx)
			}
		})
	}
	for _, key := range keys {
		next <- byKey[key]
	}
	close(next)
	wg.Wait()
	for i, f := range failedIdx {
		if f {
			failed = append(failed, records[i].SequenceNumber)
		}
	}
	return failed
}

// handleKey handles one key's records in order; when one must be delivered
// again, it and the key's later records are marked failed.
func (r *Runtime) handleKey(ctx context.Context, records []StreamRecord, idxs []int, failedIdx []bool) {
	for n, i := range idxs {
		if err := r.handleRecord(ctx, records[i]); err != nil {
			r.deps.Logger.ErrorContext(ctx, "record not handled; reported for redelivery",
				"consumer", r.consumer.Name, "shard", records[i].Shard, "sequence", records[i].SequenceNumber,
				"held", len(idxs)-n-1, "error", err)
			for _, j := range idxs[n:] {
				failedIdx[j] = true
			}
			return
		}
	}
}

// groupByKey returns the partition keys in order of first appearance, and
// the record indexes of each key in batch order.
func groupByKey(records []StreamRecord) ([]string, map[string][]int) {
	var keys []string
	byKey := map[string][]int{}
	for i, rec := range records {
		if _, ok := byKey[rec.PartitionKey]; !ok {
			keys = append(keys, rec.PartitionKey)
		}
		byKey[rec.PartitionKey] = append(byKey[rec.PartitionKey], i)
	}
	return keys, byKey
}

// handleRecord returns an error only when the record must be delivered again.
func (r *Runtime) handleRecord(ctx context.Context, rec StreamRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := &Delivery{
		Raw:    rec.Data,
		Origin: Origin{Source: "stream", Stream: rec.Stream, Shard: rec.Shard, SequenceNumber: rec.SequenceNumber},
	}
	e, err := events.Decode(rec.Data)
	if err != nil {
		err = fmt.Errorf("%w: stream record %s/%s: %w", errDecode, rec.Shard, rec.SequenceNumber, err)
		return r.deliver(ctx, r.parkUndecodable(err), d)
	}
	if e.Key() != rec.PartitionKey {
		r.deps.Logger.WarnContext(ctx, "record partition key differs from the envelope's",
			"consumer", r.consumer.Name, "event", e.ID, "record", rec.PartitionKey, "envelope", e.Key())
	}
	d.Envelope = e
	return r.deliver(ctx, r.onStream, d)
}

// parkUndecodable dead-letters a payload that is not an event, with cause.
func (r *Runtime) parkUndecodable(cause error) HandlerFunc {
	return func(ctx context.Context, d *Delivery) error {
		return deadLetter(ctx, r.consumer.Name, r.deps.DeadLetters, d, cause, r.deps.Now, r.deps.Logger)
	}
}
