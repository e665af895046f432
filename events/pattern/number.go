package pattern

import (
	"math"
	"strconv"
)

// numberKey turns the text of a JSON number into a key whose unsigned order is
// the numeric order, the way event-ruler's ComparableNumber does: the float64
// bits with the sign bit flipped for positives and all bits flipped for
// negatives. ok is false when the number cannot be compared: it overflows
// float64, or float64 cannot hold it exactly (more digits than the shortest
// float64 spelling, or an underflow to zero). Such numbers still match
// themselves as literal text.
//
// Like event-ruler, -0 and 0 get different keys and -0 sorts just below 0.
func numberKey(text []byte) (key uint64, ok bool) {
	f, err := strconv.ParseFloat(bytesString(text), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	if !exactFloat(text, f) {
		return 0, false
	}
	return floatKey(f), true
}

// floatKey maps a float64 to its order-preserving key.
func floatKey(f float64) uint64 {
	bits := math.Float64bits(f)
	mask := uint64(int64(bits)>>63) | 1<<63
	return bits ^ mask
}

// keyFloat is the inverse of floatKey.
func keyFloat(k uint64) float64 {
	if k&(1<<63) != 0 {
		return math.Float64frombits(k ^ 1<<63)
	}
	return math.Float64frombits(^k)
}

// exactFloat reports whether f, parsed from text, has exactly the decimal value
// text spells: Java's BigDecimal.valueOf(double).compareTo(BigDecimal(text)) == 0.
func exactFloat(text []byte, f float64) bool {
	digits, zero := significantDigits(text)
	if zero {
		return true // f is ±0 and so is the text
	}
	if f == 0 {
		return false // underflow
	}
	// Up to 15 significant decimal digits always survive a round trip through
	// a normal float64, and no shorter spelling names the same float64.
	if digits <= 15 && math.Abs(f) >= 0x1p-1022 {
		return true
	}
	var buf [32]byte
	short := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	return sameDecimal(short, text)
}

// significantDigits counts the digits of a JSON number's mantissa between its
// first and last non-zero digit; zero is true when every digit is 0.
func significantDigits(text []byte) (n int, zero bool) {
	first, last, count := -1, -1, 0
	for _, c := range text {
		if c == 'e' || c == 'E' {
			break
		}
		if c < '0' || c > '9' {
			continue
		}
		if c != '0' {
			if first < 0 {
				first = count
			}
			last = count
		}
		count++
	}
	if first < 0 {
		return 0, true
	}
	return last - first + 1, false
}

// sameDecimal compares two decimal spellings by value.
func sameDecimal(a, b []byte) bool {
	an, ad, ae := normDecimal(a)
	bn, bd, be := normDecimal(b)
	return an == bn && ad == bd && ae == be
}

// normDecimal reduces a decimal spelling to its sign, its significant digits
// and the power of ten of the last of them.
func normDecimal(s []byte) (neg bool, digits string, exp int) {
	i := 0
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	var d []byte
	frac := -1
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			frac = 0
			continue
		}
		if c == 'e' || c == 'E' {
			e, _ := strconv.Atoi(string(s[i+1:]))
			exp = e
			break
		}
		d = append(d, c)
		if frac >= 0 {
			frac++
		}
	}
	if frac > 0 {
		exp -= frac
	}
	for len(d) > 0 && d[0] == '0' {
		d = d[1:]
	}
	for len(d) > 0 && d[len(d)-1] == '0' {
		d = d[:len(d)-1]
		exp++
	}
	if len(d) == 0 {
		return false, "", 0
	}
	return neg, string(d), exp
}
