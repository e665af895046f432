package schemas

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
)

// BenchmarkEnvelopeValidate measures what the publish path does with an
// event: encode the envelope, decode it back, validate the data against its
// schema. Its peers in the same run: the codec alone, and the codec plus a
// strict decode of the data into the Go struct instead of the schema. Each
// op takes the next of more events than the set's cache of valid payloads
// holds, so every validation is done in full; schema-only-repeat validates
// one payload again and again, as the consumers of one event do in troupe
// dev: the cache's price.
//
//	go test -run '^$' -bench BenchmarkEnvelopeValidate -benchmem ./schemas/
func BenchmarkEnvelopeValidate(b *testing.B) {
	evs := distinct(b, 3*cacheEntries)
	set := Sample()
	if err := set.Validate(evs[0]); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, after func(events.Envelope) error) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e := evs[i%len(evs)]
			i++
			raw, err := events.Encode(e)
			if err != nil {
				b.Fatal(err)
			}
			got, err := events.Decode(raw)
			if err != nil {
				b.Fatal(err)
			}
			if after != nil {
				if err := after(got); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("codec+schema", func(b *testing.B) { run(b, set.Validate) })
	b.Run("codec", func(b *testing.B) { run(b, nil) })
	b.Run("codec+typed-decode", func(b *testing.B) {
		run(b, func(e events.Envelope) error { _, err := domain.OrderPlacedDef.Decode(e); return err })
	})
	b.Run("schema-only", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := set.Validate(evs[i%len(evs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("schema-only-repeat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := set.Validate(evs[0]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("schema-only-parallel", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := set.Validate(evs[int(next.Add(1))%len(evs)]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// distinct returns n OrderPlaced v2 events whose data differ (the order id).
func distinct(tb testing.TB, n int) []events.Envelope {
	tb.Helper()
	base := orderPlacedV2(tb)
	out := make([]events.Envelope, n)
	for i := range out {
		e := base
		e.Data = []byte(strings.Replace(string(base.Data), "ord_01JPBX6Q7Z3K9M2N4P5R6S7T8V", fmt.Sprintf("ord_%026d", i), 1))
		out[i] = e
	}
	if string(out[0].Data) == string(out[1].Data) {
		tb.Fatal("distinct: the order id was not found in the data")
	}
	return out
}
