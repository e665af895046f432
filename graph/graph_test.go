package graph_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/graph"
	"github.com/troupehq/troupe/topology"
)

func sample(t *testing.T) *topology.Topology {
	t.Helper()
	top, err := choreography.Topology()
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func build(t *testing.T, top *topology.Topology) *graph.Graph {
	t.Helper()
	g, err := graph.Build(top)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// edgeKey names an edge: "from -> to: type" ("from -> to" for dead letters).
func edgeKey(from, to, typ string) string {
	if typ == "" {
		return from + " -> " + to
	}
	return from + " -> " + to + ": " + typ
}

func edgeKeys(g *graph.Graph) []string {
	var keys []string
	for _, e := range g.Edges {
		keys = append(keys, edgeKey(e.From, e.To, e.Type))
	}
	slices.Sort(keys)
	return keys
}

// expectedEdges derives, straight from the declaration, the edges the graph
// must have: each emitted (or external) type to each consumer that reads
// it, each consumer to its DLQ.
func expectedEdges(top *topology.Topology) []string {
	emitters := map[string][]string{}
	for _, e := range top.External {
		if !slices.Contains(emitters[e.Type], graph.ExternalID) {
			emitters[e.Type] = append(emitters[e.Type], graph.ExternalID)
		}
	}
	for _, c := range top.Consumers {
		for _, e := range c.Emits {
			if id := graph.ConsumerID(c.Name); !slices.Contains(emitters[e.Type], id) {
				emitters[e.Type] = append(emitters[e.Type], id)
			}
		}
	}
	var keys []string
	readBy := map[string]bool{}
	for _, c := range top.Consumers {
		keys = append(keys, edgeKey(graph.ConsumerID(c.Name), graph.DLQID(c.Name), ""))
		for _, a := range c.Accepts() {
			readBy[a.Type] = true
			from := emitters[a.Type]
			if len(from) == 0 {
				from = []string{graph.ExternalID}
			}
			for _, f := range from {
				keys = append(keys, edgeKey(f, graph.ConsumerID(c.Name), a.Type))
			}
		}
	}
	for typ, from := range emitters {
		if !readBy[typ] {
			for _, f := range from {
				keys = append(keys, edgeKey(f, graph.NoConsumerID, typ))
			}
		}
	}
	slices.Sort(keys)
	return keys
}

func TestTheSampleGraphFollowsTheDeclaration(t *testing.T) {
	top := sample(t)
	g := build(t, top)
	if got, want := edgeKeys(g), expectedEdges(top); !slices.Equal(got, want) {
		t.Fatalf("edges:\n%s\nwant (from the declaration):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range top.Consumers {
		n, ok := g.Node(graph.ConsumerID(c.Name))
		if !ok || n.Kind != graph.KindConsumer || n.Name != c.Name || n.Description != c.Description {
			t.Errorf("consumer %s: node %+v", c.Name, n)
		}
		if via := map[bool]string{true: "bus", false: "stream"}[c.OnBus()]; n.Via != via {
			t.Errorf("consumer %s: via %q, want %q", c.Name, n.Via, via)
		}
		if _, ok := g.Node(graph.DLQID(c.Name)); !ok {
			t.Errorf("consumer %s: no DLQ node", c.Name)
		}
	}
	// The sample's chain, spelled out once, so a change of the declaration
	// that the derivation above would follow blindly still shows here.
	for _, want := range []string{
		"external_producers -> consumer_payments: orders.OrderPlaced",
		"consumer_payments -> consumer_inventory: payments.PaymentAuthorized",
		"consumer_payments -> consumer_orders: payments.PaymentDeclined",
		"consumer_inventory -> consumer_shipping: inventory.StockReserved",
		"consumer_inventory -> consumer_refunds: inventory.StockUnavailable",
		"consumer_refunds -> consumer_orders: payments.PaymentRefunded",
		"consumer_orders -> consumer_timeline: orders.OrderCancelled",
		"consumer_shipping -> consumer_timeline: shipping.ShipmentScheduled",
		"consumer_timeline -> dlq_timeline",
	} {
		if !slices.Contains(edgeKeys(g), want) {
			t.Errorf("no edge %s", want)
		}
	}
	if !g.OK || len(g.Problems) != 0 {
		t.Errorf("the sample's check: %v", g.Err())
	}
	for _, e := range g.Edges {
		if e.Type == "orders.OrderPlaced" && e.To == graph.ConsumerID("payments") {
			if !slices.Equal(e.Versions, []int{1, 2}) || e.Reads != 2 || e.Via != "bus" || e.Pattern != `{"detail-type":["orders.OrderPlaced"]}` {
				t.Errorf("OrderPlaced edge %+v", e)
			}
		}
		if e.To == graph.ConsumerID("timeline") && e.Via != "stream" {
			t.Errorf("timeline edge %+v: via %q", e, e.Via)
		}
	}
}

// fraud is a consumer that a test adds: it reads OrderPlaced v2 and emits
// what it is told.
func fraud(emits ...topology.EventRef) topology.Consumer {
	return topology.Consumer{
		Name:        "fraud-check",
		Description: "holds suspicious orders",
		Bus:         topology.OnBus(`{"detail-type":["orders.OrderPlaced"],"detail":{"data":{"total":{"amountCents":[{"numeric":[">",100000]}]}}}}`),
		Handler: consumers.MustRouter(domain.Registry(), consumers.On("orders.OrderPlaced", 2,
			func(context.Context, consumers.Event[domain.OrderPlacedV2]) error { return nil })),
		Emits: emits,
	}
}

func withConsumer(t *testing.T, c topology.Consumer) *topology.Topology {
	t.Helper()
	top := sample(t)
	grown := &topology.Topology{Name: top.Name, External: top.External, Consumers: append(slices.Clone(top.Consumers), c)}
	if err := grown.Validate(); err != nil {
		t.Fatal(err)
	}
	return grown
}

func TestAnAddedConsumerAppearsWithItsEdges(t *testing.T) {
	top := withConsumer(t, fraud(topology.Emit("orders.OrderCancelled", 1)))
	g := build(t, top)
	if got, want := edgeKeys(g), expectedEdges(top); !slices.Equal(got, want) {
		t.Fatalf("edges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	id := graph.ConsumerID("fraud-check")
	if id != "consumer_fraud_check" {
		t.Fatalf("id %q: dashes must become underscores", id)
	}
	for _, want := range []string{
		"external_producers -> consumer_fraud_check: orders.OrderPlaced",
		"consumer_fraud_check -> consumer_timeline: orders.OrderCancelled",
		"consumer_fraud_check -> dlq_fraud_check",
	} {
		if !slices.Contains(edgeKeys(g), want) {
			t.Errorf("no edge %s", want)
		}
	}
	n, _ := g.Node(id)
	if n.Pattern != top.Consumers[len(top.Consumers)-1].Bus.Pattern {
		t.Errorf("pattern %q", n.Pattern)
	}
	ev, _ := g.Event("orders.OrderCancelled")
	var names []string
	for _, p := range ev.Producers {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"orders", "fraud-check"}) {
		t.Errorf("OrderCancelled producers %v", names)
	}
}

func TestTheCheckFlagsDanglingTypes(t *testing.T) {
	t.Run("emitted, never read", func(t *testing.T) {
		// fraud-check emits a type that no consumer reads.
		g := build(t, withConsumer(t, fraud(topology.Emit("orders.OrderCancelled", 1))))
		if !g.OK {
			t.Fatalf("baseline: %v", g.Err())
		}
		top := withConsumer(t, fraud())
		// An event the registry does not know cannot be declared with a
		// Router's registry; declare it after validation, as a user's
		// handler without a registry could.
		top.Consumers[len(top.Consumers)-1].Emits = []topology.EventRef{topology.Emit("fraud.OrderHeld", 1)}
		g = build(t, top)
		if g.OK || len(g.Problems) != 1 {
			t.Fatalf("problems %+v", g.Problems)
		}
		p := g.Problems[0]
		if p.Kind != graph.Unconsumed || p.Type != "fraud.OrderHeld" || !slices.Equal(p.Consumers, []string{"fraud-check"}) ||
			!strings.Contains(p.Message, "emitted by fraud-check, but no consumer reads it") {
			t.Fatalf("problem %+v", p)
		}
		if !slices.Contains(edgeKeys(g), "consumer_fraud_check -> no_consumer: fraud.OrderHeld") {
			t.Errorf("edges %v", edgeKeys(g))
		}
		if _, ok := g.Node(graph.NoConsumerID); !ok {
			t.Error("no 'no consumer' node")
		}
		if g.Err() == nil || !strings.Contains(g.Err().Error(), "unconsumed: fraud.OrderHeld") {
			t.Errorf("Err() = %v", g.Err())
		}
	})
	t.Run("waited for, never emitted", func(t *testing.T) {
		top := sample(t)
		top.External = nil // the shop's OrderPlaced is no longer declared
		g := build(t, top)
		if len(g.Problems) != 1 {
			t.Fatalf("problems %+v", g.Problems)
		}
		p := g.Problems[0]
		if p.Kind != graph.Unproduced || p.Type != "orders.OrderPlaced" || !slices.Equal(p.Consumers, []string{"payments", "timeline"}) ||
			!strings.Contains(p.Message, "payments, timeline waits for it, but no consumer emits it and the topology does not declare it External") {
			t.Fatalf("problem %+v", p)
		}
		// It is still drawn, from the external producers, in red.
		for _, e := range g.Edges {
			if e.Type == "orders.OrderPlaced" && (e.From != graph.ExternalID || !e.Problem || len(e.Versions) != 0) {
				t.Errorf("edge %+v", e)
			}
		}
	})
	t.Run("a version newer than a reader reads", func(t *testing.T) {
		top := sample(t)
		for i := range top.Consumers {
			if top.Consumers[i].Name == "payments" {
				top.Consumers[i].Handler = consumers.MustRouter(domain.Registry(), consumers.On("orders.OrderPlaced", 1,
					func(context.Context, consumers.Event[domain.OrderPlacedV1]) error { return nil }))
			}
		}
		g := build(t, top)
		if len(g.Problems) != 1 || g.Problems[0].Kind != graph.NewerVersion ||
			!strings.Contains(g.Problems[0].Message, "external producers emits v2, but consumer payments reads up to v1") {
			t.Fatalf("problems %+v", g.Problems)
		}
	})
}

func TestFilter(t *testing.T) {
	g := build(t, sample(t))
	cases := []struct {
		consumer, typ string
		want          []string
	}{
		{"inventory", "", []string{
			"consumer_inventory -> consumer_refunds: inventory.StockUnavailable",
			"consumer_inventory -> consumer_shipping: inventory.StockReserved",
			"consumer_inventory -> consumer_timeline: inventory.StockReserved",
			"consumer_inventory -> consumer_timeline: inventory.StockUnavailable",
			"consumer_inventory -> dlq_inventory",
			"consumer_payments -> consumer_inventory: payments.PaymentAuthorized",
		}},
		{"", "payments.PaymentDeclined", []string{
			"consumer_orders -> dlq_orders",
			"consumer_payments -> consumer_orders: payments.PaymentDeclined",
			"consumer_payments -> consumer_timeline: payments.PaymentDeclined",
			"consumer_timeline -> dlq_timeline",
		}},
		{"orders", "payments.PaymentRefunded", []string{
			"consumer_orders -> dlq_orders",
			"consumer_refunds -> consumer_orders: payments.PaymentRefunded",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.consumer+"/"+tc.typ, func(t *testing.T) {
			f, err := g.Filter(tc.consumer, tc.typ)
			if err != nil {
				t.Fatal(err)
			}
			if got := edgeKeys(f); !slices.Equal(got, tc.want) {
				t.Fatalf("edges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			// Every endpoint is a node of the filtered graph, and no other node is.
			ends := map[string]bool{}
			for _, e := range f.Edges {
				ends[e.From], ends[e.To] = true, true
			}
			for _, n := range f.Nodes {
				if !ends[n.ID] {
					t.Errorf("node %s joins no kept edge", n.ID)
				}
				delete(ends, n.ID)
			}
			if len(ends) > 0 {
				t.Errorf("edge ends without a node: %v", ends)
			}
			for _, ev := range f.Events {
				if tc.typ != "" && ev.Type != tc.typ {
					t.Errorf("event %s kept", ev.Type)
				}
			}
		})
	}
	if _, err := g.Filter("nope", ""); err == nil || !strings.Contains(err.Error(), "consumers: payments, inventory, shipping, refunds, orders, timeline") {
		t.Errorf("unknown consumer: %v", err)
	}
	if _, err := g.Filter("", "orders.Nope"); err == nil || !strings.Contains(err.Error(), "types: inventory.StockReserved") {
		t.Errorf("unknown type: %v", err)
	}
	// A filter keeps the problems about what it keeps.
	top := sample(t)
	top.External = nil
	bad := build(t, top)
	if f, _ := bad.Filter("inventory", ""); len(f.Problems) != 0 || !f.OK {
		t.Errorf("inventory's problems %+v", f.Problems)
	}
	if f, _ := bad.Filter("payments", ""); len(f.Problems) != 1 || f.OK {
		t.Errorf("payments' problems %+v", f.Problems)
	}
}

func TestBuildRefusesAConsumerWithoutHandler(t *testing.T) {
	_, err := graph.Build(&topology.Topology{Name: "x", Consumers: []topology.Consumer{{Name: "a"}}})
	if err == nil || !strings.Contains(err.Error(), "consumer a has no handler") {
		t.Fatalf("err = %v", err)
	}
	if _, err := graph.Build(nil); err == nil {
		t.Fatal("nil topology built")
	}
}

func TestRenderFormats(t *testing.T) {
	g := build(t, sample(t))
	for _, f := range graph.Formats {
		var b strings.Builder
		if err := g.Render(&b, f); err != nil || b.Len() == 0 {
			t.Errorf("%s: %v (%d bytes)", f, err, b.Len())
		}
	}
	var b strings.Builder
	if err := g.Render(&b, "svg"); err == nil || !strings.Contains(err.Error(), "mermaid, dot, json") {
		t.Errorf("svg: %v", err)
	}
}
