package idempotency_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/local/idempotency"
)

func ExampleNew() {
	dir, err := os.MkdirTemp("", "troupe-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "troupe.db"), 0o600, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := idempotency.New(db, "idempotency")
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	rec := consumers.IdempotencyRecord{
		Key: "billing#evt-1", PayloadHash: "h1",
		Expiry: now.Add(time.Hour), InProgressExpiry: now.Add(30 * time.Second),
	}
	_, acquired, _ := store.Acquire(ctx, rec, now)
	fmt.Println("first delivery acquired:", acquired)
	_ = store.Complete(ctx, rec.Key, now.Add(time.Hour), []byte(`{"invoice":"i-1"}`))

	existing, acquired, _ := store.Acquire(ctx, rec, now.Add(time.Minute))
	fmt.Println("redelivery acquired:", acquired, existing.Status, string(existing.Result))

	purged, _ := store.Purge(now.Add(2 * time.Hour))
	fmt.Println("purged after the window:", purged)
	// Output:
	// first delivery acquired: true
	// redelivery acquired: false COMPLETED {"invoice":"i-1"}
	// purged after the window: 1
}
