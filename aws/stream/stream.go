// Package stream is the Kinesis Data Streams adapter of
// producers.StreamWriter: it appends a batch of records with one PutRecords
// call, reports each record's sequence number and shard or its error, and
// translates AWS errors into the producers package's sentinels.
package stream

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/troupehq/troupe/producers"
)

// API is the part of the Kinesis client the Writer uses.
type API interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

var _ API = (*kinesis.Client)(nil)

// Config configures a Writer. Give StreamName or StreamARN; AWS recommends
// the ARN. With both, the ARN must name the same stream.
type Config struct {
	// StreamName is the stream's name, e.g. "orders".
	StreamName string
	// StreamARN is the stream's ARN:
	// arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME.
	StreamARN string
}

// SetDefaults fills in what was left empty; today it only trims the fields.
func (c *Config) SetDefaults() {
	c.StreamName = strings.TrimSpace(c.StreamName)
	c.StreamARN = strings.TrimSpace(c.StreamARN)
}

// streamNameRE is Kinesis's rule for a stream name, 1-128 of these
// characters (see validName).
var streamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// validName checks a stream name; the length is checked apart, since a
// {1,128} repetition makes a large regexp, slow to compile at every start.
func validName(name string) bool { return len(name) <= 128 && streamNameRE.MatchString(name) }

// Validate reports what is wrong with the configuration.
func (c Config) Validate() error {
	if c.StreamName == "" && c.StreamARN == "" {
		return errors.New("stream: Config needs StreamName or StreamARN: the Kinesis stream to write to")
	}
	if c.StreamName != "" && !validName(c.StreamName) {
		return fmt.Errorf("stream: Config.StreamName %q is not a valid stream name (1-128 of letters, digits, '_', '.', '-')", c.StreamName)
	}
	if c.StreamARN != "" {
		i := strings.Index(c.StreamARN, ":stream/")
		if !strings.HasPrefix(c.StreamARN, "arn:") || i < 0 || strings.Count(c.StreamARN[:i], ":") != 4 ||
			!validName(c.StreamARN[i+len(":stream/"):]) {
			return fmt.Errorf("stream: Config.StreamARN %q is not a stream ARN (want arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME)", c.StreamARN)
		}
		if name := c.StreamARN[i+len(":stream/"):]; c.StreamName != "" && name != c.StreamName {
			return fmt.Errorf("stream: Config.StreamName %q and StreamARN %q name different streams: give one", c.StreamName, c.StreamARN)
		}
	}
	return nil
}

// Writer appends records to one Kinesis stream. It implements
// producers.StreamWriter and is safe for concurrent use.
type Writer struct {
	api  API
	name *string
	arn  *string
	desc string // for messages: the ARN, else the name
}

var _ producers.StreamWriter = (*Writer)(nil)

