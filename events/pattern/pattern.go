package pattern

import (
	"bytes"
	"encoding/json"
)

// Pattern is a compiled EventBridge event pattern. It is immutable; any
// number of goroutines may call its methods at once.
type Pattern struct {
	src  string
	alts []alt
	snap *snapshot
}

// Compile compiles an EventBridge event pattern. It rejects what EventBridge
// rejects, with an *Error naming the field and saying how to fix it.
func Compile(pattern []byte) (*Pattern, error) {
	alts, err := compileAlts(pattern)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, pattern); err != nil {
		return nil, &Error{Reason: "invalid JSON: " + err.Error()}
	}
	p := &Pattern{src: buf.String(), alts: alts}
	p.snap = buildSnapshot([]entry{{name: "", p: p}}, 0)
	return p, nil
}

// MustCompile is like Compile but panics if the pattern is invalid. It is
// meant for patterns written into programs and tests.
func MustCompile(pattern string) *Pattern {
	p, err := Compile([]byte(pattern))
	if err != nil {
		panic(err)
	}
	return p
}

// Match reports whether the event, a JSON object, matches the pattern. It
// returns an error if the event is not valid JSON or not an object.
func (p *Pattern) Match(event []byte) (bool, error) {
	_, ok, err := p.snap.match(event, nil, true)
	return ok, err
}

// String returns the pattern as compact JSON: the pattern Compile was given,
// without insignificant whitespace. Keys keep their order and duplicates
// (where the last one wins, as in EventBridge), so compiling the result gives
// an equivalent pattern.
func (p *Pattern) String() string { return p.src }
