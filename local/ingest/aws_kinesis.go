package ingest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/troupehq/troupe/producers"
)

// ExplicitHashKey is checked as Kinesis checks it (a decimal in [0, 2^128-1])
// and then ignored: the engine's stream places a record by its partition key
// alone (producers.StreamRecord has no hash key), so a record sent with
// ExplicitHashKey may land on another shard than on AWS. Per-key order, the
// guarantee consumers rely on, is the same. SequenceNumberForOrdering is
// accepted and ignored: the engine's stream orders each shard already.

var (
	hashKeyRE = regexp.MustCompile(`^(0|[1-9]\d{0,38})$`)
	maxHash   = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
)

const (
	defaultShardID  = "shardId-000000000000"
	maxHashDecimal  = "340282366920938463463374607431768211455"
	encryptionNone  = "NONE"
	maxPartitionKey = 256
)

type putRecordsInput struct {
	Records    *[]putRecordsEntry `json:"Records"`
	StreamName *string            `json:"StreamName"`
	StreamARN  *string            `json:"StreamARN"`
}

type putRecordsEntry struct {
	Data            *blob   `json:"Data"`
	PartitionKey    *string `json:"PartitionKey"`
	ExplicitHashKey *string `json:"ExplicitHashKey"`
}

type putRecordInput struct {
	StreamName                *string `json:"StreamName"`
	StreamARN                 *string `json:"StreamARN"`
	Data                      *blob   `json:"Data"`
	PartitionKey              *string `json:"PartitionKey"`
	ExplicitHashKey           *string `json:"ExplicitHashKey"`
	SequenceNumberForOrdering *string `json:"SequenceNumberForOrdering"`
}

type putRecordsOutput struct {
	FailedRecordCount int                    `json:"FailedRecordCount"`
	Records           []putRecordsResultItem `json:"Records"`
	EncryptionType    string                 `json:"EncryptionType"`
}

