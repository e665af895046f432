package bus_test

import (
	"context"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/troupehq/troupe/aws/bus"
	"github.com/troupehq/troupe/producers"
)

func ExampleNewFromConfig() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	sender, err := bus.NewFromConfig(awsCfg, bus.Config{BusName: "orders"})
	if err != nil {
		log.Fatal(err)
	}
	// PutEvents to a bus that does not exist succeeds and drops the events:
	// check first.
	if err := sender.Check(ctx); err != nil {
		log.Fatal(err)
	}
	results, err := sender.SendBatch(ctx, []producers.BusEntry{{
		Source:     "shop.orders",
		DetailType: "orders.OrderPlaced",
		Detail:     []byte(`{"specversion":"1.0","type":"orders.OrderPlaced","data":{"order":"o-1"}}`),
		Time:       time.Now(),
	}})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		if r.Failed() {
			log.Printf("rejected: %s: %s (retryable: %v)", r.ErrorCode, r.ErrorMessage, r.Retryable)
		}
	}
}
