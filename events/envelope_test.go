package events_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/troupehq/troupe/events"
)

func TestNewAssignsIdentityOnce(t *testing.T) {
	e, err := events.New("orders.OrderPlaced", 2, map[string]string{"orderId": "o-1"}, events.WithSubject("o-1"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(e.ID)
	if err != nil || id.Version() != 7 {
		t.Fatalf("id %q: want a UUIDv7 (err %v)", e.ID, err)
	}
	if e.SpecVersion != "1.0" || e.Source != "orders" || e.DataContentType != "application/json" || e.DataVersion != 2 {
		t.Fatalf("defaults: %+v", e)
	}
	if e.CorrelationID != e.ID {
		t.Fatalf("correlation id %q: a new chain starts with the event's own id %q", e.CorrelationID, e.ID)
	}
	if e.Key() != "o-1" {
		t.Fatalf("key %q: want the subject", e.Key())
	}
	if time.Since(e.Time) > time.Minute || e.Time.Location() != time.UTC {
		t.Fatalf("time %v: want now, in UTC", e.Time)
	}
}

func TestCausedByChainsIDs(t *testing.T) {
	cause, _ := events.New("orders.OrderPlaced", 2, struct{}{}, events.WithSubject("o-1"), events.WithTraceParent("00-abc-def-01"))
	next, err := events.New("payments.PaymentAuthorized", 1, struct{}{}, events.CausedBy(cause))
	if err != nil {
		t.Fatal(err)
	}
	if next.CorrelationID != cause.ID || next.CausationID != cause.ID || next.Subject != "o-1" || next.TraceParent != cause.TraceParent {
		t.Fatalf("chain not carried: %+v", next)
	}
	if next.ID == cause.ID {
		t.Fatal("a caused event needs its own id")
	}
}

func TestKeyFallsBackToID(t *testing.T) {
	e, _ := events.New("orders.OrderPlaced", 1, struct{}{})
	if e.Key() != e.ID {
		t.Fatalf("key %q: want id %q", e.Key(), e.ID)
	}
	e.PartitionKey = "pk"
	e.Subject = "s"
	if e.Key() != "pk" {
		t.Fatalf("key %q: want the explicit partition key", e.Key())
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	e, _ := events.New("orders.OrderPlaced", 2, map[string]any{"orderId": "o-1", "n": 3},
		events.WithSubject("o-1"), events.WithPartitionKey("p"), events.WithCausationID("c"),
		events.WithTraceParent("tp"), events.WithDataSchema("https://example.com/s.json"))
	b, err := events.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := events.Encode(got)
	if string(again) != string(b) {
		t.Fatalf("round trip changed the envelope:\n%s\n%s", b, again)
	}
	var attrs map[string]any
	_ = json.Unmarshal(b, &attrs)
	for _, name := range []string{"specversion", "id", "source", "type", "time", "subject", "datacontenttype", "dataversion", "correlationid", "causationid", "partitionkey", "traceparent", "dataschema", "data"} {
		if _, ok := attrs[name]; !ok {
			t.Errorf("attribute %q missing from %s", name, b)
		}
	}
}

func TestDecodeNamesTheField(t *testing.T) {
	valid := `"specversion":"1.0","id":"1","source":"s","type":"orders.OrderPlaced","time":"2026-01-02T03:04:05Z","dataversion":1,"data":{}`
	cases := []struct {
		name, doc, field, reason string
	}{
		{"malformed", `{"id":`, "", "malformed JSON"},
		{"syntax", `{"id" 1}`, "", "malformed JSON at byte"},
		{"trailing", `{` + valid + `} {}`, "", "unexpected data after"},
		{"unknown attribute", `{` + valid + `,"colour":"red"}`, "colour", "unknown field"},
		{"wrong type", `{"specversion":"1.0","id":1}`, "id", "expected string, got JSON number"},
		{"version as string", `{"specversion":"1.0","dataversion":"2"}`, "dataversion", "expected int"},
		{"bad time", `{"specversion":"1.0","time":"yesterday"}`, "time", "RFC 3339"},
		{"missing id", `{"specversion":"1.0","source":"s","type":"t","time":"2026-01-02T03:04:05Z","dataversion":1,"data":{}}`, "id", "is required"},
		{"missing version", `{"specversion":"1.0","id":"1","source":"s","type":"t","time":"2026-01-02T03:04:05Z","data":{}}`, "dataversion", ">= 1"},
		{"missing data", `{"specversion":"1.0","id":"1","source":"s","type":"t","time":"2026-01-02T03:04:05Z","dataversion":1}`, "data", "is required"},
		{"old spec", `{"specversion":"0.3","id":"1","source":"s","type":"t","time":"2026-01-02T03:04:05Z","dataversion":1,"data":{}}`, "specversion", `must be "1.0"`},
		{"xml", `{` + valid + `,"datacontenttype":"application/xml"}`, "datacontenttype", "must be application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := events.Decode([]byte(tc.doc))
			var fe *events.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Reason, tc.reason) {
				t.Fatalf("got field %q reason %q; want field %q reason containing %q", fe.Field, fe.Reason, tc.field, tc.reason)
			}
		})
	}
	if _, err := events.Decode([]byte(`{` + valid + `}`)); err != nil {
		t.Fatalf("valid envelope rejected: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"orders.OrderPlaced","time":"2026-01-02T03:04:05Z","dataversion":1,"data":{}}`))
	f.Add([]byte(`{"id":`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := events.Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes must encode and decode to the same envelope.
		out, err := events.Encode(e)
		if err != nil {
			t.Fatalf("decoded envelope does not encode: %v", err)
		}
		if _, err := events.Decode(out); err != nil {
			t.Fatalf("re-decode of %s: %v", out, err)
		}
	})
}

func TestDecodeIfEnvelope(t *testing.T) {
	valid := `{"specversion":"1.0","id":"1","source":"s","type":"orders.OrderPlaced","time":"2026-01-02T03:04:05Z","dataversion":1,"data":{}}`
	cases := []struct {
		name, doc  string
		isEnvelope bool
		wantErr    bool
	}{
		{"an envelope", valid, true, false},
		{"an envelope that breaks a rule", `{"specversion":"1.0","source":"s"}`, true, true},
		{"an envelope with an unknown attribute", `{"specversion":"1.0","colour":"red"}`, true, true},
		{"foreign data", `{"orderId":"o-1"}`, false, false},
		{"foreign data with specversion below the top", `{"order":{"specversion":"1.0"}}`, false, false},
		{"foreign data with a null specversion", `{"specversion":null,"orderId":"o-1"}`, false, false},
		{"not an object", `["specversion"]`, false, false},
	}
	for _, c := range cases {
		e, isEnvelope, err := events.DecodeIfEnvelope([]byte(c.doc))
		if isEnvelope != c.isEnvelope || (err != nil) != c.wantErr {
			t.Errorf("%s: isEnvelope %v, err %v; want %v, error %v", c.name, isEnvelope, err, c.isEnvelope, c.wantErr)
		}
		if c.isEnvelope && !c.wantErr && e.ID != "1" {
			t.Errorf("%s: decoded %+v", c.name, e)
		}
	}
}
