package pattern

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is the deepest nesting of objects and arrays accepted in an event
// (Jackson's default limit, which EventBridge's parser applies).
const maxDepth = 1000

// kind is the JSON type of an event value.
type kind uint8

const (
	kindString kind = iota + 1
	kindNumber
	kindTrue
	kindFalse
	kindNull
)

// leaf is one scalar value of the event at a path some pattern names.
type leaf struct {
	val      []byte // string contents, unescaped; or the literal text
	num      uint64 // numberKey, when numState == stateYes
	next     int32  // next leaf of the same field, or -1
	memStart int32  // the arrays enclosing the leaf: mem[memStart:memStart+memLen]
	memLen   int32
	kind     kind
	numState uint8
	ipState  uint8
	ip       ipAddr
}

const (
	stateUnknown uint8 = iota
	stateYes
	stateNo
)

// arrayPos places a leaf in one enclosing array: which array (numbered per
// event) and which element.
type arrayPos struct {
	arr, idx int32
}

// pathNode is a node of the trie of field paths the patterns name, one level
// per dot-separated segment.
type pathNode struct {
	children map[string]*pathNode
	field    int32 // field id of the path ending here, or -1
}

func newPathNode() *pathNode { return &pathNode{field: -1} }

// insert adds a dotted path and returns its node.
func (n *pathNode) insert(path string) *pathNode {
	start := 0
	for i := 0; i <= len(path); i++ {
		if i == len(path) || path[i] == '.' {
			seg := path[start:i]
			c := n.children[seg]
			if c == nil {
				if n.children == nil {
					n.children = map[string]*pathNode{}
				}
				c = newPathNode()
				n.children[seg] = c
			}
			n = c
			start = i + 1
		}
	}
	return n
}

// child follows a key, which may itself contain dots, from n.
func (n *pathNode) child(key []byte) *pathNode {
	start := 0
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			n = n.children[string(key[start:i])]
			if n == nil {
				return nil
			}
			start = i + 1
		}
	}
	return n.children[string(key[start:])]
}

var errNotObject = errors.New("event: not a JSON object")

// syntaxError reports invalid JSON in an event.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("event: invalid JSON at offset %d: %s", e.offset, e.msg)
}

// scan parses the event, collecting leaves at the paths under root. It
// validates the whole document, including the parts no pattern names.
func (st *matchState) scan(root *pathNode) error {
	st.skipWS()
	if st.pos >= len(st.data) || st.data[st.pos] != '{' {
		if st.pos >= len(st.data) {
			return st.errorf("empty event")
		}
		if err := st.skip(0); err != nil {
			return err
		}
		return errNotObject
	}
	if err := st.object(root, 0); err != nil {
		return err
	}
	st.skipWS()
	if st.pos != len(st.data) {
		return st.errorf("unexpected data after the event object")
	}
	return nil
}

func (st *matchState) errorf(format string, args ...any) error {
	return &syntaxError{offset: st.pos, msg: fmt.Sprintf(format, args...)}
}

func (st *matchState) skipWS() {
	for st.pos < len(st.data) {
		switch st.data[st.pos] {
		case ' ', '\t', '\n', '\r':
			st.pos++
		default:
			return
		}
	}
}

// object parses an object at '{' whose path is n.
func (st *matchState) object(n *pathNode, depth int) error {
	if depth >= maxDepth {
		return st.errorf("nesting deeper than %d", maxDepth)
	}
	if st.arrays > 0 {
		st.ac = true
	}
	st.pos++ // '{'
	st.skipWS()
	if st.pos < len(st.data) && st.data[st.pos] == '}' {
		st.pos++
		return nil
	}
	for {
		st.skipWS()
		if st.pos >= len(st.data) || st.data[st.pos] != '"' {
			return st.errorf("expected a string key")
		}
		key, err := st.str()
		if err != nil {
			return err
		}
		st.skipWS()
		if st.pos >= len(st.data) || st.data[st.pos] != ':' {
			return st.errorf("expected ':' after a key")
		}
		st.pos++
		st.skipWS()
		var c *pathNode
		if n.children != nil {
			c = n.child(key)
		}
		if c == nil {
			err = st.skip(depth + 1)
		} else {
			err = st.value(c, depth+1)
		}
		if err != nil {
			return err
		}
		st.skipWS()
		if st.pos >= len(st.data) {
			return st.errorf("unterminated object")
		}
		switch st.data[st.pos] {
		case ',':
			st.pos++
		case '}':
			st.pos++
			return nil
		default:
			return st.errorf("expected ',' or '}' in an object")
		}
	}
}

