package pattern

import "sync"

// matchState is the scratch space of one Match call: the event's leaves and
// the per-field, per-rule and per-pattern marks. States are pooled and reused
// across calls and snapshots; marks are stamped with an epoch that grows on
// every call, so nothing needs clearing between calls.
type matchState struct {
	data    []byte
	pos     int
	scratch []byte

	leaves    []leaf
	mem       []arrayPos
	stack     []arrayPos
	arrays    int   // arrays open around the current position
	nextArray int32 // id of the next array
	ac        bool  // an object or array sits inside an array: check array consistency

	epoch      uint32
	fieldStamp []uint32
	fieldHead  []int32
	touched    []int32
	ruleStamp  []uint32
	nameStamp  []uint32
	cands      []int32
	matched    []int32
	fold       []byte

	chosen []int32 // leaves picked so far by the array-consistent search
	budget int
}

var statePool = sync.Pool{New: func() any { return new(matchState) }}

// reset prepares the state for matching data against s.
func (st *matchState) reset(s *snapshot, data []byte) {
	st.data, st.pos = data, 0
	if cap(st.scratch) < len(data) {
		st.scratch = make([]byte, 0, len(data))
	}
	st.scratch = st.scratch[:0]
	st.leaves = st.leaves[:0]
	st.mem = st.mem[:0]
	st.stack = st.stack[:0]
	st.arrays, st.nextArray, st.ac = 0, 0, false
	st.touched = st.touched[:0]
	st.cands = st.cands[:0]
	st.matched = st.matched[:0]
	st.fieldStamp = growStamps(st.fieldStamp, len(s.fields))
	if len(st.fieldHead) < len(s.fields) {
		st.fieldHead = make([]int32, len(s.fields))
	}
	st.ruleStamp = growStamps(st.ruleStamp, len(s.rules))
	st.nameStamp = growStamps(st.nameStamp, len(s.names))
	st.epoch++
	if st.epoch == 0 { // wrapped: forget every old stamp
		clear(st.fieldStamp)
		clear(st.ruleStamp)
		clear(st.nameStamp)
		st.epoch = 1
	}
}

// release drops references to the caller's event before pooling the state.
func (st *matchState) release() {
	st.data = nil
	clear(st.leaves) // leaves hold views of the event
	st.leaves = st.leaves[:0]
	statePool.Put(st)
}

func growStamps(s []uint32, n int) []uint32 {
	if len(s) >= n {
		return s
	}
	t := make([]uint32, n)
	copy(t, s)
	return t
}

// head is the first leaf of field f in this event, or -1.
func (st *matchState) head(f int32) int32 {
	if st.fieldStamp[f] != st.epoch {
		return -1
	}
	return st.fieldHead[f]
}

// number returns the comparable key of a number leaf, computing it once.
func (st *matchState) number(l *leaf) (uint64, bool) {
	switch l.numState {
	case stateYes:
		return l.num, true
	case stateNo:
		return 0, false
	}
	k, ok := numberKey(l.val)
	if ok {
		l.num, l.numState = k, stateYes
	} else {
		l.numState = stateNo
	}
	return k, ok
}

// ip returns the address a string leaf spells, parsing it once.
func (st *matchState) ip(l *leaf) (ipAddr, bool) {
	switch l.ipState {
	case stateYes:
		return l.ip, true
	case stateNo:
		return ipAddr{}, false
	}
	a, err := parseIP(bytesString(l.val))
	if err != nil {
		l.ipState = stateNo
		return ipAddr{}, false
	}
	l.ip, l.ipState = a, stateYes
	return a, true
}

// addCandidate queues rule r for verification, once per event.
func (st *matchState) addCandidate(r int32) {
	if st.ruleStamp[r] != st.epoch {
		st.ruleStamp[r] = st.epoch
		st.cands = append(st.cands, r)
	}
}

func (st *matchState) addCandidates(rs []int32) {
	for _, r := range rs {
		st.addCandidate(r)
	}
}

// consistent reports whether leaves a and b can come from one event element:
// in every array enclosing both, they sit in the same element.
func (st *matchState) consistent(a, b int32) bool {
	la, lb := &st.leaves[a], &st.leaves[b]
	n := la.memLen
	if lb.memLen < n {
		n = lb.memLen
	}
	ma := st.mem[la.memStart : la.memStart+n]
	mb := st.mem[lb.memStart : lb.memStart+n]
	for i := range ma {
		if ma[i].arr != mb[i].arr {
			return true // enclosing arrays diverge: no array holds both
		}
		if ma[i].idx != mb[i].idx {
			return false
		}
	}
	return true
}
