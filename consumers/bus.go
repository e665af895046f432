package consumers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/troupehq/troupe/events"
)

// busEvent is an EventBridge event as a rule target receives it.
type busEvent struct {
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Time       time.Time       `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

// HandleBusEvent runs the consumer on one EventBridge event, as Lambda
// invokes it asynchronously. It returns nil when the event was handled, was a
// duplicate, or was dead-lettered (an event that cannot succeed: bad data, an
// unknown type or version, a permanent handler error). It returns an error
// when the event should be delivered again: a retryable handler error after
// the in-process retries (Lambda's async retries, then its OnFailure
// destination, take over), or an infrastructure failure.
func (r *Runtime) HandleBusEvent(ctx context.Context, raw json.RawMessage) error {
	d := &Delivery{Raw: raw, Origin: Origin{Source: "bus"}}
	e, err := EnvelopeFromBus(raw)
	if err != nil {
		return r.deliver(ctx, r.parkUndecodable(err), d)
	}
	d.Envelope = e
	return r.deliver(ctx, r.onBus, d)
}

// EnvelopeFromBus returns the troupe envelope an EventBridge event carries.
// A detail that is a troupe envelope (it has "specversion") is decoded
// strictly. Any other detail comes from a system that knows nothing of
// troupe, and is wrapped: type = detail-type, source = source, id = the
// EventBridge event id, time = the event time, version = "dataversion" in
// the detail if present (and removed from the data), else 1.
func EnvelopeFromBus(raw []byte) (events.Envelope, error) {
	var ev busEvent
	// JSON v2: one pass over the event, where encoding/json makes two; every
	// bus delivery decodes one. As lenient as EventBridge and encoding/json
	// with a detail from a foreign system (a name twice, invalid UTF-8); a
	// troupe envelope in it is then decoded strictly.
	if err := jsonv2.Unmarshal(raw, &ev, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)); err != nil {
		return events.Envelope{}, fmt.Errorf("%w: not an EventBridge event: %v", errDecode, err)
	}
	if ev.ID == "" || ev.DetailType == "" || ev.Source == "" || len(ev.Detail) == 0 {
		return events.Envelope{}, fmt.Errorf("%w: not an EventBridge event: id, detail-type, source and detail are required", errDecode)
	}
	e, isEnvelope, err := events.DecodeIfEnvelope(ev.Detail)
	switch {
	case !isEnvelope:
	case err != nil:
		return events.Envelope{}, fmt.Errorf("%w: detail: %w", errDecode, err)
	case e.Type != ev.DetailType:
		return events.Envelope{}, fmt.Errorf("%w: detail-type %q but the envelope's type is %q", errDecode, ev.DetailType, e.Type)
	default:
		return e, nil
	}
	if !bytes.HasPrefix(bytes.TrimLeft(ev.Detail, " \t\r\n"), []byte("{")) {
		return events.Envelope{}, fmt.Errorf("%w: the detail is not a JSON object", errDecode)
	}
	return wrapForeign(ev)
}

func wrapForeign(ev busEvent) (events.Envelope, error) {
	data, version, err := splitDataVersion(ev.Detail)
	if err != nil {
		return events.Envelope{}, fmt.Errorf("%w: detail: %v", errDecode, err)
	}
	e := events.Envelope{
		SpecVersion: events.SpecVersion, ID: ev.ID, Source: ev.Source, Type: ev.DetailType,
		Time: ev.Time, DataContentType: events.ContentTypeJSON, DataVersion: version,
		CorrelationID: ev.ID, Data: data,
	}
	if err := e.Validate(); err != nil {
		return events.Envelope{}, fmt.Errorf("%w: %w", errDecode, err)
	}
	return e, nil
}

// splitDataVersion takes "dataversion" out of a foreign detail object.
func splitDataVersion(detail json.RawMessage) (json.RawMessage, int, error) {
	if !bytes.Contains(detail, []byte(`"dataversion"`)) {
		return detail, 1, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(detail, &fields); err != nil {
		return nil, 0, err
	}
	raw, ok := fields["dataversion"]
	if !ok {
		return detail, 1, nil
	}
	var version int
	if err := json.Unmarshal(raw, &version); err != nil || version < 1 {
		return nil, 0, fmt.Errorf(`"dataversion" must be an integer >= 1, got %s`, raw)
	}
	delete(fields, "dataversion")
	data, err := json.Marshal(fields)
	return data, version, err
}
