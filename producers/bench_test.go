package producers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/awstest"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

// BenchmarkPublish compares the Publisher with a naive publisher that makes
// one PutEvents and one PutRecords call per event, both against the
// emulator, in the same run. One op is one event on both legs. It reports the
// API calls per event on each leg and events/s.
//
//	make bench   (or: scripts/with-moto go test -run '^$' -bench Publish -benchmem ./producers/)
func BenchmarkPublish(b *testing.B) {
	pool := orders(b, distinctSubjects("o", 1000)...)
	b.Run("publisher", func(b *testing.B) {
		l := newLegs(b, false, 4)
		p := l.publisher(b)
		start := time.Now()
		b.ResetTimer()
		for done := 0; done < b.N; {
			n := min(b.N-done, 500)
			batch := make([]events.Envelope, n)
			for i := range batch {
				batch[i] = pool[(done+i)%len(pool)]
			}
			if _, err := p.Publish(context.Background(), batch...); err != nil {
				b.Fatal(err)
			}
			done += n
		}
		report(b, l, start)
	})
	b.Run("naive", func(b *testing.B) {
		l := newLegs(b, false, 4)
		start := time.Now()
		b.ResetTimer()
		for i := range b.N {
			if err := publishNaively(l, pool[i%len(pool)]); err != nil {
				b.Fatal(err)
			}
		}
		report(b, l, start)
	})
}

// publishNaively is what a first publisher often looks like: validate, then
// one call per leg per event.
func publishNaively(l *legs, e events.Envelope) error {
	ctx := context.Background()
	if err := schemas.Sample().Validate(e); err != nil {
		return err
	}
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	res, err := l.bus.SendBatch(ctx, []producers.BusEntry{{Source: e.Source, DetailType: e.Type, Detail: body, Time: e.Time}})
	if err != nil || res[0].Failed() {
		return fmt.Errorf("bus: %v %+v", err, res)
	}
	res, err = l.stream.WriteBatch(ctx, []producers.StreamRecord{{PartitionKey: e.Key(), Data: body}})
	if err != nil || res[0].Failed() {
		return fmt.Errorf("stream: %v %+v", err, res)
	}
	return nil
}

func report(b *testing.B, l *legs, start time.Time) {
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(l.inj.Calls(awstest.TargetPutEvents))/n, "PutEvents/event")
	b.ReportMetric(float64(l.inj.Calls(awstest.TargetPutRecords))/n, "PutRecords/event")
	b.ReportMetric(n/time.Since(start).Seconds(), "events/s")
}
