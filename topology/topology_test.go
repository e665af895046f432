package topology_test

import (
	"context"
	"strings"
	"testing"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/topology"
)

type handler struct{ refs []topology.EventRef }

func (h handler) Handle(context.Context, events.Envelope) error { return nil }
func (h handler) Accepts() []topology.EventRef                  { return h.refs }

var reads = handler{[]topology.EventRef{{Type: "orders.OrderPlaced", Version: 2}}}

func TestValidateFillsAWSDefaults(t *testing.T) {
	top := &topology.Topology{Name: "shop", Consumers: []topology.Consumer{
		{Name: "bus", Bus: topology.OnBusTypes("orders.OrderPlaced"), Handler: reads},
		{Name: "stream", Stream: topology.OnStream(""), Handler: reads},
	}}
	if err := top.Validate(); err != nil {
		t.Fatal(err)
	}
	b, s := top.Consumers[0], top.Consumers[1]
	checks := map[string][2]int{
		"Target.MaximumRetryAttempts":     {*b.Target.MaximumRetryAttempts, 185},
		"Target.MaximumEventAgeInSeconds": {b.Target.MaximumEventAgeInSeconds, 86400},
		"Async.MaximumRetryAttempts":      {*b.Async.MaximumRetryAttempts, 2},
		"Async.MaximumEventAgeInSeconds":  {b.Async.MaximumEventAgeInSeconds, 21600},
		"Mapping.BatchSize":               {s.Mapping.BatchSize, 100},
		"Mapping.ParallelizationFactor":   {s.Mapping.ParallelizationFactor, 1},
		"Mapping.MaximumRetryAttempts":    {*s.Mapping.MaximumRetryAttempts, -1},
		"Mapping.MaximumRecordAge":        {*s.Mapping.MaximumRecordAgeInSeconds, -1},
		"Function.TimeoutSeconds":         {b.Function.TimeoutSeconds, 30},
		"Retry.MaxAttempts":               {b.Retry.MaxAttempts, 3},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %d, want AWS's default %d", name, c[0], c[1])
		}
	}
	if s.Mapping.StartingPosition != "TRIM_HORIZON" || b.Idempotency.ExpiresAfter.Hours() != 1 {
		t.Errorf("defaults: %+v %+v", s.Mapping, b.Idempotency)
	}
}

func TestZeroIsARealSetting(t *testing.T) {
	top := &topology.Topology{Name: "shop", Consumers: []topology.Consumer{{
		Name: "bus", Bus: topology.OnBusTypes("orders.OrderPlaced"), Handler: reads,
		Async: topology.AsyncInvokeConfig{MaximumRetryAttempts: topology.Int(0)},
	}}}
	if err := top.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := *top.Consumers[0].Async.MaximumRetryAttempts; got != 0 {
		t.Fatalf("MaximumRetryAttempts = %d, want the 0 that was set", got)
	}
}

