package local

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target that troupe dev runs with
// (Go's default is 100). The engine's live heap is small (tens of MB) and
// nearly all its allocation is short-lived garbage (JSON, envelopes): at
// 100 it collected every ~80ms under load and spent about a tenth of its
// CPU doing so. At 400 it collects a quarter as often, for a heap a few
// times larger.
const GCPercent = 400

// MemoryLimit is the soft memory limit that goes with GCPercent: past it the
// collector works harder rather than let the heap grow with the live data
// (the trace, a backlog) times five.
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
