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

// decodeStrict unmarshals b into v, rejecting unknown fields and trailing
// data, and turns encoding/json's errors into a *FieldError.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonFieldError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &FieldError{Reason: "unexpected data after the JSON value"}
	}
	return nil
}

func jsonFieldError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var timeErr *time.ParseError
	switch {
	case errors.As(err, &typeErr):
		return fieldErr(typeErr.Field, "expected %s, got JSON %s", typeErr.Type, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return &FieldError{Reason: fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)}
	case errors.As(err, &timeErr):
		return fieldErr("time", "must be an RFC 3339 timestamp: %v", timeErr)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &FieldError{Reason: "malformed JSON: unexpected end of input"}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fieldErr(strings.Trim(name, `"`), "unknown field")
	}
	return &FieldError{Reason: err.Error()}
}
