package bus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/events/pattern"
	"github.com/troupehq/troupe/local/bus"
	"github.com/troupehq/troupe/producers"
)

func Example() {
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

	b, err := bus.Open(db, "default", bus.Config{Account: "123456789012"})
	if err != nil {
		log.Fatal(err)
	}
	got := make(chan bus.Event)
	err = b.AddTarget(bus.Target{
		Name:    "billing",
		Pattern: pattern.MustCompile(`{"detail-type": ["orders.OrderPlaced"]}`),
		Deliver: func(_ context.Context, event []byte) error {
			var e bus.Event
			if err := json.Unmarshal(event, &e); err != nil {
				return err
			}
			got <- e
			return nil
		},
		DeadLetter: func(_ context.Context, event []byte, cause error, attempts int) error {
			log.Printf("dead letter after %d attempts: %v", attempts, cause)
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	res, err := b.SendBatch(context.Background(), []producers.BusEntry{
		{Source: "com.example.orders", DetailType: "orders.OrderPlaced", Detail: []byte(`{"orderId":"o-1"}`)},
		{Source: "com.example.orders", DetailType: "orders.OrderPlaced", Detail: []byte(`not json`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("entry 1:", res[1].ErrorCode)
	e := <-got
	fmt.Println(e.ID == res[0].ID, e.Account, e.DetailType, string(e.Detail))
	// Output:
	// entry 1: MalformedDetail
	// true 123456789012 orders.OrderPlaced {"orderId":"o-1"}
}
