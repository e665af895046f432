package deadletter

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/events"
)

// FormatV1 is the value of the "troupe" field that marks a message body as
// troupe's own dead letter, version 1. The three AWS shapes a DLQ can also
// hold (an EventBridge target DLQ message, a Lambda destination record, a
// Kinesis mapping failure record) have no "troupe" field.
const FormatV1 = "deadletter/v1"

// Message attribute names. Every troupe dead letter carries the String
// attributes below when the dead letter has the value (SQS refuses an empty
// attribute), so that a reader can filter a queue without parsing bodies.
const (
	AttrConsumer     = "troupe-consumer"      // String: the consumer that failed the event
	AttrEventType    = "troupe-event-type"    // String: the envelope's type
	AttrEventVersion = "troupe-event-version" // String: the envelope's dataversion, in decimal
	AttrEventID      = "troupe-event-id"      // String: the envelope's id
	AttrReason       = "troupe-reason"        // String: consumers.DeadLetter.Reason
	AttrOrigin       = "troupe-origin"        // String: "bus" or "stream"
	AttrAttempts     = "troupe-attempts"      // Number: handler runs
	// AttrEncoding is "gzip" when the body is the gzip of the JSON, in
	// standard base64; absent when the body is the JSON itself.
	AttrEncoding = "troupe-encoding"
)

// EncodingGzip is the value of AttrEncoding on a compressed body.
const EncodingGzip = "gzip"

// DefaultMaxMessageBytes is SQS's largest message: 1 MiB (1,048,576 bytes),
// counting the body and every attribute's name, data type and value. It has
// been the maximum, and the MaximumMessageSize of a queue created without
// one, since AWS raised it from 256 KiB in 2025; a queue created earlier, or
// with MaximumMessageSize set, may take less.
const DefaultMaxMessageBytes = 1 << 20

// MinMaxMessageBytes is the smallest MaximumMessageSize SQS allows a queue.
const MinMaxMessageBytes = 1024

// maxDecodedBytes bounds what a gzip body may expand to when decoded: far
// above any real dead letter (an event is at most 1 MiB on EventBridge and
// Kinesis), low enough that a hostile body cannot exhaust memory.
const maxDecodedBytes = 32 << 20

// ErrNotDeadLetter marks a message that is not troupe's own dead letter:
// DecodeMessage wraps it for a body without the "troupe" marker, such as the
// three AWS shapes. A reader tries those next.
var ErrNotDeadLetter = errors.New("not a troupe dead letter")

// wireV1 is the body of a troupe dead letter, version 1. It is a stable,
// documented format (see the package comment): fields may be added (readers
// of v1 ignore fields they do not know), never renamed or given another
// meaning; that would be deadletter/v2.
type wireV1 struct {
	Troupe       string          `json:"troupe"`
	Consumer     string          `json:"consumer"`
	Reason       string          `json:"reason"`
	Error        string          `json:"error"`
	Attempts     int             `json:"attempts"`
	FirstFailure time.Time       `json:"firstFailure"`
	LastFailure  time.Time       `json:"lastFailure"`
	Origin       wireOrigin      `json:"origin"`
	Envelope     json.RawMessage `json:"envelope,omitempty"`
	Raw          json.RawMessage `json:"raw,omitempty"`
	RawBase64    []byte          `json:"rawBase64,omitempty"`
}

// wireOrigin is consumers.Origin on the wire, spelled out here so that the
// format does not change with that type's tags.
type wireOrigin struct {
	Source         string `json:"source"`
	Stream         string `json:"stream,omitempty"`
	Shard          string `json:"shard,omitempty"`
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	Rule           string `json:"rule,omitempty"`
}

