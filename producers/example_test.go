package producers_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/troupehq/troupe/aws/bus"
	"github.com/troupehq/troupe/aws/stream"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

// A service publishes an OrderPlaced to the bus and the stream.
func Example() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	sender, err := bus.NewFromConfig(awsCfg, bus.Config{BusName: "orders"})
	if err != nil {
		log.Fatal(err)
	}
	writer, err := stream.NewFromConfig(awsCfg, stream.Config{StreamName: "orders"})
	if err != nil {
		log.Fatal(err)
	}
	pub, err := producers.New(producers.Config{Bus: sender, Stream: writer, Validator: schemas.Sample()})
	if err != nil {
		log.Fatal(err)
	}

	e, err := domain.OrderPlacedDef.New(domain.OrderPlacedV2{
		OrderID: "o-1", CustomerID: "c-1",
		Items: []domain.OrderLine{{SKU: "SKU-1", Quantity: 1, UnitPrice: domain.Money{AmountCents: 1250, Currency: "EUR"}}},
		Total: domain.Money{AmountCents: 1250, Currency: "EUR"},
	}, events.WithSubject("o-1"))
	if err != nil {
		log.Fatal(err)
	}
	results, err := pub.Publish(ctx, e)
	for _, r := range results {
		fmt.Println(r.EventID, "bus:", r.Bus, "stream:", r.Stream)
	}
	if err != nil {
		log.Fatal(err) // a *producers.PublishError: which events, which leg, why
	}
}
