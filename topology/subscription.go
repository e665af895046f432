package topology

import (
	"encoding/json"
	"fmt"

	"github.com/troupehq/troupe/events/pattern"
)

// BusSubscription subscribes a consumer to the bus with an EventBridge event
// pattern, matched against the EventBridge event (source, detail-type,
// detail = the troupe envelope, ...). On AWS it becomes a rule.
type BusSubscription struct {
	// Pattern is the event pattern as JSON, as the rule will carry it.
	Pattern  string
	compiled *pattern.Pattern
	err      error
}

// OnBus subscribes to the bus events that match an EventBridge pattern. The
// pattern is compiled here: a bad one fails Topology.Validate.
func OnBus(eventPattern string) *BusSubscription {
	s := &BusSubscription{Pattern: eventPattern}
	s.compiled, s.err = pattern.Compile([]byte(eventPattern))
	if s.err != nil {
		s.err = fmt.Errorf("bus pattern: %w", s.err)
	}
	return s
}

// OnBusTypes subscribes to the bus events of the given types (any version),
// the usual case: {"detail-type": [types...]}.
func OnBusTypes(types ...string) *BusSubscription {
	return OnBus(typesPattern("detail-type", types))
}

// Compiled returns the compiled pattern; nil if it did not compile.
func (s *BusSubscription) Compiled() *pattern.Pattern { return s.compiled }

// StreamSubscription subscribes a consumer to the stream. An optional filter
// selects records with an EventBridge pattern over the record as Lambda's
// event filtering sees it: {"partitionKey": ..., "data": <the envelope>}. On
// AWS it becomes the event source mapping's filter criteria.
type StreamSubscription struct {
	Filter   string // "" takes every record
	compiled *pattern.Pattern
	err      error
}

// OnStream subscribes to the stream, with an optional filter pattern ("" for
// every record).
func OnStream(filter string) *StreamSubscription {
	s := &StreamSubscription{Filter: filter}
	if filter != "" {
		s.compiled, s.err = pattern.Compile([]byte(filter))
		if s.err != nil {
			s.err = fmt.Errorf("stream filter: %w", s.err)
		}
	}
	return s
}

// OnStreamTypes subscribes to the stream records whose envelope has one of
// the given types.
func OnStreamTypes(types ...string) *StreamSubscription {
	return OnStream(`{"data":` + typesPattern("type", types) + `}`)
}

// Compiled returns the compiled filter; nil when there is none.
func (s *StreamSubscription) Compiled() *pattern.Pattern { return s.compiled }

// Selects reports whether the filter selects a record, matched as Lambda's
// event filtering sees a Kinesis record: {"partitionKey", "data"}, where
// data is the record's JSON (a record that is not JSON has no data to
// match). Without a filter every record is selected.
func (s *StreamSubscription) Selects(partitionKey string, data []byte) bool {
	if s.compiled == nil {
		return true
	}
	doc := map[string]json.RawMessage{}
	doc["partitionKey"], _ = json.Marshal(partitionKey)
	if json.Valid(data) {
		doc["data"] = data
	}
	b, _ := json.Marshal(doc)
	ok, _ := s.compiled.Match(b)
	return ok
}

func typesPattern(field string, types []string) string {
	p := `{"` + field + `":[`
	for i, t := range types {
		if i > 0 {
			p += ","
		}
		p += fmt.Sprintf("%q", t)
	}
	return p + "]}"
}
