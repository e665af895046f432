package stream

import (
	"bytes"
	"testing"
	"time"
)

// FuzzRecord: what encodeRecord writes decodes to the same record, and
// decodeRecord never panics on bytes it did not write.
func FuzzRecord(f *testing.F) {
	f.Add("order-1", []byte(`{"n":1}`), int64(1772366400000000000))
	f.Add("", []byte{}, int64(0))
	f.Add("€", []byte{0xff, 0}, int64(-1))
	f.Fuzz(func(t *testing.T, key string, data []byte, nanos int64) {
		at := time.Unix(0, nanos)
		v := encodeRecord(at, key, data)
		gotAt, gotKey, gotData, err := decodeRecord(v)
		if err != nil || !gotAt.Equal(at) || gotKey != key || !bytes.Equal(gotData, data) {
			t.Fatalf("round trip of (%v, %q, %q): (%v, %q, %q), %v", at, key, data, gotAt, gotKey, gotData, err)
		}
		if a, err := arrivalOf(v); err != nil || !a.Equal(at) {
			t.Fatalf("arrivalOf: %v, %v", a, err)
		}
		decodeRecord(data) // arbitrary bytes: an error, or a record, never a panic
		decodeRecord(append([]byte{recordVersion}, data...))
	})
}

// FuzzSeq: sequence numbers round-trip, and their string order is their
// numeric order.
func FuzzSeq(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(9), uint64(10))
	f.Add(uint64(1<<64-1), uint64(1))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		if a == 0 || b == 0 {
			return
		}
		sa, sb := formatSeq(a), formatSeq(b)
		if n, err := parseSeq(sa); err != nil || n != a || len(sa) != seqWidth {
			t.Fatalf("formatSeq(%d) = %q, parsed back as %d, %v", a, sa, n, err)
		}
		if (a < b) != (sa < sb) {
			t.Fatalf("%d < %d but %q < %q is %v", a, b, sa, sb, sa < sb)
		}
	})
}
