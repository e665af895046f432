package idempotency_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/internal/awstest"
)

// BenchmarkAcquireComplete runs, per op, what one event and one duplicate of
// it cost: Acquire of a new key, Complete, and Acquire of the now completed
// key. Against moto the time measures the emulator more than the adapter;
// the DynamoDB calls per op (3: PutItem, UpdateItem, PutItem) are what holds
// on AWS too.
func BenchmarkAcquireComplete(b *testing.B) {
	cfg := awstest.Config(b)
	table := awstest.NewTable(b, cfg)
	cnt := newCounter()
	s := newStore(b, cfg, table, cnt)
	ctx := b.Context()
	prefix := "bench#" + awstest.Name(b, "k") + "-"
	result := json.RawMessage(`{"ok":true}`)
	now := time.Now()
	cnt.take()

	i := 0
	for b.Loop() {
		key := prefix + strconv.Itoa(i)
		i++
		r := consumers.IdempotencyRecord{
			Key: key, PayloadHash: "h", Expiry: now.Add(time.Hour), InProgressExpiry: now.Add(time.Minute),
		}
		if _, ok, err := s.Acquire(ctx, r, now); err != nil || !ok {
			b.Fatalf("Acquire new: %v %v", ok, err)
		}
		if err := s.Complete(ctx, key, now.Add(time.Hour), result); err != nil {
			b.Fatal(err)
		}
		if existing, ok, err := s.Acquire(ctx, r, now); err != nil || ok || existing.Status != consumers.Completed {
			b.Fatalf("Acquire duplicate: %+v %v %v", existing, ok, err)
		}
	}
	n := cnt.take()
	ops := float64(i)
	b.ReportMetric(float64(total(n))/ops, "ddb-calls/op")
	b.ReportMetric(float64(n[awstest.TargetPutItem])/ops, "PutItem/op")
	b.ReportMetric(float64(n[awstest.TargetUpdateItem])/ops, "UpdateItem/op")
	b.ReportMetric(float64(n[awstest.TargetGetItem])/ops, "GetItem/op")
}
