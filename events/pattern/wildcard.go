package pattern

import (
	"fmt"
	"strings"
)

// glob is a compiled wildcard operand: literal parts with a '*' between each
// pair. A pattern without stars has one part and is an exact match.
type glob struct {
	parts []string
}

// parseGlob parses a wildcard operand. Only '*' is special; "\*" is a literal
// star and "\\" a literal backslash; any other backslash and two stars in a
// row are errors. Positions in errors count bytes from 1.
func parseGlob(s string) (*glob, error) {
	g := &glob{}
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return nil, fmt.Errorf("consecutive '*' at position %d; use a single '*'", i+1)
			}
			g.parts = append(g.parts, cur.String())
			cur.Reset()
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\') {
				cur.WriteByte(s[i+1])
				i++
				continue
			}
			return nil, fmt.Errorf("invalid escape at position %d; only \\* and \\\\ are allowed", i+1)
		default:
			cur.WriteByte(c)
		}
	}
	g.parts = append(g.parts, cur.String())
	return g, nil
}

// match reports whether s matches the whole glob.
func (g *glob) match(s string) bool {
	n := len(g.parts)
	if n == 1 {
		return s == g.parts[0]
	}
	if !strings.HasPrefix(s, g.parts[0]) {
		return false
	}
	s = s[len(g.parts[0]):]
	for _, p := range g.parts[1 : n-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, g.parts[n-1])
}

// literalPrefix and literalSuffix are what every match must start and end with.
func (g *glob) literalPrefix() string { return g.parts[0] }
func (g *glob) literalSuffix() string { return g.parts[len(g.parts)-1] }

// maxWildcardComplexity is the largest complexity Compile accepts for the
// wildcard operands on one field. EventBridge rejects rules that are "too
// complex" by a measure it does not publish (event-ruler's
// MachineComplexityEvaluator with a service-side limit); this limit is
// calibrated on the cases AWS was seen to accept and reject (see
// wildcardComplexity, and localstack's AWS-recorded event-pattern templates).
const maxWildcardComplexity = 8

// wildcardComplexity measures, like event-ruler's MachineComplexityEvaluator,
// how many prefixes of the given wildcard operands a single input can match at
// once, taking the worst input. Operands are wrapped in quotes as event-ruler
// stores them. The search over inputs is capped, so the result is a lower bound
// for very long operands. It stops as soon as the count passes limit.
func wildcardComplexity(globs []*glob, limit int) int {
	type tok struct {
		c    byte
		star bool
	}
	var toks []tok
	var starts []int // start index in toks of each operand
	var ends []int
	alphabet := map[byte]bool{}
	for _, g := range globs {
		starts = append(starts, len(toks))
		toks = append(toks, tok{c: '"'})
		alphabet['"'] = true
		for i, p := range g.parts {
			if i > 0 {
				toks = append(toks, tok{star: true})
			}
			for j := 0; j < len(p); j++ {
				toks = append(toks, tok{c: p[j]})
				alphabet[p[j]] = true
			}
		}
		toks = append(toks, tok{c: '"'})
		ends = append(ends, len(toks))
	}
	// Position k of operand j (k tokens consumed) is index starts[j]+k, so an
	// operand with n tokens has positions starts[j]..starts[j]+n, which
	// overlaps the next operand's first position; give each its own slot.
	npos := 0
	slot := make([]int, len(globs))
	for j := range globs {
		slot[j] = npos
		npos += ends[j] - starts[j] + 1
	}
	type state []bool
	closure := func(s state) {
		for j := range globs {
			n := ends[j] - starts[j]
			for k := 0; k < n; k++ {
				if s[slot[j]+k] && toks[starts[j]+k].star {
					s[slot[j]+k+1] = true
				}
			}
		}
	}
	count := func(s state) int {
		c := 0
		for j := range globs {
			n := ends[j] - starts[j]
			for k := 1; k <= n; k++ {
				if s[slot[j]+k] {
					c++
				}
			}
		}
		return c
	}
	step := func(s state, c byte, other bool) state {
		next := make(state, npos)
		any := false
		for j := range globs {
			n := ends[j] - starts[j]
			for k := 0; k <= n; k++ {
				if !s[slot[j]+k] {
					continue
				}
				if k < n && !toks[starts[j]+k].star && !other && toks[starts[j]+k].c == c {
					next[slot[j]+k+1] = true
					any = true
				}
				if k >= 1 && toks[starts[j]+k-1].star {
					next[slot[j]+k] = true
					any = true
				}
			}
		}
		if !any {
			return nil
		}
		closure(next)
		return next
	}
	start := make(state, npos)
	for j := range globs {
		start[slot[j]] = true
	}
	closure(start)
	key := func(s state) string {
		b := make([]byte, len(s))
		for i, v := range s {
			if v {
				b[i] = 1
			}
		}
		return string(b)
	}
	seen := map[string]bool{key(start): true}
	queue := []state{start}
	best := 0
	const maxStates = 1024
	for len(queue) > 0 && len(seen) < maxStates {
		s := queue[0]
		queue = queue[1:]
		if c := count(s); c > best {
			best = c
			if best > limit {
				return best
			}
		}
		try := func(c byte, other bool) {
			n := step(s, c, other)
			if n == nil {
				return
			}
			k := key(n)
			if !seen[k] {
				seen[k] = true
				queue = append(queue, n)
			}
		}
		for c := range alphabet {
			try(c, false)
		}
		try(0, true)
	}
	for _, s := range queue {
		if c := count(s); c > best {
			best = c
		}
	}
	return best
}
