package redrive_test

import (
	"testing"

	"github.com/troupehq/troupe/aws/redrive"
	"github.com/troupehq/troupe/internal/awstest"
)

// BenchmarkDrain drains a queue of 50 messages and deletes each batch as
// it comes, with the batched calls (ReceiveMessage of 10,
// DeleteMessageBatch) and one at a time (ReceiveMessage of 1,
// DeleteMessage), against the emulator. The time is per message.
func BenchmarkDrain(b *testing.B) {
	const n = 50
	for _, mode := range []struct {
		name string
		one  bool
	}{{"batched", false}, {"one-at-a-time", true}} {
		b.Run(mode.name, func(b *testing.B) {
			cfg := awstest.Config(b)
			queueURL := awstest.NewQueue(b, cfg)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				fill(b, cfg, queueURL, n)
				q := newQueue(b, cfg, queueURL, func(c *redrive.QueueConfig) { c.OneAtATime = mode.one })
				b.StartTimer()
				got := 0
				for {
					batch, err := q.Receive(ctxT(b), redrive.MaxBatch)
					if err != nil {
						b.Fatal(err)
					}
					if len(batch) == 0 {
						break
					}
					if err := q.Delete(ctxT(b), batch); err != nil {
						b.Fatal(err)
					}
					got += len(batch)
				}
				if got != n {
					b.Fatalf("drained %d, want %d", got, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/message")
		})
	}
}
