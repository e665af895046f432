package function_test

import (
	"os"
	"testing"
	"time"
)

// BenchmarkBootstrapInit measures a function's init: from the process start
// to its first Runtime API request, for a sample consumer (payments: config,
// four AWS clients, the topology and the schemas) and, side by side, the
// smallest aws-lambda-go function. It also reports each binary's size (as
// built for this machine; `make lambdas` builds linux/arm64).
//
//	scripts/with-moto go test -run '^$' -bench BootstrapInit ./aws/function/
func BenchmarkBootstrapInit(b *testing.B) {
	for _, name := range []string{"payments", "hello"} {
		b.Run(name, func(b *testing.B) {
			s := newStack(b)
			var total time.Duration
			for range b.N {
				srv, _, began := start(b, bins[name], s.env())
				total += srv.FirstNext(b, 10*time.Second).Sub(began)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/init")
			if fi, err := os.Stat(bins[name]); err == nil {
				b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
			}
		})
	}
}