// New returns a Writer for the stream in cfg, calling Kinesis through api.
func New(api API, cfg Config) (*Writer, error) {
	if api == nil {
		return nil, errors.New("stream: New: api is nil: pass a *kinesis.Client")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &Writer{api: api, desc: cfg.StreamName}
	if cfg.StreamName != "" {
		w.name = aws.String(cfg.StreamName)
	}
	if cfg.StreamARN != "" {
		w.arn = aws.String(cfg.StreamARN)
		w.desc = cfg.StreamARN
	}
	return w, nil
}

// NewFromConfig returns a Writer that calls Kinesis with a client built from
// awsCfg and optFns (e.g. to set BaseEndpoint or HTTPClient).
//
// The client keeps the SDK's own retryer, which retries a whole call that
// throttles or fails with a 5xx a few times before WriteBatch returns its
// error; set o.Retryer (e.g. aws.NopRetryer{}) to leave every retry to the
// caller.
func NewFromConfig(awsCfg aws.Config, cfg Config, optFns ...func(*kinesis.Options)) (*Writer, error) {
	return New(kinesis.NewFromConfig(awsCfg, optFns...), cfg)
}

// Stream returns the stream's ARN if configured, else its name.
func (w *Writer) Stream() string { return w.desc }

// WriteBatch appends records with one PutRecords call and returns one result
// per record, in order: the sequence number (ID) and shard of an accepted
// record, or the ErrorCode and ErrorMessage of a rejected one, with
// Retryable set for ProvisionedThroughputExceededException, InternalFailure
// and KMSThrottlingException. An empty batch makes no call.
//
// Keeping the batch within PutRecords' limits (500 records; by default 1 MiB
// per record and 5 MiB per call) is the caller's job; a batch beyond them
// fails as a whole, not retryable.
func (w *Writer) WriteBatch(ctx context.Context, records []producers.StreamRecord) ([]producers.EntryResult, error) {
	if len(records) == 0 {
		return nil, nil
	}
	in := &kinesis.PutRecordsInput{
		StreamName: w.name,
		StreamARN:  w.arn,
		Records:    make([]types.PutRecordsRequestEntry, len(records)),
	}
	for i, r := range records {
		in.Records[i] = types.PutRecordsRequestEntry{
			PartitionKey: aws.String(r.PartitionKey),
			Data:         r.Data,
		}
	}
	out, err := w.api.PutRecords(ctx, in)
	if err != nil {
		return nil, translate(ctx, err, fmt.Sprintf("kinesis PutRecords of %d records to stream %q", len(records), w.desc), w.desc)
	}
	if len(out.Records) != len(records) {
		return nil, fmt.Errorf("kinesis PutRecords to stream %q answered %d results for %d records: "+
			"which records were accepted is unknown, so they are not retried; check the stream for duplicates or gaps",
			w.desc, len(out.Records), len(records))
	}
	results := make([]producers.EntryResult, len(records))
	for i, r := range out.Records {
		results[i] = recordResult(r)
	}
	return results, nil
}

// Per-record error codes of PutRecords. The API reference names
// ProvisionedThroughputExceededException and InternalFailure; with
// server-side encryption a record can also fail with a KMS error, of which
// only KMSThrottlingException is transient (KMSAccessDeniedException,
// KMSDisabledException, KMSNotFoundException, KMSInvalidStateException,
// KMSOptInRequired repeat until someone fixes the key). Codes not listed are
// not retried.
var retryableRecordCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"InternalFailure":                        true,
	"KMSThrottlingException":                 true,
	"ThrottlingException":                    true,
	"ServiceUnavailable":                     true,
}

// RetryableRecordCode reports whether a record rejected with this PutRecords
// per-record ErrorCode may be accepted if sent again.
func RetryableRecordCode(code string) bool { return retryableRecordCodes[code] }

// codeNoResult marks a record the stream answered with neither a sequence
// number nor an error code; it is not Kinesis's own code.
const codeNoResult = "troupe.NoResult"

func recordResult(r types.PutRecordsResultEntry) producers.EntryResult {
	res := producers.EntryResult{
		ID:           aws.ToString(r.SequenceNumber),
		Shard:        aws.ToString(r.ShardId),
		ErrorCode:    aws.ToString(r.ErrorCode),
		ErrorMessage: aws.ToString(r.ErrorMessage),
	}
	switch {
	case res.ErrorCode != "":
		res.Retryable = RetryableRecordCode(res.ErrorCode)
	case res.ID == "":
		res.ErrorCode = codeNoResult
		res.ErrorMessage = "Kinesis answered this record with neither a sequence number nor an error code; writing it again may duplicate it"
		res.Retryable = true
	}
	return res
}

// Check verifies with DescribeStreamSummary that the stream exists and takes
// writes (ACTIVE or UPDATING). A stream still CREATING wraps
// producers.ErrRetryable; one being deleted wraps producers.ErrNotFound.
func (w *Writer) Check(ctx context.Context) error {
	out, err := w.api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: w.name, StreamARN: w.arn})
	if err != nil {
		return translate(ctx, err, fmt.Sprintf("kinesis DescribeStreamSummary %q", w.desc), w.desc)
	}
	var status types.StreamStatus
	if out.StreamDescriptionSummary != nil {
		status = out.StreamDescriptionSummary.StreamStatus
	}
	switch status {
	case types.StreamStatusActive, types.StreamStatusUpdating:
		return nil
	case types.StreamStatusCreating:
		return fmt.Errorf("kinesis stream %q is still CREATING: %w: wait until it is ACTIVE", w.desc, producers.ErrRetryable)
	case types.StreamStatusDeleting:
		return fmt.Errorf("kinesis stream %q is DELETING: %w: recreate it or fix the stream name", w.desc, producers.ErrNotFound)
	default:
		return fmt.Errorf("kinesis stream %q is %q, not ACTIVE or UPDATING: it cannot take records", w.desc, status)
	}
}
