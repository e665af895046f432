package bus_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/local/bus"
	"github.com/troupehq/troupe/producers"
)

// batch10 is a batch of 10 entries with a detail of about 300 bytes, the
// size of a troupe envelope.
func batch10() []producers.BusEntry {
	out := make([]producers.BusEntry, 10)
	for i := range out {
		out[i] = producers.BusEntry{
			Source: "bench.orders", DetailType: "orders.OrderPlaced", Time: time.Now(),
			Detail: fmt.Appendf(nil, `{"specversion":"1.0","id":"0190b6f4-6a5e-7c3e-9d4c-%012d","source":"bench.orders",`+
				`"type":"orders.OrderPlaced","dataversion":1,"time":"2025-03-14T09:26:53Z",`+
				`"data":{"orderId":"o-%d","customer":"c-42","lines":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"total":129.5}}`, i, i),
		}
	}
	return out
}

// sendAll sends b.N batches of 10 from senders goroutines.
func sendAll(b *testing.B, bu *bus.Bus, senders int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			entries := batch10()
			for next.Add(1) <= int64(b.N) {
				res, err := bu.SendBatch(context.Background(), entries)
				if err != nil || res[9].Failed() {
					b.Error(err, res)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkSendBatch: batches of 10 to the durable log (one fsync per group
// commit), from 1 and 8 senders.
func BenchmarkSendBatch(b *testing.B) {
	for _, senders := range []int{1, 8} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			bu := openBus(b, openDB(b, ""), bus.Config{})
			b.ResetTimer()
			sendAll(b, bu, senders)
			b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkEndToEnd: events from 8 senders (batches of 10) through the log
// to 1 and 3 catch-all targets with a no-op Deliver, until every target has
// every event.
func BenchmarkEndToEnd(b *testing.B) {
	for _, targets := range []int{1, 3} {
		b.Run(fmt.Sprintf("targets=%d", targets), func(b *testing.B) {
			bu := openBus(b, openDB(b, ""), bus.Config{})
			var delivered atomic.Int64
			for i := range targets {
				if err := bu.AddTarget(bus.Target{Name: fmt.Sprint("t", i), Deliver: func(context.Context, []byte) error {
					delivered.Add(1)
					return nil
				}}); err != nil {
					b.Fatal(err)
				}
			}
			start(b, bu)
			b.ResetTimer()
			sendAll(b, bu, 8)
			want := int64(b.N * 10 * targets)
			for delivered.Load() < want {
				time.Sleep(100 * time.Microsecond)
			}
			b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkPeerDBBatch is the peer of BenchmarkSendBatch: the same appends
// (10 events of the same size per call) through bbolt's own group commit,
// db.Batch, which waits up to db.MaxBatchDelay (10ms) for company. The bus
// commits as soon as the previous commit is done instead.
func BenchmarkPeerDBBatch(b *testing.B) {
	for _, senders := range []int{1, 8} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			db := openDB(b, "")
			if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("log")); return err }); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range senders {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						entries := batch10()
						err := db.Batch(func(tx *bbolt.Tx) error {
							lg := tx.Bucket([]byte("log"))
							for _, e := range entries {
								seq, _ := lg.NextSequence()
								if err := lg.Put(binary.BigEndian.AppendUint64(nil, seq), e.Detail); err != nil {
									return err
								}
							}
							return nil
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
