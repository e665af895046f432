package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/troupehq/troupe/catalog"
	"github.com/troupehq/troupe/domain"
)

func newCatalogCmd() *cobra.Command {
	var out, dir string
	cmd := &cobra.Command{
		Use:   "catalog [--out DIR] [--schemas DIR]",
		Short: "Generate the event catalog (HTML and Markdown) from the code",
		Long: `catalog writes an event catalog generated from the code into --out: an index
and one page per event type, in static HTML (no script, no external asset)
and in Markdown, with the choreography beside them as graph.mmd, graph.dot
and graph.json (the Markdown embeds the Mermaid graph).

Each type's page lists every version with its JSON Schema, its example (the
schema's "examples" keyword, checked against the schema), who emits it, who
reacts to it (bus or stream, and the pattern), the upcasters between versions
and the verdict of ` + "`troupe schemas check`" + ` between consecutive versions.

The types and versions come from the registry, the schemas from those
embedded in troupe (or --schemas DIR, the directory you are editing), who
emits and reads what from the topology declaration. Problems that
` + "`troupe graph --check`" + ` or ` + "`troupe schemas check`" + ` would report are shown in
the catalog and noted on stderr; they do not fail the command.`,
		Example: `  troupe catalog                  # into ./event-catalog: open event-catalog/index.html
  troupe catalog --out docs/events --schemas schemas`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := sampleTopology()
			if err != nil {
				return err
			}
			set, err := loadSchemaSet(dir)
			if err != nil {
				return err
			}
			c, err := catalog.Build(t, set, domain.Registry())
			if err != nil {
				return err
			}
			names, err := c.WriteDir(out)
			if err != nil {
				return err
			}
			for _, p := range c.Graph.Problems {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", p)
			}
			for _, p := range c.SchemaProblems {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", p)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d files for %d event types to %s: open %s or %s\n",
				len(names), len(c.Types), out, filepath.Join(out, catalog.IndexHTML), filepath.Join(out, catalog.IndexMarkdown))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "event-catalog", "write the catalog into `DIR`")
	cmd.Flags().StringVar(&dir, "schemas", "", "read the schemas from `DIR` on disk instead of the embedded ones")
	return cmd
}
