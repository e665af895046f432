// Package graph draws a choreography from its topology declaration: who
// emits what and who reacts to what, on the bus or the stream, and where
// failures go. Nothing is written twice: the graph is built from the same
// *topology.Topology that `troupe dev`, the Lambdas and the CDK app read.
//
// # Model
//
// [Build] returns a [Graph] whose nodes are the consumers, one "external
// producers" node for the events that no consumer emits (those declared in
// Topology.External, and any other a consumer reads but no one emits), each
// consumer's dead-letter queue, and, when some emitted type has no reader, a
// "no consumer" node. Its edges are event types: one edge per producer,
// event type and reader, labelled with the type and the versions the producer
// emits, carrying the reader's subscription (bus or stream) and its
// EventBridge pattern; plus one dead-letter edge from each consumer to its
// queue. A reader of version N reads every older version, upcast, so an edge
// joins a producer of vK to a reader of vN whenever K <= N; a producer of a
// newer version than the reader's is drawn too, and flagged.
//
// # Check
//
// [Graph.Problems] lists what the declaration leaves dangling: an emitted or
// external type that no consumer reads ("unconsumed"), a type a consumer
// waits for that no consumer emits and the topology does not declare as
// External ("unproduced"), and a producer of a version newer than a reader
// can read ("newer-version": the reader would dead-letter it).
//
// # Output
//
// [Graph.Mermaid] writes a Mermaid flowchart (it renders in a README),
// [Graph.DOT] a Graphviz digraph, [Graph.JSON] the model itself:
//
//	{
//	  "topology": "troupe-orders",
//	  "nodes": [{"id": "consumer_payments", "kind": "consumer", "name": "payments",
//	             "label": "payments", "description": "...", "via": "bus",
//	             "pattern": "{\"detail-type\":[\"orders.OrderPlaced\"]}"}, ...],
//	  "edges": [{"from": "external_producers", "to": "consumer_payments", "kind": "event",
//	             "type": "orders.OrderPlaced", "versions": [1, 2], "reads": 2,
//	             "via": "bus", "pattern": "...", "label": "orders.OrderPlaced v1, v2"},
//	            {"from": "consumer_payments", "to": "dlq_payments", "kind": "dead-letter",
//	             "label": "failed events"}, ...],
//	  "events": [{"type": "orders.OrderPlaced", "external": true,
//	              "producers": [{"name": "external producers", "node": "external_producers", "versions": [1, 2]}],
//	              "consumers": [{"name": "payments", "node": "consumer_payments", "reads": 2, "via": "bus", "pattern": "..."}]}, ...],
//	  "ok": true,
//	  "problems": [{"kind": "unproduced", "type": "...", "consumer": "...", "message": "..."}]
//	}
//
// Node ids are letters, digits and underscores, valid in Mermaid and DOT as
// they are.
package graph

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/troupehq/troupe/topology"
)

// NodeKind says what a node stands for.
type NodeKind string

// The node kinds.
const (
	KindConsumer   NodeKind = "consumer"
	KindExternal   NodeKind = "external"    // systems outside the topology
	KindDLQ        NodeKind = "dlq"         // a consumer's dead-letter queue
	KindNoConsumer NodeKind = "no-consumer" // where unread events go, for the drawing
)

// EdgeKind says what an edge carries.
type EdgeKind string

// The edge kinds.
const (
	EdgeEvent      EdgeKind = "event"       // an event type, from a producer to a reader
	EdgeDeadLetter EdgeKind = "dead-letter" // failed events, from a consumer to its DLQ
)

// Node ids that do not depend on the topology.
const (
	ExternalID   = "external_producers"
	NoConsumerID = "no_consumer"
)

