package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/spf13/cobra"

	"github.com/troupehq/troupe/aws/redrive"
	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/dlq"
)

// awsDLQFlags say which AWS queues: a stack's outputs, or one queue.
type awsDLQFlags struct {
	stack, queue, function, endpointURL, region string
	visibility                                  time.Duration
	consumer                                    *string // the shared --consumer
}

func (f *awsDLQFlags) add(cmd *cobra.Command, consumer *string) {
	f.consumer = consumer
	fl := cmd.Flags()
	fl.StringVar(&f.stack, "stack", os.Getenv("TROUPE_STACK"), "the deployed CDK stack whose outputs name the queues and functions [$TROUPE_STACK]")
	fl.StringVar(&f.queue, "queue", "", "one SQS queue (URL or name) instead of a stack's; with --consumer (and --function to replay)")
	fl.StringVar(&f.function, "function", "", "with --queue: the Lambda function to redeliver to")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "send AWS calls to this URL instead (e.g. a local emulator)")
	fl.StringVar(&f.region, "region", "", "AWS region (default: the SDK's chain, e.g. $AWS_REGION)")
	fl.DurationVar(&f.visibility, "visibility-timeout", redrive.DefaultVisibilityTimeout,
		"SQS: how long a message read stays hidden from other readers; one this run does not finish comes back after it")
}

func (f *awsDLQFlags) set() bool { return f.stack != "" || f.queue != "" }

// site reads the stack's outputs (or takes the one queue), and asks each
// queue its depth.
func (f *awsDLQFlags) site(ctx context.Context) (*site, error) {
	if f.stack != "" && f.queue != "" {
		return nil, errors.New("--stack and --queue both given: choose one")
	}
	cfg, err := loadAWSConfig(ctx, f.region)
	if err != nil {
		return nil, err
	}
	cfg.BaseEndpoint = endpoint(f.endpointURL)
	topo, err := choreography.Topology()
	if err != nil {
		return nil, err
	}
	var deps []redrive.Deployment
	if f.stack != "" {
		if deps, err = redrive.OutputsFromConfig(ctx, cfg, f.stack, topo); err != nil {
			return nil, err
		}
	} else {
		d, err := f.oneQueue(ctx, cfg)
		if err != nil {
			return nil, err
		}
		deps = []redrive.Deployment{d}
	}
	s := &site{open: func(q dlq.QueueInfo) dlq.Queue {
		sq, err := redrive.NewSQSQueueFromConfig(cfg, redrive.QueueConfig{QueueURL: q.Queue, Consumer: q.Consumer, VisibilityTimeout: f.visibility})
		if err != nil { // the URL came from the stack or from GetQueueUrl
			return brokenQueue{err}
		}
		return sq
	}}
	for _, d := range deps {
		if *f.consumer != "" && d.Consumer != *f.consumer {
			continue
		}
		info, err := s.open(dlq.QueueInfo{Queue: d.DLQURL, Consumer: d.Consumer}).Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("consumer %s: queue %s: %w", d.Consumer, d.DLQURL, err)
		}
		s.queues = append(s.queues, info)
	}
	// SQS tells the age of a queue's oldest message to CloudWatch only.
	// The query protocol: every CloudWatch endpoint speaks it, emulators
	// included, where the SDK's default (RPC v2 CBOR) is newer.
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801) })
	s.oldest = func(ctx context.Context, q dlq.QueueInfo) (time.Time, error) {
		now := time.Now()
		age, ok, err := redrive.OldestAge(ctx, cw, q.Queue, now)
		if err != nil || !ok {
			return time.Time{}, err
		}
		return now.Add(-age), nil
	}
	if f.queue == "" || f.function != "" {
		if s.redeliverer, err = redrive.NewLambdaRedelivererFromConfig(cfg, redrive.LambdaConfig{Topology: topo, Deployments: deps}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// oneQueue is the deployment --queue, --consumer and --function describe.
func (f *awsDLQFlags) oneQueue(ctx context.Context, cfg aws.Config) (redrive.Deployment, error) {
	if *f.consumer == "" {
		return redrive.Deployment{}, errors.New("--queue needs --consumer: the consumer whose DLQ it is")
	}
	url := f.queue
	if !strings.Contains(url, "://") {
		out, err := sqs.NewFromConfig(cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(url)})
		if err != nil {
			return redrive.Deployment{}, fmt.Errorf("--queue %q: %w", f.queue, err)
		}
		url = aws.ToString(out.QueueUrl)
	}
	return redrive.Deployment{Consumer: *f.consumer, DLQURL: url, FunctionName: f.function}, nil
}

// brokenQueue is a queue that could not be opened: every call says why.
type brokenQueue struct{ err error }

func (q brokenQueue) Info(context.Context) (dlq.QueueInfo, error)       { return dlq.QueueInfo{}, q.err }
func (q brokenQueue) Receive(context.Context, int) ([]dlq.Entry, error) { return nil, q.err }
func (q brokenQueue) Delete(context.Context, []dlq.Entry) error         { return q.err }
func (q brokenQueue) Release(context.Context, []dlq.Entry) error        { return q.err }
