package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/troupehq/troupe/producers"
)

type putEventsInput struct {
	Entries    *[]putEventsEntry `json:"Entries"`
	EndpointID *string           `json:"EndpointId"` // global endpoints: accepted, ignored
}

type putEventsEntry struct {
	Time         *awsTime `json:"Time"`
	Source       *string  `json:"Source"`
	Resources    []string `json:"Resources"`
	DetailType   *string  `json:"DetailType"`
	Detail       *string  `json:"Detail"`
	EventBusName *string  `json:"EventBusName"`
	TraceHeader  *string  `json:"TraceHeader"`
}

type putEventsOutput struct {
	FailedEntryCount int                 `json:"FailedEntryCount"`
	Entries          []putEventsResultEn `json:"Entries"`
}

type putEventsResultEn struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// putEvents serves AWSEvents.PutEvents: every entry that passes the checks
// goes to the bus in one SendBatch; the answer has one result per entry, in
// order, as EventBridge's.
func (h *awsHandler) putEvents(r *http.Request, body []byte) (any, *apiError) {
	var in putEventsInput
	if e := decodeInput(body, &in); e != nil {
		return nil, e
	}
	var v violations
	switch {
	case in.Entries == nil:
		v.add("Value null at 'entries' failed to satisfy constraint: Member must not be null")
	case len(*in.Entries) == 0:
		v.add("Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case len(*in.Entries) > MaxBusBatchEntries:
		v.add("Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to %d (got %d entries: send them in batches of %d)",
			MaxBusBatchEntries, len(*in.Entries), MaxBusBatchEntries)
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	entries := *in.Entries
	now := h.cfg.Now().UTC()
	out := putEventsOutput{Entries: make([]putEventsResultEn, len(entries))}
	var send []producers.BusEntry
	var sendIdx []int
	total := 0
	for i, en := range entries {
		be := producers.BusEntry{
			Source: deref(en.Source), DetailType: deref(en.DetailType), Detail: []byte(deref(en.Detail)),
			Resources: en.Resources, TraceHeader: deref(en.TraceHeader),
		}
		if en.Time != nil && !en.Time.IsZero() {
			be.Time = en.Time.Time
		}
		total += producers.BusEntrySize(be)
		if be.Time.IsZero() {
			be.Time = now // EventBridge stamps an entry without Time with the time of the call
		}
		if code, msg := h.checkEntry(en, be); code != "" {
			out.Entries[i] = putEventsResultEn{ErrorCode: code, ErrorMessage: msg}
			continue
		}
		send = append(send, be)
		sendIdx = append(sendIdx, i)
	}
	if total > h.cfg.MaxBusBatchBytes {
		return nil, clientErr(codeValidation, "Total size of the entries in the request is over the limit. "+
			"(%d bytes, counted as EventBridge counts them: Source, DetailType, Detail and Resources in UTF-8, plus 14 for Time; the limit is %d)",
			total, h.cfg.MaxBusBatchBytes)
	}
	if len(send) > 0 {
		results, err := h.cfg.Bus.SendBatch(r.Context(), send)
		for j, i := range sendIdx {
			out.Entries[i] = busResult(results, j, err)
		}
	}
	for _, en := range out.Entries {
		if en.ErrorCode != "" {
			out.FailedEntryCount++
		}
	}
	return out, nil
}

// checkEntry returns the per-entry ErrorCode and ErrorMessage of an entry
// that cannot go on the bus, or "".
func (h *awsHandler) checkEntry(en putEventsEntry, be producers.BusEntry) (code, msg string) {
	required := func(name string) (string, string) {
		return codeInvalidArgumentEB, fmt.Sprintf("Parameter %s is not valid. Reason: %s is a required argument.", name, name)
	}
	switch {
	case be.Source == "":
		return required("Source")
	case be.DetailType == "":
		return required("DetailType")
	case len(be.Detail) == 0:
		return required("Detail")
	case utf8.RuneCountInString(be.DetailType) > 128:
		return codeInvalidArgumentEB, fmt.Sprintf("Parameter DetailType is not valid. Reason: DetailType is %d characters, the limit is 128.", utf8.RuneCountInString(be.DetailType))
	}
	if name := deref(en.EventBusName); !h.isOurBus(name) {
		return codeResourceNotFound, fmt.Sprintf("Event bus %s does not exist. troupe dev serves one bus, %q: "+
			"omit EventBusName, or give %q, \"default\" or arn:aws:events:%s:%s:event-bus/%s. "+
			"(AWS itself would accept this entry and drop it.)",
			name, h.cfg.BusName, h.cfg.BusName, h.cfg.Region, h.cfg.Account, h.cfg.BusName)
	}
	if !json.Valid(be.Detail) { // decoded only to say where it breaks
		var detail any
		err := json.Unmarshal(be.Detail, &detail)
		return codeMalformedDetail, fmt.Sprintf("Detail is malformed. (%v)", jsonErrText(be.Detail, err))
	}
	if !bytes.HasPrefix(bytes.TrimLeft(be.Detail, " \t\r\n"), []byte("{")) {
		return codeMalformedDetail, "Detail is malformed. (It must be a JSON object: a troupe envelope, or your own event's fields.)"
	}
	e, isEnvelope, err := checkIfEnvelope(be.Detail, h.cfg.Validator)
	if !isEnvelope {
		if err := checkForeignVersion(be.Detail); err != nil {
			return codeInvalidArgumentEB, "Parameter Detail is not valid. Reason: " + err.Error()
		}
		return "", "" // plain data from a system that knows nothing of troupe: the runtime wraps it
	}
	if err != nil {
		return codeInvalidArgumentEB, "Parameter Detail is not valid. Reason: Detail holds a troupe envelope (it has \"specversion\") that consumers would reject: " + err.Error()
	}
	if e.Type != be.DetailType {
		return codeInvalidArgumentEB, fmt.Sprintf("Parameter DetailType is not valid. Reason: DetailType %q differs from the type %q of the troupe envelope in Detail; consumers would reject the event: make them equal", be.DetailType, e.Type)
	}
	return "", ""
}

// checkForeignVersion checks the one member of foreign data the consumer
// runtime reads: "dataversion", an integer >= 1 when present, read as the
// runtime reads it.
func checkForeignVersion(detail []byte) error {
	if !bytes.Contains(detail, []byte(`"dataversion"`)) {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(detail, &fields); err != nil {
		return err
	}
	raw, ok := fields["dataversion"]
	if !ok {
		return nil
	}
	var version int
	if err := json.Unmarshal(raw, &version); err != nil || version < 1 {
		return fmt.Errorf("\"dataversion\" in Detail must be an integer >= 1 (the version of the event's schema), got %s", raw)
	}
	return nil
}

func (h *awsHandler) isOurBus(name string) bool {
	if name == "" || name == "default" || name == h.cfg.BusName {
		return true
	}
	n, ok := arnName(name, "event-bus")
	return ok && (n == h.cfg.BusName || n == "default")
}

// busResult turns the bus's answer for entry j of a SendBatch into an
// EventBridge result entry. A failed call fails every entry sent with it:
// InternalFailure (retryable) unless the bus is missing.
func busResult(results []producers.EntryResult, j int, err error) putEventsResultEn {
	switch {
	case errors.Is(err, producers.ErrNotFound):
		return putEventsResultEn{ErrorCode: codeResourceNotFound, ErrorMessage: err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return putEventsResultEn{ErrorCode: codeInternalFailure, ErrorMessage: "the request was cancelled before the bus answered: " + err.Error()}
	case err != nil:
		return putEventsResultEn{ErrorCode: codeInternalFailure, ErrorMessage: "Internal Service Failure: " + err.Error()}
	case j >= len(results):
		return putEventsResultEn{ErrorCode: codeInternalFailure, ErrorMessage: fmt.Sprintf("Internal Service Failure: the bus answered %d results for more entries", len(results))}
	}
	res := results[j]
	if res.Failed() {
		return putEventsResultEn{ErrorCode: res.ErrorCode, ErrorMessage: res.ErrorMessage}
	}
	return putEventsResultEn{EventID: res.ID}
}

type describeEventBusInput struct {
	Name *string `json:"Name"`
}

type describeEventBusOutput struct {
	Name             string       `json:"Name"`
	Arn              string       `json:"Arn"`
	Description      string       `json:"Description,omitempty"`
	CreationTime     epochSeconds `json:"CreationTime"`
	LastModifiedTime epochSeconds `json:"LastModifiedTime"`
}

// describeEventBus serves AWSEvents.DescribeEventBus for the engine's bus
// and "default" (both the same bus), by name or ARN; any other bus is a
// ResourceNotFoundException, as on AWS.
func (h *awsHandler) describeEventBus(_ *http.Request, body []byte) (any, *apiError) {
	var in describeEventBusInput
	if e := decodeInput(body, &in); e != nil {
		return nil, e
	}
	name := deref(in.Name)
	if !h.isOurBus(name) {
		return nil, clientErr(codeResourceNotFound, "Event bus %s does not exist. troupe dev serves one bus, %q (also reachable as \"default\").", name, h.cfg.BusName)
	}
	shown := h.cfg.BusName
	if n, ok := arnName(name, "event-bus"); ok {
		name = n
	}
	if name == "default" || name == "" {
		shown = "default"
	}
	return describeEventBusOutput{
		Name:             shown,
		Arn:              fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", h.cfg.Region, h.cfg.Account, shown),
		Description:      fmt.Sprintf("the bus of troupe dev (%s)", h.cfg.BusName),
		CreationTime:     epochSeconds(h.created),
		LastModifiedTime: epochSeconds(h.created),
	}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// jsonErrText says where JSON is malformed.
func jsonErrText(b []byte, err error) string {
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		line, col := lineCol(b, syntaxErr.Offset)
		return fmt.Sprintf("malformed JSON at byte %d (line %d, column %d): %v", syntaxErr.Offset, line, col, err)
	}
	if err.Error() == "unexpected end of JSON input" {
		return fmt.Sprintf("malformed JSON: unexpected end of input at byte %d", len(b))
	}
	return err.Error()
}
