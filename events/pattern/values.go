package pattern

import "strings"

// valueSet is the list of match values of one field, ORed: a value matches if
// any operand does.
type valueSet struct {
	strs     map[string]struct{} // exact strings (and {"exactly": ...})
	lits     map[string]struct{} // true, false, null, and numbers that cannot be compared, by text
	nums     []uint64            // numbers and {"numeric": ["=", n]}, as numberKey
	ips      []ipAddr            // exact strings that are IP addresses
	prefixes []string
	suffixes []string
	folds    []*foldPattern // equals-ignore-case
	pfolds   []*foldPattern // prefix + equals-ignore-case
	sfolds   []*foldPattern // suffix + equals-ignore-case
	globs    []*glob
	ranges   []numRange
	cidrs    []ipRange
	buts     []*anythingBut
	exists   bool
}

// numRange is a numeric interval over numberKey values.
type numRange struct {
	lo, hi         uint64
	loOpen, hiOpen bool
}

func (r numRange) contains(k uint64) bool {
	if k < r.lo || k > r.hi {
		return false
	}
	return !(r.loOpen && k == r.lo) && !(r.hiOpen && k == r.hi)
}

// butKind says what an anything-but excludes.
type butKind uint8

const (
	butStrings butKind = iota + 1
	butNumbers
	butPrefix
	butSuffix
	butFold
	butGlob
)

// anythingBut matches any present value except the ones it lists. Values of
// another type than the listed ones always match: {"anything-but": "x"}
// matches 5 and null, {"anything-but": 5} matches "5".
type anythingBut struct {
	kind  butKind
	strs  map[string]struct{}
	nums  []uint64
	list  []string
	folds []*foldPattern
	globs []*glob
}

func (b *anythingBut) matchString(s string) bool {
	switch b.kind {
	case butStrings:
		_, hit := b.strs[s]
		return !hit
	case butPrefix:
		for _, p := range b.list {
			if strings.HasPrefix(s, p) {
				return false
			}
		}
	case butSuffix:
		for _, p := range b.list {
			if strings.HasSuffix(s, p) {
				return false
			}
		}
	case butFold:
		for _, f := range b.folds {
			if f.match(s) {
				return false
			}
		}
	case butGlob:
		for _, g := range b.globs {
			if g.match(s) {
				return false
			}
		}
	}
	return true
}

func (b *anythingBut) matchNumber(key uint64, comparable bool) bool {
	if b.kind != butNumbers || !comparable {
		return true
	}
	for _, n := range b.nums {
		if n == key {
			return false
		}
	}
	return true
}

// empty reports whether the set has no value operands (only exists:false).
func (v *valueSet) empty() bool {
	return len(v.strs) == 0 && len(v.lits) == 0 && len(v.nums) == 0 && len(v.ips) == 0 &&
		len(v.prefixes) == 0 && len(v.suffixes) == 0 && len(v.folds) == 0 && len(v.pfolds) == 0 &&
		len(v.sfolds) == 0 && len(v.globs) == 0 && len(v.ranges) == 0 && len(v.cidrs) == 0 &&
		len(v.buts) == 0 && !v.exists
}

// matchLeaf reports whether the event value l matches any operand.
func (v *valueSet) matchLeaf(st *matchState, l *leaf) bool {
	if v.exists {
		return true
	}
	switch l.kind {
	case kindString:
		return v.matchString(st, l)
	case kindNumber:
		key, ok := st.number(l)
		if ok {
			for _, n := range v.nums {
				if n == key {
					return true
				}
			}
			for _, r := range v.ranges {
				if r.contains(key) {
					return true
				}
			}
		} else if v.lits != nil {
			if _, hit := v.lits[bytesString(l.val)]; hit {
				return true
			}
		}
		for _, b := range v.buts {
			if b.matchNumber(key, ok) {
				return true
			}
		}
		return false
	default: // true, false, null
		if v.lits != nil {
			if _, hit := v.lits[bytesString(l.val)]; hit {
				return true
			}
		}
		return len(v.buts) > 0
	}
}

func (v *valueSet) matchString(st *matchState, l *leaf) bool {
	s := bytesString(l.val)
	if v.strs != nil {
		if _, hit := v.strs[s]; hit {
			return true
		}
	}
	for _, p := range v.prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	for _, p := range v.suffixes {
		if strings.HasSuffix(s, p) {
			return true
		}
	}
	for _, f := range v.folds {
		if f.match(s) {
			return true
		}
	}
	for _, f := range v.pfolds {
		if f.matchPrefix(s) {
			return true
		}
	}
	for _, f := range v.sfolds {
		if f.matchSuffix(s) {
			return true
		}
	}
	for _, g := range v.globs {
		if g.match(s) {
			return true
		}
	}
	if len(v.ips) > 0 || len(v.cidrs) > 0 {
		if a, ok := st.ip(l); ok {
			for _, ip := range v.ips {
				if ip == a {
					return true
				}
			}
			for _, r := range v.cidrs {
				if r.contains(a) {
					return true
				}
			}
		}
	}
	for _, b := range v.buts {
		if b.matchString(s) {
			return true
		}
	}
	return false
}
