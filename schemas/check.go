package schemas

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/troupehq/troupe/events"
)

// DefaultSamplesRoot is where sample events live in a repository, and how
// messages name the samples tree unless WithSamplesRoot says otherwise.
const DefaultSamplesRoot = "testdata/events"

// Problem is one thing Check found wrong.
type Problem struct {
	// File is the schema or sample file the problem is in (or, for a
	// missing schema, where it belongs).
	File string
	// Pointer is the JSON pointer of the spot inside File; "" for the file as
	// a whole.
	Pointer string
	// Message says what is wrong and, where it can, what to do.
	Message string
}

// String is "file#pointer: message", the form editors and CI logs link.
func (p Problem) String() string {
	if p.Pointer == "" {
		return p.File + ": " + p.Message
	}
	return p.File + "#" + p.Pointer + ": " + p.Message
}

// Report is the outcome of Check.
type Report struct {
	Types    int // types with a schema
	Versions int // schemas (type and version pairs)
	Samples  int // sample files read
	// Problems is every problem found, sorted by file then pointer.
	Problems []Problem
	// Unsampled lists the registered versions no sample exercises
	// ("orders.OrderPlaced v1"); it is not a problem. Empty when no samples
	// tree was given.
	Unsampled []string
}

// Err returns nil when the check found no problem, else an error listing
// every problem, one per line.
func (r *Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	lines := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		lines[i] = p.String()
	}
	noun := "problems"
	if len(lines) == 1 {
		noun = "problem"
	}
	return fmt.Errorf("schema check: %d %s:\n%s", len(lines), noun, strings.Join(lines, "\n"))
}

// CheckOption tunes Check.
type CheckOption func(*checkConfig)

type checkConfig struct {
	samplesRoot string
}

// WithSamplesRoot sets how messages name the samples tree (default
// "testdata/events").
func WithSamplesRoot(dir string) CheckOption {
	return func(c *checkConfig) { c.samplesRoot = dir }
}

// Check compares a schema set, the registry of event types and a tree of
// sample events (nil for none), and reports every problem it finds: see the
// package documentation for the list. Sample files are
// <type>/v<N>/<name>.json, each a full envelope.
func Check(set *Set, reg *events.Registry, samples fs.FS, opts ...CheckOption) *Report {
	cfg := checkConfig{samplesRoot: DefaultSamplesRoot}
	for _, opt := range opts {
		opt(&cfg)
	}
	c := &checker{set: set, reg: reg, cfg: cfg, rep: &Report{Types: len(set.types), Versions: len(set.entries)}}
	c.registered()
	c.ids()
	c.compatibility()
	if samples != nil {
		c.samples(samples)
	}
	slices.SortStableFunc(c.rep.Problems, func(a, b Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return comparePointers(a.Pointer, b.Pointer)
	})
	return c.rep
}

type checker struct {
	set     *Set
	reg     *events.Registry
	cfg     checkConfig
	rep     *Report
	sampled map[key]bool
}

