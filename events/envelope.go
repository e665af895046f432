// Package events is troupe's core: the event envelope, the registry of event
// types and versions, upcasting between versions, and typed helpers.
//
// The envelope uses the CloudEvents 1.0 attribute names (JSON format), so
// systems that know CloudEvents read it as is, plus the extensions dataversion,
// correlationid, causationid, partitionkey and traceparent.
//
// This package imports no AWS package.
package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// SpecVersion is the CloudEvents version of every envelope.
const SpecVersion = "1.0"

// ContentTypeJSON is the only data content type troupe produces.
const ContentTypeJSON = "application/json"

// Envelope is one domain event: CloudEvents attributes plus troupe's
// extensions, with the data as raw JSON.
//
// An Envelope is a value; it is safe to copy and to share between goroutines
// as long as nobody modifies Data in place.
type Envelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            time.Time       `json:"time"`
	DataSchema      string          `json:"dataschema,omitempty"`
	Subject         string          `json:"subject,omitempty"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	DataVersion     int             `json:"dataversion"`
	CorrelationID   string          `json:"correlationid,omitempty"`
	CausationID     string          `json:"causationid,omitempty"`
	PartitionKey    string          `json:"partitionkey,omitempty"`
	TraceParent     string          `json:"traceparent,omitempty"`
	Data            json.RawMessage `json:"data"`
}

// Key returns the partition key of the event on the stream: the partitionkey
// extension, else the subject, else the id.
func (e Envelope) Key() string {
	switch {
	case e.PartitionKey != "":
		return e.PartitionKey
	case e.Subject != "":
		return e.Subject
	default:
		return e.ID
	}
}

// Ref names the event for messages: "orders.OrderPlaced v2 (id 0190...)".
func (e Envelope) Ref() string {
	return fmt.Sprintf("%s v%d (id %s)", e.Type, e.DataVersion, e.ID)
}

// Validate checks the attributes every envelope must have. It says nothing of
// the data: schemas validate that.
func (e Envelope) Validate() error {
	switch {
	case e.SpecVersion != SpecVersion:
		return fieldErr("specversion", "must be %q, got %q", SpecVersion, e.SpecVersion)
	case e.ID == "":
		return fieldErr("id", "is required")
	case e.Source == "":
		return fieldErr("source", "is required")
	case e.Type == "":
		return fieldErr("type", "is required")
	case e.Time.IsZero():
		return fieldErr("time", "is required (RFC 3339)")
	case e.DataVersion < 1:
		return fieldErr("dataversion", "must be an integer >= 1, got %d", e.DataVersion)
	case e.DataContentType != "" && !isJSONContentType(e.DataContentType):
		return fieldErr("datacontenttype", "must be %s, got %q", ContentTypeJSON, e.DataContentType)
	case len(e.Data) == 0:
		return fieldErr("data", "is required")
	}
	return nil
}

func isJSONContentType(ct string) bool {
	mediaType, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mediaType) == ContentTypeJSON
}

// Encode returns the envelope as JSON after validating it.
func Encode(e Envelope) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(e)
}

// Decode reads one envelope from JSON, strictly: an unknown attribute, a
// value of the wrong type, trailing data or a missing required attribute is a
// *FieldError that names the attribute.
func Decode(b []byte) (Envelope, error) {
	var e Envelope
	if err := decodeStrict(b, &e); err != nil {
		return Envelope{}, fmt.Errorf("decode envelope: %w", err)
	}
	if err := e.Validate(); err != nil {
		return Envelope{}, fmt.Errorf("decode envelope: %w", err)
	}
	return e, nil
}

// DecodeIfEnvelope decodes b if it is meant as an envelope: a JSON object
// with "specversion" at its top level. Then isEnvelope is true and err is
// Decode's; otherwise b is some other JSON (data from a system that knows
// nothing of troupe) and both are zero. An envelope costs one decode: the
// question is settled by the decode itself, and only when it fails by a
// second look at the top level.
func DecodeIfEnvelope(b []byte) (e Envelope, isEnvelope bool, err error) {
	if !bytes.Contains(b, []byte(`"specversion"`)) {
		return Envelope{}, false, nil
	}
	if e, err = Decode(b); err == nil {
		return e, true, nil
	}
	var probe struct {
		SpecVersion *json.RawMessage `json:"specversion"`
	}
	if json.Unmarshal(b, &probe) != nil || probe.SpecVersion == nil {
		return Envelope{}, false, nil
	}
	return Envelope{}, true, err
}

// FieldError says which field of a JSON document is wrong and why.
type FieldError struct {
	Field  string // dotted path; empty when the document as a whole is wrong
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("field %q: %s", e.Field, e.Reason)
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// decodeStrict unmarshals b into v, rejecting unknown fields, duplicate
// names, invalid UTF-8 and trailing data, and turns the errors into a
// *FieldError. It uses the JSON v2 decoder (encoding/json/v2's module
// mirror): one pass over b, where encoding/json's strict Decoder copies and
// scans it twice; events are decoded at every hop, so this is most of their
// decoding cost. Names match case-sensitively, as CloudEvents attributes and
// JSON Schema properties do.
func decodeStrict(b []byte, v any) error {
	if err := jsonv2.Unmarshal(b, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return jsonFieldError(err)
	}
	return nil
}

// jsonFieldError says which field is wrong and why, in the words the
// decoder's callers show to people.
func jsonFieldError(err error) error {
	var semErr *jsonv2.SemanticError
	var synErr *jsontext.SyntacticError
	var timeErr *time.ParseError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &FieldError{Reason: "malformed JSON: unexpected end of input"}
	case errors.As(err, &synErr):
		if strings.Contains(synErr.Error(), "after top-level value") {
			return &FieldError{Reason: "unexpected data after the JSON value"}
		}
		if errors.Is(synErr.Err, jsontext.ErrDuplicateName) {
			return fieldErr(dotted(synErr.JSONPointer), "appears twice (at byte %d): give each field once", synErr.ByteOffset)
		}
		return &FieldError{Reason: fmt.Sprintf("malformed JSON at byte %d: %v", synErr.ByteOffset, synErr.Err)}
	case errors.As(err, &semErr):
		field := dotted(semErr.JSONPointer)
		switch {
		case errors.Is(semErr.Err, jsonv2.ErrUnknownName):
			return fieldErr(field, "unknown field")
		case errors.As(semErr.Err, &timeErr):
			return fieldErr(field, "must be an RFC 3339 timestamp: %v", timeErr)
		case semErr.GoType != nil && semErr.JSONKind != 0:
			return fieldErr(field, "expected %s, got JSON %s", semErr.GoType, kindName(semErr.JSONKind))
		case semErr.Err != nil:
			return fieldErr(field, "%v", semErr.Err)
		}
		return fieldErr(field, "%v", semErr)
	}
	return &FieldError{Reason: err.Error()}
}

// dotted turns a JSON Pointer ("/items/0/sku") into a FieldError path
// ("items.0.sku").
func dotted(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// kindName names a JSON kind as people say it.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return k.String()
}
