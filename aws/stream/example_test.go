package stream_test

import (
	"context"
	"log"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/troupehq/troupe/aws/stream"
	"github.com/troupehq/troupe/producers"
)

func ExampleNewFromConfig() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	writer, err := stream.NewFromConfig(awsCfg, stream.Config{
		StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := writer.Check(ctx); err != nil {
		log.Fatal(err)
	}
	results, err := writer.WriteBatch(ctx, []producers.StreamRecord{{
		PartitionKey: "order-1",
		Data:         []byte(`{"specversion":"1.0","type":"orders.OrderPlaced","data":{"order":"order-1"}}`),
	}})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		if r.Failed() {
			log.Printf("rejected: %s: %s (retryable: %v)", r.ErrorCode, r.ErrorMessage, r.Retryable)
		} else {
			log.Printf("stored on %s at %s", r.Shard, r.ID)
		}
	}
}
