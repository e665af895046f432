package redrive

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// CloudWatchAPI is the part of the CloudWatch client OldestAge uses.
type CloudWatchAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

var _ CloudWatchAPI = (*cloudwatch.Client)(nil)

// OldestAge returns the age of the oldest message of the queue at queueURL,
// as SQS reports it: only to CloudWatch, as the metric
// ApproximateAgeOfOldestMessage (namespace AWS/SQS, dimension QueueName,
// one datapoint a minute). It takes the newest datapoint of the last 15
// minutes; ok is false when there is none (a queue empty or idle that long,
// or a metric not published yet), which is not an error.
func OldestAge(ctx context.Context, api CloudWatchAPI, queueURL string, now time.Time) (age time.Duration, ok bool, err error) {
	u, err := url.Parse(queueURL)
	if err != nil || path.Base(u.Path) == "" {
		return 0, false, fmt.Errorf("redrive: oldest age: %q is not a queue URL", queueURL)
	}
	out, err := api.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-15 * time.Minute)), EndTime: aws.Time(now),
		ScanBy: types.ScanByTimestampDescending,
		MetricDataQueries: []types.MetricDataQuery{{
			Id: aws.String("age"),
			MetricStat: &types.MetricStat{
				Metric: &types.Metric{
					Namespace: aws.String("AWS/SQS"), MetricName: aws.String("ApproximateAgeOfOldestMessage"),
					Dimensions: []types.Dimension{{Name: aws.String("QueueName"), Value: aws.String(path.Base(u.Path))}},
				},
				Period: aws.Int32(60), Stat: aws.String("Maximum"),
			},
		}},
	})
	if err != nil {
		return 0, false, fmt.Errorf("redrive: oldest age of %s (CloudWatch GetMetricData): %w", queueURL, err)
	}
	for _, r := range out.MetricDataResults {
		if len(r.Values) > 0 {
			return time.Duration(r.Values[0] * float64(time.Second)), true, nil
		}
	}
	return 0, false, nil
}