func TestValidateSaysWhatIsWrong(t *testing.T) {
	cases := []struct {
		name string
		c    topology.Consumer
		want string
	}{
		{"bad pattern", topology.Consumer{Name: "a", Bus: topology.OnBus(`{"source":[{"numeric":[">",5,"<",1]}]}`), Handler: reads}, "bus pattern"},
		{"bad filter", topology.Consumer{Name: "a", Stream: topology.OnStream(`{"data":"x"}`), Handler: reads}, "stream filter"},
		{"no subscription", topology.Consumer{Name: "a", Handler: reads}, "no subscription"},
		{"two subscriptions", topology.Consumer{Name: "a", Bus: topology.OnBusTypes("x.Y"), Stream: topology.OnStream(""), Handler: reads}, "not both"},
		{"no handler", topology.Consumer{Name: "a", Bus: topology.OnBusTypes("x.Y")}, "no handler"},
		{"handler reads nothing", topology.Consumer{Name: "a", Bus: topology.OnBusTypes("x.Y"), Handler: handler{}}, "accepts no event type"},
		{"bad name", topology.Consumer{Name: "Payments!", Bus: topology.OnBusTypes("x.Y"), Handler: reads}, "name"},
		{"async retries", topology.Consumer{Name: "a", Bus: topology.OnBusTypes("x.Y"), Handler: reads, Async: topology.AsyncInvokeConfig{MaximumRetryAttempts: topology.Int(3)}}, "Async.MaximumRetryAttempts 3: out of range 0-2"},
		{"batch size", topology.Consumer{Name: "a", Stream: topology.OnStream(""), Handler: reads, Mapping: topology.EventSourceMapping{BatchSize: 20000}}, "Mapping.BatchSize"},
		{"record age", topology.Consumer{Name: "a", Stream: topology.OnStream(""), Handler: reads, Mapping: topology.EventSourceMapping{MaximumRecordAgeInSeconds: topology.Int(10)}}, "MaximumRecordAgeInSeconds 10"},
		{"starting position", topology.Consumer{Name: "a", Stream: topology.OnStream(""), Handler: reads, Mapping: topology.EventSourceMapping{StartingPosition: "AT_TIMESTAMP"}}, "StartingPosition"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			top := &topology.Topology{Name: "shop", Consumers: []topology.Consumer{tc.c}}
			err := top.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestConsumerNamesAreUniqueAndFound(t *testing.T) {
	c := topology.Consumer{Name: "a", Bus: topology.OnBusTypes("x.Y"), Handler: reads}
	top := &topology.Topology{Name: "shop", Consumers: []topology.Consumer{c, c}}
	if err := top.Validate(); err == nil || !strings.Contains(err.Error(), "declared twice") {
		t.Fatalf("err = %v", err)
	}
	if _, err := top.Consumer("nope"); err == nil || !strings.Contains(err.Error(), "consumers: [a a]") {
		t.Fatalf("err = %v", err)
	}
}

func TestTypeSubscriptionsMatchTheirTypes(t *testing.T) {
	bus := topology.OnBusTypes("orders.OrderPlaced", "orders.OrderCancelled").Compiled()
	for ev, want := range map[string]bool{
		`{"detail-type":"orders.OrderPlaced","source":"orders","detail":{}}`:    true,
		`{"detail-type":"orders.OrderCancelled","source":"orders","detail":{}}`: true,
		`{"detail-type":"payments.PaymentDeclined","source":"x","detail":{}}`:   false,
	} {
		if got, _ := bus.Match([]byte(ev)); got != want {
			t.Errorf("bus %s: %v", ev, got)
		}
	}
	stream := topology.OnStreamTypes("orders.OrderPlaced").Compiled()
	if got, _ := stream.Match([]byte(`{"partitionKey":"o","data":{"type":"orders.OrderPlaced"}}`)); !got {
		t.Error("stream filter does not match its type")
	}
}

// registered is a handler that names its registry, as consumers.Router does:
// Validate checks the declared emits against it.
type registered struct {
	handler
	reg *events.Registry
}

func (r registered) Registry() *events.Registry { return r.reg }

func TestValidateChecksDeclaredEmits(t *testing.T) {
	reg := events.NewRegistry()
	for _, typ := range []string{"orders.OrderPlaced", "payments.PaymentAuthorized"} {
		if err := reg.Register(typ, 1); err != nil {
			t.Fatal(err)
		}
	}
	h := registered{handler{[]topology.EventRef{{Type: "orders.OrderPlaced", Version: 1}}}, reg}
	cases := []struct {
		name     string
		emits    []topology.EventRef
		external []topology.EventRef
		want     string // "" for valid
	}{
		{"declared and known", []topology.EventRef{topology.Emit("payments.PaymentAuthorized", 1)}, []topology.EventRef{topology.Emit("orders.OrderPlaced", 1)}, ""},
		{"unknown type", []topology.EventRef{topology.Emit("payments.PaymentCaptured", 1)}, nil,
			`consumer "payments": Emits: payments.PaymentCaptured v1: unknown event type "payments.PaymentCaptured"`},
		{"unknown version", []topology.EventRef{topology.Emit("payments.PaymentAuthorized", 2)}, nil, "Emits: payments.PaymentAuthorized v2: event payments.PaymentAuthorized: unknown event version v2 (known: v1)"},
		{"bad type name", []topology.EventRef{topology.Emit("PaymentAuthorized", 1)}, nil, `Emits: event type "PaymentAuthorized": must look like domain.Name`},
		{"version 0", []topology.EventRef{topology.Emit("payments.PaymentAuthorized", 0)}, nil, "version must be >= 1, got 0"},
		{"twice", []topology.EventRef{topology.Emit("payments.PaymentAuthorized", 1), topology.Emit("payments.PaymentAuthorized", 1)}, nil, "payments.PaymentAuthorized v1 declared twice"},
		{"unknown external", nil, []topology.EventRef{topology.Emit("shop.CartAbandoned", 1)}, `topology shop: External: shop.CartAbandoned v1: unknown event type`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			top := &topology.Topology{Name: "shop", External: tc.external, Consumers: []topology.Consumer{
				{Name: "payments", Bus: topology.OnBusTypes("orders.OrderPlaced"), Handler: h, Emits: tc.emits},
			}}
			err := top.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestEmitsWithoutARegistryAreCheckedForShape(t *testing.T) {
	top := &topology.Topology{Name: "shop", Consumers: []topology.Consumer{{
		Name: "a", Bus: topology.OnBusTypes("orders.OrderPlaced"), Handler: reads,
		Emits: []topology.EventRef{topology.Emit("anything.Goes", 7)},
	}}}
	if err := top.Validate(); err != nil {
		t.Fatalf("a handler without a registry: any well-formed type may be declared: %v", err)
	}
	c := &top.Consumers[0]
	if !c.MayEmit("anything.Goes", 7) || c.MayEmit("anything.Goes", 6) || c.MayEmit("orders.OrderPlaced", 2) {
		t.Error("MayEmit does not follow the declaration")
	}
}
