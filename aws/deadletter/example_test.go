package deadletter_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/events"
)

func ExampleNewFromConfig() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	dlq, err := deadletter.NewFromConfig(awsCfg, deadletter.Config{
		QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/billing-dlq",
	})
	if err != nil {
		log.Fatal(err)
	}
	err = dlq.Send(ctx, consumers.DeadLetter{
		Envelope: &events.Envelope{SpecVersion: "1.0", ID: "0190a000-0000-7000-8000-000000000001",
			Source: "shop.orders", Type: "orders.OrderPlaced", DataVersion: 1, Data: []byte(`{"order":"o-1"}`)},
		Consumer: "billing", Error: "charge card: declined", Reason: "handler", Attempts: 3,
		FirstFailure: time.Now(), LastFailure: time.Now(), Origin: consumers.Origin{Source: "bus"},
	})
	if errors.Is(err, consumers.ErrTooLarge) {
		log.Print("the event is too large for the queue even gzipped: ", err)
	} else if err != nil {
		log.Fatal(err) // not parked: do not acknowledge the event
	}
}

// A DLQ reader tells troupe's dead letters from the AWS shapes.
func ExampleDecodeMessage() {
	for _, body := range []string{
		`{"troupe":"deadletter/v1","consumer":"billing","reason":"handler","error":"charge card: declined",` +
			`"attempts":3,"firstFailure":"2025-06-01T12:00:00Z","lastFailure":"2025-06-01T12:00:04Z",` +
			`"origin":{"source":"stream","stream":"orders","shard":"shardId-000000000001","sequenceNumber":"42"},` +
			`"envelope":{"specversion":"1.0","id":"0190a000-0000-7000-8000-000000000001","source":"shop.orders",` +
			`"type":"orders.OrderPlaced","time":"2025-06-01T11:59:59Z","dataversion":2,"data":{"order":"o-1"}}}`,
		`{"version":"1.0","requestContext":{"condition":"RetriesExhausted"},"requestPayload":{}}`,
	} {
		dl, err := deadletter.DecodeMessage(body, nil)
		if errors.Is(err, deadletter.ErrNotDeadLetter) {
			fmt.Println("not troupe's: try the AWS shapes")
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s failed %s after %d attempts (%s: %s), from %s %s #%s\n", dl.Consumer, dl.Envelope.Ref(),
			dl.Attempts, dl.Reason, dl.Error, dl.Origin.Source, dl.Origin.Shard, dl.Origin.SequenceNumber)
	}
	// Output:
	// billing failed orders.OrderPlaced v2 (id 0190a000-0000-7000-8000-000000000001) after 3 attempts (handler: charge card: declined), from stream shardId-000000000001 #42
	// not troupe's: try the AWS shapes
}
