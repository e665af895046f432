package redrive_test

import (
	"context"
	"path"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/troupehq/troupe/aws/redrive"
	"github.com/troupehq/troupe/internal/awstest"
)

// TestOldestAge reads SQS's ApproximateAgeOfOldestMessage from CloudWatch:
// the newest datapoint of the queue's own dimension, none for a queue
// without datapoints. (moto publishes no SQS metrics itself: the test puts
// the datapoints SQS would.)
func TestOldestAge(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) })
	queue, other := awstest.NewQueue(t, cfg), awstest.NewQueue(t, cfg)
	now := time.Now().UTC().Truncate(time.Second)
	for _, p := range []struct {
		queue string
		ago   time.Duration
		age   float64
	}{{queue, 5 * time.Minute, 60}, {queue, time.Minute, 300}, {other, 2 * time.Minute, 9}} {
		_, err := cw.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{
			Namespace: aws.String("AWS/SQS"),
			MetricData: []types.MetricDatum{{
				MetricName: aws.String("ApproximateAgeOfOldestMessage"), Value: aws.Float64(p.age), Timestamp: aws.Time(now.Add(-p.ago)),
				Dimensions: []types.Dimension{{Name: aws.String("QueueName"), Value: aws.String(path.Base(p.queue))}},
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	age, ok, err := redrive.OldestAge(context.Background(), cw, queue, now)
	if err != nil || !ok || age != 300*time.Second {
		t.Errorf("OldestAge = %v, %v, %v; want the newest datapoint, 5m0s", age, ok, err)
	}
	none := awstest.NewQueue(t, cfg)
	if _, ok, err := redrive.OldestAge(context.Background(), cw, none, now); err != nil || ok {
		t.Errorf("OldestAge of a queue without datapoints: ok %v, err %v; want none, no error", ok, err)
	}
}