// EncodeMessage turns a dead letter into an SQS message: the body and the
// message attributes to send with it. maxBytes is the queue's limit (0 or
// less: DefaultMaxMessageBytes), counted as SQS counts it: the body plus
// each attribute's name, data type and value, in bytes.
//
// The body is the dead letter as JSON (FormatV1). If the message would
// exceed maxBytes, the body becomes the gzip of that JSON in standard base64
// and AttrEncoding says so; if it still exceeds maxBytes, EncodeMessage
// returns an error wrapping consumers.ErrTooLarge.
//
// dl.Raw is carried byte for byte: when it is compact, valid UTF-8 JSON it
// is embedded as JSON ("raw"), otherwise (a payload that is not JSON, or not
// in compact form) as base64 ("rawBase64"). dl.Consumer is required.
func EncodeMessage(dl consumers.DeadLetter, maxBytes int) (body string, attrs map[string]types.MessageAttributeValue, err error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	if dl.Consumer == "" {
		return "", nil, fmt.Errorf("deadletter: encode dead letter of %s: Consumer is empty: "+
			"a dead letter must name the consumer that failed the event, or it cannot be replayed", eventRef(dl))
	}
	w := wireV1{
		Troupe:       FormatV1,
		Consumer:     dl.Consumer,
		Reason:       dl.Reason,
		Error:        dl.Error,
		Attempts:     dl.Attempts,
		FirstFailure: dl.FirstFailure,
		LastFailure:  dl.LastFailure,
		Origin: wireOrigin{
			Source:         dl.Origin.Source,
			Stream:         dl.Origin.Stream,
			Shard:          dl.Origin.Shard,
			SequenceNumber: dl.Origin.SequenceNumber,
			Rule:           dl.Origin.Rule,
		},
	}
	if dl.Envelope != nil {
		if w.Envelope, err = marshal(dl.Envelope); err != nil {
			return "", nil, fmt.Errorf("deadletter: encode envelope of %s: %w", eventRef(dl), err)
		}
	}
	if len(dl.Raw) > 0 {
		if embeddable(dl.Raw) {
			w.Raw = dl.Raw
		} else {
			w.RawBase64 = dl.Raw
		}
	}
	js, err := marshal(w)
	if err != nil {
		return "", nil, fmt.Errorf("deadletter: encode dead letter of %s: %w", eventRef(dl), err)
	}
	body = sqsSafe(string(js))
	attrs = attributes(dl)
	size := MessageSize(body, attrs)
	if size <= maxBytes {
		return body, attrs, nil
	}

	zipped, err := gzipBase64(body)
	if err != nil {
		return "", nil, fmt.Errorf("deadletter: compress dead letter of %s: %w", eventRef(dl), err)
	}
	attrs[AttrEncoding] = stringAttr(EncodingGzip)
	zsize := MessageSize(zipped, attrs)
	if zsize <= maxBytes {
		return zipped, attrs, nil
	}
	return "", nil, fmt.Errorf("deadletter: dead letter of %s for consumer %q is %d bytes, %d even gzipped; "+
		"the queue takes at most %d (body and attributes): %w. The event's data is too large or does not compress: "+
		"keep large payloads out of events (store them, e.g. in S3, and put a reference in the event), "+
		"or shorten the error text",
		eventRef(dl), dl.Consumer, size, zsize, maxBytes, consumers.ErrTooLarge)
}

// DecodeMessage reads a troupe dead letter from an SQS message's body and
// message attributes (attrs may be nil: a gzip body is also recognised
// without AttrEncoding). It wraps ErrNotDeadLetter when the body is not
// troupe's (no "troupe" marker), and says so when the marker names a format
// this version does not read. It never panics, whatever the input.
//
// The attributes are not trusted for content: every field comes from the
// body.
func DecodeMessage(body string, attrs map[string]types.MessageAttributeValue) (consumers.DeadLetter, error) {
	js, err := plainBody(body, attrs)
	if err != nil {
		return consumers.DeadLetter{}, err
	}
	var head struct {
		Troupe *string `json:"troupe"`
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return consumers.DeadLetter{}, fmt.Errorf("deadletter: decode: %w: the body is not a JSON object (%v)", ErrNotDeadLetter, err)
	}
	switch {
	case head.Troupe == nil:
		return consumers.DeadLetter{}, fmt.Errorf("deadletter: decode: %w: the body has no %q field "+
			"(an EventBridge target DLQ message, a Lambda destination record or a Kinesis failure record?)",
			ErrNotDeadLetter, "troupe")
	case *head.Troupe != FormatV1:
		return consumers.DeadLetter{}, fmt.Errorf("deadletter: decode: the body is troupe format %q; "+
			"this version reads only %q: use a newer troupe", *head.Troupe, FormatV1)
	}
	var w wireV1
	if err := json.Unmarshal(js, &w); err != nil {
		return consumers.DeadLetter{}, fmt.Errorf("deadletter: decode %s body: %w", FormatV1, err)
	}
	if w.Raw != nil && w.RawBase64 != nil {
		return consumers.DeadLetter{}, fmt.Errorf("deadletter: decode %s body: both raw and rawBase64 are set; at most one may be", FormatV1)
	}
	dl := consumers.DeadLetter{
		Consumer:     w.Consumer,
		Error:        w.Error,
		Reason:       w.Reason,
		Attempts:     w.Attempts,
		FirstFailure: w.FirstFailure,
		LastFailure:  w.LastFailure,
		Origin: consumers.Origin{
			Source:         w.Origin.Source,
			Stream:         w.Origin.Stream,
			Shard:          w.Origin.Shard,
			SequenceNumber: w.Origin.SequenceNumber,
			Rule:           w.Origin.Rule,
		},
	}
	if len(w.Envelope) > 0 && string(w.Envelope) != "null" {
		var env events.Envelope
		if err := json.Unmarshal(w.Envelope, &env); err != nil {
			return consumers.DeadLetter{}, fmt.Errorf("deadletter: decode %s body: envelope: %w", FormatV1, err)
		}
		dl.Envelope = &env
	}
	switch {
	case len(w.Raw) > 0 && string(w.Raw) != "null":
		// The encoder embeds only compact JSON: compacting restores it
		// byte for byte if the body was reformatted on the way.
		var c bytes.Buffer
		if err := json.Compact(&c, w.Raw); err != nil {
			return consumers.DeadLetter{}, fmt.Errorf("deadletter: decode %s body: raw: %w", FormatV1, err)
		}
		dl.Raw = c.Bytes()
	case len(w.RawBase64) > 0:
		dl.Raw = w.RawBase64
	}
	return dl, nil
}

