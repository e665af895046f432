package schemas

import (
	"testing"

	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
)

// BenchmarkEnvelopeValidate measures what the publish path does with an
// event: encode the envelope, decode it back, validate the data against its
// schema. Its peers in the same run: the codec alone, and the codec plus a
// strict decode of the data into the Go struct instead of the schema.
//
//	go test -run '^$' -bench BenchmarkEnvelopeValidate -benchmem ./schemas/
func BenchmarkEnvelopeValidate(b *testing.B) {
	e := orderPlacedV2(b)
	set := Sample()
	if err := set.Validate(e); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, after func(events.Envelope) error) {
		b.ReportAllocs()
		for b.Loop() {
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
		for b.Loop() {
			if err := set.Validate(e); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("schema-only-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := set.Validate(e); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
