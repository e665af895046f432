package ingest

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/troupehq/troupe/producers"
)

// Limits of the AWS endpoint, as AWS sets them today.
const (
	// DefaultMaxBusBatchBytes bounds the entries of one PutEvents call,
	// counted as EventBridge counts them (producers.BusEntrySize): over it,
	// the call fails with ValidationException "Total size of the entries in
	// the request is over the limit.".
	DefaultMaxBusBatchBytes = producers.DefaultMaxBusBatchBytes
	// MaxBusBatchEntries is PutEvents' entry limit; more is a
	// ValidationException.
	MaxBusBatchEntries = 10
	// DefaultMaxStreamRecordBytes is a Kinesis record's limit, data plus
	// partition key: a stream's MaxRecordSizeInKiB, 1024 unless raised (AWS
	// allows up to 10 MiB per stream). Over it, the call fails with
	// ValidationException.
	DefaultMaxStreamRecordBytes = 1 << 20
	// DefaultMaxStreamBatchBytes bounds one PutRecords call, data plus
	// partition keys: 10 MiB in the Kinesis API reference today (it was 5 MiB
	// before records could reach 10 MiB). Over it, the call fails with
	// InvalidArgumentException "Records size exceeds 10 MB limit".
	DefaultMaxStreamBatchBytes = 10 << 20
	// MaxStreamBatchRecords is PutRecords' record limit; more is a
	// ValidationException.
	MaxStreamBatchRecords = 500
)

// ShardInfo describes one shard of the engine's stream, as ListShards and
// DescribeStreamSummary report it.
type ShardInfo struct {
	// ID is the shard id, e.g. "shardId-000000000000".
	ID string
	// StartingHashKey and EndingHashKey bound the shard's range of MD5 hash
	// keys, in decimal: "0" to "340282366920938463463374607431768211455"
	// (2^128-1) for a stream of one shard.
	StartingHashKey, EndingHashKey string
	// StartingSequenceNumber is the sequence number of the shard's first
	// record ("0" when empty).
	StartingSequenceNumber string
	// ParentID and AdjacentParentID name the shards this one was split or
	// merged from; empty for an original shard.
	ParentID, AdjacentParentID string
}

// AWSConfig configures the AWS endpoint.
type AWSConfig struct {
	// BusName is the engine's event bus. PutEvents entries with no
	// EventBusName, "default", this name, or an ARN ending in
	// ":event-bus/NAME" for either go to Bus; any other bus fails its entry
	// with ResourceNotFoundException. Required.
	BusName string
	// StreamName is the engine's stream. StreamName or StreamARN in a
	// Kinesis call must name it, else the call fails with
	// ResourceNotFoundException. Required.
	StreamName string
	// Account and Region build the ARNs the endpoint reports (defaults
	// "000000000000" and "us-east-1"). ARNs in requests are matched by the
	// resource name alone: a client configured for another account or region
	// still reaches the engine.
	Account, Region string

	// Bus and Stream receive what clients put. Required.
	Bus    producers.BusSender
	Stream producers.StreamWriter
	// Validator checks the data of every troupe envelope against its schema
	// (use schemas.Sample() or your own *schemas.Set). Required.
	Validator Validator
	// Shards lists the stream's shards for ListShards and
	// DescribeStreamSummary; it is called on each of those requests, so it
	// may change. Nil means one shard covering every hash key.
	Shards func() []ShardInfo

	// Limits, zero for the defaults above.
	MaxBusBatchBytes     int
	MaxStreamRecordBytes int
	MaxStreamBatchBytes  int

	// Now stamps entries sent without a Time, as EventBridge does, and the
	// bus's and stream's creation times (default time.Now).
	Now func() time.Time
}

