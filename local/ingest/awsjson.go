package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The AWS JSON 1.1 protocol, as EventBridge and Kinesis speak it: a POST to
// any path, the operation in X-Amz-Target ("AWSEvents.PutEvents",
// "Kinesis_20131202.PutRecords"), a JSON body; timestamps are epoch seconds
// (a JSON number), blobs are base64 strings. A client error is HTTP 400
// with the body {"__type": CODE, "message": TEXT} and the code again in the
// X-Amzn-ErrorType header; a server fault is HTTP 500 the same way.
const (
	amzJSONContentType = "application/x-amz-json-1.1"
	amzCBORContentType = "application/x-amz-cbor-1.1"
)

// AWS error codes the handler answers with.
const (
	codeSerialization       = "SerializationException"
	codeValidation          = "ValidationException"
	codeUnknownOperation    = "UnknownOperationException"
	codeResourceNotFound    = "ResourceNotFoundException"
	codeInvalidArgumentKin  = "InvalidArgumentException" // Kinesis's name
	codeInvalidArgumentEB   = "InvalidArgument"          // EventBridge's per-entry code
	codeMalformedDetail     = "MalformedDetail"
	codeInternalFailure     = "InternalFailure"          // per-entry code on both services
	codeInternalFailureKin  = "InternalFailureException" // Kinesis's whole-call fault
	codeInternalException   = "InternalException"        // EventBridge's whole-call fault
	codeRequestTooLarge     = "RequestEntityTooLargeException"
	codeUnsupportedProtocol = "UnsupportedProtocolException"
)

// apiError is an answer in AWS's error shape.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func clientErr(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

func writeAWSJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only our own types are written: a bug
		status = http.StatusInternalServerError
		body = fmt.Appendf(nil, `{"__type":%q,"message":%q}`, codeInternalFailure, "encode response: "+err.Error())
		w.Header().Set("X-Amzn-ErrorType", codeInternalFailure)
	}
	h := w.Header()
	h.Set("Content-Type", amzJSONContentType)
	h.Set("X-Amzn-RequestId", uuid.NewString())
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeAWSError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeAWSJSON(w, e.status, struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.code, e.message})
}

// decodeInput reads a request body into in. Unknown members are ignored, as
// AWS ignores members newer clients send; malformed JSON or a member of the
// wrong type is a SerializationException that says where.
func decodeInput(body []byte, in any) *apiError {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return clientErr(codeSerialization, "the request body is empty: send a JSON object")
	}
	if trimmed[0] != '{' {
		return clientErr(codeSerialization, "the request body must be a JSON object, it starts with %q", trimmed[:1])
	}
	err := json.Unmarshal(body, in)
	if err == nil {
		return nil
	}
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var fieldErr *fieldError
	switch {
	case errors.As(err, &syntaxErr):
		line, col := lineCol(body, syntaxErr.Offset)
		return clientErr(codeSerialization, "malformed JSON at byte %d (line %d, column %d): %v", syntaxErr.Offset, line, col, syntaxErr)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(request)"
		}
		return clientErr(codeSerialization, "member %s: expected %s, got JSON %s", field, typeName(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &fieldErr):
		return clientErr(codeSerialization, "%v", fieldErr)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return clientErr(codeSerialization, "malformed JSON: unexpected end of input at byte %d", len(body))
	}
	return clientErr(codeSerialization, "%v", err)
}

// typeName turns a Go type in a decoding error into the JSON type a client
// should have sent.
func typeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"), strings.HasPrefix(goType, "*[]"):
		return "a JSON array"
	case strings.Contains(goType, "string"):
		return "a JSON string"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a JSON number"
	case strings.Contains(goType, "bool"):
		return "true or false"
	default:
		return "a JSON object"
	}
}

func lineCol(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	line = 1 + bytes.Count(b[:off], []byte("\n"))
	col = int(off) - bytes.LastIndexByte(b[:off], '\n')
	return line, col
}

// fieldError is a member whose JSON value has the right type but an
// unreadable content (a timestamp, a base64 blob).
type fieldError struct {
	what, reason string
}

func (e *fieldError) Error() string { return e.what + ": " + e.reason }

// awsTime is a timestamp member: epoch seconds as a JSON number (what the
// AWS JSON protocols send), or, leniently, an RFC 3339 string.
type awsTime struct{ time.Time }

func (t *awsTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if v, err := time.Parse(time.RFC3339Nano, s); err == nil {
			t.Time = v
			return nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return t.setEpoch(f, b)
		}
		return &fieldError{"timestamp " + string(b), "want epoch seconds (a JSON number) or an RFC 3339 string"}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return &fieldError{"timestamp " + string(b), "want epoch seconds (a JSON number) or an RFC 3339 string"}
	}
	return t.setEpoch(f, b)
}

func (t *awsTime) setEpoch(f float64, raw []byte) error {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 253402300799 { // up to 9999-12-31
		return &fieldError{"timestamp " + string(raw), "out of range"}
	}
	t.Time = time.UnixMilli(int64(math.Round(f * 1000))).UTC()
	return nil
}

// epochSeconds is a timestamp as the AWS JSON protocols write it.
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// blob is a blob member: base64 in a JSON string.
type blob []byte

func (b *blob) UnmarshalJSON(raw []byte) error {
	if string(raw) == "null" {
		*b = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	out, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if out2, err2 := base64.RawStdEncoding.DecodeString(s); err2 == nil {
			out, err = out2, nil
		}
	}
	if err != nil {
		return &fieldError{"blob", fmt.Sprintf("not valid base64 (%v): blobs such as Data are sent base64-encoded", err)}
	}
	*b = out
	if *b == nil {
		*b = []byte{}
	}
	return nil
}

// violations collects the constraint failures AWS reports together in one
// ValidationException: "2 validation errors detected: Value null at
// 'entries' failed to satisfy constraint: Member must not be null; ...".
type violations []string

func (v *violations) add(format string, args ...any) {
	*v = append(*v, fmt.Sprintf(format, args...))
}

func (v violations) err() *apiError {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return clientErr(codeValidation, "1 validation error detected: %s", v[0])
	}
	return clientErr(codeValidation, "%d validation errors detected: %s", len(v), strings.Join(v, "; "))
}
