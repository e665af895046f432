package ingest

import (
	"fmt"

	"github.com/troupehq/troupe/events"
)

// Validator checks an event's data against the schema of its type and
// version; *schemas.Set is one. Validate is called concurrently; its error
// says what is wrong and where (a JSON pointer inside the data).
type Validator interface {
	Validate(e events.Envelope) error
}

// checkIfEnvelope checks raw as checkEnvelope does if it is meant as a
// troupe envelope (a JSON object with a top-level "specversion"), and says
// whether it is. The test is the consumer runtime's own
// (events.DecodeIfEnvelope), so what the runtime decodes as an envelope is
// checked as one here.
func checkIfEnvelope(raw []byte, v Validator) (e events.Envelope, isEnvelope bool, err error) {
	e, isEnvelope, err = events.DecodeIfEnvelope(raw)
	if !isEnvelope || err != nil {
		return e, isEnvelope, err
	}
	if err := validate(e, v); err != nil {
		return events.Envelope{}, true, err
	}
	return e, true, nil
}

// checkEnvelope decodes raw strictly and validates its data against its
// schema. The error names the attribute (events.Decode) or the JSON pointer
// inside the data (the schema).
func checkEnvelope(raw []byte, v Validator) (events.Envelope, error) {
	e, err := events.Decode(raw)
	if err != nil {
		return events.Envelope{}, err
	}
	if err := validate(e, v); err != nil {
		return events.Envelope{}, err
	}
	return e, nil
}

func validate(e events.Envelope, v Validator) error {
	if v == nil {
		return nil
	}
	if err := v.Validate(e); err != nil {
		return fmt.Errorf("event %s: %w", e.ID, err)
	}
	return nil
}
