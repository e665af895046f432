package local

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// restoreGC puts the process's GC settings back after a test.
func restoreGC(t *testing.T) {
	pct, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(pct); debug.SetMemoryLimit(limit) })
}

func TestTuneGC(t *testing.T) {
	restoreGC(t)
	t.Setenv("GOGC", "150") // the user's word wins
	t.Setenv("GOMEMLIMIT", "1GiB")
	TuneGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, TuneGC changed the GC percent to %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set, TuneGC changed the memory limit to %d", got)
	}
}

func TestTuneGCDefault(t *testing.T) {
	restoreGC(t)
	t.Setenv("GOGC", "") // restored after the test
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOGC")
	os.Unsetenv("GOMEMLIMIT")
	TuneGC()
	if got := debug.SetGCPercent(100); got != GCPercent {
		t.Errorf("TuneGC set the GC percent to %d, want %d", got, GCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != MemoryLimit {
		t.Errorf("TuneGC set the memory limit to %d, want %d", got, MemoryLimit)
	}
}
