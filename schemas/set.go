package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed */*/v*.json
var sampleFS embed.FS

// SampleRoot is the directory the embedded sample schemas come from, as
// messages name it.
const SampleRoot = "schemas"

// Set is a compiled set of schemas, one per event type and version.
//
// A Set is immutable once loaded: it is safe for concurrent use by any number
// of goroutines.
type Set struct {
	root    string // how messages name the tree, e.g. "schemas"
	entries map[key]*entry
	types   []string         // sorted
	vers    map[string][]int // sorted, per type
}

type key struct {
	typ string
	ver int
}

type entry struct {
	typ    string
	ver    int
	rel    string // path inside the tree: orders/OrderPlaced/v2.json
	raw    []byte
	doc    any // the decoded schema, for Compare and messages
	schema *jsonschema.Schema
	valid  validCache // data found valid lately (validcache.go)
}

var (
	sampleOnce sync.Once
	sampleSet  *Set
)

// Sample returns the embedded schemas of the sample domain (package domain),
// compiled once. It panics if they do not compile, which a test catches.
func Sample() *Set {
	sampleOnce.Do(func() {
		s, err := load(sampleFS, SampleRoot)
		if err != nil {
			panic(fmt.Sprintf("schemas: embedded sample schemas: %v", err))
		}
		sampleSet = s
	})
	return sampleSet
}

// SampleFS returns the embedded sample schema tree, e.g. to copy it.
func SampleFS() fs.FS { return sampleFS }

// Load reads and compiles every schema <domain>/<Name>/v<N>.json under fsys.
// Messages name the tree "schemas". Files that are not .json are ignored, and
// so are the directories testdata, and those whose name starts with "." or
// "_"; any other .json file that does not follow the layout is an error. An
// invalid schema is an error naming the file and the JSON pointer of the
// wrong spot.
func Load(fsys fs.FS) (*Set, error) { return load(fsys, SampleRoot) }

// LoadDir is Load of a directory on disk; messages name files under dir.
func LoadDir(dir string) (*Set, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("schema directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("schema directory %s: not a directory", dir)
	}
	return load(os.DirFS(dir), path.Clean(strings.ReplaceAll(dir, `\`, "/")))
}

// schemaFile is the layout of one schema: <domain>/<Name>/v<N>.json, with the
// type name rules of package events ("orders.OrderPlaced"). Compiled on first
// use: a Lambda function that imports the package does not pay for it at
// start.
var schemaFile = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)*)/([A-Z][A-Za-z0-9]*)/v([1-9][0-9]{0,8})\.json$`)
})

func load(fsys fs.FS, root string) (*Set, error) {
	s := &Set{root: root, entries: map[key]*entry{}, vers: map[string][]int{}}
	var errs []error
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".json") {
			return nil
		}
		m := schemaFile().FindStringSubmatch(p)
		if m == nil {
			errs = append(errs, fmt.Errorf("%s: misnamed schema file: want <domain>/<Name>/v<N>.json, e.g. orders/OrderPlaced/v2.json for orders.OrderPlaced v2", s.file(p)))
			return nil
		}
		ver, _ := strconv.Atoi(m[3])
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.file(p), err))
			return nil
		}
		e, err := s.compile(m[1]+"."+m[2], ver, p, raw)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		s.entries[key{e.typ, e.ver}] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load schemas from %s: %w", root, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for k := range s.entries {
		s.vers[k.typ] = append(s.vers[k.typ], k.ver)
	}
	for typ, vs := range s.vers {
		slices.Sort(vs)
		s.types = append(s.types, typ)
	}
	slices.Sort(s.types)
	return s, nil
}

// draft2020 is the only dialect troupe's schemas use.
const draft2020 = "https://json-schema.org/draft/2020-12/schema"

// compile decodes and compiles one schema file, each with its own compiler
// so that one file's $id or $defs never leak into another.
func (s *Set) compile(typ string, ver int, rel string, raw []byte) (*entry, error) {
	file := s.file(rel)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %s", file, jsonSyntaxMessage(raw, err))
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a schema must be a JSON object, got %s", file, jsonKind(doc))
	}
	if d, ok := obj["$schema"]; ok && d != draft2020 && d != draft2020+"#" {
		return nil, fmt.Errorf("%s#/$schema: must be %q (draft 2020-12), got %v", file, draft2020, d)
	}
	url := resourceURL(rel)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noRemote{})
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("%s", compileMessage(file, url, obj, err))
	}
	return &entry{typ: typ, ver: ver, rel: rel, raw: raw, doc: doc, schema: sch}, nil
}

// resourceURL is the URL a schema file is compiled under; messages map it
// back to the file.
func resourceURL(rel string) string { return "troupe-schema:///" + rel }

// noRemote refuses every reference to another document: schemas are
// self-contained and nothing is fetched.
type noRemote struct{}

func (noRemote) Load(url string) (any, error) {
	return nil, fmt.Errorf("reference to another document %q: troupe schemas are self-contained (use local references such as #/$defs/Name)", url)
}

// compileMessage turns a compiler error into "file#/pointer: what".
func compileMessage(file, url string, obj map[string]any, err error) string {
	id, _ := obj["$id"].(string)
	loc := func(u string) string {
		for _, base := range []string{url, id} {
			if base == "" {
				continue
			}
			if rest, ok := strings.CutPrefix(u, base); ok {
				if rest == "" || rest == "#" {
					return file
				}
				return file + rest
			}
		}
		return file + " (" + u + ")"
	}
	var sve *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	var rx *jsonschema.InvalidRegexError
	var nf *jsonschema.JSONPointerNotFoundError
	var lu *jsonschema.LoadURLError
	switch {
	case errors.As(err, &sve) && errors.As(sve.Err, &ve):
		base := strings.TrimSuffix(loc(sve.URL), "#")
		var parts []string
		for _, v := range leaves(ve) {
			parts = append(parts, fmt.Sprintf("%s#%s: invalid schema: %s", strings.SplitN(base, "#", 2)[0], v.Pointer, v.Message))
		}
		return strings.Join(parts, "\n")
	case errors.As(err, &rx):
		return fmt.Sprintf("%s: invalid regular expression %q: %v", loc(rx.URL), rx.Regex, rx.Err)
	case errors.As(err, &nf):
		return fmt.Sprintf("%s: reference to %s: no such location in this file", file, loc(nf.URL))
	case errors.As(err, &lu):
		return fmt.Sprintf("%s: %v", file, lu.Err)
	}
	return fmt.Sprintf("%s: %v", file, err)
}

// file names a schema file in messages: "schemas/orders/OrderPlaced/v2.json".
func (s *Set) file(rel string) string {
	if s.root == "" || s.root == "." {
		return rel
	}
	return s.root + "/" + rel
}

// relPath is where the schema of typ version ver lives inside a tree:
// "orders/OrderPlaced/v2.json".
func relPath(typ string, ver int) string {
	return fmt.Sprintf("%s/v%d.json", typeDir(typ), ver)
}

// typeDir is "orders/OrderPlaced" for "orders.OrderPlaced".
func typeDir(typ string) string {
	i := strings.LastIndexByte(typ, '.')
	if i < 0 {
		return typ
	}
	return typ[:i] + "/" + typ[i+1:]
}

// Root returns the name messages give the schema tree ("schemas" for the
// embedded set and for Load, the directory for LoadDir).
func (s *Set) Root() string { return s.root }

// Types returns the type names that have at least one schema, sorted.
func (s *Set) Types() []string { return slices.Clone(s.types) }

// Versions returns the versions of typ that have a schema, sorted.
func (s *Set) Versions(typ string) []int { return slices.Clone(s.vers[typ]) }

// Len returns the number of schemas (type and version pairs) in the set.
func (s *Set) Len() int { return len(s.entries) }

// Has reports whether the set has a schema for typ version ver.
func (s *Set) Has(typ string, ver int) bool {
	_, ok := s.entries[key{typ, ver}]
	return ok
}

// Raw returns the schema file of typ version ver as it was read. The caller
// must not modify it.
func (s *Set) Raw(typ string, ver int) ([]byte, bool) {
	e, ok := s.entries[key{typ, ver}]
	if !ok {
		return nil, false
	}
	return e.raw, true
}

// Path returns the file of the schema of typ version ver as messages name it
// ("schemas/orders/OrderPlaced/v2.json"), whether or not it exists: it is
// where the schema belongs.
func (s *Set) Path(typ string, ver int) string { return s.file(relPath(typ, ver)) }

// jsonKind names a decoded JSON value's type as JSON Schema does.
func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case float64, int, int64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// jsonSyntaxMessage says where a JSON document is malformed, by line and
// column when encoding/json gives an offset.
func jsonSyntaxMessage(raw []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(raw, se.Offset)
		return fmt.Sprintf("malformed JSON at line %d, column %d: %v", line, col, se)
	}
	return fmt.Sprintf("malformed JSON: %v", err)
}

func lineCol(raw []byte, off int64) (line, col int) {
	if off > int64(len(raw)) {
		off = int64(len(raw))
	}
	before := raw[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}
