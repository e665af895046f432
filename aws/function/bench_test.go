package function_test

import (
	"os"
	"slices"
	"testing"
	"time"
)

// BenchmarkBootstrapInit measures a function's init: from the process start
// to its first Runtime API request, for a sample consumer (payments: config,
// four AWS clients, the topology and the schemas) and, side by side, the
// smallest aws-lambda-go function (hello) and that function with the AWS
// configuration and the four clients every consumer needs, and nothing of
// troupe (sdkfloor: the floor those dependencies set). It reports the mean and the median, and
// each binary's size (as built for this machine; `make lambdas` builds
// linux/arm64).
//
//	scripts/with-moto go test -run '^$' -bench BootstrapInit ./aws/function/
func BenchmarkBootstrapInit(b *testing.B) {
	for _, name := range []string{"payments", "sdkfloor", "hello"} {
		b.Run(name, func(b *testing.B) {
			s := newStack(b)
			var total time.Duration
			inits := make([]time.Duration, 0, b.N)
			for range b.N {
				srv, _, began := start(b, bins[name], s.env())
				d := srv.FirstNext(b, 10*time.Second).Sub(began)
				total += d
				inits = append(inits, d)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/init")
			// The median too: on a shared machine a few slow starts move the
			// mean by several milliseconds.
			slices.Sort(inits)
			b.ReportMetric(float64(inits[len(inits)/2].Microseconds())/1000, "p50-ms/init")
			if fi, err := os.Stat(bins[name]); err == nil {
				b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
			}
		})
	}
}