// array parses an array at '[' whose elements have path n.
func (st *matchState) array(n *pathNode, depth int) error {
	if depth >= maxDepth {
		return st.errorf("nesting deeper than %d", maxDepth)
	}
	if st.arrays > 0 {
		st.ac = true
	}
	st.pos++ // '['
	st.skipWS()
	if st.pos < len(st.data) && st.data[st.pos] == ']' {
		st.pos++
		return nil
	}
	id := st.nextArray
	st.nextArray++
	st.stack = append(st.stack, arrayPos{arr: id})
	st.arrays++
	for idx := int32(0); ; idx++ {
		st.stack[len(st.stack)-1].idx = idx
		st.skipWS()
		if err := st.value(n, depth+1); err != nil {
			return err
		}
		st.skipWS()
		if st.pos >= len(st.data) {
			return st.errorf("unterminated array")
		}
		switch st.data[st.pos] {
		case ',':
			st.pos++
		case ']':
			st.pos++
			st.stack = st.stack[:len(st.stack)-1]
			st.arrays--
			return nil
		default:
			return st.errorf("expected ',' or ']' in an array")
		}
	}
}

// value parses any value whose path is n.
func (st *matchState) value(n *pathNode, depth int) error {
	if st.pos >= len(st.data) {
		return st.errorf("unexpected end of the event")
	}
	switch c := st.data[st.pos]; {
	case c == '{':
		if n.children == nil {
			return st.skip(depth)
		}
		return st.object(n, depth)
	case c == '[':
		return st.array(n, depth)
	case n.field < 0:
		return st.skip(depth)
	case c == '"':
		s, err := st.str()
		if err != nil {
			return err
		}
		st.emit(n.field, kindString, s)
	case c == '-' || c >= '0' && c <= '9':
		start := st.pos
		if err := st.scanNumber(); err != nil {
			return err
		}
		st.emit(n.field, kindNumber, st.data[start:st.pos])
	default:
		k, err := st.literal()
		if err != nil {
			return err
		}
		st.emit(n.field, k, st.data[st.pos-literalLen(k):st.pos])
	}
	return nil
}

func literalLen(k kind) int {
	if k == kindFalse {
		return 5
	}
	return 4
}

// emit records a leaf of field f.
func (st *matchState) emit(f int32, k kind, val []byte) {
	if st.fieldStamp[f] != st.epoch {
		st.fieldStamp[f] = st.epoch
		st.fieldHead[f] = -1
		st.touched = append(st.touched, f)
	}
	l := leaf{val: val, kind: k, next: st.fieldHead[f], memStart: int32(len(st.mem)), memLen: int32(len(st.stack))}
	st.mem = append(st.mem, st.stack...)
	st.fieldHead[f] = int32(len(st.leaves))
	st.leaves = append(st.leaves, l)
}

