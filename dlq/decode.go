package dlq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/consumers"
)

// ErrUnknownShape marks a message in none of the four shapes. The CLI
// reports it and never deletes it.
var ErrUnknownShape = errors.New("dlq: the message is in none of the four DLQ shapes")

// The SQS message attributes of an EventBridge target DLQ message.
const (
	AttrErrorCode               = "ERROR_CODE"
	AttrErrorMessage            = "ERROR_MESSAGE"
	AttrRuleARN                 = "RULE_ARN"
	AttrTargetARN               = "TARGET_ARN"
	AttrRetryAttempts           = "RETRY_ATTEMPTS"
	AttrExhaustedRetryCondition = "EXHAUSTED_RETRY_CONDITION"
)

// Decode reads one SQS message of a dead-letter queue: its body and its
// message attributes, as strings (the String and Number values; nil is
// fine). It detects the shape:
//
//   - a body with a "troupe" field is troupe's (aws/deadletter.DecodeMessage
//     reads it, a gzip body included);
//   - a body with "KinesisBatchInfo" is a Kinesis failure record;
//   - a body with "requestContext" is a Lambda destination record;
//   - an EventBridge event (id, detail-type, source, detail), or a body
//     with the ERROR_CODE, ERROR_MESSAGE, RULE_ARN or TARGET_ARN attribute,
//     is an EventBridge target DLQ message (the attributes may be lost when
//     a message is moved between queues: the body alone is enough).
//
// A body that has a shape's marker but not its content is an error naming
// the shape and the field. A body in no shape is an error wrapping
// ErrUnknownShape that says why each shape does not fit. Decode never
// panics.
func Decode(body string, attrs map[string]string) (Message, error) {
	dl, err := deadletter.DecodeMessage(body, sqsAttributes(attrs))
	if err == nil {
		return FromDeadLetter(dl), nil
	}
	if !errors.Is(err, deadletter.ErrNotDeadLetter) {
		return Message{}, fmt.Errorf("dlq: %s message: %w", ShapeTroupe, err)
	}

	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &fields); err != nil || fields == nil {
		return Message{}, fmt.Errorf("%w (tried %s): the body is not a JSON object, and every shape is one "+
			"(%d bytes, starting %q)", ErrUnknownShape, shapeList(), len(body), prefix(body, 40))
	}
	ebAttrs := eventBridgeAttrs(attrs)
	switch {
	case fields["KinesisBatchInfo"] != nil:
		m, err := decodeKinesis([]byte(body))
		if err != nil {
			return Message{}, fmt.Errorf("dlq: %s record (it has \"KinesisBatchInfo\"): %w", ShapeKinesisFailure, err)
		}
		return m, nil
	case otherBatchInfo(fields) != "":
		return Message{}, fmt.Errorf("%w: the body has %q: an event source mapping failure record for a source "+
			"troupe does not consume (troupe reads %q, from Kinesis)", ErrUnknownShape, otherBatchInfo(fields), "KinesisBatchInfo")
	case fields["requestContext"] != nil:
		m, err := decodeLambda([]byte(body))
		if err != nil {
			return Message{}, fmt.Errorf("dlq: %s record (it has \"requestContext\"): %w", ShapeLambdaDestination, err)
		}
		return m, nil
	case isBusEvent(fields) || len(ebAttrs) > 0:
		m, err := decodeEventBridge([]byte(body), attrs)
		if err != nil {
			why := "it looks like an EventBridge event"
			if len(ebAttrs) > 0 {
				why = "it has the attributes " + strings.Join(ebAttrs, ", ")
			}
			return Message{}, fmt.Errorf("dlq: %s message (%s): %w", ShapeEventBridgeTarget, why, err)
		}
		return m, nil
	}
	return Message{}, fmt.Errorf("%w: %s: the body has no %q field; %s: the body is not an EventBridge event "+
		"(it needs id, detail-type, source and detail) and has none of the attributes %s, %s, %s, %s; "+
		"%s: the body has no %q; %s: the body has no %q (its fields: %s)",
		ErrUnknownShape,
		ShapeTroupe, "troupe",
		ShapeEventBridgeTarget, AttrErrorCode, AttrErrorMessage, AttrRuleARN, AttrTargetARN,
		ShapeLambdaDestination, "requestContext",
		ShapeKinesisFailure, "KinesisBatchInfo",
		fieldList(fields))
}

// sqsAttributes turns string attributes into the SDK's type, as
// aws/deadletter reads them.
func sqsAttributes(attrs map[string]string) map[string]types.MessageAttributeValue {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]types.MessageAttributeValue, len(attrs))
	for name, v := range attrs {
		dt := "String"
		if name == deadletter.AttrAttempts || name == AttrRetryAttempts {
			dt = "Number"
		}
		out[name] = types.MessageAttributeValue{DataType: aws.String(dt), StringValue: aws.String(v)}
	}
	return out
}