type putRecordsResultItem struct {
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardID        string `json:"ShardId,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
}

type putRecordOutput struct {
	ShardID        string `json:"ShardId"`
	SequenceNumber string `json:"SequenceNumber"`
	EncryptionType string `json:"EncryptionType"`
}

// checkRecord adds the constraint failures of one record to v, under the
// member path AWS uses ("records.3.member.data", or "data" in PutRecord),
// and returns the InvalidArgumentException of a hash key out of range.
func (h *awsHandler) checkRecord(v *violations, path string, data *blob, key, hashKey *string) *apiError {
	switch {
	case data == nil:
		v.add("Value null at '%sdata' failed to satisfy constraint: Member must not be null", path)
	case len(*data)+len(deref(key)) > h.cfg.MaxStreamRecordBytes:
		v.add("Value of %d bytes at '%sdata' failed to satisfy constraint: Member must have length less than or equal to %d (the record's data plus partition key is over the stream's record size)",
			len(*data), path, h.cfg.MaxStreamRecordBytes-len(deref(key)))
	}
	switch {
	case key == nil:
		v.add("Value null at '%spartitionKey' failed to satisfy constraint: Member must not be null", path)
	case *key == "":
		v.add("Value '' at '%spartitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1", path)
	case utf8.RuneCountInString(*key) > maxPartitionKey:
		v.add("Value '%.20s...' at '%spartitionKey' failed to satisfy constraint: Member must have length less than or equal to %d", *key, path, maxPartitionKey)
	}
	if hashKey == nil {
		return nil
	}
	if !hashKeyRE.MatchString(*hashKey) {
		v.add("Value '%s' at '%sexplicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})", *hashKey, path)
		return nil
	}
	if n, _ := new(big.Int).SetString(*hashKey, 10); n == nil || n.Cmp(maxHash) > 0 {
		return clientErr(codeInvalidArgumentKin, "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s", *hashKey)
	}
	return nil
}

// checkStream answers ResourceNotFoundException unless name or arn names the
// engine's stream.
func (h *awsHandler) checkStream(v *violations, name, arn *string) *apiError {
	if name == nil && arn == nil {
		return clientErr(codeInvalidArgumentKin, "Either StreamName or StreamARN must be provided: troupe dev serves the stream %q (%s)", h.cfg.StreamName, h.streamARN())
	}
	if name != nil && !streamNameRE.MatchString(*name) {
		v.add("Value '%s' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length between 1 and 128", *name)
		return nil
	}
	if name != nil && *name != h.cfg.StreamName {
		return h.streamNotFound(*name)
	}
	if arn != nil {
		n, ok := arnName(*arn, "stream")
		if !ok {
			v.add("Value '%s' at 'streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+", *arn)
			return nil
		}
		if n != h.cfg.StreamName {
			return h.streamNotFound(n)
		}
	}
	return nil
}

func (h *awsHandler) streamNotFound(name string) *apiError {
	return clientErr(codeResourceNotFound, "Stream %s under account %s not found. troupe dev serves one stream, %q (%s).",
		name, h.cfg.Account, h.cfg.StreamName, h.streamARN())
}

func (h *awsHandler) streamARN() string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", h.cfg.Region, h.cfg.Account, h.cfg.StreamName)
}

// checkData says why a record's data cannot go on the stream: a troupe
// envelope that consumers would reject. Other data is taken as is ("").
func (h *awsHandler) checkData(data []byte) string {
	if _, _, err := checkIfEnvelope(data, h.cfg.Validator); err != nil {
		return "Data holds a troupe envelope (it has \"specversion\") that consumers would reject: " + err.Error()
	}
	return ""
}

// putRecords serves Kinesis_20131202.PutRecords: the records that pass the
// checks go to the stream in one WriteBatch; the answer has one result per
// record, in order.
func (h *awsHandler) putRecords(r *http.Request, body []byte) (any, *apiError) {
	var in putRecordsInput
	if e := decodeInput(body, &in); e != nil {
		return nil, e
	}
	var v violations
	var records []putRecordsEntry
	switch {
	case in.Records == nil:
		v.add("Value null at 'records' failed to satisfy constraint: Member must not be null")
	case len(*in.Records) == 0:
		v.add("Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case len(*in.Records) > MaxStreamBatchRecords:
		v.add("Value '[PutRecordsRequestEntry]' at 'records' failed to satisfy constraint: Member must have length less than or equal to %d (got %d records: send them in batches of %d)",
			MaxStreamBatchRecords, len(*in.Records), MaxStreamBatchRecords)
	default:
		records = *in.Records
	}
	var argErr *apiError
	total := 0
	for i, rec := range records {
		if e := h.checkRecord(&v, "records."+strconv.Itoa(i+1)+".member.", rec.Data, rec.PartitionKey, rec.ExplicitHashKey); e != nil && argErr == nil {
			argErr = e
		}
		if rec.Data != nil {
			total += len(*rec.Data)
		}
		total += len(deref(rec.PartitionKey))
	}
	streamErr := h.checkStream(&v, in.StreamName, in.StreamARN)
	if e := v.err(); e != nil {
		return nil, e
	}
	switch {
	case argErr != nil:
		return nil, argErr
	case total > h.cfg.MaxStreamBatchBytes:
		return nil, clientErr(codeInvalidArgumentKin, "Records size exceeds %d MB limit (%d bytes of data and partition keys, limit %d): send fewer records per call",
			h.cfg.MaxStreamBatchBytes>>20, total, h.cfg.MaxStreamBatchBytes)
	case streamErr != nil:
		return nil, streamErr
	}

	out := putRecordsOutput{Records: make([]putRecordsResultItem, len(records)), EncryptionType: encryptionNone}
	var send []producers.StreamRecord
	var sendIdx []int
	for i, rec := range records {
		if msg := h.checkData(*rec.Data); msg != "" {
			out.Records[i] = putRecordsResultItem{ErrorCode: codeInvalidArgumentKin, ErrorMessage: msg}
			continue
		}
		send = append(send, producers.StreamRecord{PartitionKey: *rec.PartitionKey, Data: *rec.Data})
		sendIdx = append(sendIdx, i)
	}
	if len(send) > 0 {
		results, err := h.cfg.Stream.WriteBatch(r.Context(), send)
		for j, i := range sendIdx {
			out.Records[i] = streamResult(results, j, err)
		}
	}
	for _, rec := range out.Records {
		if rec.ErrorCode != "" {
			out.FailedRecordCount++
		}
	}
	return out, nil
}

// streamResult turns the stream's answer for record j of a WriteBatch into
// a PutRecords result entry. A failed call fails every record sent with it.
func streamResult(results []producers.EntryResult, j int, err error) putRecordsResultItem {
	switch {
	case errors.Is(err, producers.ErrNotFound):
		return putRecordsResultItem{ErrorCode: codeResourceNotFound, ErrorMessage: err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return putRecordsResultItem{ErrorCode: codeInternalFailure, ErrorMessage: "the request was cancelled before the stream answered: " + err.Error()}
	case err != nil:
		return putRecordsResultItem{ErrorCode: codeInternalFailure, ErrorMessage: "Internal Service Failure: " + err.Error()}
	case j >= len(results):
		return putRecordsResultItem{ErrorCode: codeInternalFailure, ErrorMessage: fmt.Sprintf("Internal Service Failure: the stream answered %d results for more records", len(results))}
	}
	res := results[j]
	if res.Failed() {
		return putRecordsResultItem{ErrorCode: res.ErrorCode, ErrorMessage: res.ErrorMessage}
	}
	shard := res.Shard
	if shard == "" {
		shard = defaultShardID
	}
	return putRecordsResultItem{SequenceNumber: res.ID, ShardID: shard}
}

// putRecord serves Kinesis_20131202.PutRecord: one record, whose failure is
// the call's error.
func (h *awsHandler) putRecord(r *http.Request, body []byte) (any, *apiError) {
	var in putRecordInput
	if e := decodeInput(body, &in); e != nil {
		return nil, e
	}
	var v violations
	argErr := h.checkRecord(&v, "", in.Data, in.PartitionKey, in.ExplicitHashKey)
	streamErr := h.checkStream(&v, in.StreamName, in.StreamARN)
	if e := v.err(); e != nil {
		return nil, e
	}
	if argErr != nil {
		return nil, argErr
	}
	if streamErr != nil {
		return nil, streamErr
	}
	if msg := h.checkData(*in.Data); msg != "" {
		return nil, clientErr(codeInvalidArgumentKin, "%s", msg)
	}
	results, err := h.cfg.Stream.WriteBatch(r.Context(), []producers.StreamRecord{{PartitionKey: *in.PartitionKey, Data: *in.Data}})
	res := streamResult(results, 0, err)
	if res.ErrorCode == "" {
		return putRecordOutput{ShardID: res.ShardID, SequenceNumber: res.SequenceNumber, EncryptionType: encryptionNone}, nil
	}
	switch res.ErrorCode {
	case codeInternalFailure, codeInternalFailureKin:
		// A fault: HTTP 500, which SDKs retry.
		return nil, &apiError{status: http.StatusInternalServerError, code: codeInternalFailureKin, message: res.ErrorMessage}
	default:
		return nil, clientErr(res.ErrorCode, "%s", res.ErrorMessage)
	}
}

type streamRef struct {
	StreamName *string `json:"StreamName"`
	StreamARN  *string `json:"StreamARN"`
}

type describeStreamSummaryOutput struct {
	StreamDescriptionSummary streamSummary `json:"StreamDescriptionSummary"`
}

type streamSummary struct {
	StreamName              string            `json:"StreamName"`
	StreamARN               string            `json:"StreamARN"`
	StreamStatus            string            `json:"StreamStatus"`
	StreamModeDetails       map[string]string `json:"StreamModeDetails"`
	RetentionPeriodHours    int               `json:"RetentionPeriodHours"`
	StreamCreationTimestamp epochSeconds      `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []map[string]any  `json:"EnhancedMonitoring"`
	EncryptionType          string            `json:"EncryptionType"`
	OpenShardCount          int               `json:"OpenShardCount"`
	ConsumerCount           int               `json:"ConsumerCount"`
	MaxRecordSizeInKiB      int               `json:"MaxRecordSizeInKiB"`
}

