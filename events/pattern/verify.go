package pattern

import "errors"

// maxSearch bounds the array-consistent search for one event, which is
// exponential in the worst case (patterns with many fields over events with
// many large arrays of objects).
const maxSearch = 1 << 22

var errTooComplex = errors.New("event: arrays of objects too large to match consistently; the search was abandoned")

// verify reports whether rule r matches the event.
//
// Without arrays of objects (st.ac false) every field is independent: a field
// matches if one of its leaves does, or if it allows absence and has no
// leaves. With them, EventBridge only matches when the leaves it picks for the
// fields never sit in different elements of one array, and it checks
// {"exists": false} against the leaves picked for the fields before it in path
// order; verify searches for such a pick in the same order.
func (st *matchState) verify(r *rule) (bool, error) {
	if !st.ac {
		for _, rf := range r.fields {
			ok := false
			for l := st.head(rf.id); l >= 0; l = st.leaves[l].next {
				if rf.f.values.matchLeaf(st, &st.leaves[l]) {
					ok = true
					break
				}
			}
			if !ok && !(rf.f.absent && st.head(rf.id) < 0) {
				return false, nil
			}
		}
		return true, nil
	}
	// Cheap necessary check first: every field that cannot be absent needs a
	// matching leaf somewhere.
	for _, rf := range r.fields {
		if rf.f.absent {
			continue
		}
		ok := false
		for l := st.head(rf.id); l >= 0; l = st.leaves[l].next {
			if rf.f.values.matchLeaf(st, &st.leaves[l]) {
				ok = true
				break
			}
		}
		if !ok {
			return false, nil
		}
	}
	st.chosen = st.chosen[:0]
	ok := st.search(r, 0)
	if st.budget < 0 {
		return false, errTooComplex
	}
	return ok, nil
}

func (st *matchState) search(r *rule, i int) bool {
	if i == len(r.fields) {
		return true
	}
	st.budget--
	if st.budget < 0 {
		return false
	}
	rf := r.fields[i]
	for l := st.head(rf.id); l >= 0; l = st.leaves[l].next {
		if !st.fits(l) || !rf.f.values.matchLeaf(st, &st.leaves[l]) {
			continue
		}
		st.chosen = append(st.chosen, l)
		if st.search(r, i+1) {
			return true
		}
		st.chosen = st.chosen[:len(st.chosen)-1]
		if st.budget < 0 {
			return false
		}
	}
	if rf.f.absent {
		for l := st.head(rf.id); l >= 0; l = st.leaves[l].next {
			if st.fits(l) {
				return false // present where it must be absent
			}
		}
		return st.search(r, i+1)
	}
	return false
}

// fits reports whether leaf l is consistent with every leaf chosen so far.
func (st *matchState) fits(l int32) bool {
	for _, c := range st.chosen {
		if !st.consistent(l, c) {
			return false
		}
	}
	return true
}
