package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/producers"
)

// The CloudEvents HTTP binding's JSON modes: structured (one event, the body
// is the event) and batched (a JSON array of events).
const (
	ContentTypeCloudEvent      = "application/cloudevents+json"
	ContentTypeCloudEventBatch = "application/cloudevents-batch+json"
	// ContentTypeProblem is RFC 9457's problem details, the body of every
	// request-level error of the CloudEvents endpoint.
	ContentTypeProblem = "application/problem+json"
)

// Limits of the CloudEvents endpoint.
const (
	// DefaultMaxCloudEventsBodyBytes bounds a request body; over it, 413.
	DefaultMaxCloudEventsBodyBytes = 10 << 20
	// DefaultMaxCloudEventsBatch bounds the events of one batch; over it, 413.
	DefaultMaxCloudEventsBatch = 1000
)

// Publisher publishes events to both legs; *producers.Publisher is one.
type Publisher interface {
	// Publish sends the events to the bus and the stream and returns one
	// Result per event, in order; the error is nil when every event reached
	// both legs. It is called concurrently, with the request's context:
	// cancelling it abandons what is in flight.
	Publish(ctx context.Context, evs ...events.Envelope) ([]producers.Result, error)
}

var _ Publisher = (*producers.Publisher)(nil)

// CloudEventsConfig configures the CloudEvents endpoint.
type CloudEventsConfig struct {
	// Publisher takes the events that pass the checks. Required.
	Publisher Publisher
	// Validator checks each event's data against its schema before it is
	// published, so a bad event is told with its JSON pointer. Optional:
	// without it the Publisher's own validation reports the same events,
	// as a leg that was not sent.
	Validator Validator
	// MaxBodyBytes and MaxBatch bound a request (defaults
	// DefaultMaxCloudEventsBodyBytes, DefaultMaxCloudEventsBatch).
	MaxBodyBytes int64
	MaxBatch     int
}

// SetDefaults fills every zero limit with its default.
func (c *CloudEventsConfig) SetDefaults() {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxCloudEventsBodyBytes
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxCloudEventsBatch
	}
}

// Validate reports what is missing.
func (c CloudEventsConfig) Validate() error {
	if c.Publisher == nil {
		return errors.New("ingest: CloudEventsConfig.Publisher is required: a *producers.Publisher over the engine's bus and stream")
	}
	return nil
}

// CloudEventsResponse is the body of every answer of the CloudEvents
// endpoint that got as far as the events: one result per event, in the
// order sent. Its HTTP status sums it up:
//
//	200 every event accepted
//	207 some accepted, some rejected (a bad event never blocks good ones)
//	400 none accepted, every one for a fault of its own (invalid, too large)
//	503 none accepted, some because the engine's bus or stream failed them
//
// A client reads Rejected; when it is not 0, it sends again the events whose
// result says "retryable" (the same envelopes, same ids: consumers
// deduplicate by id) and fixes the others.
type CloudEventsResponse struct {
	Results  []CloudEventResult `json:"results"`
	Accepted int                `json:"accepted"`
	Rejected int                `json:"rejected"`
}

// CloudEventResult is the outcome of one event.
type CloudEventResult struct {
	// Index is the event's position in the batch (0 for a single event).
	Index int `json:"index"`
	// ID and Type are the event's, as far as they could be read.
	ID   string `json:"id,omitempty"`
	Type string `json:"type,omitempty"`
	// Status is "accepted" (on both the bus and the stream) or "rejected".
	Status string `json:"status"`
	// Error says why the event was rejected: the attribute, or the JSON
	// pointer inside the data, and what is wrong.
	Error string `json:"error,omitempty"`
	// Retryable says that sending the same event again may succeed.
	Retryable bool `json:"retryable,omitempty"`
	// Bus and Stream are the outcomes on each leg, for events that were
	// handed to the Publisher.
	Bus    *LegOutcome `json:"bus,omitempty"`
	Stream *LegOutcome `json:"stream,omitempty"`
}

// LegOutcome is an event's outcome on one leg.
type LegOutcome struct {
	// Status is "sent", "failed" or "not sent".
	Status string `json:"status"`
	// EventID is the bus's id of the event.
	EventID string `json:"eventId,omitempty"`
	// ShardID and SequenceNumber place the record on the stream.
	ShardID        string `json:"shardId,omitempty"`
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	Attempts       int    `json:"attempts,omitempty"`
	Error          string `json:"error,omitempty"`

	fault bool // refused for a fault of the event's (invalid, too large)
}

