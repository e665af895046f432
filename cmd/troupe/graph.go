package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/troupehq/troupe/graph"
)

// graphSource is the choreography `troupe graph` and `troupe catalog` draw:
// the sample's declaration (roles.go).
var graphSource = func() (*graph.Graph, error) {
	t, err := sampleTopology()
	if err != nil {
		return nil, err
	}
	return graph.Build(t)
}

func newGraphCmd() *cobra.Command {
	var format, consumer, typ string
	var check bool
	cmd := &cobra.Command{
		Use:   "graph [--format mermaid|dot|json] [--consumer NAME] [--type TYPE] [--check]",
		Short: "Draw the choreography from its topology declaration",
		Long: `graph draws who emits what and who reacts to what, read from the topology
declaration (the same one troupe dev, the Lambdas and the CDK app read):
consumers and an "external producers" node (events no consumer emits) are
nodes, event types are edges from their producers to the consumers that read
them, on the bus (-->) or the stream (==>), and each consumer has an edge to
its dead-letter queue.

  --format mermaid  a Mermaid flowchart, for a README's ` + "```mermaid" + ` block (default)
  --format dot      a Graphviz digraph: troupe graph --format dot | dot -Tsvg > graph.svg
  --format json     nodes, edges, a summary per event type and the check's problems

--consumer and --type keep the part of the graph about one consumer or one
event type (or both).

--check prints, instead of the graph, what the declaration leaves dangling,
one problem per line, and exits 1 if there is any: a type that is emitted (or
declared External) but that no consumer reads, a type a consumer waits for
that no consumer emits and that the topology does not declare External, and a
producer of a version newer than a reader reads.`,
		Example: `  # The sample choreography as Mermaid
  troupe graph

  # As SVG, with tooltips carrying each subscription's pattern
  troupe graph --format dot | dot -Tsvg > choreography.svg

  # Who feeds the orders consumer, and what it emits
  troupe graph --consumer orders

  # In CI: fail when an event has no reader or no producer
  troupe graph --check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := graphSource()
			if err != nil {
				return err
			}
			if g, err = g.Filter(consumer, typ); err != nil {
				return err
			}
			if check {
				return printGraphCheck(cmd, g)
			}
			if err := g.Render(cmd.OutOrStdout(), format); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			for _, p := range g.Problems {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", p)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "mermaid", "output format: "+strings.Join(graph.Formats, ", "))
	cmd.Flags().StringVar(&consumer, "consumer", "", "keep only the edges into and out of consumer `NAME`")
	cmd.Flags().StringVar(&typ, "type", "", "keep only the edges of event type `TYPE` (e.g. orders.OrderPlaced)")
	cmd.Flags().BoolVar(&check, "check", false, "print the problems of the declaration instead of the graph; exit 1 if any")
	return cmd
}

func printGraphCheck(cmd *cobra.Command, g *graph.Graph) error {
	out := cmd.OutOrStdout()
	for _, p := range g.Problems {
		fmt.Fprintln(out, p)
	}
	if n := len(g.Problems); n > 0 {
		noun := "problems"
		if n == 1 {
			noun = "problem"
		}
		return fmt.Errorf("graph check: %d %s", n, noun)
	}
	consumers, edges := 0, 0
	for _, n := range g.Nodes {
		if n.Kind == graph.KindConsumer {
			consumers++
		}
	}
	for _, e := range g.Edges {
		if e.Kind == graph.EdgeEvent {
			edges++
		}
	}
	fmt.Fprintf(out, "ok: %d consumers, %d event types, %d event edges\n", consumers, len(g.Events), edges)
	return nil
}