// SetDefaults fills every zero setting with its default.
func (c *AWSConfig) SetDefaults() {
	c.BusName = strings.TrimSpace(c.BusName)
	c.StreamName = strings.TrimSpace(c.StreamName)
	if c.Account == "" {
		c.Account = "000000000000"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.MaxBusBatchBytes <= 0 {
		c.MaxBusBatchBytes = DefaultMaxBusBatchBytes
	}
	if c.MaxStreamRecordBytes <= 0 {
		c.MaxStreamRecordBytes = DefaultMaxStreamRecordBytes
	}
	if c.MaxStreamBatchBytes <= 0 {
		c.MaxStreamBatchBytes = DefaultMaxStreamBatchBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

var (
	busNameRE    = regexp.MustCompile(`^[/\.\-_A-Za-z0-9]{1,256}$`)
	streamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)
)

// Validate reports every missing or malformed setting.
func (c AWSConfig) Validate() error {
	var errs []error
	if !busNameRE.MatchString(c.BusName) {
		errs = append(errs, fmt.Errorf("AWSConfig.BusName %q is not an event bus name (1-256 of letters, digits, '.', '-', '_', '/')", c.BusName))
	}
	if !streamNameRE.MatchString(c.StreamName) {
		errs = append(errs, fmt.Errorf("AWSConfig.StreamName %q is not a stream name (1-128 of letters, digits, '_', '.', '-')", c.StreamName))
	}
	if c.Bus == nil {
		errs = append(errs, errors.New("AWSConfig.Bus is required: the engine's bus, which takes PutEvents entries"))
	}
	if c.Stream == nil {
		errs = append(errs, errors.New("AWSConfig.Stream is required: the engine's stream, which takes PutRecord(s) records"))
	}
	if c.Validator == nil {
		errs = append(errs, errors.New("AWSConfig.Validator is required: use schemas.Sample() or your own *schemas.Set"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}

// awsHandler serves the AWS endpoint. It holds no mutable state: it is safe
// for concurrent use as far as its ports are.
type awsHandler struct {
	cfg     AWSConfig
	created time.Time
	ops     map[string]awsOp
}

type awsOp struct {
	maxBody int64
	serve   func(h *awsHandler, r *http.Request, body []byte) (any, *apiError)
}

// NewAWS returns the handler of the AWS JSON 1.1 endpoint: POST to any path,
// the operation in X-Amz-Target. It serves
//
//	AWSEvents.PutEvents, AWSEvents.DescribeEventBus,
//	Kinesis_20131202.PutRecord, Kinesis_20131202.PutRecords,
//	Kinesis_20131202.DescribeStreamSummary, Kinesis_20131202.ListShards
//
// and answers any other target with UnknownOperationException. Signatures
// are not checked. The handler is safe for concurrent use (it keeps no state
// of its own; the ports must be). It panics if cfg, after SetDefaults, does not Validate:
// call cfg.Validate first to get the error instead.
func NewAWS(cfg AWSConfig) http.Handler {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	const smallBody = 1 << 20
	h := &awsHandler{cfg: cfg, created: cfg.Now().UTC().Truncate(time.Second)}
	h.ops = map[string]awsOp{
		// A Detail is a JSON string inside JSON: escaping may take a byte to
		// six ("\u0001"), so the body may be that much larger than the entries.
		"AWSEvents.PutEvents":        {int64(cfg.MaxBusBatchBytes)*6 + smallBody, (*awsHandler).putEvents},
		"AWSEvents.DescribeEventBus": {smallBody, (*awsHandler).describeEventBus},
		// Data is base64: 4 bytes for 3.
		"Kinesis_20131202.PutRecord":             {int64(cfg.MaxStreamRecordBytes)*4/3 + smallBody, (*awsHandler).putRecord},
		"Kinesis_20131202.PutRecords":            {int64(cfg.MaxStreamBatchBytes)*4/3 + smallBody, (*awsHandler).putRecords},
		"Kinesis_20131202.DescribeStreamSummary": {smallBody, (*awsHandler).describeStreamSummary},
		"Kinesis_20131202.ListShards":            {smallBody, (*awsHandler).listShards},
	}
	return h
}

func (h *awsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeAWSError(w, &apiError{http.StatusMethodNotAllowed, codeUnknownOperation,
			fmt.Sprintf("%s is not an AWS API call: the AWS JSON protocol is a POST with the operation in X-Amz-Target (e.g. AWSEvents.PutEvents)", r.Method)})
		return
	}
	if e := checkContentType(r.Header.Get("Content-Type")); e != nil {
		writeAWSError(w, e)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := h.ops[target]
	if !ok {
		writeAWSError(w, h.unknownOperation(target))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, op.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeAWSError(w, &apiError{http.StatusRequestEntityTooLarge, codeRequestTooLarge,
				fmt.Sprintf("the %s request body is over the %d-byte limit of this endpoint; %s", target, op.maxBody, sizeHint(target))})
			return
		}
		writeAWSError(w, clientErr(codeSerialization, "reading the request body: %v", err))
		return
	}
	out, e := op.serve(h, r, body)
	if e != nil {
		writeAWSError(w, e)
		return
	}
	writeAWSJSON(w, http.StatusOK, out)
}

func sizeHint(target string) string {
	if strings.HasPrefix(target, "AWSEvents.") {
		return "PutEvents takes at most 10 entries of 1 MiB in all"
	}
	return "PutRecords takes at most 500 records of 10 MiB in all, each at most the stream's record size (1 MiB by default)"
}

// checkContentType accepts the AWS JSON content types (and none, or plain
// JSON, from hand-made requests). CBOR, which the AWS SDK for Java sends to
// Kinesis by default, gets an error that says how to turn it off.
func checkContentType(ct string) *apiError {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return clientErr(codeSerialization, "unreadable Content-Type %q: send %s", ct, amzJSONContentType)
	}
	switch mt {
	case amzJSONContentType, "application/x-amz-json-1.0", "application/json":
		return nil
	case amzCBORContentType, "application/cbor":
		return clientErr(codeUnsupportedProtocol, "this endpoint speaks the AWS JSON 1.1 protocol, not CBOR (%s): "+
			"with the AWS SDK for Java set the environment variable AWS_CBOR_DISABLE=true "+
			"(or the system property com.amazonaws.sdk.disableCbor=true)", mt)
	}
	return clientErr(codeSerialization, "Content-Type %q is not the AWS JSON protocol: send %s", ct, amzJSONContentType)
}

func (h *awsHandler) unknownOperation(target string) *apiError {
	known := make([]string, 0, len(h.ops))
	for t := range h.ops {
		known = append(known, t)
	}
	slices.Sort(known)
	if target == "" {
		return clientErr(codeUnknownOperation, "no X-Amz-Target header: name the operation, one of %s", strings.Join(known, ", "))
	}
	return clientErr(codeUnknownOperation, "troupe dev does not serve %s; it serves %s (the bus %q and the stream %q exist already)",
		target, strings.Join(known, ", "), h.cfg.BusName, h.cfg.StreamName)
}

// arnName returns the resource name of an ARN of the given resource type
// (arn:PARTITION:SERVICE:REGION:ACCOUNT:TYPE/NAME), or ok false.
func arnName(arn, resourceType string) (string, bool) {
	if !strings.HasPrefix(arn, "arn:") {
		return "", false
	}
	sep := ":" + resourceType + "/"
	i := strings.Index(arn, sep)
	if i < 0 || strings.Count(arn[:i], ":") != 4 {
		return "", false
	}
	return arn[i+len(sep):], true
}
