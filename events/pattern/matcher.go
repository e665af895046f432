package pattern

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Matcher matches events against many named patterns at once. Its cost per
// event grows with the size of the event and the number of patterns that
// nearly match it, not with the number of patterns: see snapshot.
//
// Concurrency: all methods are safe to call from any number of goroutines at
// once. Add and Remove take a lock and only record the change; the next Match
// rebuilds the index under that lock and publishes it through an atomic
// pointer, so Match calls that find the index current never lock and never
// wait for each other. A Match that starts after an Add or Remove returned
// sees its effect.
type Matcher struct {
	mu      sync.Mutex
	byName  map[string][]*Pattern // guarded by mu
	version atomic.Uint64         // bumped by every change, under mu
	snap    atomic.Pointer[snapshot]
}

// NewMatcher returns an empty Matcher.
func NewMatcher() *Matcher {
	return &Matcher{byName: map[string][]*Pattern{}}
}

// Add compiles pattern and adds it under name. A name may be added several
// times: it then matches when any of its patterns does (as in event-ruler).
// An invalid pattern returns the Compile error and changes nothing.
func (m *Matcher) Add(name string, pattern []byte) error {
	p, err := Compile(pattern)
	if err != nil {
		return fmt.Errorf("pattern %q: %w", name, err)
	}
	m.AddPattern(name, p)
	return nil
}

// AddPattern adds a compiled pattern under name, like Add.
func (m *Matcher) AddPattern(name string, p *Pattern) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byName[name] = append(m.byName[name], p)
	m.version.Add(1)
}

// Remove removes every pattern added under name. Removing an unknown name
// does nothing.
func (m *Matcher) Remove(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byName[name]; !ok {
		return
	}
	delete(m.byName, name)
	m.version.Add(1)
}

// Match returns the names of the patterns the event matches, sorted, each
// once; nil if none does. It returns an error if the event is not a valid
// JSON object.
func (m *Matcher) Match(event []byte) ([]string, error) {
	return m.AppendMatches(nil, event)
}

// AppendMatches is like Match but appends the names to dst, so a caller that
// reuses dst matches without allocating.
func (m *Matcher) AppendMatches(dst []string, event []byte) ([]string, error) {
	s := m.current()
	dst, _, err := s.match(event, dst, false)
	return dst, err
}

// current returns an index of the current patterns, rebuilding it if a change
// was made since the last one was built.
func (m *Matcher) current() *snapshot {
	s := m.snap.Load()
	if s != nil && s.version == m.version.Load() {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.version.Load()
	if s = m.snap.Load(); s != nil && s.version == v {
		return s
	}
	var entries []entry
	for name, ps := range m.byName {
		for _, p := range ps {
			entries = append(entries, entry{name: name, p: p})
		}
	}
	s = buildSnapshot(entries, v)
	m.snap.Store(s)
	return s
}
