package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
)

// TestDevKill9MidBurstLosesNothing publishes a burst of orders with the AWS
// SDK, kills troupe dev with SIGKILL in the middle of it, restarts it on the
// same data directory, and checks that every event it acknowledged was
// handled by every consumer downstream of it: each order's payments,
// inventory and shipping steps, and the timeline's three stream events.
func TestDevKill9MidBurstLosesNothing(t *testing.T) {
	t.Parallel()
	addr, dir := freeAddr(t), t.TempDir()
	d := startDev(t, addr, dir)

	client := eventbridge.New(eventbridge.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr),
		Credentials:      credentials.NewStaticCredentialsProvider("x", "x", ""),
		RetryMaxAttempts: 1,
	})
	const burst, killAfter = 10000, 2000
	var mu sync.Mutex
	var acked []string
	killed := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * 10; i < burst; i += 40 {
				entries, ids := orderEntries(t, i, 10)
				out, err := client.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries})
				if err != nil {
					return // the engine is gone
				}
				mu.Lock()
				for j, e := range out.Entries {
					if e.ErrorCode == nil {
						acked = append(acked, ids[j])
					}
				}
				n := len(acked)
				mu.Unlock()
				if n >= killAfter {
					select {
					case <-killed:
					default:
						close(killed)
					}
				}
			}
		}()
	}
	select {
	case <-killed:
	case <-time.After(60 * time.Second):
		t.Fatal("the burst did not reach the kill point")
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = d.cmd.Process.Wait()
	wg.Wait()
	t.Logf("%d events acknowledged before the kill", len(acked))

	d = startDev(t, addr, dir)
	d.waitQuiet(t, 90*time.Second)
	st, _ := d.status()
	for _, c := range st.Consumers {
		if c.DLQ != 0 {
			t.Errorf("%s dead-lettered %d events after the restart: %+v", c.Name, c.DLQ, c)
		}
	}
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	_, _ = d.cmd.Process.Wait()

	done := completedKeys(t, filepath.Join(dir, "troupe.db"))
	for _, id := range acked {
		if !done["payments#"+id] {
			t.Fatalf("acknowledged event %s was never handled by payments", id)
		}
	}
	for consumer, min := range map[string]int{"payments": len(acked), "inventory": len(acked), "shipping": len(acked), "timeline": 3 * len(acked)} {
		n := 0
		for key := range done {
			if strings.HasPrefix(key, consumer+"#") {
				n++
			}
		}
		if n < min {
			t.Errorf("%s completed %d events, want at least %d (every acknowledged order's chain)", consumer, n, min)
		}
	}
}

// orderEntries builds n PutEvents entries of OrderPlaced envelopes.
func orderEntries(t *testing.T, from, n int) ([]ebtypes.PutEventsRequestEntry, []string) {
	var entries []ebtypes.PutEventsRequestEntry
	var ids []string
	for i := from; i < from+n; i++ {
		id := fmt.Sprintf("o-%05d", i)
		e, err := domain.OrderPlacedDef.New(domain.OrderPlacedV2{
			OrderID: id, CustomerID: "c",
			Items: []domain.OrderLine{{SKU: "S", Quantity: 1, UnitPrice: domain.Money{AmountCents: 100, Currency: "EUR"}}},
			Total: domain.Money{AmountCents: 100, Currency: "EUR"},
		}, events.WithSubject(id))
		if err != nil {
			t.Error(err)
			return nil, nil
		}
		detail, _ := json.Marshal(e)
		entries = append(entries, ebtypes.PutEventsRequestEntry{
			Source: aws.String(e.Source), DetailType: aws.String(e.Type), Detail: aws.String(string(detail)),
		})
		ids = append(ids, e.ID)
	}
	return entries, ids
}

// waitQuiet waits until nothing is pending, the stream consumers have no
// lag, and the handled counts stay the same for two seconds.
func (d *devProcess) waitQuiet(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last, since := "", time.Now()
	for time.Now().Before(deadline) {
		st, err := d.status()
		if err == nil {
			busy := false
			var sig strings.Builder
			for _, c := range st.Consumers {
				busy = busy || c.Pending > 0 || c.Lag > 0
				fmt.Fprintf(&sig, "%s:%d/%d ", c.Name, c.Handled, c.Duplicates)
			}
			if sig.String() != last || busy {
				last, since = sig.String(), time.Now()
			} else if time.Since(since) > 2*time.Second {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, _ := d.status()
	t.Fatalf("troupe dev did not settle within %v: %+v", timeout, st.Consumers)
}

// completedKeys reads the idempotency keys marked COMPLETED from a stopped
// engine's database.
func completedKeys(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys := map[string]bool{}
	err = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("idempotency"))
		if b == nil {
			return fmt.Errorf("no idempotency bucket")
		}
		return b.ForEach(func(k, v []byte) error {
			var rec struct{ Status string }
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			if rec.Status == "COMPLETED" {
				keys[string(k)] = true
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
