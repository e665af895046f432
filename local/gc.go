package local

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target that troupe dev runs with
// (Go's default is 100). The engine's live heap is small (tens of MB) and
// nearly all its allocation is short-lived garbage (JSON, envelopes): at
// 100 it collected every ~80ms under load. Since the trace index and the
// schemas' cache hold no pointers, a collection marks in 14-18 ms; then a
// smaller heap goal serves latency best: at 2,000 events/s, p99 of 29-36
// ms at 100-200 against 42-56 at 400 and 56-81 at 800 (BENCHMARKS.md), for
// the same throughput at 200 as at 400.
const GCPercent = 200

// MemoryLimit is the soft memory limit that goes with GCPercent: past it the
// collector works harder rather than let the heap grow with the live data
// (the trace, a backlog) times three.
const MemoryLimit = 512 << 20

// TuneGC sets the garbage collector to GCPercent and MemoryLimit, each
// unless its environment variable (GOGC, GOMEMLIMIT) already says what to
// do. It changes the whole process: call it from a main that runs an
// engine, not from a library.
func TuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(GCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(MemoryLimit)
	}
}
