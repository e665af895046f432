package stream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	smithy "github.com/aws/smithy-go"

	"github.com/troupehq/troupe/aws/stream"
	"github.com/troupehq/troupe/internal/awstest"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/producers/producertest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func newWriter(t *testing.T, cfg aws.Config, sc stream.Config, optFns ...func(*kinesis.Options)) *stream.Writer {
	t.Helper()
	w, err := stream.NewFromConfig(cfg, sc, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// noRetries makes one WriteBatch one HTTP call, so a fault reaches the adapter.
func noRetries(o *kinesis.Options) { o.Retryer = aws.NopRetryer{} }

func read(t *testing.T, cfg aws.Config, name string) []producertest.StoredRecord {
	var out []producertest.StoredRecord
	for _, r := range awstest.ReadStream(t, cfg, name) {
		out = append(out, producertest.StoredRecord{
			Shard: r.ShardID, SequenceNumber: r.SequenceNumber, PartitionKey: r.PartitionKey, Data: r.Data,
		})
	}
	return out
}

func TestConformance(t *testing.T) {
	t.Parallel()
	producertest.RunStream(t, producertest.Features{}, func(t *testing.T, shards int) producertest.StreamUnderTest {
		cfg := awstest.Config(t)
		name := awstest.NewStream(t, cfg, shards)
		return producertest.StreamUnderTest{
			Writer:  newWriter(t, cfg, stream.Config{StreamName: name}),
			Missing: newWriter(t, cfg, stream.Config{StreamName: awstest.Name(t, "missing")}),
			Read:    func(t *testing.T) []producertest.StoredRecord { return read(t, cfg, name) },
		}
	})
}

func records(n int) []producers.StreamRecord {
	out := make([]producers.StreamRecord, n)
	for i := range out {
		out[i] = producers.StreamRecord{PartitionKey: fmt.Sprintf("k%d", i), Data: fmt.Appendf(nil, `{"n":%d}`, i)}
	}
	return out
}

// TestRecordFailures: per-record failures in the real response shape come
// out with their code and the right Retryable, and the stream holds exactly
// the records reported as accepted, where the results say.
func TestRecordFailures(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	name := awstest.NewStream(t, cfg, 2)
	inj := awstest.NewFaultInjector(nil)
	w := newWriter(t, cfg, stream.Config{StreamName: name}, func(o *kinesis.Options) { o.HTTPClient = inj.Client() })

	inj.FailNext(awstest.TargetPutRecords, func(i int, rec json.RawMessage) (string, bool) {
		switch i {
		case 1:
			return "", true // ProvisionedThroughputExceededException
		case 2:
			return "KMSAccessDeniedException", true
		case 3:
			return "InternalFailure", true
		}
		return "", false
	})
	recs := records(5)
	res, err := w.WriteBatch(t.Context(), recs)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		code      string
		retryable bool
	}{{"", false}, {"ProvisionedThroughputExceededException", true}, {"KMSAccessDeniedException", false}, {"InternalFailure", true}, {"", false}}
	for i, w := range want {
		r := res[i]
		if r.ErrorCode != w.code || r.Retryable != w.retryable {
			t.Errorf("record %d: code %q retryable %v, want %q %v", i, r.ErrorCode, r.Retryable, w.code, w.retryable)
		}
		if r.Failed() != (r.ID == "" && r.Shard == "") {
			t.Errorf("record %d: failed %v but ID %q shard %q", i, r.Failed(), r.ID, r.Shard)
		}
	}
	if got := inj.Calls(awstest.TargetPutRecords); got != 1 {
		t.Errorf("PutRecords calls = %d, want 1", got)
	}

	stored := awstest.ReadStream(t, cfg, name)
	if len(stored) != 2 {
		t.Fatalf("stream holds %d records, want 2 (records 0 and 4): %+v", len(stored), stored)
	}
	for _, i := range []int{0, 4} {
		found := false
		for _, s := range stored {
			if s.ShardID == res[i].Shard && s.SequenceNumber == res[i].ID {
				found = true
				if s.PartitionKey != recs[i].PartitionKey || string(s.Data) != string(recs[i].Data) {
					t.Errorf("record %d read back as %q %s", i, s.PartitionKey, s.Data)
				}
			}
		}
		if !found {
			t.Errorf("record %d (%s/%s) not on the stream", i, res[i].Shard, res[i].ID)
		}
	}
}

// TestAllRecordsFail: when every record fails, no call reaches the stream
// and every result says so.
func TestAllRecordsFail(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	inj := awstest.NewFaultInjector(nil)
	w := newWriter(t, cfg, stream.Config{StreamName: awstest.Name(t, "never-reached")}, func(o *kinesis.Options) { o.HTTPClient = inj.Client() })
	inj.FailNext(awstest.TargetPutRecords, func(int, json.RawMessage) (string, bool) { return "", true })
	res, err := w.WriteBatch(t.Context(), records(3))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.ErrorCode != "ProvisionedThroughputExceededException" || !r.Retryable {
			t.Errorf("record %d: %+v, want a retryable ProvisionedThroughputExceededException", i, r)
		}
	}
}

