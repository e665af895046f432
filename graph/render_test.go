package graph_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/awalterschulze/gographviz"
	mermaid "github.com/sammcj/mermaid-check"
	"github.com/sammcj/mermaid-check/ast"
	"github.com/sammcj/mermaid-check/validator"

	"github.com/troupehq/troupe/graph"
	"github.com/troupehq/troupe/topology"
)

// graphs are the graphs every renderer is checked on: the sample, the sample
// with a consumer added, and one with every kind of node and problem.
func graphs(t *testing.T) map[string]*graph.Graph {
	t.Helper()
	odd := withConsumer(t, fraud())
	odd.External = nil
	odd.Consumers[len(odd.Consumers)-1].Emits = []topology.EventRef{topology.Emit("fraud.OrderHeld", 1)}
	odd.Consumers[len(odd.Consumers)-1].Description = `says "hold" (and waits)` + "\nthen\\goes on"
	inv, err := build(t, sample(t)).Filter("inventory", "")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*graph.Graph{
		"sample":    build(t, sample(t)),
		"added":     build(t, withConsumer(t, fraud(topology.Emit("orders.OrderCancelled", 1)))),
		"problems":  build(t, odd),
		"filtered":  inv,
		"one-sided": build(t, &topology.Topology{Name: "x"}),
	}
}

var (
	mermaidID = `[A-Za-z_][A-Za-z0-9_]*`
	// Every line our Mermaid may hold, and nothing else.
	mermaidNode  = regexp.MustCompile(`^  (` + mermaidID + `)(\("[^"\n]*"\)|\(\["[^"\n]*"\]\)|\[\("[^"\n]*"\)\]|\(\("[^"\n]*"\)\))$`)
	mermaidEdge  = regexp.MustCompile(`^  (` + mermaidID + `) (-->|==>|-\.->)\|"([^"\n]*)"\| (` + mermaidID + `)$`)
	mermaidOther = regexp.MustCompile(`^  (%% [^\n]*|classDef [a-z]+ [a-z0-9:#,\- ]+|class [A-Za-z0-9_,]+ [a-z]+|linkStyle [0-9,]+ [a-z0-9:#,\-]+)$`)
	reserved     = []string{"end", "graph", "flowchart", "subgraph", "class", "classDef", "click", "style", "linkStyle", "default"}
)

// mermaidStructure checks a Mermaid flowchart line by line: a known header,
// valid node ids declared once, every edge between declared nodes, class
// and linkStyle statements naming what exists. It returns the edges as
// "from -> to: label".
func mermaidStructure(t *testing.T, src string) (nodes, edges []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	if lines[0] != "flowchart LR" {
		t.Fatalf("header %q", lines[0])
	}
	declared := map[string]bool{}
	for i, l := range lines[1:] {
		switch m, e := mermaidNode.FindStringSubmatch(l), mermaidEdge.FindStringSubmatch(l); {
		case m != nil:
			if declared[m[1]] || slices.Contains(reserved, m[1]) {
				t.Errorf("line %d: node %s declared twice or reserved", i+2, m[1])
			}
			declared[m[1]] = true
			nodes = append(nodes, m[1])
		case e != nil:
			if !declared[e[1]] || !declared[e[4]] {
				t.Errorf("line %d: edge between undeclared nodes: %s", i+2, l)
			}
			edges = append(edges, e[1]+" -> "+e[4]+": "+e[3])
		case mermaidOther.MatchString(l):
			f := strings.Fields(l)
			switch f[0] {
			case "class":
				for _, id := range strings.Split(f[1], ",") {
					if !declared[id] {
						t.Errorf("line %d: class of undeclared node %s", i+2, id)
					}
				}
			case "linkStyle":
				for _, n := range strings.Split(f[1], ",") {
					if k, _ := strconv.Atoi(n); k >= len(edges) {
						t.Errorf("line %d: linkStyle %d of %d edges", i+2, k, len(edges))
					}
				}
			}
		default:
			t.Errorf("line %d: not a statement of ours: %q", i+2, l)
		}
	}
	return nodes, edges
}

func TestMermaidIsStructurallySound(t *testing.T) {
	for name, g := range graphs(t) {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			if err := g.Mermaid(&b); err != nil {
				t.Fatal(err)
			}
			src := b.String()
			nodes, edges := mermaidStructure(t, src)
			if len(nodes) != len(g.Nodes) {
				t.Errorf("%d nodes drawn, graph has %d", len(nodes), len(g.Nodes))
			}
			var want []string
			for _, e := range g.Edges {
				want = append(want, e.From+" -> "+e.To+": "+strings.ReplaceAll(e.Label, `"`, "#quot;"))
			}
			if !slices.Equal(edges, want) {
				t.Errorf("edges drawn:\n%s\nwant:\n%s", strings.Join(edges, "\n"), strings.Join(want, "\n"))
			}
			// A third-party parser reads the same: github.com/sammcj/mermaid-check
			// (a line-based parser that skips what it cannot read, hence
			// the counts).
			fc, err := mermaid.ParseFlowchart(src)
			if err != nil {
				t.Fatalf("mermaid-check: %v\n%s", err, src)
			}
			for _, v := range validator.New(validator.StrictRules()...).Validate(fc) {
				t.Errorf("mermaid-check: %v", v.Error())
			}
			var defs, links int
			for _, s := range fc.Statements {
				switch s := s.(type) {
				case *ast.NodeDef:
					defs++
				case *ast.Link:
					links++
					if s.Label == "" {
						t.Errorf("mermaid-check read no label on %s -> %s", s.From, s.To)
					}
				}
			}
			if defs != len(g.Nodes) || links != len(g.Edges) {
				t.Errorf("mermaid-check read %d nodes and %d links, want %d and %d", defs, links, len(g.Nodes), len(g.Edges))
			}
		})
	}
}

