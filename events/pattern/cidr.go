package pattern

import (
	"fmt"
	"net/netip"
	"strings"
)

// ipKey is an IP address as a 128-bit big-endian number; v4 addresses live in
// the low 32 bits and never compare equal to a v6 address (see family).
type ipKey struct {
	hi, lo uint64
}

func (a ipKey) less(b ipKey) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

// ipAddr is a parsed address: its key and whether it is IPv4 (4 bytes) or IPv6.
type ipAddr struct {
	key ipKey
	v4  bool
}

// looksLikeIP applies event-ruler's two regular expressions: four dotted runs
// of digits, or hex digits and colons with at least one colon.
func looksLikeIP(s string) (v4, v6 bool) {
	if s == "" {
		return false, false
	}
	dots, run := 0, 0
	v4 = true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			run++
		case c == '.':
			if run == 0 {
				v4 = false
			}
			dots++
			run = 0
		default:
			v4 = false
		}
	}
	v4 = v4 && dots == 3 && run > 0
	if v4 {
		return true, false
	}
	colon := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			colon = true
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false, false
		}
	}
	return false, colon
}

// parseIP parses an IP address literal the way event-ruler does: only strings
// that pass looksLikeIP are considered; IPv4-mapped IPv6 addresses become IPv4
// (as java.net.InetAddress makes them).
func parseIP(s string) (ipAddr, error) {
	v4, v6 := looksLikeIP(s)
	if !v4 && !v6 {
		return ipAddr{}, fmt.Errorf("%q is not an IPv4 or IPv6 address", s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return ipAddr{}, fmt.Errorf("%q is not a valid IP address", s)
	}
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return ipAddr{key: ipKey{lo: uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])}, v4: true}, nil
	}
	b := a.As16()
	var k ipKey
	for i := 0; i < 8; i++ {
		k.hi = k.hi<<8 | uint64(b[i])
		k.lo = k.lo<<8 | uint64(b[i+8])
	}
	return ipAddr{key: k}, nil
}

// ipRange is an inclusive range of addresses of one family.
type ipRange struct {
	lo, hi ipKey
	v4     bool
}

func (r ipRange) contains(a ipAddr) bool {
	return a.v4 == r.v4 && !a.key.less(r.lo) && !r.hi.less(a.key)
}

// parseCIDR parses a {"cidr": ...} operand. Like event-ruler, the host bits may
// be set, and the mask must be below 32 (IPv4) or 128 (IPv6).
func parseCIDR(s string) (ipRange, error) {
	parts := strings.Split(s, "/")
	for len(parts) > 0 && parts[len(parts)-1] == "" { // Java's String.split drops trailing empties
		parts = parts[:len(parts)-1]
	}
	if len(parts) != 2 {
		return ipRange{}, fmt.Errorf("%q must be ADDRESS/BITS with exactly one '/', e.g. \"10.0.0.0/24\"", s)
	}
	bits, ok := javaInt(parts[1])
	if !ok {
		return ipRange{}, fmt.Errorf("%q: mask bits %q must be an integer", s, parts[1])
	}
	if bits < 0 {
		return ipRange{}, fmt.Errorf("%q: mask bits must not be negative", s)
	}
	a, err := parseIP(parts[0])
	if err != nil {
		return ipRange{}, fmt.Errorf("%q: %v", s, err)
	}
	width := 128
	if a.v4 {
		width = 32
	}
	if bits >= width {
		return ipRange{}, fmt.Errorf("%q: mask bits must be below %d (EventBridge rejects /%d)", s, width, width)
	}
	host := width - bits
	lo, hi := a.key, a.key
	if a.v4 {
		m := uint64(1)<<host - 1
		lo.lo &^= m
		hi.lo |= m
	} else {
		if host >= 64 {
			m := uint64(1)<<(host-64) - 1
			if host == 128 {
				m = ^uint64(0)
			}
			lo.hi &^= m
			hi.hi |= m
			lo.lo, hi.lo = 0, ^uint64(0)
		} else {
			m := uint64(1)<<host - 1
			lo.lo &^= m
			hi.lo |= m
		}
	}
	return ipRange{lo: lo, hi: hi, v4: a.v4}, nil
}

// javaInt parses like Integer.parseInt: an optional sign and decimal digits.
func javaInt(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	neg := false
	i := 0
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i = 1
	}
	if i == len(s) {
		return 0, false
	}
	n := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > 1<<31 {
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	if n > 1<<31-1 {
		return 0, false
	}
	return n, true
}
