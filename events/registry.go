package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Errors a caller can test for with errors.Is. The errors returned wrap them
// with the details (type, version, what is known).
var (
	ErrUnknownType    = errors.New("unknown event type")
	ErrUnknownVersion = errors.New("unknown event version")
	// ErrNewerVersion is returned when an event is newer than the version a
	// consumer asks for: troupe never downcasts, so a consumer must be
	// upgraded to read it.
	ErrNewerVersion = errors.New("event version is newer than the consumer's")
	// ErrNoUpcaster is returned when no upcaster leads from an event's version
	// to the one asked for.
	ErrNoUpcaster = errors.New("no upcaster")
)

// Upcaster turns the data of version N of a type into the data of version N+1.
// It must be a pure function of its input. A version that is not declared
// Breaking needs none: its predecessor's data is read as is.
type Upcaster func(data json.RawMessage) (json.RawMessage, error)

func identity(data json.RawMessage) (json.RawMessage, error) { return data, nil }

// VersionInfo describes one registered version of a type.
type VersionInfo struct {
	Type    string
	Version int
	// Breaking is the declared reason why this version is not backward
	// compatible with the previous one; empty for a compatible change.
	Breaking string
	// Upcaster reports whether an upcaster from the previous version exists.
	Upcaster bool
}

// VersionOption sets an optional property of a registered version.
type VersionOption func(*VersionInfo)

// Breaking declares that a version changes the previous one's data in a way
// old readers cannot follow (a field removed, renamed or retyped). The schema
// compatibility check accepts it only if an upcaster from the previous
// version exists too.
func Breaking(reason string) VersionOption {
	return func(v *VersionInfo) { v.Breaking = reason }
}

// Registry knows the event types, their versions and the upcasters between
// them. It is safe for concurrent use; registration usually happens at start-up.
type Registry struct {
	mu    sync.RWMutex
	types map[string]*typeEntry
}

type typeEntry struct {
	versions  map[int]VersionInfo
	upcasters map[int]Upcaster // from version N to N+1, keyed by N
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{types: make(map[string]*typeEntry)}
}

// typeName is "<domain>.<Name>": a lower-case domain, a dot, a name.
var typeName = regexp.MustCompile(`^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*\.[A-Z][A-Za-z0-9]*$`)

// Register adds a version of a type. Registering the same version twice is an
// error.
func (r *Registry) Register(typ string, version int, opts ...VersionOption) error {
	if !typeName.MatchString(typ) {
		return fmt.Errorf("event type %q: must look like domain.Name (e.g. orders.OrderPlaced)", typ)
	}
	if version < 1 {
		return fmt.Errorf("event type %s: version must be >= 1, got %d", typ, version)
	}
	info := VersionInfo{Type: typ, Version: version}
	for _, opt := range opts {
		opt(&info)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.types[typ]
	if t == nil {
		t = &typeEntry{versions: map[int]VersionInfo{}, upcasters: map[int]Upcaster{}}
		r.types[typ] = t
	}
	if _, dup := t.versions[version]; dup {
		return fmt.Errorf("event %s v%d: registered twice", typ, version)
	}
	t.versions[version] = info
	return nil
}

// AddUpcaster registers the upcaster from version `from` to version from+1 of
// a type. Both versions must be registered first.
func (r *Registry) AddUpcaster(typ string, from int, up Upcaster) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, err := r.lookupLocked(typ, from)
	if err != nil {
		return fmt.Errorf("upcaster v%d->v%d: %w", from, from+1, err)
	}
	if _, ok := t.versions[from+1]; !ok {
		return fmt.Errorf("upcaster %s v%d->v%d: %w: v%d (known: %s)", typ, from, from+1, ErrUnknownVersion, from+1, versionList(t))
	}
	if _, dup := t.upcasters[from]; dup {
		return fmt.Errorf("upcaster %s v%d->v%d: registered twice", typ, from, from+1)
	}
	t.upcasters[from] = up
	return nil
}

