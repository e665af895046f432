package graph_test

import (
	"fmt"
	"os"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/graph"
)

func ExampleBuild() {
	top, _ := choreography.Topology()
	g, _ := graph.Build(top)
	inv, _ := g.Filter("", "inventory.StockReserved")
	for _, e := range inv.Edges {
		fmt.Printf("%s -> %s: %s (%s)\n", e.From, e.To, e.Label, e.Kind)
	}
	fmt.Println("ok:", g.OK)
	// Output:
	// consumer_inventory -> consumer_shipping: inventory.StockReserved v1 (event)
	// consumer_inventory -> consumer_timeline: inventory.StockReserved v1 (event)
	// consumer_shipping -> dlq_shipping: failed events (dead-letter)
	// consumer_timeline -> dlq_timeline: failed events (dead-letter)
	// ok: true
}

// The sample's payments consumer and what reaches it, as Mermaid.
func ExampleGraph_Mermaid() {
	top, _ := choreography.Topology()
	g, _ := graph.Build(top)
	g, _ = g.Filter("payments", "orders.OrderPlaced")
	_ = g.Mermaid(os.Stdout)
	// Output:
	// flowchart LR
	//   %% troupe-orders: who emits what, who reacts to what (troupe graph)
	//   %% --> on the bus, ==> on the stream, -.-> failed events to a dead-letter queue
	//   external_producers(["external producers"])
	//   consumer_payments("payments")
	//   %% payments reads from the bus: {"detail-type":["orders.OrderPlaced"]}
	//   dlq_payments[("payments DLQ")]
	//   external_producers -->|"orders.OrderPlaced v1, v2"| consumer_payments
	//   consumer_payments -.->|"failed events"| dlq_payments
	//   classDef consumer fill:#e8f0fe,stroke:#3366cc
	//   class consumer_payments consumer
	//   classDef external fill:#f3f3f3,stroke:#777777,stroke-dasharray:4 3
	//   class external_producers external
	//   classDef dlq fill:#fdecea,stroke:#cc3333
	//   class dlq_payments dlq
}