// Node is a producer, a consumer, a dead-letter queue, or the place of
// unread events.
type Node struct {
	ID   string   `json:"id"`
	Kind NodeKind `json:"kind"`
	// Name is the consumer's name (consumers and their DLQs).
	Name        string `json:"name,omitempty"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
	// Via is "bus" or "stream" for a consumer: where it reads from.
	Via string `json:"via,omitempty"`
	// Pattern is a consumer's subscription: its EventBridge pattern on the
	// bus, or its filter on the stream ("" takes every record).
	Pattern string `json:"pattern,omitempty"`
}

// Edge is an event type going from a producer to a reader, or the failed
// events of a consumer going to its dead-letter queue.
type Edge struct {
	From string   `json:"from"`
	To   string   `json:"to"`
	Kind EdgeKind `json:"kind"`
	// Type is the event type of an event edge.
	Type string `json:"type,omitempty"`
	// Versions are the versions the producer emits (for the external
	// producers, those declared External; empty if none is).
	Versions []int `json:"versions,omitempty"`
	// Reads is the version the reader asks for (it reads older ones
	// upcast); 0 when no consumer reads the type.
	Reads int `json:"reads,omitempty"`
	// Via and Pattern are the reader's subscription.
	Via     string `json:"via,omitempty"`
	Pattern string `json:"pattern,omitempty"`
	Label   string `json:"label"`
	// Problem is true when the check flags this edge.
	Problem bool `json:"problem,omitempty"`
}

// Event sums up one event type: who emits it and who reads it.
type Event struct {
	Type string `json:"type"`
	// External is true when the topology declares the type as coming from
	// outside.
	External  bool       `json:"external,omitempty"`
	Producers []Producer `json:"producers"`
	Consumers []Reader   `json:"consumers"`
}

// Producer emits a type: a consumer, or the external producers.
type Producer struct {
	Name     string `json:"name"`
	Node     string `json:"node"`
	Versions []int  `json:"versions"`
}

// Reader reacts to a type.
type Reader struct {
	Name    string `json:"name"`
	Node    string `json:"node"`
	Reads   int    `json:"reads"`
	Via     string `json:"via"`
	Pattern string `json:"pattern"`
}

// Graph is a choreography as nodes and edges, with what its check found.
// Build returns it; a Graph is not changed afterwards (Filter returns a new
// one), so it is safe for concurrent reads.
type Graph struct {
	Topology string  `json:"topology"`
	Nodes    []Node  `json:"nodes"`
	Edges    []Edge  `json:"edges"`
	Events   []Event `json:"events"`
	// OK is true when the check found no problem.
	OK       bool      `json:"ok"`
	Problems []Problem `json:"problems"`
}

// ConsumerID is the node id of a consumer.
func ConsumerID(name string) string { return "consumer_" + idPart(name) }

// DLQID is the node id of a consumer's dead-letter queue.
func DLQID(name string) string { return "dlq_" + idPart(name) }

// idPart makes a consumer name (lower case letters, digits, dashes) an id
// part: letters, digits, underscores.
func idPart(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}

// Build draws the topology. The topology should have been validated
// (Topology.Validate); a consumer without a handler is an error.
func Build(t *topology.Topology) (*Graph, error) {
	if t == nil {
		return nil, errors.New("graph: no topology")
	}
	g := &Graph{Topology: t.Name, Nodes: []Node{}, Edges: []Edge{}, Events: []Event{}, Problems: []Problem{}}
	type reader struct {
		c     *topology.Consumer
		reads int
	}
	producers := map[string][]Producer{} // type -> producers, external first
	readers := map[string][]reader{}
	external := map[string][]int{}
	var types []string
	addType := func(typ string) {
		if !slices.Contains(types, typ) {
			types = append(types, typ)
		}
	}
	for _, e := range t.External {
		external[e.Type] = append(external[e.Type], e.Version)
		addType(e.Type)
	}
	for i := range t.Consumers {
		c := &t.Consumers[i]
		if c.Handler == nil {
			return nil, fmt.Errorf("graph: consumer %s has no handler", c.Name)
		}
		byType := map[string][]int{}
		var order []string
		for _, e := range c.Emits {
			if _, ok := byType[e.Type]; !ok {
				order = append(order, e.Type)
			}
			byType[e.Type] = append(byType[e.Type], e.Version)
		}
		for _, typ := range order {
			producers[typ] = append(producers[typ], Producer{Name: c.Name, Node: ConsumerID(c.Name), Versions: sorted(byType[typ])})
			addType(typ)
		}
		for _, a := range c.Accepts() {
			readers[a.Type] = append(readers[a.Type], reader{c, a.Version})
			addType(a.Type)
		}
	}
	slices.Sort(types)

	// Types that someone reads but no consumer emits come from outside.
	needExternal, needNoConsumer := false, false
	for _, typ := range types {
		if vs, ok := external[typ]; ok || len(producers[typ]) == 0 {
			producers[typ] = append([]Producer{{Name: "external producers", Node: ExternalID, Versions: sorted(vs)}}, producers[typ]...)
			needExternal = true
		}
		if len(readers[typ]) == 0 {
			needNoConsumer = true
		}
	}

	if needExternal {
		g.Nodes = append(g.Nodes, Node{ID: ExternalID, Kind: KindExternal, Label: "external producers",
			Description: "systems outside the topology that publish to the bus and the stream"})
	}
	for _, c := range t.Consumers {
		n := Node{ID: ConsumerID(c.Name), Kind: KindConsumer, Name: c.Name, Label: c.Name, Description: c.Description}
		n.Via, n.Pattern = subscription(&c)
		g.Nodes = append(g.Nodes, n)
	}
	for _, c := range t.Consumers {
		g.Nodes = append(g.Nodes, Node{ID: DLQID(c.Name), Kind: KindDLQ, Name: c.Name, Label: c.Name + " DLQ",
			Description: "the dead-letter queue of " + c.Name + ": events it failed, with the error"})
	}
	if needNoConsumer {
		g.Nodes = append(g.Nodes, Node{ID: NoConsumerID, Kind: KindNoConsumer, Label: "no consumer",
			Description: "events that no consumer of the topology reads"})
	}

	for _, typ := range types {
		ev := Event{Type: typ, Producers: producers[typ], Consumers: []Reader{}}
		_, ev.External = external[typ]
		for _, r := range readers[typ] {
			via, pattern := subscription(r.c)
			ev.Consumers = append(ev.Consumers, Reader{Name: r.c.Name, Node: ConsumerID(r.c.Name), Reads: r.reads, Via: via, Pattern: pattern})
		}
		g.Events = append(g.Events, ev)
		for _, p := range ev.Producers {
			if len(ev.Consumers) == 0 {
				g.Edges = append(g.Edges, Edge{From: p.Node, To: NoConsumerID, Kind: EdgeEvent, Type: typ,
					Versions: p.Versions, Label: label(typ, p.Versions)})
				continue
			}
			for _, r := range ev.Consumers {
				g.Edges = append(g.Edges, Edge{From: p.Node, To: r.Node, Kind: EdgeEvent, Type: typ,
					Versions: p.Versions, Reads: r.Reads, Via: r.Via, Pattern: r.Pattern, Label: label(typ, p.Versions)})
			}
		}
	}
	// Edges by producer (in the order of the nodes), then type, then reader.
	rank := map[string]int{}
	for i, n := range g.Nodes {
		rank[n.ID] = i
	}
	slices.SortStableFunc(g.Edges, func(a, b Edge) int {
		return cmp.Or(cmp.Compare(rank[a.From], rank[b.From]), strings.Compare(a.Type, b.Type), cmp.Compare(rank[a.To], rank[b.To]))
	})
	for _, c := range t.Consumers {
		g.Edges = append(g.Edges, Edge{From: ConsumerID(c.Name), To: DLQID(c.Name), Kind: EdgeDeadLetter, Label: "failed events"})
	}
	g.check()
	return g, nil
}

// subscription is where a consumer reads from and its pattern.
func subscription(c *topology.Consumer) (via, pattern string) {
	if c.Bus != nil {
		return "bus", c.Bus.Pattern
	}
	if c.Stream != nil {
		return "stream", c.Stream.Filter
	}
	return "", ""
}

// label is "orders.OrderPlaced v1, v2", or the type alone when no version
// is known.
func label(typ string, versions []int) string {
	if len(versions) == 0 {
		return typ
	}
	parts := make([]string, len(versions))
	for i, v := range versions {
		parts[i] = fmt.Sprintf("v%d", v)
	}
	return typ + " " + strings.Join(parts, ", ")
}

func sorted(vs []int) []int {
	out := slices.Clone(vs)
	slices.Sort(out)
	return slices.Compact(out)
}

// Node returns the node with the given id.
func (g *Graph) Node(id string) (Node, bool) {
	for _, n := range g.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// Event returns the summary of one event type.
func (g *Graph) Event(typ string) (Event, bool) {
	for _, e := range g.Events {
		if e.Type == typ {
			return e, true
		}
	}
	return Event{}, false
}
