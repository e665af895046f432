package pattern

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// equals-ignore-case follows event-ruler: every character c of the pattern
// accepts exactly two spellings in the event, lower(c) and upper(c), where
// lower and upper are Java's full (String.toLowerCase/toUpperCase,
// Locale.ROOT) mappings. So "ß" matches "ß" and "SS", while "SS" matches
// "ss", "sS", "Ss" and "SS" but not "ß".
//
// To index such patterns by hash, foldKey maps any string to a key such that
// every event value a pattern accepts has the pattern's key. The key is only a
// filter; foldPattern.match decides.

// foldAlt is the pair of spellings one pattern character accepts.
type foldAlt struct {
	lower, upper string
}

// foldPattern is a compiled equals-ignore-case operand.
type foldPattern struct {
	alts []foldAlt
	key  string // foldKey of any accepted value
}

func javaLower(r rune) string {
	if s, ok := fullLower[r]; ok {
		return s
	}
	return string(unicode.ToLower(r))
}

func javaUpper(r rune) string {
	if s, ok := fullUpper[r]; ok {
		return s
	}
	return string(unicode.ToUpper(r))
}

func newFoldPattern(s string) *foldPattern {
	p := &foldPattern{alts: make([]foldAlt, 0, len(s))}
	var key []byte
	for _, r := range s {
		a := foldAlt{lower: javaLower(r), upper: javaUpper(r)}
		p.alts = append(p.alts, a)
		key = appendFoldKey(key, a.lower)
	}
	p.key = string(key)
	return p
}

// foldRune is the per-rune map behind foldKey: the simple lower case of each
// rune of the full upper case, with U+0307 (combining dot above, which only
// the lower case of U+0130 'İ' introduces) dropped.
func foldRune(dst []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, byte(r))
	}
	if s, ok := fullUpper[r]; ok {
		for _, u := range s {
			dst = foldRune(dst, u)
		}
		return dst
	}
	if r == 0x307 {
		return dst
	}
	l := unicode.ToLower(unicode.ToUpper(r))
	if s, ok := fullUpper[l]; ok { // e.g. U+1E9E 'ẞ' lowers to 'ß', which uppers to "SS"
		for _, u := range s {
			dst = foldRune(dst, u)
		}
		return dst
	}
	return utf8.AppendRune(dst, l)
}

// appendFoldKey appends the fold key of s to dst.
func appendFoldKey(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		dst = foldRune(dst, r)
		i += n
	}
	return dst
}

// match reports whether s is a whole spelling of the pattern.
func (p *foldPattern) match(s string) bool {
	end, ok := p.matchFrom(s, 0, true)
	return ok && end
}

// matchPrefix reports whether some prefix of s spells the pattern.
func (p *foldPattern) matchPrefix(s string) bool {
	_, ok := p.matchFrom(s, 0, false)
	return ok
}

// matchFrom walks the pattern over s from position at. With whole set it
// succeeds only if the walk can end exactly at len(s). The walk keeps the
// (tiny) set of positions reachable so far; two spellings of one character
// almost never both fit, so the set rarely holds more than one position.
func (p *foldPattern) matchFrom(s string, at int, whole bool) (atEnd, ok bool) {
	var b1, b2 [4]int
	cur, spare := append(b1[:0], at), b2[:0]
	for _, a := range p.alts {
		next := spare[:0]
		for _, pos := range cur {
			rest := s[pos:]
			if strings.HasPrefix(rest, a.lower) {
				next = addPos(next, pos+len(a.lower))
			}
			if a.upper != a.lower && strings.HasPrefix(rest, a.upper) {
				next = addPos(next, pos+len(a.upper))
			}
		}
		if len(next) == 0 {
			return false, false
		}
		cur, spare = next, cur
	}
	for _, pos := range cur {
		if pos == len(s) {
			return true, true
		}
	}
	return false, !whole
}

// matchSuffix reports whether some suffix of s spells the pattern.
func (p *foldPattern) matchSuffix(s string) bool {
	var b1, b2 [4]int
	cur, spare := append(b1[:0], len(s)), b2[:0]
	for i := len(p.alts) - 1; i >= 0; i-- {
		a := p.alts[i]
		next := spare[:0]
		for _, pos := range cur {
			rest := s[:pos]
			if strings.HasSuffix(rest, a.lower) {
				next = addPos(next, pos-len(a.lower))
			}
			if a.upper != a.lower && strings.HasSuffix(rest, a.upper) {
				next = addPos(next, pos-len(a.upper))
			}
		}
		if len(next) == 0 {
			return false
		}
		cur, spare = next, cur
	}
	return true
}

func addPos(set []int, p int) []int {
	for _, q := range set {
		if q == p {
			return set
		}
	}
	return append(set, p)
}
