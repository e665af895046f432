package dlq

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/events/pattern"
)

// Selector picks the messages a CLI command acts on. Its zero value selects
// every message; each set field narrows the selection (all must match).
// A Selector is a value; its Filter is immutable, so any number of
// goroutines may call Match at once.
type Selector struct {
	// Consumer, when set, selects the messages whose Consumer is exactly
	// this name (for the AWS shapes, a Lambda function name: see
	// Message.Consumer).
	Consumer string
	// Filter, when set, is an EventBridge event pattern matched against the
	// message's envelope presented as an EventBridge event:
	//
	//	{"source": <envelope source>, "detail-type": <envelope type>, "detail": <the envelope>}
	//
	// so that {"detail-type": ["orders.OrderPlaced"]} selects by type and
	// {"detail": {"data": {"order": ["o-42"]}}} by content. A message without
	// an envelope (Event nil: raw payloads, Kinesis failures) never matches
	// a Filter.
	Filter *pattern.Pattern
	// Since (inclusive) and Until (exclusive) bound the message's
	// LastFailure; zero means no bound. A message whose LastFailure is
	// unknown (zero) never matches a time bound.
	Since, Until time.Time
}

// Match reports whether the selector selects m. It returns an error only
// when the envelope cannot be presented to the Filter.
func (s Selector) Match(m Message) (bool, error) {
	if s.Consumer != "" && m.Consumer != s.Consumer {
		return false, nil
	}
	if !s.Since.IsZero() || !s.Until.IsZero() {
		t := m.LastFailure
		switch {
		case t.IsZero():
			return false, nil
		case !s.Since.IsZero() && t.Before(s.Since):
			return false, nil
		case !s.Until.IsZero() && !t.Before(s.Until):
			return false, nil
		}
	}
	if s.Filter == nil {
		return true, nil
	}
	if m.Event == nil {
		return false, nil
	}
	doc, err := filterDocument(*m.Event)
	if err != nil {
		return false, fmt.Errorf("dlq: select: event %s: %w", m.Event.Ref(), err)
	}
	ok, err := s.Filter.Match(doc)
	if err != nil {
		return false, fmt.Errorf("dlq: select: event %s: pattern %s: %w", m.Event.Ref(), s.Filter, err)
	}
	return ok, nil
}

// filterDocument presents an envelope as the EventBridge event a Filter
// matches.
func filterDocument(e events.Envelope) ([]byte, error) {
	return json.Marshal(struct {
		Source     string          `json:"source"`
		DetailType string          `json:"detail-type"`
		Detail     events.Envelope `json:"detail"`
	}{e.Source, e.Type, e})
}
