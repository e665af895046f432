package stream_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/producers"
)

// BenchmarkWriteBatch measures durable writes (one fsync per commit) with 1
// and 8 concurrent writers and batches of 1, 10 and 500 records of about
// 200 bytes, through the stream's group commit and, as the named peer,
// through bbolt's db.Batch (which waits up to db.MaxBatchDelay, 10ms, to
// gather writers). b.N counts WriteBatch calls; records/s is the figure to
// read.
//
//	go test -run '^$' -bench WriteBatch -benchtime 2s ./local/stream/
func BenchmarkWriteBatch(b *testing.B) {
	data := []byte(`{"specversion":"1.0","type":"orders.OrderPlaced","source":"shop","data":` +
		`{"order":"` + strings.Repeat("x", 120) + `"}}`)
	for _, mode := range []string{"group", "dbBatch"} {
		for _, writers := range []int{1, 8} {
			for _, size := range []int{1, 10, 500} {
				b.Run(fmt.Sprintf("%s/writers=%d/batch=%d", mode, writers, size), func(b *testing.B) {
					s := open(b, newDB(b), "bench", stream.Config{Shards: 4})
					if mode == "dbBatch" {
						stream.UseDBBatch(s)
					}
					batches := make([][]producers.StreamRecord, writers)
					for w := range batches {
						for i := range size {
							batches[w] = append(batches[w], producers.StreamRecord{PartitionKey: fmt.Sprintf("order-%d-%d", w, i), Data: data})
						}
					}
					var calls atomic.Int64
					var wg sync.WaitGroup
					b.ResetTimer()
					for w := range writers {
						wg.Go(func() {
							for calls.Add(1) <= int64(b.N) {
								if _, err := s.WriteBatch(b.Context(), batches[w]); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					b.StopTimer()
					b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "records/s")
				})
			}
		}
	}
}