// Problem is an RFC 9457 problem details object, the body of a request-level
// error (Content-Type application/problem+json).
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// Offset, Line and Column locate malformed JSON in the body.
	Offset *int64 `json:"offset,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Limit is the limit a request went over.
	Limit int64 `json:"limit,omitempty"`
}

const problemTypePrefix = "urn:troupe:problem:"

func newProblem(status int, slug, title, format string, args ...any) *Problem {
	return &Problem{Type: problemTypePrefix + slug, Title: title, Status: status, Detail: fmt.Sprintf(format, args...)}
}

type cloudEventsHandler struct {
	cfg CloudEventsConfig
}

// NewCloudEvents returns the handler of the CloudEvents endpoint: POST with
// Content-Type application/cloudevents+json (one event) or
// application/cloudevents-batch+json (a JSON array). Each event must be a
// troupe envelope; it is decoded strictly (events.Decode), its data checked
// against its schema, and the valid ones published to both legs in one
// Publish. The answer is a CloudEventsResponse, or a Problem for a request
// that cannot be read: 405 (not POST), 415 (another content type, including
// the binary mode's ce-* headers), 400 (malformed JSON, with its byte
// offset; a batch that is not an array or is empty; an array sent as one
// event), 413 (body or batch too large).
//
// The handler is safe for concurrent use. It panics if cfg does not
// Validate.
func NewCloudEvents(cfg CloudEventsConfig) http.Handler {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &cloudEventsHandler{cfg: cfg}
}

func (h *cloudEventsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeProblem(w, newProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
			"%s: publish events with POST", r.Method))
		return
	}
	batch, p := ceMode(r.Header.Get("Content-Type"))
	if p != nil {
		writeProblem(w, p)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			p := newProblem(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
				"the body is over the %d-byte limit: send fewer events per request", h.cfg.MaxBodyBytes)
			p.Limit = h.cfg.MaxBodyBytes
			writeProblem(w, p)
			return
		}
		writeProblem(w, newProblem(http.StatusBadRequest, "unreadable-body", "Unreadable request body", "%v", err))
		return
	}
	raws, p := h.split(body, batch)
	if p != nil {
		writeProblem(w, p)
		return
	}
	resp := h.publish(r.Context(), raws)
	writeJSON(w, resp.status(), resp)
}

// ceMode reads the Content-Type: batch or single, or a 415 problem.
func ceMode(ct string) (batch bool, p *Problem) {
	unsupported := func(format string, args ...any) *Problem {
		return newProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			format+"; send one event as %s or a JSON array of events as %s (the binary mode, ce-* headers, is not supported)",
			append(args, ContentTypeCloudEvent, ContentTypeCloudEventBatch)...)
	}
	if ct == "" {
		return false, unsupported("no Content-Type")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false, unsupported("unreadable Content-Type %q", ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false, unsupported("charset %q: JSON events are UTF-8", cs)
	}
	switch mt {
	case ContentTypeCloudEvent:
		return false, nil
	case ContentTypeCloudEventBatch:
		return true, nil
	}
	return false, unsupported("Content-Type %q", mt)
}

// split reads the body into one raw JSON value per event.
func (h *cloudEventsHandler) split(body []byte, batch bool) ([]json.RawMessage, *Problem) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, newProblem(http.StatusBadRequest, "malformed-json", "Malformed JSON", "the body is empty: send %s",
			map[bool]string{false: "one event (a JSON object)", true: "a JSON array of events"}[batch])
	}
	if !batch {
		var raw json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, malformed(body, err)
		}
		if t := bytes.TrimSpace(raw); t[0] == '[' {
			return nil, newProblem(http.StatusBadRequest, "array-as-single-event", "A batch sent as one event",
				"the body is a JSON array, but Content-Type says one event (%s): send a batch as %s",
				ContentTypeCloudEvent, ContentTypeCloudEventBatch)
		}
		return []json.RawMessage{raw}, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, newProblem(http.StatusBadRequest, "batch-not-array", "A batch must be a JSON array",
				"the body is a JSON %s, but Content-Type says a batch (%s): send a JSON array of events, or one event as %s",
				typeErr.Value, ContentTypeCloudEventBatch, ContentTypeCloudEvent)
		}
		return nil, malformed(body, err)
	}
	switch {
	case len(raws) == 0:
		return nil, newProblem(http.StatusBadRequest, "empty-batch", "Empty batch",
			"the batch holds no events: send at least one")
	case len(raws) > h.cfg.MaxBatch:
		p := newProblem(http.StatusRequestEntityTooLarge, "batch-too-large", "Too many events in one batch",
			"the batch holds %d events, over the limit of %d: split it", len(raws), h.cfg.MaxBatch)
		p.Limit = int64(h.cfg.MaxBatch)
		return nil, p
	}
	return raws, nil
}

func malformed(body []byte, err error) *Problem {
	var off int64
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &syntaxErr):
		off = syntaxErr.Offset
	default: // the end came too soon
		off = int64(len(body))
	}
	line, col := lineCol(body, off)
	p := newProblem(http.StatusBadRequest, "malformed-json", "Malformed JSON",
		"malformed JSON at byte %d (line %d, column %d): %v", off, line, col, err)
	p.Offset, p.Line, p.Column = &off, line, col
	return p
}

type ceResponse struct {
	CloudEventsResponse
	legFailures int // rejected by a leg, not for a fault of the event's
}

// publish checks every event, publishes the valid ones in one call, and
// gathers one result per event.
func (h *cloudEventsHandler) publish(ctx context.Context, raws []json.RawMessage) ceResponse {
	results := make([]CloudEventResult, len(raws))
	var valid []events.Envelope
	var validIdx []int
	for i, raw := range raws {
		results[i] = CloudEventResult{Index: i}
		e, err := h.check(raw)
		if err != nil {
			results[i].ID, results[i].Type = peekIDType(raw)
			results[i].Status, results[i].Error = "rejected", err.Error()
			continue
		}
		results[i].ID, results[i].Type = e.ID, e.Type
		valid = append(valid, e)
		validIdx = append(validIdx, i)
	}
	if len(valid) > 0 {
		pub, err := h.cfg.Publisher.Publish(ctx, valid...)
		for j, i := range validIdx {
			results[i] = legResults(results[i], pub, j, err)
		}
	}
	var resp ceResponse
	resp.Results = results
	for _, r := range results {
		switch {
		case r.Status == "accepted":
			resp.Accepted++
		case r.Bus != nil && !eventFault(r):
			resp.Rejected++
			resp.legFailures++
		default:
			resp.Rejected++
		}
	}
	return resp
}

// eventFault reports whether a rejected event that reached the Publisher was
// rejected for a fault of its own: invalid or too large.
func eventFault(r CloudEventResult) bool {
	for _, l := range []*LegOutcome{r.Bus, r.Stream} {
		if l != nil && l.fault {
			return true
		}
	}
	return false
}

func (r ceResponse) status() int {
	switch {
	case r.Rejected == 0:
		return http.StatusOK
	case r.Accepted > 0:
		return http.StatusMultiStatus
	case r.legFailures > 0:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

func (h *cloudEventsHandler) check(raw json.RawMessage) (events.Envelope, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return events.Envelope{}, fmt.Errorf("an event must be a JSON object (a troupe envelope), got %.40s", t)
	}
	return checkEnvelope(raw, h.cfg.Validator)
}

// peekIDType reads what it can of an invalid event, so that its result can
// be matched to it.
func peekIDType(raw json.RawMessage) (id, typ string) {
	var probe struct {
		ID   any `json:"id"`
		Type any `json:"type"`
	}
	_ = json.Unmarshal(raw, &probe)
	s, _ := probe.ID.(string)
	t, _ := probe.Type.(string)
	return s, t
}

// legResults fills in result from the Publisher's answer for event j.
func legResults(res CloudEventResult, pub []producers.Result, j int, err error) CloudEventResult {
	if j >= len(pub) {
		if err == nil {
			err = fmt.Errorf("the publisher answered %d results for more events", len(pub))
		}
		res.Status, res.Error, res.Retryable = "rejected", "not published: "+err.Error(), true
		return res
	}
	p := pub[j]
	res.Bus = legOutcome(p.Bus, false)
	res.Stream = legOutcome(p.Stream, true)
	if p.OK() {
		res.Status = "accepted"
		return res
	}
	res.Status = "rejected"
	var msgs []string
	res.Retryable = true
	for _, leg := range []struct {
		name string
		l    producers.LegResult
	}{{"bus", p.Bus}, {"stream", p.Stream}} {
		if leg.l.OK() {
			continue
		}
		msgs = append(msgs, leg.name+": "+leg.l.String())
		if errors.Is(leg.l.Err, producers.ErrInvalid) || errors.Is(leg.l.Err, producers.ErrTooLarge) || errors.Is(leg.l.Err, producers.ErrNotFound) {
			res.Retryable = false // the same event would meet the same answer
		}
	}
	res.Error = strings.Join(msgs, "; ")
	return res
}

func legOutcome(l producers.LegResult, stream bool) *LegOutcome {
	o := &LegOutcome{Status: l.Status.String(), Attempts: l.Attempts,
		fault: errors.Is(l.Err, producers.ErrInvalid) || errors.Is(l.Err, producers.ErrTooLarge)}
	if l.Err != nil {
		o.Error = l.Err.Error()
	}
	if l.OK() {
		if stream {
			o.ShardID, o.SequenceNumber = l.Shard, l.ID
		} else {
			o.EventID = l.ID
		}
	}
	return o
}

func writeProblem(w http.ResponseWriter, p *Problem) {
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", ContentTypeProblem)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v ceResponse) {
	body, err := json.Marshal(v.CloudEventsResponse)
	if err != nil {
		writeProblem(w, newProblem(http.StatusInternalServerError, "internal", "Internal error", "encode response: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
