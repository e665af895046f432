// Package function runs a consumer of a topology as an AWS Lambda function:
// it reads the function's environment, builds the AWS adapters (EventBridge,
// Kinesis, DynamoDB, SQS) and the consumer runtime, and hands the runtime's
// bus or stream handler to aws-lambda-go. A consumer's Lambda main is one
// call:
//
//	func main() {
//		t, err := choreography.Topology()
//		function.Start(t, err, "payments")
//	}
package function

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/troupehq/troupe/aws/bus"
	"github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/aws/idempotency"
	"github.com/troupehq/troupe/aws/stream"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
	"github.com/troupehq/troupe/topology"
)

// The environment a consumer's function reads; the CDK app sets it.
const (
	EnvBus              = "TROUPE_BUS"               // bus name or ARN (for emits)
	EnvStream           = "TROUPE_STREAM"            // stream name or ARN (for emits)
	EnvIdempotencyTable = "TROUPE_IDEMPOTENCY_TABLE" // DynamoDB table
	EnvDLQURL           = "TROUPE_DLQ_URL"           // the consumer's SQS DLQ
)

// Env is the function's configuration.
type Env struct {
	Bus, Stream, IdempotencyTable, DLQURL string
}

// EnvFromOS reads Env from the environment.
func EnvFromOS() Env {
	return Env{
		Bus: os.Getenv(EnvBus), Stream: os.Getenv(EnvStream),
		IdempotencyTable: os.Getenv(EnvIdempotencyTable), DLQURL: os.Getenv(EnvDLQURL),
	}
}

// check names what consumer c needs and the environment lacks.
func (e Env) check(c *topology.Consumer) error {
	var missing []string
	need := func(name, v string, needed bool) {
		if needed && v == "" {
			missing = append(missing, name)
		}
	}
	need(EnvDLQURL, e.DLQURL, true)
	need(EnvIdempotencyTable, e.IdempotencyTable, !c.Idempotency.Disabled)
	need(EnvBus, e.Bus, len(c.Emits) > 0)
	need(EnvStream, e.Stream, len(c.Emits) > 0)
	if len(missing) > 0 {
		return fmt.Errorf("consumer %s: set %s in the function's environment", c.Name, strings.Join(missing, ", "))
	}
	return nil
}

// NewRuntime builds the consumer's runtime on the AWS adapters; what deps
// sets already (a validator, a clock, a logger) is kept.
func NewRuntime(awsCfg aws.Config, c *topology.Consumer, env Env, deps consumers.Deps) (*consumers.Runtime, error) {
	if err := env.check(c); err != nil {
		return nil, err
	}
	if deps.Validator == nil {
		deps.Validator = SampleSchemas{}
	}
	var err error
	if deps.DeadLetters, err = deadletter.NewFromConfig(awsCfg, deadletter.Config{QueueURL: env.DLQURL}); err != nil {
		return nil, err
	}
	if !c.Idempotency.Disabled {
		if deps.Idempotency, err = idempotency.NewFromConfig(awsCfg, idempotency.Config{TableName: env.IdempotencyTable}); err != nil {
			return nil, err
		}
	}
	if len(c.Emits) > 0 {
		if deps.Publisher, err = NewPublisher(awsCfg, env, deps.Validator); err != nil {
			return nil, err
		}
	}
	return consumers.New(*c, deps)
}

// NewPublisher builds the publisher of the bus and the stream that env names
// (a stream by name or by ARN), validating each event with v.
func NewPublisher(awsCfg aws.Config, env Env, v producers.Validator) (*producers.Publisher, error) {
	b, err := bus.NewFromConfig(awsCfg, bus.Config{BusName: env.Bus})
	if err != nil {
		return nil, err
	}
	sc := stream.Config{StreamName: env.Stream}
	if strings.HasPrefix(env.Stream, "arn:") {
		sc = stream.Config{StreamARN: env.Stream}
	}
	s, err := stream.NewFromConfig(awsCfg, sc)
	if err != nil {
		return nil, err
	}
	return producers.New(producers.Config{Bus: b, Stream: s, Validator: v})
}

// Start runs consumer `name` of topology t as this process's Lambda handler;
// it does not return. declErr is the error of building t, so that a main can
// pass the declaration's result straight in. Any set-up error is logged and
// exits the process: Lambda reports it as an init error.
func Start(t *topology.Topology, declErr error, name string) {
	rt, c, err := setUp(t, declErr, name)
	if err != nil {
		slog.Error("consumer set-up failed", "consumer", name, "error", err)
		os.Exit(1)
	}
	if c.OnBus() {
		lambda.Start(rt.LambdaBus)
	}
	lambda.Start(rt.LambdaStream)
}

func setUp(t *topology.Topology, declErr error, name string) (*consumers.Runtime, *topology.Consumer, error) {
	if declErr != nil {
		return nil, nil, declErr
	}
	if t == nil {
		return nil, nil, errors.New("no topology")
	}
	c, err := t.Consumer(name)
	if err != nil {
		return nil, nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	rt, err := NewRuntime(awsCfg, c, EnvFromOS(), consumers.Deps{})
	return rt, c, err
}

// SampleSchemas validates with the sample's embedded schemas, compiled on the
// first event rather than during the function's init. It is the validator a
// function uses unless its Deps name another.
type SampleSchemas struct{}

// Validate checks e against the embedded schema of its type and version.
func (SampleSchemas) Validate(e events.Envelope) error { return schemas.Sample().Validate(e) }
