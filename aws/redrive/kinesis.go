package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/troupehq/troupe/dlq"
)

// maxEmptyReads bounds the GetRecords calls in a row that bring no record
// while the shard has more: Kinesis may answer a few of those before it
// reaches records, never this many.
const maxEmptyReads = 50

// kinesisPayloads re-reads the failed batch of a Kinesis failure record and
// returns it as Kinesis events, each within MaxPayloadBytes.
func (r *LambdaRedeliverer) kinesisPayloads(ctx context.Context, t *target, m dlq.Message) ([][]byte, error) {
	if t.consumer.OnBus() {
		return nil, fmt.Errorf("%w: a Kinesis failure record, but consumer %s reads the bus: it did not come from this "+
			"consumer's event source mapping", ErrNotRedeliverable, t.consumer.Name)
	}
	kr := m.Kinesis
	if kr == nil {
		return nil, fmt.Errorf("%w: the Kinesis failure record has no batch range", ErrNotRedeliverable)
	}
	if r.kinesis == nil {
		return nil, errors.New("no Kinesis client to re-read the batch with: build the redeliverer with one")
	}
	recs, err := r.readRange(ctx, kr)
	if err != nil {
		return nil, err
	}
	kept := r.filter(t, recs)
	if len(kept) == 0 {
		return nil, fmt.Errorf("%w: none of the %d records of the batch (%s) matches consumer %s's stream filter %s now: "+
			"the filter changed since; nothing is redelivered", ErrNotRedeliverable, len(recs), describeRange(kr), t.consumer.Name,
			t.consumer.Stream.Filter)
	}
	events := make([][]byte, len(kept))
	for i, rec := range kept {
		k := awsevents.KinesisRecord{
			Data:           rec.Data,
			EncryptionType: string(rec.EncryptionType),
			PartitionKey:   aws.ToString(rec.PartitionKey),
			SequenceNumber: aws.ToString(rec.SequenceNumber),
		}
		if rec.ApproximateArrivalTimestamp != nil {
			k.ApproximateArrivalTimestamp = awsevents.SecondsEpochTime{Time: *rec.ApproximateArrivalTimestamp}
		}
		if events[i], err = json.Marshal(kinesisRecord(kr.StreamARN, kr.ShardID, r.cfg.Region, k)); err != nil {
			return nil, err
		}
	}
	return pack(events, r.cfg.MaxPayloadBytes, t)
}

// pack joins event records into Kinesis events ({"Records":[...]}), as many
// records per event as fit in max bytes, in order.
func pack(records [][]byte, max int, t *target) ([][]byte, error) {
	const head, tail = `{"Records":[`, `]}`
	var (
		out [][]byte
		cur []byte
	)
	for i, rec := range records {
		if len(head)+len(rec)+len(tail) > max {
			return nil, fmt.Errorf("%w: record %d of the batch is %d bytes as a Kinesis event, over Lambda's %d-byte limit "+
				"for an asynchronous invocation of function %s (MaxPayloadBytes)", ErrNotRedeliverable, i+1, len(head)+len(rec)+len(tail), max, t.function)
		}
		if cur != nil && len(cur)+1+len(rec)+len(tail) > max {
			out = append(out, append(cur, tail...))
			cur = nil
		}
		if cur == nil {
			cur = append([]byte(head), rec...)
		} else {
			cur = append(append(cur, ','), rec...)
		}
	}
	if cur != nil {
		out = append(out, append(cur, tail...))
	}
	return out, nil
}

