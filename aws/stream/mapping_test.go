package stream

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/troupehq/troupe/producers"
)

// stubAPI records the PutRecords input and answers with out and status.
type stubAPI struct {
	in     *kinesis.PutRecordsInput
	out    *kinesis.PutRecordsOutput
	status types.StreamStatus
	calls  int
}

func (s *stubAPI) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	s.calls++
	s.in = in
	return s.out, nil
}

func (s *stubAPI) DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &types.StreamDescriptionSummary{StreamStatus: s.status}}, nil
}

func TestRequestMapping(t *testing.T) {
	t.Parallel()
	api := &stubAPI{out: &kinesis.PutRecordsOutput{Records: []types.PutRecordsResultEntry{
		{SequenceNumber: aws.String("4960"), ShardId: aws.String("shardId-000000000001")},
		{ErrorCode: aws.String("KMSThrottlingException"), ErrorMessage: aws.String("slow")},
		{},
	}}}
	w, err := New(api, Config{StreamName: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.WriteBatch(t.Context(), []producers.StreamRecord{
		{PartitionKey: "a", Data: []byte(`{"a":1}`)}, {PartitionKey: "b"}, {PartitionKey: "c"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(api.in.StreamName) != "orders" || api.in.StreamARN != nil ||
		aws.ToString(api.in.Records[0].PartitionKey) != "a" || string(api.in.Records[0].Data) != `{"a":1}` {
		t.Errorf("input mapped to %+v", api.in)
	}
	if res[0].ID != "4960" || res[0].Shard != "shardId-000000000001" || res[0].Failed() {
		t.Errorf("result 0: %+v", res[0])
	}
	if res[1].ErrorCode != "KMSThrottlingException" || !res[1].Retryable {
		t.Errorf("result 1: %+v", res[1])
	}
	if !res[2].Failed() || !res[2].Retryable {
		t.Errorf("result 2 (neither sequence number nor error): %+v, want failed and retryable", res[2])
	}
}

func TestResultCountMismatch(t *testing.T) {
	t.Parallel()
	api := &stubAPI{out: &kinesis.PutRecordsOutput{Records: []types.PutRecordsResultEntry{{SequenceNumber: aws.String("1")}}}}
	w, _ := New(api, Config{StreamName: "orders"})
	_, err := w.WriteBatch(t.Context(), make([]producers.StreamRecord, 3))
	if err == nil || !strings.Contains(err.Error(), "1 results for 3 records") {
		t.Errorf("got %v, want an error about 1 result for 3 records", err)
	}
}

func TestEmptyBatch(t *testing.T) {
	t.Parallel()
	api := &stubAPI{}
	w, _ := New(api, Config{StreamName: "orders"})
	res, err := w.WriteBatch(t.Context(), nil)
	if err != nil || len(res) != 0 || api.calls != 0 {
		t.Errorf("empty batch: %v, %v, %d calls; want no call", res, err, api.calls)
	}
}

func TestCheckStatus(t *testing.T) {
	t.Parallel()
	for status, want := range map[types.StreamStatus]error{
		types.StreamStatusActive:   nil,
		types.StreamStatusUpdating: nil,
		types.StreamStatusCreating: producers.ErrRetryable,
		types.StreamStatusDeleting: producers.ErrNotFound,
	} {
		w, _ := New(&stubAPI{status: status}, Config{StreamName: "orders"})
		err := w.Check(t.Context())
		if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
			t.Errorf("status %s: Check = %v, want %v", status, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), string(status)) {
			t.Errorf("status %s: error %q does not say the status", status, err)
		}
	}
}

func TestRetryableRecordCode(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{
		"ProvisionedThroughputExceededException": true, "InternalFailure": true, "KMSThrottlingException": true,
		"KMSAccessDeniedException": false, "KMSDisabledException": false, "KMSNotFoundException": false,
		"KMSInvalidStateException": false, "KMSOptInRequired": false, "AccessDeniedException": false,
		"InvalidArgumentException": false, "SomethingNew": false,
	} {
		if got := RetryableRecordCode(code); got != want {
			t.Errorf("RetryableRecordCode(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
	for _, tc := range []struct {
		c  Config
		ok bool
	}{
		{Config{StreamName: "orders"}, true},
		{Config{StreamARN: arn}, true},
		{Config{StreamName: "orders", StreamARN: arn}, true},
		{Config{StreamName: " orders "}, true},
		{Config{}, false},
		{Config{StreamName: "has space"}, false},
		{Config{StreamName: strings.Repeat("a", 129)}, false},
		{Config{StreamARN: "arn:aws:kinesis:us-east-1:123456789012:table/orders"}, false},
		{Config{StreamARN: "orders"}, false},
		{Config{StreamName: "payments", StreamARN: arn}, false},
	} {
		c := tc.c
		c.SetDefaults()
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tc.c, err, tc.ok)
		}
	}
	if _, err := New(nil, Config{StreamName: "orders"}); err == nil {
		t.Error("New(nil api) did not fail")
	}
}