func (c *checker) problem(file, ptr, format string, args ...any) {
	c.rep.Problems = append(c.rep.Problems, Problem{File: file, Pointer: ptr, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) info() map[key]events.VersionInfo {
	m := map[key]events.VersionInfo{}
	for _, v := range c.reg.Versions() {
		m[key{v.Type, v.Version}] = v
	}
	return m
}

// registered: every registered version has a schema, every schema is registered.
func (c *checker) registered() {
	infos := c.info()
	for _, v := range c.reg.Versions() {
		if !c.set.Has(v.Type, v.Version) {
			hint := "write it"
			if v.Version > 1 && c.set.Has(v.Type, v.Version-1) {
				hint = fmt.Sprintf("start from a copy of v%d.json", v.Version-1)
			}
			c.problem(c.set.Path(v.Type, v.Version), "", "no schema for %s v%d, which the registry knows: %s", v.Type, v.Version, hint)
		}
	}
	for _, k := range c.keys() {
		if _, ok := infos[k]; !ok {
			c.problem(c.set.Path(k.typ, k.ver), "", "schema of %s v%d, which the registry does not know: register it (events.Define[T](reg, %q, %d)) or delete the file", k.typ, k.ver, k.typ, k.ver)
		}
	}
}

// ids: a schema's $id, if any, ends with its own path.
func (c *checker) ids() {
	for _, k := range c.keys() {
		e := c.set.entries[k]
		obj, _ := e.doc.(map[string]any)
		id, ok := obj["$id"].(string)
		if !ok {
			continue
		}
		if !strings.HasSuffix(strings.TrimSuffix(id, "#"), "/"+e.rel) {
			c.problem(c.set.file(e.rel), "/$id", "$id %q does not end with /%s: was the file copied from another one?", id, e.rel)
		}
	}
}

// compatibility: each version is compatible with the previous one, or
// declared breaking with an upcaster.
func (c *checker) compatibility() {
	infos := c.info()
	for _, typ := range c.set.types {
		vs := c.set.vers[typ]
		for i := 1; i < len(vs); i++ {
			prev, cur := c.set.entries[key{typ, vs[i-1]}], c.set.entries[key{typ, vs[i]}]
			info := infos[key{typ, cur.ver}] // unregistered: not declared breaking either
			incs := compareDocs(prev.doc, cur.doc)
			if len(incs) == 0 {
				continue
			}
			file := c.set.file(cur.rel)
			switch {
			case info.Breaking == "":
				for _, inc := range incs {
					msg := inc.Message
					if inc.Via != "" {
						msg += " (via " + inc.Via + ")"
					}
					c.problem(file, inc.Pointer, "%s; v%d is not backward compatible with v%d: declare it breaking with events.Breaking(...) and register an upcaster v%d->v%d",
						msg, cur.ver, prev.ver, prev.ver, cur.ver)
				}
			case !info.Upcaster:
				spots := make([]string, 0, len(incs))
				for _, inc := range incs {
					spots = append(spots, inc.Pointer)
				}
				c.problem(file, "", "v%d is declared breaking (%s) but no upcaster v%d->v%d is registered: add one with reg.AddUpcaster(%q, %d, ...) (incompatible at %s)",
					cur.ver, info.Breaking, cur.ver-1, cur.ver, typ, cur.ver-1, strings.Join(spots, ", "))
			}
		}
	}
}

// sampleFile is the layout of a sample event: <type>/v<N>/<name>.json.
// Compiled on first use, not when a Lambda function starts.
var sampleFile = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([^/]+)/v([1-9][0-9]{0,8})/[^/]+\.json$`)
})

func (c *checker) samples(fsys fs.FS) {
	c.sampled = map[key]bool{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			c.problem(c.sampleFile(p), "", "%v", err)
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		c.rep.Samples++
		m := sampleFile().FindStringSubmatch(p)
		if m == nil {
			c.problem(c.sampleFile(p), "", "misplaced sample: want <type>/v<N>/<name>.json, e.g. orders.OrderPlaced/v2/placed.json")
			return nil
		}
		ver, _ := strconv.Atoi(m[2])
		c.sample(fsys, p, m[1], ver)
		return nil
	})
	if err != nil {
		c.problem(c.cfg.samplesRoot, "", "%v", err)
	}
	for _, v := range c.reg.Versions() {
		if !c.sampled[key{v.Type, v.Version}] {
			c.rep.Unsampled = append(c.rep.Unsampled, fmt.Sprintf("%s v%d", v.Type, v.Version))
		}
	}
}

func (c *checker) sampleFile(p string) string {
	if c.cfg.samplesRoot == "" || c.cfg.samplesRoot == "." {
		return p
	}
	return path.Join(c.cfg.samplesRoot, p)
}

func (c *checker) sample(fsys fs.FS, p, typ string, ver int) {
	file := c.sampleFile(p)
	raw, err := fs.ReadFile(fsys, p)
	if err != nil {
		c.problem(file, "", "%v", err)
		return
	}
	e, err := events.Decode(raw)
	if err != nil {
		ptr := ""
		var fe *events.FieldError
		if errors.As(err, &fe) && fe.Field != "" {
			ptr = "/" + strings.ReplaceAll(fe.Field, ".", "/")
		}
		c.problem(file, ptr, "%v", err)
		return
	}
	if e.Type != typ {
		c.problem(file, "/type", "type is %s but the sample sits under %s/: move it to %s/v%d/", e.Type, typ, e.Type, e.DataVersion)
		return
	}
	if e.DataVersion != ver {
		c.problem(file, "/dataversion", "dataversion is %d but the sample sits under v%d/: move it to %s/v%d/", e.DataVersion, ver, e.Type, e.DataVersion)
		return
	}
	c.sampled[key{typ, ver}] = true
	if !c.validate(file, typ, "/data", "", c.set.Validate(e)) {
		return
	}
	// Bring the sample to each newer version and validate it there.
	if c.reg.Known(typ, ver) != nil {
		return
	}
	for _, to := range c.set.vers[typ] {
		if to <= ver || c.reg.Known(typ, to) != nil {
			continue
		}
		up, err := c.reg.Upcast(e, to)
		switch {
		case errors.Is(err, events.ErrNoUpcaster):
			// A breaking version without an upcaster (the compatibility
			// check reports it): show what reading the data as is gives.
			up = e
			up.DataVersion = to
			c.validate(file, typ, "", fmt.Sprintf("read as v%d (no upcaster, so as is)", to), c.set.Validate(up))
		case err != nil:
			c.problem(file, "/data", "upcast to v%d: %v", to, err)
		case to == ver+1 && !c.info()[key{typ, to}].Upcaster:
			// A compatible version reads the data as is, which the
			// compatibility check says it accepts. Prove it.
			c.validate(file, typ, "", fmt.Sprintf("read as v%d (no upcaster, so as is)", to), c.set.Validate(up))
		default:
			c.validate(file, typ, "", fmt.Sprintf("upcast to v%d", to), c.set.Validate(up))
		}
	}
}

// validate turns a Validate error into problems; with a prefix, the data
// pointers are about transformed data and go into the message. It reports
// whether err was nil.
func (c *checker) validate(file, typ, base, prefix string, err error) bool {
	if err == nil {
		return true
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		ptr := "/type"
		if len(c.set.vers[typ]) > 0 {
			ptr = "/dataversion" // the type has schemas, but not this version
		}
		c.problem(file, ptr, "%v", err)
		return false
	}
	for _, v := range ve.Violations {
		if prefix == "" {
			c.problem(file, base+v.Pointer, "%s (schema %s)", v.Message, ve.File)
		} else {
			c.problem(file, "", "%s, data%s: %s (schema %s)", prefix, v.Pointer, v.Message, ve.File)
		}
	}
	return false
}

func (c *checker) keys() []key {
	var ks []key
	for _, typ := range c.set.types {
		for _, v := range c.set.vers[typ] {
			ks = append(ks, key{typ, v})
		}
	}
	return ks
}
