package consumers_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/troupehq/troupe/aws/idempotency"
	"github.com/troupehq/troupe/internal/awstest"
)

// BenchmarkIdempotency measures what idempotency costs a bus consumer per
// event against the emulator's DynamoDB, side by side with the same consumer
// without it, in one run: a first delivery (take the key, complete it) and a
// duplicate (one conditional put that fails with the old item). It reports
// DynamoDB calls per event.
//
//	scripts/with-moto go test -run '^$' -bench Idempotency -benchmem ./consumers/
func BenchmarkIdempotency(b *testing.B) {
	for _, mode := range []string{"off", "first-delivery", "duplicate"} {
		b.Run(mode, func(b *testing.B) {
			r, p := newRigTB(b), newProbe()
			counter := awstest.NewFaultInjector(nil)
			store, err := idempotency.NewFromConfig(r.cfg, idempotency.Config{TableName: awstest.NewTable(b, r.cfg)},
				func(o *dynamodb.Options) { o.HTTPClient = counter.Client() })
			if err != nil {
				b.Fatal(err)
			}
			r.store = store
			c := p.consumer("probe", true)
			c.Idempotency.Disabled = mode == "off"
			rt := r.runtimeTB(b, c)
			payloads := make([][]byte, b.N)
			for i := range payloads {
				payloads[i] = busPayload(b, order(b, "o", "ok"))
			}
			if mode == "duplicate" {
				for _, pl := range payloads {
					if err := rt.HandleBusEvent(context.Background(), pl); err != nil {
						b.Fatal(err)
					}
				}
			}
			before := dynamoCalls(counter)
			start := time.Now()
			b.ResetTimer()
			for _, pl := range payloads {
				if err := rt.HandleBusEvent(context.Background(), pl); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(dynamoCalls(counter)-before)/float64(b.N), "DynamoDB-calls/event")
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

func dynamoCalls(c *awstest.FaultInjector) int {
	n := 0
	for _, target := range []string{awstest.TargetPutItem, awstest.TargetGetItem, awstest.TargetUpdateItem, awstest.TargetDeleteItem} {
		n += c.Calls(target)
	}
	return n
}