// readRange reads the records of a failed batch from its shard: from its
// first sequence number up to its last (or BatchSize records when the last
// is not known).
func (r *LambdaRedeliverer) readRange(ctx context.Context, kr *dlq.KinesisRange) ([]kintypes.Record, error) {
	what := fmt.Sprintf("kinesis re-read of the batch %s", describeRange(kr))
	if kr.EndSequenceNumber == "" && kr.BatchSize <= 0 {
		return nil, fmt.Errorf("%w: %s: the record gives neither the batch's last sequence number nor its size", ErrNotRedeliverable, what)
	}
	it, err := r.kinesis.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamARN:              aws.String(kr.StreamARN),
		ShardId:                aws.String(kr.ShardID),
		ShardIteratorType:      kintypes.ShardIteratorTypeAtSequenceNumber,
		StartingSequenceNumber: aws.String(kr.StartSequenceNumber),
	})
	if err != nil {
		return nil, translateKinesis(ctx, err, what+": GetShardIterator AT_SEQUENCE_NUMBER", kr)
	}
	var (
		recs  []kintypes.Record
		empty int
	)
	iter := it.ShardIterator
	for iter != nil {
		out, err := r.kinesis.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: aws.String(kr.StreamARN)})
		if err != nil {
			return nil, translateKinesis(ctx, err, what+": GetRecords", kr)
		}
		for _, rec := range out.Records {
			seq := aws.ToString(rec.SequenceNumber)
			if len(recs) == 0 && compareSeq(seq, kr.StartSequenceNumber) != 0 {
				// AT_SEQUENCE_NUMBER of a trimmed record starts at the oldest
				// record the shard still holds.
				return nil, pastRetention(what, kr, fmt.Sprintf("the shard's oldest record from there is %s, after the batch's first", seq))
			}
			if kr.EndSequenceNumber != "" && compareSeq(seq, kr.EndSequenceNumber) > 0 {
				return recs, nil
			}
			recs = append(recs, rec)
			if (kr.EndSequenceNumber != "" && compareSeq(seq, kr.EndSequenceNumber) == 0) ||
				(kr.EndSequenceNumber == "" && len(recs) >= kr.BatchSize) {
				return recs, nil
			}
		}
		iter = out.NextShardIterator
		if len(out.Records) > 0 {
			empty = 0
			continue
		}
		// An empty answer at the shard's tip ends the read; one before it
		// (Kinesis may give a few) is read past, at the 5 GetRecords a
		// second a shard allows.
		empty++
		if aws.ToInt64(out.MillisBehindLatest) == 0 || empty >= maxEmptyReads {
			break
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
	if len(recs) == 0 {
		return nil, pastRetention(what, kr, "the shard holds no record from there")
	}
	if kr.EndSequenceNumber != "" {
		return nil, fmt.Errorf("%s: read %d records from %s, up to %s, but not the batch's last, %s: the shard ended first; "+
			"nothing was redelivered, and the message is kept", what, len(recs), kr.StartSequenceNumber,
			aws.ToString(recs[len(recs)-1].SequenceNumber), kr.EndSequenceNumber)
	}
	return recs, nil
}

func pastRetention(what string, kr *dlq.KinesisRange, why string) error {
	age := ""
	if !kr.LastArrival.IsZero() {
		age = fmt.Sprintf(" (its last record arrived %s ago)", time.Since(kr.LastArrival).Round(time.Minute))
	}
	return fmt.Errorf("%w: %s: %s: the batch's records are past the stream's retention period%s and cannot be "+
		"redelivered; the message is kept as the record of what was lost", ErrPastRetention, what, why, age)
}

func translateKinesis(ctx context.Context, err error, what string, kr *dlq.KinesisRange) error {
	if t := translateCommon(ctx, err, what, "kinesis:GetShardIterator and kinesis:GetRecords"); t != nil {
		return t
	}
	code, msg, _ := apiError(err)
	switch code {
	case "ResourceNotFoundException":
		return fmt.Errorf("%w: %s: the stream or the shard does not exist any more (a shard closed by a reshard is deleted "+
			"once its records are past the retention period), or the credentials are for another account or region; "+
			"the message is kept (%s: %s)", ErrPastRetention, what, code, msg)
	case "InvalidArgumentException":
		return fmt.Errorf("%w: %s: Kinesis refused the sequence number %s: it is past the retention period, or not of "+
			"this shard; the message is kept (%s: %s)", ErrPastRetention, what, kr.StartSequenceNumber, code, msg)
	case "ExpiredIteratorException":
		return fmt.Errorf("%s: the shard iterator expired while reading: try again (%s: %s)", what, code, msg)
	}
	return fmt.Errorf("%s: rejected (%s: %s)", what, code, msg)
}

// compareSeq compares two Kinesis sequence numbers (decimal integers of up
// to 128 bits, as strings).
func compareSeq(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func describeRange(kr *dlq.KinesisRange) string {
	end := kr.EndSequenceNumber
	if end == "" {
		end = "?"
	}
	return fmt.Sprintf("%s/%s %s..%s", kr.StreamARN, kr.ShardID, kr.StartSequenceNumber, end)
}

// filter keeps the records the consumer's stream filter selects, as the
// event source mapping does: a batch the mapping sent held only such records.
func (r *LambdaRedeliverer) filter(t *target, recs []kintypes.Record) []kintypes.Record {
	var kept []kintypes.Record
	for _, rec := range recs {
		if t.consumer.Stream.Selects(aws.ToString(rec.PartitionKey), rec.Data) {
			kept = append(kept, rec)
		}
	}
	return kept
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
