package catalog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/troupehq/troupe/graph"
)

// The files of a catalog, beside one another in one directory.
const (
	IndexHTML     = "index.html"
	IndexMarkdown = "index.md"
	GraphMermaid  = "graph.mmd"
	GraphDOT      = "graph.dot"
	GraphJSON     = "graph.json"
)

// PageHTML is the name of a type's HTML page: "orders.OrderPlaced.html".
func PageHTML(typ string) string { return typ + ".html" }

// PageMarkdown is the name of a type's Markdown page: "orders.OrderPlaced.md".
func PageMarkdown(typ string) string { return typ + ".md" }

// Files renders the catalog: the index and one page per type, in HTML and
// Markdown, and the whole graph as Mermaid, DOT and JSON. It returns the
// files by name.
func (c *Catalog) Files() (map[string][]byte, error) {
	files := map[string][]byte{}
	render := func(name string, f func(*bytes.Buffer) error) error {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			return fmt.Errorf("catalog: %s: %w", name, err)
		}
		files[name] = b.Bytes()
		return nil
	}
	mermaid, err := mermaidText(c.Graph)
	if err != nil {
		return nil, err
	}
	steps := []struct {
		name string
		f    func(*bytes.Buffer) error
	}{
		{GraphMermaid, func(b *bytes.Buffer) error { return c.Graph.Mermaid(b) }},
		{GraphDOT, func(b *bytes.Buffer) error { return c.Graph.DOT(b) }},
		{GraphJSON, func(b *bytes.Buffer) error { return c.Graph.JSON(b) }},
		{IndexHTML, func(b *bytes.Buffer) error { return htmlTemplates.ExecuteTemplate(b, "index", c.indexView(mermaid)) }},
		{IndexMarkdown, func(b *bytes.Buffer) error { return mdTemplates.ExecuteTemplate(b, "index", c.indexView(mermaid)) }},
	}
	for _, s := range steps {
		if err := render(s.name, s.f); err != nil {
			return nil, err
		}
	}
	for _, t := range c.Types {
		v, err := c.typeView(t)
		if err != nil {
			return nil, err
		}
		if err := render(PageHTML(t.Name), func(b *bytes.Buffer) error { return htmlTemplates.ExecuteTemplate(b, "type", v) }); err != nil {
			return nil, err
		}
		if err := render(PageMarkdown(t.Name), func(b *bytes.Buffer) error { return mdTemplates.ExecuteTemplate(b, "type", v) }); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// WriteDir writes the catalog's files into dir, creating it if need be, and
// returns their names, sorted. Files of an earlier catalog that are not
// written again are left alone.
func (c *Catalog) WriteDir(dir string) ([]string, error) {
	files, err := c.Files()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	names := make([]string, 0, len(files))
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// indexView is what the index templates show.
type indexView struct {
	*Catalog
	Mermaid  string
	Problems []string
}

func (c *Catalog) indexView(mermaid string) indexView {
	v := indexView{Catalog: c, Mermaid: mermaid}
	for _, p := range c.Graph.Problems {
		v.Problems = append(v.Problems, p.String())
	}
	for _, p := range c.SchemaProblems {
		v.Problems = append(v.Problems, p.String())
	}
	return v
}

// typeView is what the type templates show.
type typeView struct {
	Topology string
	Type
	Mermaid string
	// Newest first.
	Versions []Version
	Problems []string
}

func (c *Catalog) typeView(t Type) (typeView, error) {
	v := typeView{Topology: c.Topology, Type: t, Versions: slices.Clone(t.Versions)}
	slices.Reverse(v.Versions)
	if t.Graph != nil {
		m, err := mermaidText(t.Graph)
		if err != nil {
			return v, err
		}
		v.Mermaid = m
		for _, p := range t.Graph.Problems {
			v.Problems = append(v.Problems, p.String())
		}
	}
	for _, ver := range t.Versions {
		for _, p := range ver.Problems {
			v.Problems = append(v.Problems, p.String())
		}
	}
	return v, nil
}

func mermaidText(g *graph.Graph) (string, error) {
	var b bytes.Buffer
	err := g.Mermaid(&b)
	return b.String(), err
}

// versionList is "v1, v2".
func versionList(vs []int) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("v%d", v)
	}
	return strings.Join(parts, ", ")
}

// versionsOf is the versions of a type as "v1, v2".
func versionsOf(t Type) string {
	vs := make([]int, len(t.Versions))
	for i, v := range t.Versions {
		vs[i] = v.Version
	}
	return versionList(vs)
}

// upcasting says how events of the previous version reach this one.
func upcasting(v Version) string {
	if v.Compat == nil {
		return ""
	}
	from, to := v.Compat.From, v.Compat.To
	switch {
	case v.Upcaster:
		return fmt.Sprintf("v%d → v%d: registered upcaster", from, to)
	case v.Breaking != "":
		return fmt.Sprintf("v%d → v%d: none registered, but v%d is declared breaking", from, to, to)
	default:
		return fmt.Sprintf("v%d → v%d: none needed, v%d data is read as is", from, to, from)
	}
}
