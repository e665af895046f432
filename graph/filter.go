package graph

import (
	"fmt"
	"slices"
	"strings"
)

// Filter returns the part of the graph about one consumer, one event type,
// or both ("" leaves a side open):
//   - consumer: the edges into and out of it, its dead-letter queue, and the
//     nodes at their other ends;
//   - type: the edges of that type, the nodes they join, and the
//     dead-letter queues of its readers;
//
// with the event summaries and problems about what is kept. An unknown
// consumer or type is an error that lists the known ones.
func (g *Graph) Filter(consumer, typ string) (*Graph, error) {
	if consumer == "" && typ == "" {
		return g, nil
	}
	var cid string
	if consumer != "" {
		cid = ConsumerID(consumer)
		if n, ok := g.Node(cid); !ok || n.Kind != KindConsumer {
			return nil, fmt.Errorf("no consumer %q in topology %s (consumers: %s)", consumer, g.Topology, strings.Join(g.consumers(), ", "))
		}
	}
	if typ != "" {
		if _, ok := g.Event(typ); !ok {
			return nil, fmt.Errorf("no event type %q in topology %s: no consumer emits or reads it, and it is not declared External (types: %s)",
				typ, g.Topology, strings.Join(g.types(), ", "))
		}
	}
	out := &Graph{Topology: g.Topology, Nodes: []Node{}, Edges: []Edge{}, Events: []Event{}, Problems: []Problem{}}
	keep := map[string]bool{}
	readers := map[string]bool{} // with a type alone: its readers, whose DLQs go with it
	for _, e := range g.Edges {
		if e.Kind != EdgeEvent || (typ != "" && e.Type != typ) || (cid != "" && e.From != cid && e.To != cid) {
			continue
		}
		out.Edges = append(out.Edges, e)
		keep[e.From], keep[e.To] = true, true
		readers[e.To] = true
	}
	for _, e := range g.Edges {
		if e.Kind == EdgeDeadLetter && ((cid != "" && e.From == cid) || (cid == "" && readers[e.From])) {
			out.Edges = append(out.Edges, e)
			keep[e.From], keep[e.To] = true, true
		}
	}
	if cid != "" {
		keep[cid] = true
	}
	for _, n := range g.Nodes {
		if keep[n.ID] {
			out.Nodes = append(out.Nodes, n)
		}
	}
	for _, ev := range g.Events {
		if typ != "" && ev.Type != typ {
			continue
		}
		if cid != "" && !slices.ContainsFunc(ev.Producers, func(p Producer) bool { return p.Node == cid }) &&
			!slices.ContainsFunc(ev.Consumers, func(r Reader) bool { return r.Node == cid }) {
			continue
		}
		out.Events = append(out.Events, ev)
	}
	for _, p := range g.Problems {
		if (typ == "" || p.Type == typ) && (consumer == "" || slices.Contains(p.Consumers, consumer)) {
			out.Problems = append(out.Problems, p)
		}
	}
	out.OK = len(out.Problems) == 0
	return out, nil
}

func (g *Graph) consumers() []string {
	var names []string
	for _, n := range g.Nodes {
		if n.Kind == KindConsumer {
			names = append(names, n.Name)
		}
	}
	return names
}

func (g *Graph) types() []string {
	names := make([]string, len(g.Events))
	for i, e := range g.Events {
		names[i] = e.Type
	}
	return names
}
