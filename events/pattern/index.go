package pattern

import (
	"math/bits"
	"slices"
	"sort"
	"strconv"
)

// snapshot is an immutable, indexed set of patterns. Matchers build a new one
// when their patterns change; Match calls only read it.
//
// Indexing: every rule (one alternative of one pattern) is filed under one of
// its fields, the pivot, chosen for selectivity: exact values go in hash maps,
// prefixes and suffixes in hash maps keyed by length, equals-ignore-case under
// a case-folded key, numeric ranges and CIDR blocks in interval trees. An
// event value on the pivot's path then yields the few rules it could satisfy,
// and only those are verified in full. Rules with no indexable field
// (anything-but, exists, or bare wildcards only) are verified for every
// event.
type snapshot struct {
	version uint64
	names   []string // pattern names, sorted
	rules   []rule
	fields  []string // path of each field id
	root    *pathNode
	pivots  []*pathIndex // by field id; nil if no rule pivots on it
	always  []int32      // rules without a pivot
}

// rule is one alternative of one named pattern.
type rule struct {
	name   int32 // index in snapshot.names
	fields []ruleField
}

type ruleField struct {
	id int32
	f  *field
}

// entry is a named compiled pattern going into a snapshot.
type entry struct {
	name string
	p    *Pattern
}

func buildSnapshot(entries []entry, version uint64) *snapshot {
	return buildIndexed(entries, version, true)
}

// buildIndexed builds a snapshot; without index every rule is verified for
// every event (tests compare the two).
func buildIndexed(entries []entry, version uint64, index bool) *snapshot {
	s := &snapshot{version: version, root: newPathNode()}
	for _, e := range entries {
		s.names = append(s.names, e.name)
	}
	sort.Strings(s.names)
	s.names = slices.Compact(s.names)
	ids := map[string]int32{}
	fieldID := func(path string) int32 {
		if id, ok := ids[path]; ok {
			return id
		}
		id := int32(len(s.fields))
		ids[path] = id
		s.fields = append(s.fields, path)
		s.root.insert(path).field = id
		return id
	}
	for _, e := range entries {
		name, _ := slices.BinarySearch(s.names, e.name)
		for _, a := range e.p.alts {
			r := rule{name: int32(name), fields: make([]ruleField, len(a))}
			for i, f := range a {
				r.fields[i] = ruleField{id: fieldID(f.path), f: f}
			}
			s.rules = append(s.rules, r)
		}
	}
	s.pivots = make([]*pathIndex, len(s.fields))
	// How many rules share each operand: a value many rules list (a common
	// "source") is a poor pivot even though it is an exact match.
	shares := map[string]int{}
	var keys []string
	if index {
		for ri := range s.rules {
			for _, rf := range s.rules[ri].fields {
				keys = operandKeys(keys[:0], rf.f)
				for _, k := range keys {
					shares[k]++
				}
			}
		}
	}
	for ri := range s.rules {
		r := &s.rules[ri]
		best, bestScore := -1, 0
		for i, rf := range r.fields {
			if !index {
				break
			}
			if sc := pivotScore(rf.f, shares); sc > bestScore {
				best, bestScore = i, sc
			}
		}
		if best < 0 {
			s.always = append(s.always, int32(ri))
			continue
		}
		rf := r.fields[best]
		pi := s.pivots[rf.id]
		if pi == nil {
			pi = &pathIndex{}
			s.pivots[rf.id] = pi
		}
		pi.add(&rf.f.values, int32(ri))
	}
	for _, pi := range s.pivots {
		if pi != nil {
			pi.finish()
		}
	}
	return s
}

// pivotScore rates how few event values a field is likely to accept; 0 means
// it cannot be indexed (it matches absence, or has an operand that matches
// most values).
func pivotScore(f *field, shares map[string]int) int {
	v := &f.values
	if f.absent || v.exists || len(v.buts) > 0 || v.empty() {
		return 0
	}
	score := 100
	var buf [16]string
	for _, k := range operandKeys(buf[:0], f) {
		if n := shares[k]; n > 1 {
			score = min(score, 100-10*bits.Len(uint(n)))
		}
	}
	lenScore := func(n int) int {
		if n > 10 {
			n = 10
		}
		return 10 + 8*n
	}
	for _, p := range v.prefixes {
		score = min(score, lenScore(len(p)))
	}
	for _, p := range v.suffixes {
		score = min(score, lenScore(len(p)))
	}
	for _, p := range v.pfolds {
		score = min(score, lenScore(len(p.key)))
	}
	for _, p := range v.sfolds {
		score = min(score, lenScore(len(p.key)))
	}
	for _, g := range v.globs {
		if len(g.parts) == 1 {
			continue // no star: exact
		}
		n := max(len(g.literalPrefix()), len(g.literalSuffix()))
		if n == 0 {
			return 0
		}
		score = min(score, lenScore(n)-5)
	}
	if len(v.ranges) > 0 {
		score = min(score, 30)
	}
	if len(v.cidrs) > 0 {
		score = min(score, 40)
	}
	return max(score, 1)
}

