package bus

import (
	"bytes"
	"testing"
)

func TestRecent(t *testing.T) {
	var r recent
	r.init(4)
	rec := func(seq uint64, size int) *record { return &record{seq: seq, event: bytes.Repeat([]byte("x"), size)} }
	seqs := func(recs []*record) (out []uint64) {
		for _, rc := range recs {
			out = append(out, rc.seq)
		}
		return out
	}
	r.add([]*record{rec(7, 1), rec(8, 1), rec(9, 1)})
	if got := seqs(r.get(nil, 7, 10, 10)); len(got) != 3 || got[0] != 7 {
		t.Fatalf("get 7..9: %v", got)
	}
	r.add([]*record{rec(10, 1), rec(11, 1)}) // 5 events in 4 slots: 7 goes
	if got := r.get(nil, 7, 12, 10); len(got) != 0 {
		t.Errorf("get from 7 after eviction: %v, want none (read from the log)", seqs(got))
	}
	if got := seqs(r.get(nil, 8, 12, 2)); len(got) != 2 || got[1] != 9 {
		t.Errorf("get 8, at most 2: %v", got)
	}
	r.add([]*record{rec(12, recentBytes)}) // over the byte budget: all older ones go
	if got := seqs(r.get(nil, 8, 13, 10)); len(got) != 0 {
		t.Errorf("get from 8 after a huge event: %v, want none", got)
	}
	if got := seqs(r.get(nil, 12, 13, 10)); len(got) != 1 || r.bytes != recentBytes {
		t.Errorf("get 12: %v, bytes %d", got, r.bytes)
	}
}