// describeStreamSummary serves Kinesis_20131202.DescribeStreamSummary for
// the engine's stream: ACTIVE, provisioned, 24 hours' retention.
func (h *awsHandler) describeStreamSummary(_ *http.Request, body []byte) (any, *apiError) {
	var in streamRef
	if e := decodeInput(body, &in); e != nil {
		return nil, e
	}
	var v violations
	streamErr := h.checkStream(&v, in.StreamName, in.StreamARN)
	if e := v.err(); e != nil {
		return nil, e
	}
	if streamErr != nil {
		return nil, streamErr
	}
	return describeStreamSummaryOutput{streamSummary{
		StreamName:              h.cfg.StreamName,
		StreamARN:               h.streamARN(),
		StreamStatus:            "ACTIVE",
		StreamModeDetails:       map[string]string{"StreamMode": "PROVISIONED"},
		RetentionPeriodHours:    24,
		StreamCreationTimestamp: epochSeconds(h.created),
		EnhancedMonitoring:      []map[string]any{{"ShardLevelMetrics": []string{}}},
		EncryptionType:          encryptionNone,
		OpenShardCount:          len(h.shards()),
		MaxRecordSizeInKiB:      h.cfg.MaxStreamRecordBytes >> 10,
	}}, nil
}

func (h *awsHandler) shards() []ShardInfo {
	if h.cfg.Shards != nil {
		if s := h.cfg.Shards(); len(s) > 0 {
			return s
		}
	}
	return []ShardInfo{{ID: defaultShardID, StartingHashKey: "0", EndingHashKey: maxHashDecimal, StartingSequenceNumber: "0"}}
}

