package workers_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/workers"
)

// TestRunsEveryCallAtOnce: calls never wait for each other; each runs once.
func TestRunsEveryCallAtOnce(t *testing.T) {
	p := workers.New(time.Minute)
	const n = 50
	var started, ran atomic.Int64
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		p.Go(func() {
			defer wg.Done()
			started.Add(1)
			<-release // every call blocks until all have started
			ran.Add(1)
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for started.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := started.Load(); got != n {
		t.Fatalf("%d of %d blocking calls started: a call waited for a worker", got, n)
	}
	close(release)
	wg.Wait()
	if got := ran.Load(); got != n {
		t.Fatalf("ran %d calls, want %d", got, n)
	}
}

// TestWorkersAreReusedThenEnd: sequential calls share one worker, and an
// idle pool's workers end.
func TestWorkersAreReusedThenEnd(t *testing.T) {
	before := runtime.NumGoroutine()
	p := workers.New(50 * time.Millisecond)
	for range 100 {
		done := make(chan struct{})
		p.Go(func() { close(done) })
		<-done
		time.Sleep(100 * time.Microsecond) // let the worker go back to waiting
	}
	if extra := runtime.NumGoroutine() - before; extra > 2 {
		t.Errorf("%d goroutines more after 100 sequential calls, want the one worker reused", extra)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if extra := runtime.NumGoroutine() - before; extra > 0 {
		t.Errorf("%d goroutines left after the idle time", extra)
	}
}
