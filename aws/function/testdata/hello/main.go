// Command hello is the smallest aws-lambda-go function: the peer the
// consumers' init time is measured against.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil })
}
