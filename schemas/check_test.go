package schemas

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
)

func TestCheckSample(t *testing.T) {
	t.Parallel()
	r := Check(Sample(), domain.Registry(), os.DirFS("../testdata/events"))
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if r.Types != 8 || r.Versions != 9 || r.Samples < 9 {
		t.Errorf("report counts: %d types, %d versions, %d samples", r.Types, r.Versions, r.Samples)
	}
	if len(r.Unsampled) != 0 {
		t.Errorf("versions without a sample: %v", r.Unsampled)
	}
}

// reg builds a registry: each spec is "type vN", optionally followed by
// " breaking" and/or " upcaster" (an identity upcaster from N-1).
func reg(t testing.TB, specs ...string) *events.Registry {
	t.Helper()
	r := events.NewRegistry()
	type up struct {
		typ string
		ver int
	}
	var ups []up
	for _, spec := range specs {
		f := strings.Fields(spec)
		var ver int
		if _, err := fmtSscan(f[1], &ver); err != nil {
			t.Fatal(err)
		}
		var opts []events.VersionOption
		for _, w := range f[2:] {
			switch w {
			case "breaking":
				opts = append(opts, events.Breaking("test"))
			case "upcaster":
				ups = append(ups, up{f[0], ver - 1})
			}
		}
		if err := r.Register(f[0], ver, opts...); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range ups {
		if err := r.AddUpcaster(u.typ, u.ver, func(d json.RawMessage) (json.RawMessage, error) { return d, nil }); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// sampleRegistry is the domain's registry rebuilt, plus specs.
func sampleRegistry(t *testing.T, specs ...string) *events.Registry {
	t.Helper()
	var all []string
	for _, v := range domain.Registry().Versions() {
		if v.Type == "orders.OrderPlaced" {
			continue // added below with the real upcaster
		}
		all = append(all, v.Type+" v"+string(rune('0'+v.Version)))
	}
	r := reg(t, append(all, specs...)...)
	if err := r.Register("orders.OrderPlaced", 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("orders.OrderPlaced", 2, events.Breaking("money")); err != nil {
		t.Fatal(err)
	}
	if err := r.AddUpcaster("orders.OrderPlaced", 1, func(d json.RawMessage) (json.RawMessage, error) {
		e, err := domain.Registry().Upcast(events.Envelope{Type: "orders.OrderPlaced", DataVersion: 1, Data: d}, 2)
		return e.Data, err
	}); err != nil {
		t.Fatal(err)
	}
	return r
}

func envelopeJSON(t *testing.T, typ string, ver int, data string) *fstest.MapFile {
	t.Helper()
	e, err := events.New(typ, ver, rawJSON(data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := events.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return &fstest.MapFile{Data: b}
}

const (
	paymentV1 = `{"orderId":"ord_1","paymentId":"pay_1","amount":{"amountCents":1250,"currency":"USD"}}`
	orderV1   = `{"orderId":"ord_1","customerId":"cus_1","items":[{"sku":"SKU-1","quantity":2,"price":9.99}],"total":19.98}`
	orderV2   = `{"orderId":"ord_1","customerId":"cus_1","items":[{"sku":"SKU-1","quantity":2,"unitPrice":{"amountCents":999,"currency":"USD"}}],"total":{"amountCents":1998,"currency":"USD"}}`
)

// paymentV2Retyped is payments.PaymentAuthorized v2 with amount retyped from
// a Money object to an integer: a breaking change.
const paymentV2Retyped = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://troupe.dev/schemas/payments/PaymentAuthorized/v2.json",
  "type": "object",
  "additionalProperties": false,
  "required": ["orderId", "paymentId", "amount"],
  "properties": {
    "orderId": {"type": "string", "minLength": 1},
    "paymentId": {"type": "string", "minLength": 1},
    "amount": {"type": "integer", "minimum": 0}
  }
}`

func TestCheckProblems(t *testing.T) {
	t.Parallel()
	type problem struct{ file, ptr, msg string } // msg: a substring
	tests := []struct {
		name    string
		schemas func(fstest.MapFS) // edits the sample schema tree
		reg     []string           // extra registrations
		noOP    bool               // replace the OrderPlaced upcaster (see upcaster)
		samples fstest.MapFS
		want    []problem
	}{
		{name: "registered type without schema", reg: []string{"orders.OrderShipped v1"},
			want: []problem{{"schemas/orders/OrderShipped/v1.json", "", "no schema for orders.OrderShipped v1, which the registry knows"}}},
		{name: "schema not registered",
			schemas: func(m fstest.MapFS) { m["orders/OrderShipped/v1.json"] = m["orders/OrderCancelled/v1.json"] },
			want: []problem{
				{"schemas/orders/OrderShipped/v1.json", "", "which the registry does not know: register it"},
				{"schemas/orders/OrderShipped/v1.json", "/$id", `$id "https://troupe.dev/schemas/orders/OrderCancelled/v1.json" does not end with /orders/OrderShipped/v1.json`},
			}},
		{name: "undeclared breaking change",
			schemas: func(m fstest.MapFS) {
				m["payments/PaymentAuthorized/v2.json"] = &fstest.MapFile{Data: []byte(paymentV2Retyped)}
			},
			reg: []string{"payments.PaymentAuthorized v2 upcaster"},
			want: []problem{{"schemas/payments/PaymentAuthorized/v2.json", "/properties/amount/type",
				"type changed from object to integer; v2 is not backward compatible with v1: declare it breaking with events.Breaking(...) and register an upcaster v1->v2"}}},
		{name: "breaking without upcaster",
			schemas: func(m fstest.MapFS) {
				m["payments/PaymentAuthorized/v2.json"] = &fstest.MapFile{Data: []byte(paymentV2Retyped)}
			},
			reg:     []string{"payments.PaymentAuthorized v2 breaking"},
			samples: fstest.MapFS{"payments.PaymentAuthorized/v1/a.json": envelopeJSON(t, "payments.PaymentAuthorized", 1, paymentV1)},
			want: []problem{
				{"schemas/payments/PaymentAuthorized/v2.json", "", `v2 is declared breaking (test) but no upcaster v1->v2 is registered: add one with reg.AddUpcaster("payments.PaymentAuthorized", 1, ...) (incompatible at /properties/amount/type)`},
				// and the v1 sample, read as v2 as is, proves it:
				{"testdata/events/payments.PaymentAuthorized/v1/a.json", "", "read as v2 (no upcaster, so as is), data/amount: must be integer, got object (schema schemas/payments/PaymentAuthorized/v2.json)"},
			}},
		{name: "breaking with upcaster is fine",
			schemas: func(m fstest.MapFS) {
				m["payments/PaymentAuthorized/v2.json"] = &fstest.MapFile{Data: []byte(paymentV2Retyped)}
			},
			reg: []string{"payments.PaymentAuthorized v2 breaking upcaster"},
		},
		{name: "invalid sample",
			samples: fstest.MapFS{
				"orders.OrderPlaced/v2/bad.json": envelopeJSON(t, "orders.OrderPlaced", 2, strings.Replace(orderV2, `"quantity":2`, `"quantity":0`, 1)),
				"orders.OrderPlaced/v2/ok.json":  envelopeJSON(t, "orders.OrderPlaced", 2, orderV2),
			},
			want: []problem{{"testdata/events/orders.OrderPlaced/v2/bad.json", "/data/items/0/quantity", "must be >= 1, got 0 (schema schemas/orders/OrderPlaced/v2.json)"}}},
		{name: "sample under the wrong version",
			samples: fstest.MapFS{"orders.OrderPlaced/v1/x.json": envelopeJSON(t, "orders.OrderPlaced", 2, orderV2)},
			want:    []problem{{"testdata/events/orders.OrderPlaced/v1/x.json", "/dataversion", "dataversion is 2 but the sample sits under v1/"}}},
		{name: "sample under the wrong type",
			samples: fstest.MapFS{"orders.OrderCancelled/v2/x.json": envelopeJSON(t, "orders.OrderPlaced", 2, orderV2)},
			want:    []problem{{"testdata/events/orders.OrderCancelled/v2/x.json", "/type", "type is orders.OrderPlaced but the sample sits under orders.OrderCancelled/"}}},
		{name: "misplaced sample",
			samples: fstest.MapFS{"orders.OrderPlaced/x.json": envelopeJSON(t, "orders.OrderPlaced", 2, orderV2)},
			want:    []problem{{"testdata/events/orders.OrderPlaced/x.json", "", "misplaced sample"}}},
		{name: "undecodable sample",
			samples: fstest.MapFS{"orders.OrderPlaced/v2/x.json": {Data: []byte(`{"specversion":"1.0","id":"1","source":"s","type":"orders.OrderPlaced","time":"2025-01-01T00:00:00Z","dataversion":"2","data":{}}`)}},
			want:    []problem{{"testdata/events/orders.OrderPlaced/v2/x.json", "/dataversion", "decode envelope"}}},
		{name: "sample of an unknown version",
			samples: fstest.MapFS{"orders.OrderPlaced/v3/x.json": envelopeJSON(t, "orders.OrderPlaced", 3, orderV2)},
			want:    []problem{{"testdata/events/orders.OrderPlaced/v3/x.json", "/dataversion", "event orders.OrderPlaced v3: no schema (known: v1, v2)"}}},
		{name: "sample of an unknown type",
			samples: fstest.MapFS{"orders.OrderShipped/v1/x.json": envelopeJSON(t, "orders.OrderShipped", 1, `{}`)},
			want:    []problem{{"testdata/events/orders.OrderShipped/v1/x.json", "/type", "event orders.OrderShipped v1: no schema for this type"}}},
		{name: "upcaster output breaks the new schema", noOP: true, // an identity upcaster
			samples: fstest.MapFS{"orders.OrderPlaced/v1/legacy.json": envelopeJSON(t, "orders.OrderPlaced", 1, orderV1)},
			want: []problem{
				{"testdata/events/orders.OrderPlaced/v1/legacy.json", "", `upcast to v2, data/items/0: missing property "unitPrice"`},
				{"testdata/events/orders.OrderPlaced/v1/legacy.json", "", `upcast to v2, data/items/0: unknown property "price"`},
				{"testdata/events/orders.OrderPlaced/v1/legacy.json", "", `upcast to v2, data/total: must be object, got number`},
			}},
		{name: "compatible change the samples disprove",
			// v2 adds an optional "note" that must be a string, but v1 let
			// anything through additionalProperties: Compare cannot see
			// it, the v1 sample read as v2 does.
			schemas: func(m fstest.MapFS) {
				m["ext/Thing/v1.json"] = &fstest.MapFile{Data: []byte(`{"type":"object","properties":{"id":{"type":"string"}}}`)}
				m["ext/Thing/v2.json"] = &fstest.MapFile{Data: []byte(`{"type":"object","properties":{"id":{"type":"string"},"note":{"type":"string"}}}`)}
			},
			reg:     []string{"ext.Thing v1", "ext.Thing v2"},
			samples: fstest.MapFS{"ext.Thing/v1/t.json": envelopeJSON(t, "ext.Thing", 1, `{"id":"t1","note":5}`)},
			want:    []problem{{"testdata/events/ext.Thing/v1/t.json", "", "read as v2 (no upcaster, so as is), data/note: must be string, got number"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := sampleMapFS(t)
			if tt.schemas != nil {
				tt.schemas(m)
			}
			set, err := Load(m)
			if err != nil {
				t.Fatal(err)
			}
			r := sampleRegistry(t, tt.reg...)
			if tt.noOP {
				r = reg(t, "orders.OrderPlaced v1", "orders.OrderPlaced v2 breaking upcaster")
				r = withAllOthers(t, r)
			}
			var samples fstestFS
			if tt.samples != nil {
				samples = fstestFS(tt.samples)
			}
			rep := Check(set, r, samples.fs())
			if len(rep.Problems) != len(tt.want) {
				t.Fatalf("problems:\n%v\nwant:\n%v", rep.Err(), tt.want)
			}
			for i, w := range tt.want {
				p := rep.Problems[i]
				if p.File != w.file || p.Pointer != w.ptr || !strings.Contains(p.Message, w.msg) {
					t.Errorf("problem %d:\n%s\nwant:\n%s#%s: ...%s...", i, p, w.file, w.ptr, w.msg)
				}
			}
			err = rep.Err()
			if (err == nil) != (len(tt.want) == 0) {
				t.Errorf("Err() = %v", err)
			}
			for _, w := range tt.want {
				if err != nil && !strings.Contains(err.Error(), w.file) {
					t.Errorf("Err() does not name %s", w.file)
				}
			}
		})
	}
}

// withAllOthers registers every sample type but orders.OrderPlaced.
func withAllOthers(t *testing.T, r *events.Registry) *events.Registry {
	t.Helper()
	for _, v := range domain.Registry().Versions() {
		if v.Type != "orders.OrderPlaced" {
			if err := r.Register(v.Type, v.Version); err != nil {
				t.Fatal(err)
			}
		}
	}
	return r
}

func TestCheckUpcasterError(t *testing.T) {
	t.Parallel()
	r := withAllOthers(t, events.NewRegistry())
	_ = r.Register("orders.OrderPlaced", 1)
	_ = r.Register("orders.OrderPlaced", 2, events.Breaking("money"))
	_ = r.AddUpcaster("orders.OrderPlaced", 1, func(json.RawMessage) (json.RawMessage, error) { return nil, errors.New("boom") })
	samples := fstest.MapFS{"orders.OrderPlaced/v1/a.json": envelopeJSON(t, "orders.OrderPlaced", 1, orderV1)}
	rep := Check(Sample(), r, samples, WithSamplesRoot("events"))
	if len(rep.Problems) != 1 || rep.Problems[0].File != "events/orders.OrderPlaced/v1/a.json" || !strings.Contains(rep.Problems[0].Message, "upcast to v2: ") || !strings.Contains(rep.Problems[0].Message, "boom") {
		t.Errorf("problems: %v", rep.Err())
	}
	if len(rep.Unsampled) != len(domain.Registry().Versions())-1 {
		t.Errorf("unsampled: %v", rep.Unsampled)
	}
}

func TestProblemString(t *testing.T) {
	t.Parallel()
	p := Problem{File: "schemas/a/B/v2.json", Pointer: "/properties/x/type", Message: "m"}
	if got := p.String(); got != "schemas/a/B/v2.json#/properties/x/type: m" {
		t.Errorf("String() = %q", got)
	}
	p.Pointer = ""
	if got := p.String(); got != "schemas/a/B/v2.json: m" {
		t.Errorf("String() = %q", got)
	}
	if err := (&Report{}).Err(); err != nil {
		t.Errorf("empty report: %v", err)
	}
}