// operandKeys appends a key per exactly-indexed operand of f (exact values,
// prefixes, suffixes, folded values), naming its path, kind and value.
func operandKeys(dst []string, f *field) []string {
	v := &f.values
	for s := range v.strs {
		dst = append(dst, f.path+"\x00s"+s)
	}
	for s := range v.lits {
		dst = append(dst, f.path+"\x00l"+s)
	}
	for _, n := range v.nums {
		dst = append(dst, f.path+"\x00n"+strconv.FormatUint(n, 16))
	}
	for _, p := range v.prefixes {
		dst = append(dst, f.path+"\x00p"+p)
	}
	for _, p := range v.suffixes {
		dst = append(dst, f.path+"\x00x"+p)
	}
	for _, p := range v.folds {
		dst = append(dst, f.path+"\x00f"+p.key)
	}
	for _, p := range v.pfolds {
		dst = append(dst, f.path+"\x00F"+p.key)
	}
	for _, p := range v.sfolds {
		dst = append(dst, f.path+"\x00X"+p.key)
	}
	return dst
}

// pathIndex finds, for one event value on one path, the rules pivoting on
// that path whose pivot field the value may satisfy.
type pathIndex struct {
	strs   map[string][]int32
	lits   map[string][]int32
	nums   map[uint64][]int32
	ips    map[ipAddr][]int32
	pre    lenIndex
	suf    lenIndex
	fold   map[string][]int32
	pfold  lenIndex
	sfold  lenIndex
	ranges ivTree
	cidrs  ivTree
	needIP bool
}

// lenIndex holds strings by length so a value is looked up once per distinct
// length: its prefix (or suffix) of that length.
type lenIndex struct {
	lens []int
	maps []map[string][]int32
}

func (x *lenIndex) add(key string, r int32) {
	i, found := slices.BinarySearch(x.lens, len(key))
	if !found {
		x.lens = slices.Insert(x.lens, i, len(key))
		x.maps = slices.Insert(x.maps, i, map[string][]int32{})
	}
	x.maps[i][key] = appendOnce(x.maps[i][key], r)
}

func (x *lenIndex) prefixes(st *matchState, s string) {
	for i, n := range x.lens {
		if n > len(s) {
			return
		}
		st.addCandidates(x.maps[i][s[:n]])
	}
}

func (x *lenIndex) suffixes(st *matchState, s string) {
	for i, n := range x.lens {
		if n > len(s) {
			return
		}
		st.addCandidates(x.maps[i][s[len(s)-n:]])
	}
}

func appendOnce(rs []int32, r int32) []int32 {
	if len(rs) > 0 && rs[len(rs)-1] == r {
		return rs
	}
	return append(rs, r)
}

func addTo[K comparable](m *map[K][]int32, k K, r int32) {
	if *m == nil {
		*m = map[K][]int32{}
	}
	(*m)[k] = appendOnce((*m)[k], r)
}

func (pi *pathIndex) add(v *valueSet, r int32) {
	for s := range v.strs {
		addTo(&pi.strs, s, r)
	}
	for s := range v.lits {
		addTo(&pi.lits, s, r)
	}
	for _, n := range v.nums {
		addTo(&pi.nums, n, r)
	}
	for _, a := range v.ips {
		addTo(&pi.ips, a, r)
		pi.needIP = true
	}
	for _, p := range v.prefixes {
		pi.pre.add(p, r)
	}
	for _, p := range v.suffixes {
		pi.suf.add(p, r)
	}
	for _, f := range v.folds {
		addTo(&pi.fold, f.key, r)
	}
	for _, f := range v.pfolds {
		pi.pfold.add(f.key, r)
	}
	for _, f := range v.sfolds {
		pi.sfold.add(f.key, r)
	}
	for _, g := range v.globs {
		switch {
		case len(g.parts) == 1:
			addTo(&pi.strs, g.parts[0], r)
		case len(g.literalPrefix()) >= len(g.literalSuffix()):
			pi.pre.add(g.literalPrefix(), r)
		default:
			pi.suf.add(g.literalSuffix(), r)
		}
	}
	for _, n := range v.ranges {
		pi.ranges.add(ipKey{lo: n.lo}, ipKey{lo: n.hi}, r)
	}
	for _, c := range v.cidrs {
		lo, hi := c.lo, c.hi
		if !c.v4 {
			lo.hi |= 1 << 63 // keep the families apart
			hi.hi |= 1 << 63
		}
		pi.cidrs.add(lo, hi, r)
		pi.needIP = true
	}
}

func (pi *pathIndex) finish() {
	pi.ranges.build()
	pi.cidrs.build()
}

