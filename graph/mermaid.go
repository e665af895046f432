package graph

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Mermaid writes the graph as a Mermaid flowchart, left to right, that
// renders in a Markdown ```mermaid block:
//
//   - consumers are rounded boxes, the external producers a stadium, each
//     dead-letter queue a cylinder, unread events end in a "no consumer"
//     circle;
//   - an event edge is labelled with its type and the versions emitted:
//     "-->" when the reader is on the bus, "==>" on the stream;
//   - a dead-letter edge is dotted ("-.->");
//   - edges the check flags are drawn red.
//
// Mermaid has no tooltips on edges, so each reader's subscription pattern is
// written as a %% comment beside the consumer's node.
func (g *Graph) Mermaid(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "flowchart LR")
	fmt.Fprintf(bw, "  %%%% %s: who emits what, who reacts to what (troupe graph)\n", oneLine(g.Topology))
	fmt.Fprintln(bw, "  %% --> on the bus, ==> on the stream, -.-> failed events to a dead-letter queue")
	for _, n := range g.Nodes {
		switch n.Kind {
		case KindConsumer:
			fmt.Fprintf(bw, "  %s(%s)\n", n.ID, mermaidText(n.Label))
			fmt.Fprintf(bw, "  %%%% %s reads from the %s: %s\n", oneLine(n.Name), n.Via, oneLine(patternOrAll(n.Pattern)))
		case KindExternal:
			fmt.Fprintf(bw, "  %s([%s])\n", n.ID, mermaidText(n.Label))
		case KindDLQ:
			fmt.Fprintf(bw, "  %s[(%s)]\n", n.ID, mermaidText(n.Label))
		default:
			fmt.Fprintf(bw, "  %s((%s))\n", n.ID, mermaidText(n.Label))
		}
	}
	var flagged []string
	for i, e := range g.Edges {
		arrow := "-->"
		switch {
		case e.Kind == EdgeDeadLetter:
			arrow = "-.->"
		case e.Via == "stream":
			arrow = "==>"
		}
		fmt.Fprintf(bw, "  %s %s|%s| %s\n", e.From, arrow, mermaidText(e.Label), e.To)
		if e.Problem {
			flagged = append(flagged, fmt.Sprint(i))
		}
	}
	classes := map[NodeKind][]string{}
	for _, n := range g.Nodes {
		classes[n.Kind] = append(classes[n.Kind], n.ID)
	}
	for _, c := range []struct {
		kind  NodeKind
		name  string
		style string
	}{
		{KindConsumer, "consumer", "fill:#e8f0fe,stroke:#3366cc"},
		{KindExternal, "external", "fill:#f3f3f3,stroke:#777777,stroke-dasharray:4 3"},
		{KindDLQ, "dlq", "fill:#fdecea,stroke:#cc3333"},
		{KindNoConsumer, "noconsumer", "fill:#fff4e5,stroke:#cc7a00"},
	} {
		if ids := classes[c.kind]; len(ids) > 0 {
			fmt.Fprintf(bw, "  classDef %s %s\n", c.name, c.style)
			fmt.Fprintf(bw, "  class %s %s\n", strings.Join(ids, ","), c.name)
		}
	}
	if len(flagged) > 0 {
		fmt.Fprintf(bw, "  linkStyle %s stroke:#cc3333,color:#cc3333\n", strings.Join(flagged, ","))
	}
	return bw.Flush()
}

// mermaidText quotes a label for Mermaid: inside double quotes any text is
// literal but a double quote, written as an entity.
func mermaidText(s string) string {
	return `"` + strings.ReplaceAll(oneLine(s), `"`, "#quot;") + `"`
}

// oneLine keeps text on one line, for comments and labels.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func patternOrAll(p string) string {
	if p == "" {
		return "every record"
	}
	return p
}
