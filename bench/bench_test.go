package bench

import (
	"fmt"
	"slices"
	"testing"

	"github.com/troupehq/troupe/events/pattern"
	"quamina.net/go/quamina"
)

const seed = 42

func buildOurs(tb testing.TB, patterns []string) *pattern.Matcher {
	m := pattern.NewMatcher()
	for i, p := range patterns {
		if err := m.Add(fmt.Sprintf("p%05d", i), []byte(p)); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := m.Match([]byte(`{}`)); err != nil { // build the index outside the timing
		tb.Fatal(err)
	}
	return m
}

func buildQuamina(tb testing.TB, patterns []string) *quamina.Quamina {
	q, err := quamina.New()
	if err != nil {
		tb.Fatal(err)
	}
	for i, p := range patterns {
		if err := q.AddPattern(fmt.Sprintf("p%05d", i), p); err != nil {
			tb.Fatal(err)
		}
	}
	return q
}

// TestCrossCheck asserts that both matchers give the same matches for every
// benchmark event, so the benchmark compares equal work.
func TestCrossCheck(t *testing.T) {
	patterns := QuaminaPatterns(100, seed)
	events := Events(2000, seed)
	ours := buildOurs(t, patterns)
	q := buildQuamina(t, patterns)
	total := 0
	for i, ev := range events {
		got, err := ours.Match(ev)
		if err != nil {
			t.Fatal(err)
		}
		xs, err := q.MatchesForEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]string, len(xs))
		for j, x := range xs {
			want[j] = x.(string)
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("event %d %s\nours    %q\nquamina %q", i, ev, got, want)
		}
		total += len(got)
	}
	if total < len(events)/2 {
		t.Fatalf("only %d matches over %d events; the benchmark would measure misses only", total, len(events))
	}
	t.Logf("%d events, %d matches, %.0f bytes/event", len(events), total, avgLen(events))
}

// TestMixedPatternsCompile makes sure every generated pattern is valid and
// that the mixed workload matches something at every size.
func TestMixedPatternsCompile(t *testing.T) {
	events := Events(2000, seed)
	for _, n := range []int{10, 100, 1000, 10000} {
		m := buildOurs(t, MixedPatterns(n, seed))
		total := 0
		for _, ev := range events {
			names, err := m.Match(ev)
			if err != nil {
				t.Fatal(err)
			}
			total += len(names)
		}
		t.Logf("%5d patterns: %d matches over %d events", n, total, len(events))
		if n >= 1000 && total == 0 {
			t.Fatalf("%d patterns match nothing", n)
		}
	}
}

func avgLen(events [][]byte) float64 {
	n := 0
	for _, e := range events {
		n += len(e)
	}
	return float64(n) / float64(len(events))
}

func reportRate(b *testing.B, events int) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	_ = events
}

// BenchmarkVsQuamina: 100 patterns of the kinds Quamina supports, 2,000
// events, one goroutine, both matchers in one run.
func BenchmarkVsQuamina(b *testing.B) {
	patterns := QuaminaPatterns(100, seed)
	events := Events(2000, seed)
	b.Run("troupe", func(b *testing.B) {
		m := buildOurs(b, patterns)
		dst := make([]string, 0, 16)
		b.ReportAllocs()
		b.SetBytes(int64(avgLen(events)))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			var err error
			dst, err = m.AppendMatches(dst[:0], events[i%len(events)])
			if err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, len(events))
	})
	b.Run("quamina", func(b *testing.B) {
		q := buildQuamina(b, patterns)
		b.ReportAllocs()
		b.SetBytes(int64(avgLen(events)))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := q.MatchesForEvent(events[i%len(events)]); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, len(events))
	})
}

// BenchmarkScaling: the full operator mix at 10 to 10,000 patterns.
func BenchmarkScaling(b *testing.B) {
	events := Events(2000, seed)
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("patterns=%d", n), func(b *testing.B) {
			m := buildOurs(b, MixedPatterns(n, seed))
			dst := make([]string, 0, 16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				dst, err = m.AppendMatches(dst[:0], events[i%len(events)])
				if err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, len(events))
		})
	}
}