// skip validates and skips any value.
func (st *matchState) skip(depth int) error {
	if depth >= maxDepth {
		return st.errorf("nesting deeper than %d", maxDepth)
	}
	if st.pos >= len(st.data) {
		return st.errorf("unexpected end of the event")
	}
	switch c := st.data[st.pos]; {
	case c == '"':
		return st.skipStr()
	case c == '{':
		st.pos++
		st.skipWS()
		if st.pos < len(st.data) && st.data[st.pos] == '}' {
			st.pos++
			return nil
		}
		for {
			st.skipWS()
			if st.pos >= len(st.data) || st.data[st.pos] != '"' {
				return st.errorf("expected a string key")
			}
			if err := st.skipStr(); err != nil {
				return err
			}
			st.skipWS()
			if st.pos >= len(st.data) || st.data[st.pos] != ':' {
				return st.errorf("expected ':' after a key")
			}
			st.pos++
			st.skipWS()
			if err := st.skip(depth + 1); err != nil {
				return err
			}
			st.skipWS()
			if st.pos >= len(st.data) {
				return st.errorf("unterminated object")
			}
			switch st.data[st.pos] {
			case ',':
				st.pos++
			case '}':
				st.pos++
				return nil
			default:
				return st.errorf("expected ',' or '}' in an object")
			}
		}
	case c == '[':
		st.pos++
		st.skipWS()
		if st.pos < len(st.data) && st.data[st.pos] == ']' {
			st.pos++
			return nil
		}
		for {
			st.skipWS()
			if err := st.skip(depth + 1); err != nil {
				return err
			}
			st.skipWS()
			if st.pos >= len(st.data) {
				return st.errorf("unterminated array")
			}
			switch st.data[st.pos] {
			case ',':
				st.pos++
			case ']':
				st.pos++
				return nil
			default:
				return st.errorf("expected ',' or ']' in an array")
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		return st.scanNumber()
	default:
		_, err := st.literal()
		return err
	}
}

func (st *matchState) literal() (kind, error) {
	rest := st.data[st.pos:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		st.pos += 4
		return kindTrue, nil
	case len(rest) >= 5 && string(rest[:5]) == "false":
		st.pos += 5
		return kindFalse, nil
	case len(rest) >= 4 && string(rest[:4]) == "null":
		st.pos += 4
		return kindNull, nil
	}
	return 0, st.errorf("invalid value")
}

// number validates a JSON number at pos and moves past it.
func (st *matchState) scanNumber() error {
	d, i := st.data, st.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		st.pos = i
		return st.errorf("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == start {
			st.pos = i
			return st.errorf("invalid number: no digits after '.'")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == start {
			st.pos = i
			return st.errorf("invalid number: no digits in the exponent")
		}
	}
	st.pos = i
	return nil
}

// skipStr validates and skips a string at '"'.
func (st *matchState) skipStr() error {
	d := st.data
	i := st.pos + 1
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			st.pos = i + 1
			return nil
		case c == '\\':
			if i+1 >= len(d) {
				st.pos = i
				return st.errorf("unterminated string")
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex4(d[i+2:i+6]) {
					st.pos = i
					return st.errorf("invalid \\u escape")
				}
				i += 6
			default:
				st.pos = i
				return st.errorf("invalid escape")
			}
		case c < 0x20:
			st.pos = i
			return st.errorf("control character in a string")
		default:
			i++
		}
	}
	st.pos = i
	return st.errorf("unterminated string")
}

// str parses a string at '"' and returns its unescaped contents: a view of
// the event when it has no escapes, else a view of the scratch buffer.
func (st *matchState) str() ([]byte, error) {
	d := st.data
	start := st.pos + 1
	i := start
	for i < len(d) {
		c := d[i]
		if c == '"' {
			st.pos = i + 1
			return d[start:i], nil
		}
		if c == '\\' {
			return st.unescape(start, i)
		}
		if c < 0x20 {
			st.pos = i
			return nil, st.errorf("control character in a string")
		}
		i++
	}
	st.pos = i
	return nil, st.errorf("unterminated string")
}

// unescape decodes a string with escapes into the scratch buffer, which was
// sized so that it never grows (decoding never lengthens text).
func (st *matchState) unescape(start, i int) ([]byte, error) {
	d := st.data
	out := len(st.scratch)
	st.scratch = append(st.scratch, d[start:i]...)
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			st.pos = i + 1
			return st.scratch[out:len(st.scratch):len(st.scratch)], nil
		case c < 0x20:
			st.pos = i
			return nil, st.errorf("control character in a string")
		case c != '\\':
			st.scratch = append(st.scratch, c)
			i++
			continue
		}
		if i+1 >= len(d) {
			break
		}
		switch e := d[i+1]; e {
		case '"', '\\', '/':
			st.scratch = append(st.scratch, e)
		case 'b':
			st.scratch = append(st.scratch, '\b')
		case 'f':
			st.scratch = append(st.scratch, '\f')
		case 'n':
			st.scratch = append(st.scratch, '\n')
		case 'r':
			st.scratch = append(st.scratch, '\r')
		case 't':
			st.scratch = append(st.scratch, '\t')
		case 'u':
			if i+6 > len(d) || !isHex4(d[i+2:i+6]) {
				st.pos = i
				return nil, st.errorf("invalid \\u escape")
			}
			r := rune(hex4(d[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(d) && d[i] == '\\' && d[i+1] == 'u' && isHex4(d[i+2:i+6]) {
					r2 := rune(hex4(d[i+2 : i+6]))
					if p := utf16.DecodeRune(r, r2); p != utf8.RuneError {
						st.scratch = utf8.AppendRune(st.scratch, p)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			st.scratch = utf8.AppendRune(st.scratch, r)
			continue
		default:
			st.pos = i
			return nil, st.errorf("invalid escape")
		}
		i += 2
	}
	st.pos = i
	return nil, st.errorf("unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(b []byte) int {
	n := 0
	for _, c := range b {
		n <<= 4
		switch {
		case c >= '0' && c <= '9':
			n |= int(c - '0')
		case c >= 'a' && c <= 'f':
			n |= int(c-'a') + 10
		default:
			n |= int(c-'A') + 10
		}
	}
	return n
}
