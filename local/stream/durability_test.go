package stream_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/producers"
)

// TestReopen: records, sequence numbers and checkpoints survive closing the
// database, and sequence numbers go on increasing after it.
func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "troupe.db")
	db := openDB(t, path)
	s := open(t, db, "orders", stream.Config{Shards: 3})
	var recs []producers.StreamRecord
	for i := range 30 {
		recs = append(recs, rec(fmt.Sprintf("k%d", i%6), `{"n":%d}`, i))
	}
	res := write(t, s, recs...)
	for _, r := range res[:3] {
		if err := s.SetCheckpoint("billing", r.Shard, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	before := readStream(t, s)
	latest := map[string]string{}
	for _, sh := range s.Shards() {
		latest[sh.ID], _ = s.Latest(sh.ID)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, path)
	t.Cleanup(func() { db.Close() })
	s = open(t, db, "orders", stream.Config{Shards: 3})
	after := readStream(t, s)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("after reopening:\n%v\nbefore:\n%v", after, before)
	}
	for _, r := range res[:3] {
		if cp, err := s.Checkpoint("billing", r.Shard); err != nil || cp < r.ID {
			t.Errorf("checkpoint on %s: %q, %v; want at least %s", r.Shard, cp, err, r.ID)
		}
	}
	for i, r := range write(t, s, recs...) {
		if r.ID <= latest[r.Shard] {
			t.Errorf("record %d after reopening: sequence number %s on %s, not after %s", i, r.ID, r.Shard, latest[r.Shard])
		}
	}
	if err := s.Wait(t.Context(), res[0].Shard, ""); err != nil {
		t.Errorf("Wait after reopening, with records there: %v", err)
	}
}

const crashEnv = "TROUPE_STREAM_CRASH_DB"

type crashData struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

// TestCrash: a child process writes batches from two goroutines and prints
// every acknowledged record; it is killed with SIGKILL mid-run. Every
// acknowledged record must be on disk after, where its result said, and
// each key's records must run 0, 1, 2, ... with no gap.
func TestCrash(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(t, path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "troupe.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type ack struct {
		crashData
		shard, seq string
	}
	var acks []ack
	r := bufio.NewReader(out)
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for len(acks) < 2000 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("child stopped after %d acks: %v", len(acks), err)
		}
		var a ack
		if _, err := fmt.Sscanf(line, "ack %s %d %s %s\n", &a.Key, &a.N, &a.shard, &a.seq); err != nil {
			continue // the test binary's own output
		}
		acks = append(acks, a)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL, mid-run
		t.Fatal(err)
	}
	// Acks printed between the last read and the kill count too; a line cut
	// short by the kill does not.
	rest, _ := io.ReadAll(r)
	for _, line := range strings.SplitAfter(string(rest), "\n") {
		var a ack
		if strings.HasSuffix(line, "\n") {
			if _, err := fmt.Sscanf(line, "ack %s %d %s %s\n", &a.Key, &a.N, &a.shard, &a.seq); err == nil {
				acks = append(acks, a)
			}
		}
	}
	cmd.Wait()
	t.Logf("child killed after %d acknowledged records", len(acks))

	db := openDB(t, path)
	t.Cleanup(func() { db.Close() })
	s := open(t, db, "orders", stream.Config{Shards: 4})
	type pos struct{ shard, seq string }
	stored := map[pos]crashData{}
	perKey := map[string][]int{}
	for _, rec := range readStream(t, s) {
		var d crashData
		if err := json.Unmarshal(rec.Data, &d); err != nil || d.Key != rec.PartitionKey {
			t.Fatalf("record %s/%s: %q (%v)", rec.Shard, rec.SequenceNumber, rec.Data, err)
		}
		stored[pos{rec.Shard, rec.SequenceNumber}] = d
		perKey[d.Key] = append(perKey[d.Key], d.N)
	}
	maxAcked := map[string]int{}
	for _, a := range acks {
		d, ok := stored[pos{a.shard, a.seq}]
		if !ok || d != a.crashData {
			t.Errorf("acknowledged %+v at %s/%s; on disk: %+v (present %v)", a.crashData, a.shard, a.seq, d, ok)
		}
		maxAcked[a.Key] = max(maxAcked[a.Key], a.N)
	}
	for key, ns := range perKey {
		for i, n := range ns {
			if n != i {
				t.Errorf("key %s: record %d on disk is n=%d: a gap or a reordering (%v)", key, i, n, ns)
				break
			}
		}
		if len(ns) <= maxAcked[key] {
			t.Errorf("key %s: %d records on disk, but n=%d was acknowledged", key, len(ns), maxAcked[key])
		}
	}
	if len(maxAcked) == 0 {
		t.Error("no acks")
	}
}

// crashChild writes until it is killed, printing one line per acknowledged
// record.
func crashChild(t *testing.T, path string) {
	db := openDB(t, path)
	s := open(t, db, "orders", stream.Config{Shards: 4})
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := time.Now().Add(45 * time.Second) // should the parent die
	for w := range 2 {
		wg.Go(func() {
			next := map[string]int{}
			for b := 0; time.Now().Before(stop); b++ {
				var recs []producers.StreamRecord
				for i := range 1 + b%20 {
					k := fmt.Sprintf("w%d-k%d", w, (b+i)%5)
					d, _ := json.Marshal(crashData{Key: k, N: next[k]})
					next[k]++
					recs = append(recs, producers.StreamRecord{PartitionKey: k, Data: d})
				}
				res, err := s.WriteBatch(t.Context(), recs)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(1)
				}
				var lines strings.Builder
				for i, r := range res {
					var d crashData
					json.Unmarshal(recs[i].Data, &d)
					fmt.Fprintf(&lines, "ack %s %d %s %s\n", d.Key, d.N, r.Shard, r.ID)
				}
				mu.Lock()
				os.Stdout.WriteString(lines.String())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestConcurrentWriters: many writers at once, through the group commit
// and through db.Batch: every record lands once, each key in the order its
// writer wrote it.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"group", "dbBatch"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := open(t, newDB(t), "orders", stream.Config{Shards: 3})
			if mode == "dbBatch" {
				stream.UseDBBatch(s)
			}
			const writers, batches, size = 8, 15, 10
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					n := map[string]int{}
					for range batches {
						var recs []producers.StreamRecord
						for i := range size {
							k := fmt.Sprintf("w%d-%d", w, i%3)
							recs = append(recs, rec(k, `{"key":%q,"n":%d}`, k, n[k]))
							n[k]++
						}
						res, err := s.WriteBatch(t.Context(), recs)
						if err != nil || len(res) != size {
							t.Errorf("writer %d: %v, %v", w, res, err)
							return
						}
					}
				})
			}
			wg.Wait()
			got := readStream(t, s)
			if len(got) != writers*batches*size {
				t.Errorf("read %d records, wrote %d", len(got), writers*batches*size)
			}
			perKey := map[string]int{}
			for _, r := range got {
				var d crashData
				if err := json.Unmarshal(r.Data, &d); err != nil {
					t.Fatal(err)
				}
				if d.N != perKey[d.Key] {
					t.Fatalf("key %s: read n=%d, want %d", d.Key, d.N, perKey[d.Key])
				}
				perKey[d.Key]++
			}
		})
	}
}
