// Command sdkfloor is aws-lambda-go plus what every troupe consumer must
// link and build before its first request, and nothing of troupe: the AWS
// configuration chain and the four clients (DynamoDB for idempotency, SQS
// for the DLQ, EventBridge and Kinesis for emits). Its init time is the
// floor those dependencies set for any consumer.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	_ = dynamodb.NewFromConfig(cfg)
	_ = sqs.NewFromConfig(cfg)
	_ = eventbridge.NewFromConfig(cfg)
	_ = kinesis.NewFromConfig(cfg)
	lambda.Start(func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil })
}
