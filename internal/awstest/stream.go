package awstest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Record is one record read back from a stream.
type Record struct {
	ShardID        string
	SequenceNumber string
	PartitionKey   string
	Data           []byte
}

// NewStream creates a provisioned Kinesis stream with the given number of
// shards, waits until it is ACTIVE, and deletes it when the test ends. It
// returns the stream's name.
func NewStream(t testing.TB, cfg aws.Config, shards int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	kc := kinesis.NewFromConfig(cfg)
	name := Name(t, "stream")
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName:        aws.String(name),
		ShardCount:        aws.Int32(int32(shards)),
		StreamModeDetails: &kintypes.StreamModeDetails{StreamMode: kintypes.StreamModeProvisioned},
	}); err != nil {
		t.Fatalf("awstest: create stream %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{
			StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true),
		}); err != nil {
			t.Errorf("awstest: delete stream %s: %v", name, err)
		}
	})
	for {
		out, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("awstest: describe stream %s: %v", name, err)
		}
		if out.StreamDescriptionSummary.StreamStatus == kintypes.StreamStatusActive {
			return name
		}
		select {
		case <-ctx.Done():
			t.Fatalf("awstest: stream %s not ACTIVE within %v (status %s)", name, setupTimeout,
				out.StreamDescriptionSummary.StreamStatus)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ReadStream reads every record of every shard of the stream, from
// TRIM_HORIZON to the shard's current end: shard by shard in the order
// ListShards gives them, each shard in sequence order.
func ReadStream(t testing.TB, cfg aws.Config, stream string) []Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	kc := kinesis.NewFromConfig(cfg)

	var shards []kintypes.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		out, err := kc.ListShards(ctx, in)
		if err != nil {
			t.Fatalf("awstest: list shards of %s: %v", stream, err)
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}

	var recs []Record
	for _, sh := range shards {
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName:        aws.String(stream),
			ShardId:           sh.ShardId,
			ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("awstest: shard iterator of %s/%s: %v", stream, aws.ToString(sh.ShardId), err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatalf("awstest: get records of %s/%s: %v", stream, aws.ToString(sh.ShardId), err)
			}
			for _, r := range out.Records {
				recs = append(recs, Record{
					ShardID:        aws.ToString(sh.ShardId),
					SequenceNumber: aws.ToString(r.SequenceNumber),
					PartitionKey:   aws.ToString(r.PartitionKey),
					Data:           r.Data,
				})
			}
			// An open shard never ends: stop at its tip.
			if len(out.Records) == 0 || aws.ToInt64(out.MillisBehindLatest) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	return recs
}