// MessageSize is the size SQS counts against a queue's limit: the body's
// bytes plus, for each message attribute, the bytes of its name, its data
// type and its value.
func MessageSize(body string, attrs map[string]types.MessageAttributeValue) int {
	n := len(body)
	for name, a := range attrs {
		n += len(name) + len(aws.ToString(a.DataType)) + len(aws.ToString(a.StringValue)) + len(a.BinaryValue)
	}
	return n
}

// plainBody returns the JSON of a body, gunzipping it when attrs or its
// shape say it is compressed.
func plainBody(body string, attrs map[string]types.MessageAttributeValue) ([]byte, error) {
	enc := ""
	if a, ok := attrs[AttrEncoding]; ok {
		enc = aws.ToString(a.StringValue)
	}
	switch {
	case enc == EncodingGzip:
	case enc != "":
		return nil, fmt.Errorf("deadletter: decode: unknown %s %q (this version reads %q): use a newer troupe",
			AttrEncoding, enc, EncodingGzip)
	case strings.HasPrefix(body, "H4sI"): // base64 of gzip's magic: the attribute was lost on the way
	default:
		return []byte(body), nil
	}
	zipped, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("deadletter: decode: %s body is not base64: %w", EncodingGzip, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		return nil, fmt.Errorf("deadletter: decode: %s body: %w", EncodingGzip, err)
	}
	js, err := io.ReadAll(io.LimitReader(zr, maxDecodedBytes+1))
	if err != nil {
		return nil, fmt.Errorf("deadletter: decode: %s body: %w", EncodingGzip, err)
	}
	if len(js) > maxDecodedBytes {
		return nil, fmt.Errorf("deadletter: decode: %s body expands beyond %d bytes: not a dead letter troupe wrote", EncodingGzip, maxDecodedBytes)
	}
	return js, nil
}

// attributes are the filterable message attributes of a dead letter.
func attributes(dl consumers.DeadLetter) map[string]types.MessageAttributeValue {
	attrs := make(map[string]types.MessageAttributeValue, 8)
	put := func(name, value string) {
		if value != "" && sqsValid(value) {
			attrs[name] = stringAttr(value)
		}
	}
	put(AttrConsumer, dl.Consumer)
	if e := dl.Envelope; e != nil {
		put(AttrEventType, e.Type)
		put(AttrEventVersion, strconv.Itoa(e.DataVersion))
		put(AttrEventID, e.ID)
	}
	put(AttrReason, dl.Reason)
	put(AttrOrigin, dl.Origin.Source)
	attrs[AttrAttempts] = types.MessageAttributeValue{
		DataType:    aws.String("Number"),
		StringValue: aws.String(strconv.Itoa(dl.Attempts)),
	}
	return attrs
}

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// marshal is json.Marshal without HTML escaping (shorter, and the body
// reads as it was written).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// embeddable reports whether raw can go into the body as JSON and come back
// byte for byte: valid JSON in valid UTF-8 (the encoder replaces invalid
// UTF-8), already compact (the encoder compacts what it embeds), and
// without U+FFFE or U+FFFF (which sqsSafe escapes).
func embeddable(raw []byte) bool {
	if !utf8.Valid(raw) || !json.Valid(raw) || bytes.ContainsAny(raw, "\uFFFE\uFFFF") {
		return false
	}
	var c bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		return false
	}
	return bytes.Equal(c.Bytes(), raw)
}

// sqsSafe escapes the two characters that JSON allows unescaped but SQS
// refuses in a body, U+FFFE and U+FFFF. The encoder writes every other
// character outside SQS's set (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD
// #x10000-#x10FFFF) escaped already, and these can only occur inside JSON
// strings, where the escape means the same character.
func sqsSafe(js string) string {
	if !strings.ContainsAny(js, "\uFFFE\uFFFF") {
		return js
	}
	return strings.NewReplacer("\uFFFE", `\ufffe`, "\uFFFF", `\uffff`).Replace(js)
}

// sqsValid reports whether s may be an SQS string value as it is.
func sqsValid(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

func gzipBase64(s string) (string, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := io.WriteString(zw, s); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// eventRef names a dead letter's event for messages.
func eventRef(dl consumers.DeadLetter) string {
	if dl.Envelope != nil {
		return dl.Envelope.Ref()
	}
	return fmt.Sprintf("an undecodable payload (%d bytes)", len(dl.Raw))
}
