package dlq_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/consumers/deadlettertest"
	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/events/pattern"
)

func TestSelectorMatch(t *testing.T) {
	t.Parallel()
	billing := dlq.FromDeadLetter(deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-000000000001"))
	env := *billing.Event
	env.Data = json.RawMessage(`{"order":"o-42","amount":250}`)
	billing.Event = &env
	billing.LastFailure = utc("2025-06-01T12:00:00Z")

	raw := billing
	raw.Event, raw.Raw = nil, []byte("not json")

	kinesis, err := dlq.Decode(readSample(t, "foreign/kinesis-failure.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventBridge, err := dlq.Decode(readSample(t, "foreign/eventbridge-target-dlq.json"), ebAttrs)
	if err != nil {
		t.Fatal(err)
	}

	p := pattern.MustCompile
	for _, tc := range []struct {
		name string
		sel  dlq.Selector
		m    dlq.Message
		want bool
	}{
		{"zero selects all", dlq.Selector{}, billing, true},
		{"zero selects raw", dlq.Selector{}, raw, true},
		{"zero selects kinesis", dlq.Selector{}, kinesis, true},
		{"consumer", dlq.Selector{Consumer: "billing"}, billing, true},
		{"other consumer", dlq.Selector{Consumer: "shipping"}, billing, false},
		{"consumer is exact", dlq.Selector{Consumer: "bill"}, billing, false},
		{"function name", dlq.Selector{Consumer: "inventory"}, kinesis, true},
		{"detail-type", dlq.Selector{Filter: p(`{"detail-type":["orders.OrderPlaced"]}`)}, billing, true},
		{"other detail-type", dlq.Selector{Filter: p(`{"detail-type":["orders.OrderShipped"]}`)}, billing, false},
		{"source", dlq.Selector{Filter: p(`{"source":["shop.orders"]}`)}, billing, true},
		{"envelope attribute", dlq.Selector{Filter: p(`{"detail":{"dataversion":[2]}}`)}, billing, true},
		{"data", dlq.Selector{Filter: p(`{"detail":{"data":{"amount":[{"numeric":[">",100]}]}}}`)}, billing, true},
		{"data mismatch", dlq.Selector{Filter: p(`{"detail":{"data":{"order":["o-43"]}}}`)}, billing, false},
		{"filter on eventbridge message", dlq.Selector{Filter: p(`{"detail":{"data":{"order":["o-42"]}}}`)}, eventBridge, true},
		{"filter never matches raw", dlq.Selector{Filter: p(`{"source":[{"prefix":""}]}`)}, raw, false},
		{"filter never matches kinesis", dlq.Selector{Filter: p(`{"source":[{"prefix":""}]}`)}, kinesis, false},
		{"since inclusive", dlq.Selector{Since: utc("2025-06-01T12:00:00Z")}, billing, true},
		{"since after", dlq.Selector{Since: utc("2025-06-01T12:00:00.001Z")}, billing, false},
		{"until exclusive", dlq.Selector{Until: utc("2025-06-01T12:00:00Z")}, billing, false},
		{"until after", dlq.Selector{Until: utc("2025-06-01T12:00:01Z")}, billing, true},
		{"window", dlq.Selector{Since: utc("2025-06-01T00:00:00Z"), Until: utc("2025-06-02T00:00:00Z")}, billing, true},
		{"window other zone", dlq.Selector{Since: utc("2025-06-01T14:00:00+02:00"), Until: utc("2025-06-01T14:00:01+02:00")}, billing, true},
		{"window before", dlq.Selector{Since: utc("2025-05-01T00:00:00Z"), Until: utc("2025-06-01T00:00:00Z")}, billing, false},
		{"window on kinesis timestamp", dlq.Selector{Since: utc("2025-06-01T12:00:09Z")}, kinesis, true},
		{"unknown time never in a window", dlq.Selector{Since: time.Unix(0, 0)}, eventBridge, false},
		{"all", dlq.Selector{Consumer: "billing", Filter: p(`{"detail-type":["orders.OrderPlaced"]}`),
			Since: utc("2025-06-01T00:00:00Z"), Until: utc("2025-06-02T00:00:00Z")}, billing, true},
		{"all but consumer", dlq.Selector{Consumer: "x", Filter: p(`{"detail-type":["orders.OrderPlaced"]}`),
			Since: utc("2025-06-01T00:00:00Z")}, billing, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.sel.Match(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSelectorMatchError: an envelope whose data is not JSON cannot be
// shown to a filter; Match says which event.
func TestSelectorMatchError(t *testing.T) {
	t.Parallel()
	m := dlq.FromDeadLetter(deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-000000000001"))
	env := *m.Event
	env.Data = json.RawMessage(`{not json`)
	m.Event = &env
	_, err := dlq.Selector{Filter: pattern.MustCompile(`{"source":["shop.orders"]}`)}.Match(m)
	if err == nil || !strings.Contains(err.Error(), env.Ref()) {
		t.Errorf("Match error = %v, want one naming %s", err, env.Ref())
	}
}
