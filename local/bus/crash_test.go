package bus_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/troupehq/troupe/local/bus"
	"github.com/troupehq/troupe/producers"
)

// The crash test runs a child process (this test binary again) that sends
// events and delivers them to a target that appends their ids to a file,
// and prints the id of each event SendBatch acknowledged. The parent kills
// it with SIGKILL mid-run, opens the database again with the same target,
// and checks that every acknowledged event reached the file at least once.
const (
	envCrashDB  = "TROUPE_BUS_CRASH_DB"
	envCrashLog = "TROUPE_BUS_CRASH_LOG"
)

// fileTarget appends each event's id to a file before it returns: what it
// acknowledges is in the file even if the process dies right after.
func fileTarget(path string, failSome bool) (func(context.Context, []byte) error, func()) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		panic(err)
	}
	var mu sync.Mutex
	return func(_ context.Context, ev []byte) error {
		if failSome && rand.IntN(5) == 0 {
			return errTarget
		}
		var e bus.Event
		if err := json.Unmarshal(ev, &e); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		_, err := f.WriteString(e.ID + "\n")
		return err
	}, func() { f.Close() }
}

// TestCrashChild is the child; it does nothing unless run by TestCrash.
func TestCrashChild(t *testing.T) {
	dbPath := os.Getenv(envCrashDB)
	if dbPath == "" {
		t.Skip("run by TestCrash")
	}
	db := openDB(t, dbPath)
	b := openBus(t, db, bus.Config{})
	deliver, _ := fileTarget(os.Getenv(envCrashLog), true)
	if err := b.AddTarget(bus.Target{Name: "rec", Deliver: deliver, Backoff: fast}); err != nil {
		t.Fatal(err)
	}
	start(t, b)
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		n := 1 + i%5
		for _, id := range send(t, b, make5(i)[:n]...) {
			fmt.Fprintln(out, id)
		}
		out.Flush()
	}
}

func make5(i int) []producers.BusEntry {
	out := make([]producers.BusEntry, 5)
	for j := range out {
		out[j] = entry(i*5 + j)
	}
	return out
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	t.Parallel()
	dir := t.TempDir()
	dbPath, logPath := filepath.Join(dir, "bus.db"), filepath.Join(dir, "delivered")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashDB+"="+dbPath, envCrashLog+"="+logPath)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAfter = 300
	var acked []string
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); len(id) == 36 { // a whole UUID: the line was written out
			acked = append(acked, id)
		}
		if len(acked) >= killAfter && !killed {
			cmd.Process.Kill() // SIGKILL
			killed = true
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !killed || !errors.As(err, &exit) {
		t.Fatalf("child ended by itself (%v) after %d ids", err, len(acked))
	}
	before := lines(t, logPath)
	t.Logf("child acknowledged %d events and delivered %d before SIGKILL", len(acked), len(before))

	db := openDB(t, dbPath)
	b := openBus(t, db, bus.Config{})
	deliver, closeFile := fileTarget(logPath, false)
	defer closeFile()
	if err := b.AddTarget(bus.Target{Name: "rec", Deliver: deliver}); err != nil {
		t.Fatal(err)
	}
	start(t, b)
	eventually(t, "every acknowledged event in the file", func() bool {
		got := lines(t, logPath)
		for _, id := range acked {
			if !got[id] {
				return false
			}
		}
		return true
	})
	t.Logf("after restart: %d distinct events in the file", len(lines(t, logPath)))
}

func lines(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for l := range strings.Lines(string(data)) {
		m[strings.TrimSpace(l)] = true
	}
	return m
}