type listShardsInput struct {
	StreamName            *string  `json:"StreamName"`
	StreamARN             *string  `json:"StreamARN"`
	NextToken             *string  `json:"NextToken"`
	ExclusiveStartShardID *string  `json:"ExclusiveStartShardId"`
	MaxResults            *int     `json:"MaxResults"`
	StreamCreationTime    *awsTime `json:"StreamCreationTimestamp"`
	ShardFilter           any      `json:"ShardFilter"` // accepted, ignored: every shard is open
}

type listShardsOutput struct {
	Shards    []shardOut `json:"Shards"`
	NextToken string     `json:"NextToken,omitempty"`
}

type shardOut struct {
	ShardID               string            `json:"ShardId"`
	ParentShardID         string            `json:"ParentShardId,omitempty"`
	AdjacentParentShardID string            `json:"AdjacentParentShardId,omitempty"`
	HashKeyRange          map[string]string `json:"HashKeyRange"`
	SequenceNumberRange   map[string]string `json:"SequenceNumberRange"`
}

// listShards serves Kinesis_20131202.ListShards, with MaxResults (default
// 1000, as AWS), NextToken and ExclusiveStartShardId.
func (h *awsHandler) listShards(_ *http.Request, body []byte) (any, *apiError) {
	var in listShardsInput
	if e := decodeInput(body, &in); e != nil {
		return nil, e
	}
	var v violations
	limit := 1000
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 10000 {
			v.add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 10000", *in.MaxResults)
		}
		limit = *in.MaxResults
	}
	start := 0
	if in.NextToken != nil {
		if in.StreamName != nil || in.StreamARN != nil {
			return nil, clientErr(codeInvalidArgumentKin, "NextToken and StreamName cannot be provided together.")
		}
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		n, err2 := strconv.Atoi(string(raw))
		if err != nil || err2 != nil || n < 0 {
			return nil, clientErr(codeInvalidArgumentKin, "NextToken %q is not a token this endpoint gave: call ListShards with StreamName instead", *in.NextToken)
		}
		start = n
	} else {
		if e := h.checkStream(&v, in.StreamName, in.StreamARN); e != nil && len(v) == 0 {
			return nil, e
		}
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	all := h.shards()
	if in.ExclusiveStartShardID != nil {
		for i, s := range all {
			if s.ID == *in.ExclusiveStartShardID {
				start = max(start, i+1)
			}
		}
	}
	start = min(start, len(all))
	end := min(start+limit, len(all))
	out := listShardsOutput{Shards: make([]shardOut, 0, end-start)}
	for _, s := range all[start:end] {
		seq := s.StartingSequenceNumber
		if seq == "" {
			seq = "0"
		}
		out.Shards = append(out.Shards, shardOut{
			ShardID: s.ID, ParentShardID: s.ParentID, AdjacentParentShardID: s.AdjacentParentID,
			HashKeyRange:        map[string]string{"StartingHashKey": s.StartingHashKey, "EndingHashKey": s.EndingHashKey},
			SequenceNumberRange: map[string]string{"StartingSequenceNumber": seq},
		})
	}
	if end < len(all) {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return out, nil
}
