// Package catalog generates an event catalog from the code: one page per
// event type with every version, its JSON Schema, a valid example, who emits
// it and who reacts to it (bus or stream, with the pattern), the upcasters
// between versions and the compatibility verdict of `troupe schemas check`
// between consecutive versions; and an index with the whole choreography.
//
// Nothing in it is written by hand: the types and versions come from the
// registry, the schemas and their examples (the standard JSON Schema
// "examples" keyword) from the schema set, producers and consumers from the
// topology declaration through package graph.
//
// [Catalog.Files] renders it as static HTML (html/template, no external
// assets, a little inline CSS) and Markdown, with the Mermaid graph embedded
// in the Markdown and the graph written beside it as graph.mmd, graph.dot
// and graph.json; [Catalog.WriteDir] writes the files to a directory.
package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/graph"
	"github.com/troupehq/troupe/schemas"
	"github.com/troupehq/troupe/topology"
)

// Catalog is every event type of a choreography, ready to render. It is not
// changed once built.
type Catalog struct {
	Topology string
	Types    []Type
	// Graph is the whole choreography; its Problems are the graph check's.
	Graph *graph.Graph
	// SchemaProblems are what `troupe schemas check` finds (without
	// samples), each one also listed under its version.
	SchemaProblems []schemas.Problem
}

// Type is one event type: its versions, producers and consumers.
type Type struct {
	Name string
	// Description is the latest version's schema description.
	Description string
	Versions    []Version
	// External is true when the topology declares the type as published
	// by systems outside it.
	External  bool
	Producers []graph.Producer
	Consumers []graph.Reader
	// Graph is the part of the choreography about this type; nil when no
	// one emits or reads it.
	Graph *graph.Graph
}

// Version is one version of a type.
type Version struct {
	Version    int
	Registered bool
	// SchemaFile is where the schema is ("schemas/orders/OrderPlaced/v2.json"),
	// or belongs when it is missing.
	SchemaFile string
	HasSchema  bool
	// Schema is the schema file as it is, indented.
	Schema      string
	Title       string
	Description string
	// Example is the schema's first example, indented; "" when it has none.
	Example string
	// ExampleError says why the example is not valid against its schema.
	ExampleError string
	// Breaking is the declared reason why this version breaks the previous
	// one; "" for a compatible change.
	Breaking string
	// Upcaster is true when an upcaster from the previous version is
	// registered.
	Upcaster bool
	// Compat is the verdict against the previous version; nil for the
	// first.
	Compat *Compat
	// Problems are the schema check's problems in this version's file.
	Problems []schemas.Problem
}

// Compat is the compatibility verdict between two consecutive versions, as
// `troupe schemas check` gives it.
type Compat struct {
	From, To int
	// OK is true when the check accepts the change: compatible, or declared
	// breaking with an upcaster.
	OK bool
	// Verdict says it in a sentence.
	Verdict string
	// Changes are the spots where the new schema rejects or drops data the
	// old one accepted.
	Changes []string
}

// Build gathers the catalog of a topology, the schema set and the registry
// of its events. The topology should have been validated.
func Build(t *topology.Topology, set *schemas.Set, reg *events.Registry) (*Catalog, error) {
	if t == nil || set == nil || reg == nil {
		return nil, errors.New("catalog: a topology, a schema set and a registry are needed")
	}
	g, err := graph.Build(t)
	if err != nil {
		return nil, err
	}
	c := &Catalog{Topology: t.Name, Graph: g, SchemaProblems: schemas.Check(set, reg, nil).Problems}
	infos := map[string]map[int]events.VersionInfo{}
	for _, v := range reg.Versions() {
		if infos[v.Type] == nil {
			infos[v.Type] = map[int]events.VersionInfo{}
		}
		infos[v.Type][v.Version] = v
	}
	names := append(reg.Types(), set.Types()...)
	for _, e := range g.Events {
		names = append(names, e.Type)
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		typ := Type{Name: name, Producers: []graph.Producer{}, Consumers: []graph.Reader{}}
		if ev, ok := g.Event(name); ok {
			typ.External, typ.Producers, typ.Consumers = ev.External, ev.Producers, ev.Consumers
			if typ.Graph, err = g.Filter("", name); err != nil {
				return nil, err
			}
		}
		var vs []int
		for v := range infos[name] {
			vs = append(vs, v)
		}
		vs = append(vs, set.Versions(name)...)
		slices.Sort(vs)
		for _, v := range slices.Compact(vs) {
			info, registered := infos[name][v]
			ver := c.version(set, name, v, info)
			ver.Registered = registered
			typ.Versions = append(typ.Versions, ver)
		}
		for i := 1; i < len(typ.Versions); i++ {
			typ.Versions[i].Compat = compat(set, name, typ.Versions[i-1], typ.Versions[i])
		}
		if n := len(typ.Versions); n > 0 {
			typ.Description = typ.Versions[n-1].Description
		}
		c.Types = append(c.Types, typ)
	}
	return c, nil
}