// Known returns nil if the type and version are registered, else an error
// wrapping ErrUnknownType or ErrUnknownVersion that lists what is known.
func (r *Registry) Known(typ string, version int) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, err := r.lookupLocked(typ, version)
	return err
}

func (r *Registry) lookupLocked(typ string, version int) (*typeEntry, error) {
	t := r.types[typ]
	if t == nil {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownType, typ, r.typeListLocked())
	}
	if _, ok := t.versions[version]; !ok {
		return nil, fmt.Errorf("event %s: %w v%d (known: %s)", typ, ErrUnknownVersion, version, versionList(t))
	}
	return t, nil
}

// Latest returns the highest registered version of a type.
func (r *Registry) Latest(typ string) (int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t := r.types[typ]
	if t == nil {
		return 0, fmt.Errorf("%w %q (known: %s)", ErrUnknownType, typ, r.typeListLocked())
	}
	return slices.Max(sortedVersions(t)), nil
}

// Types returns the registered type names, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.typeNamesLocked()
}

// Versions describes every registered version, sorted by type then version.
func (r *Registry) Versions() []VersionInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []VersionInfo
	for _, name := range r.typeNamesLocked() {
		t := r.types[name]
		for _, v := range sortedVersions(t) {
			info := t.versions[v]
			_, info.Upcaster = t.upcasters[v-1]
			out = append(out, info)
		}
	}
	return out
}

// Upcast returns e with its data upcast to version `to`, applying the
// upcasters vN->vN+1 in a chain. An event already at `to` is returned as is.
// An event newer than `to` is an error wrapping ErrNewerVersion.
func (r *Registry) Upcast(e Envelope, to int) (Envelope, error) {
	if e.DataVersion == to {
		return e, nil
	}
	if e.DataVersion > to {
		return Envelope{}, fmt.Errorf("%s: %w (v%d asked for): upgrade the consumer to read v%d", e.Ref(), ErrNewerVersion, to, e.DataVersion)
	}
	chain, err := r.chain(e.Type, e.DataVersion, to)
	if err != nil {
		return Envelope{}, fmt.Errorf("%s: %w", e.Ref(), err)
	}
	data := e.Data
	for i, up := range chain {
		from := e.DataVersion + i
		if data, err = up(data); err != nil {
			return Envelope{}, fmt.Errorf("%s: upcast v%d->v%d: %w", e.Ref(), from, from+1, err)
		}
	}
	e.Data, e.DataVersion = data, to
	return e, nil
}

func (r *Registry) chain(typ string, from, to int) ([]Upcaster, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, err := r.lookupLocked(typ, from)
	if err != nil {
		return nil, err
	}
	if _, err := r.lookupLocked(typ, to); err != nil {
		return nil, err
	}
	chain := make([]Upcaster, 0, to-from)
	for v := from; v < to; v++ {
		up, ok := t.upcasters[v]
		switch {
		case ok:
			chain = append(chain, up)
		case t.versions[v+1].Breaking == "":
			// A compatible version reads its predecessor's data as is.
			chain = append(chain, identity)
		default:
			return nil, fmt.Errorf("%w from v%d to v%d, a breaking change (%s): register one with AddUpcaster(%q, %d, ...)",
				ErrNoUpcaster, v, v+1, t.versions[v+1].Breaking, typ, v)
		}
	}
	return chain, nil
}

func (r *Registry) typeNamesLocked() []string {
	names := make([]string, 0, len(r.types))
	for name := range r.types {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (r *Registry) typeListLocked() string {
	names := r.typeNamesLocked()
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func sortedVersions(t *typeEntry) []int {
	vs := make([]int, 0, len(t.versions))
	for v := range t.versions {
		vs = append(vs, v)
	}
	sort.Ints(vs)
	return vs
}

func versionList(t *typeEntry) string {
	var parts []string
	for _, v := range sortedVersions(t) {
		parts = append(parts, fmt.Sprintf("v%d", v))
	}
	return strings.Join(parts, ", ")
}