// TestCallErrors: whole-call failures wrap the right sentinel, and no smithy
// type escapes.
func TestCallErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fault              awstest.CallFault
		retryable, missing bool
	}{
		{awstest.CallFault{Status: 500, Code: "InternalFailure", Message: "boom"}, true, false},
		{awstest.CallFault{Status: 400, Code: "ProvisionedThroughputExceededException", Message: "Rate exceeded"}, true, false},
		{awstest.CallFault{Status: 400, Code: "KMSThrottlingException", Message: "slow down"}, true, false},
		{awstest.CallFault{Status: 400, Code: "KMSDisabledException", Message: "key disabled"}, false, false},
		{awstest.CallFault{Status: 400, Code: "KMSAccessDeniedException", Message: "no"}, false, false},
		{awstest.CallFault{Status: 400, Code: "InvalidArgumentException", Message: "bad"}, false, false},
		{awstest.CallFault{Status: 400, Code: "ResourceNotFoundException", Message: "Stream x not found"}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.fault.Code, func(t *testing.T) {
			t.Parallel()
			cfg := awstest.Config(t)
			inj := awstest.NewFaultInjector(nil)
			w := newWriter(t, cfg, stream.Config{StreamName: awstest.Name(t, "s")}, noRetries,
				func(o *kinesis.Options) { o.HTTPClient = inj.Client() })
			inj.FailNextCall(awstest.TargetPutRecords, tc.fault)
			_, err := w.WriteBatch(t.Context(), records(1))
			checkCallError(t, err, tc.retryable, tc.missing)
			if err != nil && !strings.Contains(err.Error(), tc.fault.Code) {
				t.Errorf("error %q does not name the code %s", err, tc.fault.Code)
			}
			inj.FailNextCall(awstest.TargetDescribeStreamSummary, tc.fault)
			checkCallError(t, w.Check(t.Context()), tc.retryable, tc.missing)
		})
	}
}

func checkCallError(t *testing.T, err error, retryable, missing bool) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if errors.Is(err, producers.ErrRetryable) != retryable {
		t.Errorf("%v: retryable = %v, want %v", err, !retryable, retryable)
	}
	if errors.Is(err, producers.ErrNotFound) != missing {
		t.Errorf("%v: not found = %v, want %v", err, !missing, missing)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		t.Errorf("%v: a smithy.APIError escaped the adapter", err)
	}
}

// TestMissingStream: writing to a stream that does not exist is ErrNotFound.
func TestMissingStream(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	w := newWriter(t, cfg, stream.Config{StreamName: awstest.Name(t, "missing")})
	_, err := w.WriteBatch(t.Context(), records(1))
	checkCallError(t, err, false, true)
}

// TestStreamARN: a stream named by its ARN works for Check and WriteBatch.
func TestStreamARN(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	name := awstest.NewStream(t, cfg, 1)
	out, err := kinesis.NewFromConfig(cfg).DescribeStreamSummary(t.Context(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.StreamDescriptionSummary.StreamARN)
	for _, sc := range []stream.Config{{StreamARN: arn}, {StreamARN: arn, StreamName: name}} {
		w := newWriter(t, cfg, sc)
		if err := w.Check(t.Context()); err != nil {
			t.Errorf("%+v: Check: %v", sc, err)
		}
		res, err := w.WriteBatch(t.Context(), records(1))
		if err != nil || len(res) != 1 || res[0].Failed() {
			t.Errorf("%+v: WriteBatch: %+v, %v", sc, res, err)
		}
	}
	if got := len(awstest.ReadStream(t, cfg, name)); got != 2 {
		t.Errorf("stream holds %d records, want 2", got)
	}
}

// TestUnreachable: an endpoint nobody listens on fails fast and retryable.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // now nothing listens there

	cfg := awstest.Config(t)
	cfg.BaseEndpoint = aws.String("http://" + addr)
	w := newWriter(t, cfg, stream.Config{StreamName: "orders"}, noRetries)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err = w.WriteBatch(ctx, records(1))
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v", took)
	}
	checkCallError(t, err, true, false)
}

// TestHang: an endpoint that accepts and never answers does not hang the
// caller past its ctx deadline, and the error is ctx's, not retryable.
func TestHang(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // hold it open, say nothing
		}
	}()
	cfg := awstest.Config(t)
	cfg.BaseEndpoint = aws.String("http://" + l.Addr().String())
	w := newWriter(t, cfg, stream.Config{StreamName: "orders"})
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = w.WriteBatch(ctx, records(1))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v past a 500ms deadline", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if errors.Is(err, producers.ErrRetryable) {
		t.Errorf("%v: a caller's deadline is not retryable", err)
	}
}