// lookup queues the rules whose pivot value l may satisfy.
func (pi *pathIndex) lookup(st *matchState, l *leaf) {
	switch l.kind {
	case kindString:
		s := bytesString(l.val)
		if pi.strs != nil {
			st.addCandidates(pi.strs[s])
		}
		pi.pre.prefixes(st, s)
		pi.suf.suffixes(st, s)
		if pi.fold != nil || pi.pfold.lens != nil || pi.sfold.lens != nil {
			st.fold = appendFoldKey(st.fold[:0], s)
			k := bytesString(st.fold)
			if pi.fold != nil {
				st.addCandidates(pi.fold[k])
			}
			pi.pfold.prefixes(st, k)
			pi.sfold.suffixes(st, k)
		}
		if pi.needIP {
			if a, ok := st.ip(l); ok {
				if pi.ips != nil {
					st.addCandidates(pi.ips[a])
				}
				k := a.key
				if !a.v4 {
					k.hi |= 1 << 63
				}
				pi.cidrs.query(st, k)
			}
		}
	case kindNumber:
		if k, ok := st.number(l); ok {
			if pi.nums != nil {
				st.addCandidates(pi.nums[k])
			}
			pi.ranges.query(st, ipKey{lo: k})
		} else if pi.lits != nil {
			st.addCandidates(pi.lits[bytesString(l.val)])
		}
	default:
		if pi.lits != nil {
			st.addCandidates(pi.lits[bytesString(l.val)])
		}
	}
}

// ivTree finds the intervals containing a point: intervals sorted by lower
// bound, with a segment tree of the largest upper bound below each node, so a
// query only visits subtrees that hold a hit.
type ivTree struct {
	ivs  []interval
	maxs []ipKey // implicit segment tree over ivs
	size int
}

type interval struct {
	lo, hi ipKey
	rule   int32
}

func (t *ivTree) add(lo, hi ipKey, r int32) {
	t.ivs = append(t.ivs, interval{lo: lo, hi: hi, rule: r})
}

func (t *ivTree) build() {
	if len(t.ivs) == 0 {
		return
	}
	sort.Slice(t.ivs, func(i, j int) bool { return t.ivs[i].lo.less(t.ivs[j].lo) })
	t.size = 1
	for t.size < len(t.ivs) {
		t.size *= 2
	}
	t.maxs = make([]ipKey, 2*t.size)
	for i, iv := range t.ivs {
		t.maxs[t.size+i] = iv.hi
	}
	for i := t.size - 1; i >= 1; i-- {
		a, b := t.maxs[2*i], t.maxs[2*i+1]
		if a.less(b) {
			a = b
		}
		t.maxs[i] = a
	}
}

func (t *ivTree) query(st *matchState, x ipKey) {
	if len(t.ivs) == 0 {
		return
	}
	// Only intervals with lo <= x can hold x: a prefix of ivs.
	n := sort.Search(len(t.ivs), func(i int) bool { return x.less(t.ivs[i].lo) })
	if n > 0 {
		t.visit(st, 1, 0, t.size, n, x)
	}
}

func (t *ivTree) visit(st *matchState, node, lo, hi, n int, x ipKey) {
	if lo >= n || t.maxs[node].less(x) {
		return
	}
	if hi-lo == 1 {
		st.addCandidate(t.ivs[lo].rule)
		return
	}
	mid := (lo + hi) / 2
	t.visit(st, 2*node, lo, mid, n, x)
	t.visit(st, 2*node+1, mid, hi, n, x)
}

// match finds the patterns matching data. With first set it stops at the
// first match (for Pattern.Match). It appends the names of the matches, in
// sorted order, to dst.
func (s *snapshot) match(data []byte, dst []string, first bool) ([]string, bool, error) {
	st := statePool.Get().(*matchState)
	defer st.release()
	st.reset(s, data)
	if err := st.scan(s.root); err != nil {
		return dst, false, err
	}
	for _, f := range st.touched {
		pi := s.pivots[f]
		if pi == nil {
			continue
		}
		for l := st.fieldHead[f]; l >= 0; l = st.leaves[l].next {
			pi.lookup(st, &st.leaves[l])
		}
	}
	st.addCandidates(s.always)
	st.budget = maxSearch
	found := false
	for _, ri := range st.cands {
		r := &s.rules[ri]
		if st.nameStamp[r.name] == st.epoch {
			continue
		}
		ok, err := st.verify(r)
		if err != nil {
			return dst, false, err
		}
		if !ok {
			continue
		}
		found = true
		if first {
			return dst, true, nil
		}
		st.nameStamp[r.name] = st.epoch
		st.matched = append(st.matched, r.name)
	}
	slices.Sort(st.matched)
	for _, n := range st.matched {
		dst = append(dst, s.names[n])
	}
	return dst, found, nil
}
