package ingest

import (
	"encoding/json"
	"fmt"

	"github.com/troupehq/troupe/events"
)

// Validator checks an event's data against the schema of its type and
// version; *schemas.Set is one. Validate is called concurrently; its error
// says what is wrong and where (a JSON pointer inside the data).
type Validator interface {
	Validate(e events.Envelope) error
}

// isEnvelope reports whether raw is meant as a troupe envelope: a JSON object
// with a "specversion" member. The test is the consumer runtime's own, so
// what the runtime decodes as an envelope is checked as one here.
func isEnvelope(raw []byte) bool {
	var probe struct {
		SpecVersion *json.RawMessage `json:"specversion"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return false
	}
	return probe.SpecVersion != nil
}

// checkEnvelope decodes raw strictly and validates its data against its
// schema. The error names the attribute (events.Decode) or the JSON pointer
// inside the data (the schema).
func checkEnvelope(raw []byte, v Validator) (events.Envelope, error) {
	e, err := events.Decode(raw)
	if err != nil {
		return events.Envelope{}, err
	}
	if v != nil {
		if err := v.Validate(e); err != nil {
			return events.Envelope{}, fmt.Errorf("event %s: %w", e.ID, err)
		}
	}
	return e, nil
}