// lambdaRequestContext is the requestContext of both Lambda records.
type lambdaRequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// lambdaResponseContext is the responseContext of both Lambda records.
type lambdaResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError"`
}

func (rc lambdaResponseContext) describe(condition string) string {
	var parts []string
	if rc.FunctionError != "" {
		parts = append(parts, "function error "+strconv.Quote(rc.FunctionError))
	}
	if rc.StatusCode != 0 {
		parts = append(parts, "status "+strconv.Itoa(rc.StatusCode))
	}
	if rc.ExecutedVersion != "" {
		parts = append(parts, "version "+rc.ExecutedVersion)
	}
	if len(parts) == 0 {
		return condition
	}
	if condition != "" {
		return condition + ": " + strings.Join(parts, ", ")
	}
	return strings.Join(parts, ", ")
}

func (rc lambdaRequestContext) check() error {
	if rc.FunctionARN == "" {
		return errors.New("requestContext.functionArn is missing: a record Lambda wrote always has it")
	}
	return nil
}

// lambdaRecord is a Lambda asynchronous invocation destination record.
type lambdaRecord struct {
	Version         string                `json:"version"`
	Timestamp       time.Time             `json:"timestamp"`
	RequestContext  lambdaRequestContext  `json:"requestContext"`
	RequestPayload  json.RawMessage       `json:"requestPayload"`
	ResponseContext lambdaResponseContext `json:"responseContext"`
	ResponsePayload json.RawMessage       `json:"responsePayload"`
}

func decodeLambda(body []byte) (Message, error) {
	var r lambdaRecord
	if err := json.Unmarshal(body, &r); err != nil {
		return Message{}, err
	}
	if err := r.RequestContext.check(); err != nil {
		return Message{}, err
	}
	m := Message{
		Shape:       ShapeLambdaDestination,
		Consumer:    functionName(r.RequestContext.FunctionARN),
		Reason:      r.RequestContext.Condition,
		Attempts:    r.RequestContext.ApproximateInvokeCount,
		LastFailure: r.Timestamp,
		FunctionARN: r.RequestContext.FunctionARN,
		RequestID:   r.RequestContext.RequestID,
		Error:       lambdaError(r.ResponsePayload, r.ResponseContext, r.RequestContext.Condition),
	}
	if len(r.RequestPayload) > 0 && string(r.RequestPayload) != "null" {
		var payload map[string]json.RawMessage
		if json.Unmarshal(r.RequestPayload, &payload) == nil && isBusEvent(payload) {
			m.Origin.Source = "bus"
			if e, err := consumers.EnvelopeFromBus(r.RequestPayload); err == nil {
				m.Event = &e
			}
		}
		if m.Event == nil {
			m.Raw = compact(r.RequestPayload)
		}
	}
	return m, nil
}

// lambdaError is the error text of a Lambda record: the errorMessage (and
// errorType) of the function's response, else a description of the response.
func lambdaError(payload json.RawMessage, rc lambdaResponseContext, condition string) string {
	if len(payload) > 0 && string(payload) != "null" {
		var fe struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}
		if json.Unmarshal(payload, &fe) == nil && fe.ErrorMessage != "" {
			return fe.ErrorMessage
		}
		var s string
		if json.Unmarshal(payload, &s) == nil && s != "" {
			return s
		}
		return string(compact(payload))
	}
	return rc.describe(condition)
}

// kinesisRecord is a Kinesis event source mapping OnFailure record.
type kinesisRecord struct {
	Version         string                `json:"version"`
	Timestamp       time.Time             `json:"timestamp"`
	RequestContext  lambdaRequestContext  `json:"requestContext"`
	ResponseContext lambdaResponseContext `json:"responseContext"`
	Batch           struct {
		ShardID             string    `json:"shardId"`
		StartSequenceNumber string    `json:"startSequenceNumber"`
		EndSequenceNumber   string    `json:"endSequenceNumber"`
		FirstArrival        time.Time `json:"approximateArrivalOfFirstRecord"`
		LastArrival         time.Time `json:"approximateArrivalOfLastRecord"`
		BatchSize           int       `json:"batchSize"`
		StreamARN           string    `json:"streamArn"`
	} `json:"KinesisBatchInfo"`
}

