package redrive_test

import (
	"testing"

	"github.com/troupehq/troupe/aws/redrive"
	"github.com/troupehq/troupe/dlq"
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

// BenchmarkReplay measures `troupe dlq replay` against moto: dlq.Replay
// drains a DLQ of EventBridge target DLQ messages through an SQSQueue and
// redelivers each with a LambdaRedeliverer (an asynchronous Invoke that moto
// answers with 202), deleting what was acknowledged; batched SQS calls
// (receive 10, delete 10 a call) side by side with one call per message, in
// the same run. Short polls (moto's short poll sees every message), so the
// end-of-queue check costs no long-poll wait.
//
//	scripts/with-moto go test -run '^$' -bench Replay -benchtime 4x ./aws/redrive/
func BenchmarkReplay(b *testing.B) {
	const n = 200
	topo := shop(b)
	deps := []redrive.Deployment{{Consumer: "billing", FunctionName: "billing"}}
	for _, mode := range []struct {
		name string
		one  bool
	}{{"batched", false}, {"one-at-a-time", true}} {
		b.Run(mode.name, func(b *testing.B) {
			cfg := awstest.Config(b)
			useMotoLambda(b)
			queueURL := awstest.NewQueue(b, cfg)
			deps[0].DLQURL = queueURL
			to, err := redrive.NewLambdaRedelivererFromConfig(cfg, redrive.LambdaConfig{Topology: topo, Deployments: deps})
			if err != nil {
				b.Fatal(err)
			}
			var replayed int
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				fill(b, cfg, queueURL, n)
				q := newQueue(b, cfg, queueURL, func(c *redrive.QueueConfig) { c.OneAtATime, c.NoWait = mode.one, true })
				b.StartTimer()
				sum, err := dlq.Replay(ctxT(b), dlq.ReplayConfig{Queue: q, To: to, Concurrency: 4})
				if err != nil {
					b.Fatal(err)
				}
				if sum.Replayed != n || sum.Deleted != n {
					b.Fatalf("replayed %d, deleted %d, want %d each: %+v", sum.Replayed, sum.Deleted, n, sum)
				}
				replayed += sum.Replayed
			}
			b.ReportMetric(float64(replayed)/b.Elapsed().Seconds(), "messages/s")
		})
	}
}
