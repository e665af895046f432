package graph

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// DOT writes the graph as a Graphviz digraph (`dot -Tsvg`), left to right,
// with the same shapes and arrows as Mermaid: consumers are rounded boxes,
// dead-letter queues cylinders, stream edges bold, dead-letter edges dashed,
// flagged edges red. Tooltips (shown in SVG output) carry each consumer's
// description and subscription, and each edge's reader subscription and
// pattern.
func (g *Graph) DOT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "digraph %s {\n", dotString(g.Topology))
	fmt.Fprintln(bw, `  rankdir=LR;`)
	fmt.Fprintln(bw, `  node [fontname="Helvetica", fontsize=11];`)
	fmt.Fprintln(bw, `  edge [fontname="Helvetica", fontsize=9];`)
	for _, n := range g.Nodes {
		attrs := []string{"label=" + dotString(n.Label)}
		tooltip := n.Description
		switch n.Kind {
		case KindConsumer:
			attrs = append(attrs, `shape=box`, `style="rounded,filled"`, `fillcolor="#e8f0fe"`, `color="#3366cc"`)
			tooltip = strings.TrimSpace(n.Description + "\n" + n.Via + ": " + patternOrAll(n.Pattern))
		case KindExternal:
			attrs = append(attrs, `shape=box`, `style="rounded,dashed,filled"`, `fillcolor="#f3f3f3"`, `color="#777777"`)
		case KindDLQ:
			attrs = append(attrs, `shape=cylinder`, `style=filled`, `fillcolor="#fdecea"`, `color="#cc3333"`)
		default:
			attrs = append(attrs, `shape=circle`, `style=filled`, `fillcolor="#fff4e5"`, `color="#cc7a00"`)
		}
		if tooltip != "" {
			attrs = append(attrs, "tooltip="+dotString(tooltip))
		}
		fmt.Fprintf(bw, "  %s [%s];\n", n.ID, strings.Join(attrs, ", "))
	}
	for _, e := range g.Edges {
		attrs := []string{"label=" + dotString(e.Label)}
		switch {
		case e.Kind == EdgeDeadLetter:
			attrs = append(attrs, `style=dashed`, `color="#cc3333"`)
		case e.Via == "stream":
			attrs = append(attrs, `style=bold`)
		}
		if e.Problem {
			attrs = append(attrs, `color="#cc3333"`, `fontcolor="#cc3333"`)
		}
		if e.Kind == EdgeEvent {
			tip := "no consumer reads it"
			if e.Via != "" {
				tip = fmt.Sprintf("read as v%d from the %s: %s", e.Reads, e.Via, patternOrAll(e.Pattern))
			}
			attrs = append(attrs, "tooltip="+dotString(e.Label+"\n"+tip))
		}
		fmt.Fprintf(bw, "  %s -> %s [%s];\n", e.From, e.To, strings.Join(attrs, ", "))
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}

// dotString quotes s as a DOT string: backslashes and double quotes escaped,
// line breaks as \n.
func dotString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r\n", `\n`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