func TestMermaidFlagsProblemEdges(t *testing.T) {
	g := graphs(t)["problems"]
	var b strings.Builder
	_ = g.Mermaid(&b)
	var flagged []string
	for i, e := range g.Edges {
		if e.Problem {
			flagged = append(flagged, fmt.Sprint(i))
		}
	}
	if len(flagged) == 0 {
		t.Fatal("no flagged edge to test")
	}
	if want := "  linkStyle " + strings.Join(flagged, ",") + " stroke:#cc3333,color:#cc3333\n"; !strings.Contains(b.String(), want) {
		t.Errorf("no %q in\n%s", want, b.String())
	}
}

func TestDOTParses(t *testing.T) {
	for name, g := range graphs(t) {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			if err := g.DOT(&b); err != nil {
				t.Fatal(err)
			}
			// github.com/awalterschulze/gographviz parses DOT and checks
			// attribute names.
			parsed, err := gographviz.Read([]byte(b.String()))
			if err != nil {
				t.Fatalf("gographviz: %v\n%s", err, b.String())
			}
			if !parsed.Directed || parsed.Name != strconv.Quote(g.Topology) {
				t.Errorf("graph %q directed=%v", parsed.Name, parsed.Directed)
			}
			if len(parsed.Nodes.Nodes) != len(g.Nodes) {
				t.Errorf("%d nodes parsed, want %d", len(parsed.Nodes.Nodes), len(g.Nodes))
			}
			if len(parsed.Edges.Edges) != len(g.Edges) {
				t.Fatalf("%d edges parsed, want %d", len(parsed.Edges.Edges), len(g.Edges))
			}
			for i, e := range parsed.Edges.Edges {
				want := g.Edges[i]
				if e.Src != want.From || e.Dst != want.To || unquote(t, e.Attrs["label"]) != want.Label {
					t.Errorf("edge %d: %s -> %s %v, want %+v", i, e.Src, e.Dst, e.Attrs, want)
				}
				if want.Kind == graph.EdgeEvent && want.Via != "" && !strings.Contains(unquote(t, e.Attrs["tooltip"]), patternText(want.Pattern)) {
					t.Errorf("edge %d: tooltip %s lacks the pattern %s", i, e.Attrs["tooltip"], want.Pattern)
				}
			}
			for _, n := range g.Nodes {
				p := parsed.Nodes.Lookup[n.ID]
				if p == nil || unquote(t, p.Attrs["label"]) != n.Label {
					t.Errorf("node %s: %+v", n.ID, p)
				}
			}
		})
	}
}

func patternText(p string) string {
	if p == "" {
		return "every record"
	}
	return p
}

// unquote reads a DOT string as gographviz keeps it: quoted, with \" and \\
// and \n escapes.
func unquote(t *testing.T, s string) string {
	t.Helper()
	if !strings.HasPrefix(s, `"`) {
		return s
	}
	var b strings.Builder
	body := s[1 : len(s)-1]
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' && i+1 < len(body) {
			i++
			if body[i] == 'n' {
				b.WriteByte('\n')
				continue
			}
		}
		b.WriteByte(body[i])
	}
	return b.String()
}

func TestJSONRoundTrips(t *testing.T) {
	g := graphs(t)["problems"]
	var b strings.Builder
	if err := g.JSON(&b); err != nil {
		t.Fatal(err)
	}
	var back graph.Graph
	dec := json.NewDecoder(strings.NewReader(b.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if back.Topology != g.Topology || len(back.Nodes) != len(g.Nodes) || len(back.Edges) != len(g.Edges) ||
		len(back.Events) != len(g.Events) || back.OK || len(back.Problems) != len(g.Problems) {
		t.Fatalf("round trip lost something:\n%s", b.String())
	}
	// The documented keys are there.
	var raw map[string]any
	_ = json.Unmarshal([]byte(b.String()), &raw)
	for _, k := range []string{"topology", "nodes", "edges", "events", "ok", "problems"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q in the JSON", k)
		}
	}
	edge := raw["edges"].([]any)[0].(map[string]any)
	for _, k := range []string{"from", "to", "kind", "type", "label"} {
		if _, ok := edge[k]; !ok {
			t.Errorf("edge without %q: %v", k, edge)
		}
	}
}
