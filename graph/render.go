package graph

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats are the output formats of Render.
var Formats = []string{"mermaid", "dot", "json"}

// JSON writes the graph as indented JSON; the package documentation shows
// its structure.
func (g *Graph) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(g)
}

// Render writes the graph in one of Formats.
func (g *Graph) Render(w io.Writer, format string) error {
	switch format {
	case "mermaid":
		return g.Mermaid(w)
	case "dot":
		return g.DOT(w)
	case "json":
		return g.JSON(w)
	}
	return fmt.Errorf("format %q: want one of %s", format, strings.Join(Formats, ", "))
}