func decodeKinesis(body []byte) (Message, error) {
	var r kinesisRecord
	if err := json.Unmarshal(body, &r); err != nil {
		return Message{}, err
	}
	b := r.Batch
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"streamArn", b.StreamARN}, {"shardId", b.ShardID}, {"startSequenceNumber", b.StartSequenceNumber},
	} {
		if f.v == "" {
			missing = append(missing, "KinesisBatchInfo."+f.name)
		}
	}
	if len(missing) > 0 {
		return Message{}, fmt.Errorf("%s missing: without them the batch cannot be re-read from the stream",
			strings.Join(missing, ", "))
	}
	return Message{
		Shape:       ShapeKinesisFailure,
		Consumer:    functionName(r.RequestContext.FunctionARN),
		Error:       r.ResponseContext.describe(r.RequestContext.Condition),
		Reason:      r.RequestContext.Condition,
		Attempts:    r.RequestContext.ApproximateInvokeCount,
		LastFailure: r.Timestamp,
		Origin: consumers.Origin{
			Source:         "stream",
			Stream:         b.StreamARN,
			Shard:          b.ShardID,
			SequenceNumber: b.StartSequenceNumber,
		},
		FunctionARN: r.RequestContext.FunctionARN,
		RequestID:   r.RequestContext.RequestID,
		Kinesis: &KinesisRange{
			StreamARN:           b.StreamARN,
			ShardID:             b.ShardID,
			StartSequenceNumber: b.StartSequenceNumber,
			EndSequenceNumber:   b.EndSequenceNumber,
			BatchSize:           b.BatchSize,
			FirstArrival:        b.FirstArrival,
			LastArrival:         b.LastArrival,
		},
	}, nil
}

// busEvent is the part of an EventBridge event a DLQ message needs.
type busEvent struct {
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Detail     json.RawMessage `json:"detail"`
}

func decodeEventBridge(body []byte, attrs map[string]string) (Message, error) {
	var ev busEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return Message{}, fmt.Errorf("the body is not an EventBridge event: %w", err)
	}
	var missing []string
	for _, f := range []struct {
		name string
		ok   bool
	}{{"id", ev.ID != ""}, {"detail-type", ev.DetailType != ""}, {"source", ev.Source != ""}, {"detail", len(ev.Detail) > 0}} {
		if !f.ok {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Message{}, fmt.Errorf("the body is not an EventBridge event: %s missing", strings.Join(missing, ", "))
	}
	m := Message{
		Shape:     ShapeEventBridgeTarget,
		Reason:    attrs[AttrErrorCode],
		Error:     attrs[AttrErrorMessage],
		RuleARN:   attrs[AttrRuleARN],
		TargetARN: attrs[AttrTargetARN],
		Consumer:  functionName(attrs[AttrTargetARN]),
		Origin:    consumers.Origin{Source: "bus", Rule: ruleName(attrs[AttrRuleARN])},
	}
	if m.Error == "" {
		m.Error = m.Reason
	}
	if s, ok := attrs[AttrRetryAttempts]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			return Message{}, fmt.Errorf("attribute %s is %q, not a count", AttrRetryAttempts, s)
		}
		m.Attempts = n + 1
	}
	if e, err := consumers.EnvelopeFromBus(body); err == nil {
		m.Event = &e
	} else {
		m.Raw = compact(body)
	}
	return m, nil
}

// eventBridgeAttrs lists the EventBridge DLQ attributes attrs has.
func eventBridgeAttrs(attrs map[string]string) []string {
	var found []string
	for _, name := range []string{AttrErrorCode, AttrErrorMessage, AttrRuleARN, AttrTargetARN} {
		if _, ok := attrs[name]; ok {
			found = append(found, name)
		}
	}
	return found
}

// isBusEvent reports whether a JSON object has the fields of an
// EventBridge event.
func isBusEvent(fields map[string]json.RawMessage) bool {
	return fields["detail-type"] != nil && fields["source"] != nil && fields["detail"] != nil && fields["id"] != nil
}

// otherBatchInfo returns the "...BatchInfo" field of a failure record from
// another event source (DynamoDB Streams, Kafka, ...), if any.
func otherBatchInfo(fields map[string]json.RawMessage) string {
	for name := range fields {
		if strings.HasSuffix(name, "BatchInfo") && name != "KinesisBatchInfo" {
			return name
		}
	}
	return ""
}

// functionName returns the function name of a Lambda function ARN
// (arn:aws:lambda:region:account:function:name[:qualifier]), or "" if arn
// is not one.
func functionName(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" {
		return ""
	}
	return parts[6]
}

// ruleName returns the rule name of an EventBridge rule ARN
// (arn:aws:events:region:account:rule/[bus/]name), or arn itself if it is
// not one.
func ruleName(arn string) string {
	_, res, ok := strings.Cut(arn, ":rule/")
	if !ok || !strings.HasPrefix(arn, "arn:") {
		return arn
	}
	return res[strings.LastIndexByte(res, '/')+1:]
}

func compact(js []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, js); err != nil {
		return append([]byte(nil), js...)
	}
	return b.Bytes()
}

func shapeList() string {
	shapes := Shapes()
	s := make([]string, len(shapes))
	for i, sh := range shapes {
		s[i] = string(sh)
	}
	return strings.Join(s, ", ")
}

func fieldList(fields map[string]json.RawMessage) string {
	if len(fields) == 0 {
		return "none"
	}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, strconv.Quote(n))
	}
	sort.Strings(names)
	if len(names) > 10 {
		names = append(names[:10], "...")
	}
	return strings.Join(names, ", ")
}

func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