// version describes one version from its schema and registration.
func (c *Catalog) version(set *schemas.Set, typ string, v int, info events.VersionInfo) Version {
	ver := Version{Version: v, SchemaFile: set.Path(typ, v), Breaking: info.Breaking, Upcaster: info.Upcaster}
	for _, p := range c.SchemaProblems {
		if p.File == ver.SchemaFile {
			ver.Problems = append(ver.Problems, p)
		}
	}
	raw, ok := set.Raw(typ, v)
	if !ok {
		return ver
	}
	ver.HasSchema = true
	ver.Schema = indent(raw)
	var doc struct {
		Title       string            `json:"title"`
		Description string            `json:"description"`
		Examples    []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return ver // a schema in the set is JSON: cannot happen
	}
	ver.Title, ver.Description = doc.Title, doc.Description
	if ver.Title == fmt.Sprintf("%s v%d", typ, v) {
		ver.Title = "" // the heading says it already
	}
	if len(doc.Examples) > 0 {
		ver.Example = indent(doc.Examples[0])
		if err := set.ValidateData(typ, v, doc.Examples[0]); err != nil {
			ver.ExampleError = err.Error()
		}
	}
	return ver
}

// compat is the verdict of `troupe schemas check` on version cur against
// the previous one: compatible, or declared breaking with an upcaster, or a
// failure.
func compat(set *schemas.Set, typ string, prev, cur Version) *Compat {
	cp := &Compat{From: prev.Version, To: cur.Version}
	if !prev.HasSchema || !cur.HasSchema {
		cp.Verdict = "not compared: a schema is missing"
		return cp
	}
	oldRaw, _ := set.Raw(typ, prev.Version)
	newRaw, _ := set.Raw(typ, cur.Version)
	incs, err := schemas.Compare(oldRaw, newRaw)
	if err != nil {
		cp.Verdict = "not compared: " + err.Error()
		return cp
	}
	for _, inc := range incs {
		cp.Changes = append(cp.Changes, inc.String())
	}
	from, to := fmt.Sprintf("v%d", prev.Version), fmt.Sprintf("v%d", cur.Version)
	switch {
	case len(incs) == 0:
		cp.OK = true
		cp.Verdict = fmt.Sprintf("%s is backward compatible with %s: a reader of %s reads %s data as is", to, from, to, from)
	case cur.Breaking != "" && cur.Upcaster:
		cp.OK = true
		cp.Verdict = fmt.Sprintf("%s breaks %s (declared: %s); the registered upcaster %s->%s brings %s events to %s", to, from, cur.Breaking, from, to, from, to)
	case cur.Breaking != "":
		cp.Verdict = fmt.Sprintf("%s is declared breaking (%s) but no upcaster %s->%s is registered: schemas check fails", to, cur.Breaking, from, to)
	default:
		cp.Verdict = fmt.Sprintf("%s is not backward compatible with %s and is not declared breaking: schemas check fails", to, from)
	}
	return cp
}

func indent(raw []byte) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return strings.TrimSpace(string(raw))
	}
	return b.String()
}

// Type returns the entry of one type.
func (c *Catalog) Type(name string) (Type, bool) {
	for _, t := range c.Types {
		if t.Name == name {
			return t, true
		}
	}
	return Type{}, false
}

// Err returns nil when neither the graph check nor the schema check found a
// problem, else an error listing them, one per line.
func (c *Catalog) Err() error {
	var lines []string
	for _, p := range c.Graph.Problems {
		lines = append(lines, p.String())
	}
	for _, p := range c.SchemaProblems {
		lines = append(lines, p.String())
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("catalog of %s: %d problem(s):\n%s", c.Topology, len(lines), strings.Join(lines, "\n"))
}
