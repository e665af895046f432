package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// maxRules caps how many alternatives a pattern's "$or"s may expand to (every
// $or multiplies the alternatives of the fields around it).
const maxRules = 1000

// Error is the error Compile returns for a pattern EventBridge would reject.
type Error struct {
	// Path is the dotted path of the field where the problem is, such as
	// "detail.amount"; it is empty when the problem is the pattern as a whole.
	Path string
	// Offset is the byte offset in the pattern just after the problem.
	Offset int64
	// Reason says what is wrong and how to fix it.
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "event pattern: " + e.Reason
	}
	return "event pattern: " + e.Path + ": " + e.Reason
}

// field is one field of one alternative of a pattern: a dotted path and the
// values its event value may take. Fields are shared between alternatives and
// never change once compiled.
type field struct {
	path   string
	values valueSet
	absent bool // {"exists": false} is one of the values
	globs  []*glob
}

// alt is one alternative of a pattern (a pattern without $or has one): all of
// its fields must match. Fields are sorted by path.
type alt []*field

// reserved are the names that cannot be field names inside $or
// (event-ruler's RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP).
var reserved = map[string]bool{
	"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true,
	"anything-but": true, "exists": true, "wildcard": true, "numeric": true, "cidr": true,
	"=": true, "<": true, "<=": true, ">": true, ">=": true,
	"regex": true, "not-wildcard": true, "not-equals-ignore-case": true,
	"date-after": true, "date-on-or-after": true, "date-before": true, "date-on-or-before": true,
	"in-date-range": true, "ip-address-in-range": true, "ip-address-not-in-range": true,
}

const operatorList = "prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr, exactly"

type compiler struct {
	dec *json.Decoder
}

// compileAlts parses a pattern into its alternatives.
func compileAlts(src []byte) ([]alt, error) {
	c := &compiler{dec: json.NewDecoder(bytes.NewReader(src))}
	c.dec.UseNumber()
	tok, err := c.token("")
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, c.fail("", `the pattern must be a JSON object, e.g. {"source": ["my.app"]}`)
	}
	var rules []map[string]*field
	if err := c.object(&rules, "", false); err != nil {
		return nil, err
	}
	if _, err := c.dec.Token(); err != io.EOF {
		return nil, c.fail("", "unexpected data after the pattern object")
	}
	alts := make([]alt, 0, len(rules))
	for _, r := range rules {
		a := make(alt, 0, len(r))
		for _, f := range r {
			a = append(a, f)
		}
		sort.Slice(a, func(i, j int) bool { return a[i].path < a[j].path })
		alts = append(alts, a)
	}
	if err := checkWildcards(alts); err != nil {
		return nil, err
	}
	return alts, nil
}

func (c *compiler) fail(path, format string, args ...any) error {
	return &Error{Path: path, Offset: c.dec.InputOffset(), Reason: fmt.Sprintf(format, args...)}
}

// token reads the next token, turning syntax errors into *Error.
func (c *compiler) token(path string) (json.Token, error) {
	tok, err := c.dec.Token()
	if err == io.EOF {
		return nil, c.fail(path, "unexpected end of the pattern")
	}
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &Error{Path: path, Offset: se.Offset, Reason: "invalid JSON: " + se.Error()}
		}
		return nil, c.fail(path, "invalid JSON: %v", err)
	}
	return tok, nil
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// object parses the members of an object whose '{' was read. inOr is true
// inside the alternatives of a $or.
func (c *compiler) object(rules *[]map[string]*field, path string, inOr bool) error {
	members := 0
	for {
		tok, err := c.token(path)
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			break
		}
		name := tok.(string) // the decoder only yields strings as keys
		members++
		if name == "$or" {
			if err := c.or(rules, path); err != nil {
				return err
			}
			continue
		}
		fpath := join(path, name)
		if inOr && reserved[name] {
			return c.fail(fpath, "%q is an operator name and cannot be a field name inside $or; "+
				`wrap it in an array, e.g. {"field": [{%q: ...}]}`, name, name)
		}
		tok, err = c.token(fpath)
		if err != nil {
			return err
		}
		switch d, _ := tok.(json.Delim); d {
		case '{':
			if err := c.object(rules, fpath, inOr); err != nil {
				return err
			}
		case '[':
			f, err := c.values(fpath)
			if err != nil {
				return err
			}
			if len(*rules) == 0 {
				*rules = append(*rules, map[string]*field{})
			}
			for _, r := range *rules {
				r[fpath] = f // a repeated path overrides, as in EventBridge
			}
		default:
			return c.fail(fpath, `must be an array of values, e.g. ["a", "b"], or an object of nested fields; got %s`, describe(tok))
		}
	}
	if members == 0 {
		return c.fail(path, "empty objects are not allowed; name at least one field")
	}
	return nil
}

// or parses the array after a "$or" key: each element is an object whose
// fields form one alternative, combined with the fields around the $or.
func (c *compiler) or(rules *[]map[string]*field, path string) error {
	opath := join(path, "$or")
	tok, err := c.token(opath)
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return c.fail(opath, "must be an array of at least two objects, e.g. [{\"a\": [1]}, {\"b\": [2]}]")
	}
	current := *rules
	var out []map[string]*field
	n := 0
	for {
		tok, err := c.token(opath)
		if err != nil {
			return err
		}
		d, _ := tok.(json.Delim)
		if d == ']' {
			break
		}
		if d != '{' {
			return c.fail(opath, "every element must be an object of fields; got %s", describe(tok))
		}
		n++
		branch := make([]map[string]*field, 0, len(current)+1)
		for _, r := range current {
			cp := make(map[string]*field, len(r)+1)
			for k, v := range r {
				cp[k] = v
			}
			branch = append(branch, cp)
		}
		if len(branch) == 0 {
			branch = append(branch, map[string]*field{})
		}
		if err := c.object(&branch, path, true); err != nil {
			return err
		}
		out = append(out, branch...)
		if len(out) > maxRules {
			return c.fail(opath, "the $or combinations expand to more than %d alternatives; split the pattern into several rules", maxRules)
		}
	}
	if n < 2 {
		return c.fail(opath, "needs at least two objects; with one alternative, drop the $or")
	}
	*rules = out
	return nil
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("%q", string(t))
	case string:
		return fmt.Sprintf("the string %q", t)
	case json.Number:
		return "the number " + string(t)
	case bool:
		return fmt.Sprintf("%v", t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// values parses a field's array of match values, whose '[' was read.
func (c *compiler) values(path string) (*field, error) {
	f := &field{path: path}
	v := &f.values
	n := 0
	for {
		tok, err := c.token(path)
		if err != nil {
			return nil, err
		}
		if d, ok := tok.(json.Delim); ok && d == ']' {
			break
		}
		n++
		switch t := tok.(type) {
		case string:
			addExact(v, t)
		case json.Number:
			if k, ok := numberKey([]byte(t)); ok {
				v.nums = append(v.nums, k)
			} else {
				addLit(v, string(t))
			}
		case bool:
			addLit(v, fmt.Sprint(t))
		case nil:
			addLit(v, "null")
		case json.Delim:
			if t != '{' {
				return nil, c.fail(path, "match values must be strings, numbers, true, false, null or operator objects; nested arrays are not allowed")
			}
			if err := c.operator(f); err != nil {
				return nil, err
			}
		}
	}
	if n == 0 {
		return nil, c.fail(path, `empty arrays are not allowed; list at least one value, or use [{"exists": false}] for a missing field`)
	}
	return f, nil
}

func addExact(v *valueSet, s string) {
	if a, err := parseIP(s); err == nil {
		v.ips = append(v.ips, a)
		return
	}
	addStr(v, s)
}

func addStr(v *valueSet, s string) {
	if v.strs == nil {
		v.strs = map[string]struct{}{}
	}
	v.strs[s] = struct{}{}
}

func addLit(v *valueSet, s string) {
	if v.lits == nil {
		v.lits = map[string]struct{}{}
	}
	v.lits[s] = struct{}{}
}

// operator parses one operator object, whose '{' was read.
func (c *compiler) operator(f *field) error {
	path := f.path
	v := &f.values
	tok, err := c.token(path)
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && d == '}' {
		return c.fail(path, `empty operator object; use one of %s, e.g. {"prefix": "abc"}`, operatorList)
	}
	op := tok.(string)
	switch op {
	case "exactly":
		s, err := c.stringOperand(path, op)
		if err != nil {
			return err
		}
		addStr(v, s)
	case "prefix", "suffix":
		tok, err := c.token(path)
		if err != nil {
			return err
		}
		var s string
		fold := false
		switch t := tok.(type) {
		case string:
			s = t
		case json.Delim:
			if t != '{' {
				return c.fail(path, `%s: operand must be a string or {"equals-ignore-case": string}; got %s`, op, describe(tok))
			}
			s, err = c.foldOperand(path, op)
			if err != nil {
				return err
			}
			fold = true
		default:
			return c.fail(path, `%s: operand must be a string or {"equals-ignore-case": string}; got %s`, op, describe(tok))
		}
		switch {
		case op == "prefix" && fold:
			v.pfolds = append(v.pfolds, newFoldPattern(s))
		case op == "prefix":
			v.prefixes = append(v.prefixes, s)
		case fold:
			v.sfolds = append(v.sfolds, newFoldPattern(s))
		default:
			v.suffixes = append(v.suffixes, s)
		}
	case "equals-ignore-case":
		s, err := c.stringOperand(path, op)
		if err != nil {
			return err
		}
		v.folds = append(v.folds, newFoldPattern(s))
	case "wildcard":
		s, err := c.stringOperand(path, op)
		if err != nil {
			return err
		}
		g, err := parseGlob(s)
		if err != nil {
			return c.fail(path, "wildcard %q: %v", s, err)
		}
		v.globs = append(v.globs, g)
		f.globs = append(f.globs, g)
		return c.end(path, op)
	case "cidr":
		s, err := c.stringOperand(path, op)
		if err != nil {
			return err
		}
		r, err := parseCIDR(s)
		if err != nil {
			return c.fail(path, "cidr: %v", err)
		}
		v.cidrs = append(v.cidrs, r)
	case "exists":
		tok, err := c.token(path)
		if err != nil {
			return err
		}
		b, ok := tok.(bool)
		if !ok {
			return c.fail(path, "exists: operand must be true or false; got %s", describe(tok))
		}
		if b {
			v.exists = true
		} else {
			f.absent = true
		}
	case "numeric":
		r, eq, isEq, err := c.numeric(path)
		if err != nil {
			return err
		}
		if isEq {
			v.nums = append(v.nums, eq)
		} else {
			v.ranges = append(v.ranges, r)
		}
	case "anything-but":
		b, err := c.anythingBut(f)
		if err != nil {
			return err
		}
		v.buts = append(v.buts, b)
	default:
		return c.fail(path, "unknown operator %q; operators are %s (names are case-sensitive)", op, operatorList)
	}
	if op == "wildcard" {
		return nil
	}
	return c.end(path, op)
}

// end reads the '}' closing an operator object.
func (c *compiler) end(path, op string) error {
	tok, err := c.token(path)
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '}' {
		return c.fail(path, "%s: an operator object must have exactly one key; put other operators in their own objects in the array", op)
	}
	return nil
}

func (c *compiler) stringOperand(path, op string) (string, error) {
	tok, err := c.token(path)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", c.fail(path, "%s: operand must be a string; got %s", op, describe(tok))
	}
	return s, nil
}

// foldOperand parses {"equals-ignore-case": "..."} after prefix or suffix,
// whose '{' was read, through its '}'.
func (c *compiler) foldOperand(path, op string) (string, error) {
	tok, err := c.token(path)
	if err != nil {
		return "", err
	}
	if name, _ := tok.(string); name != "equals-ignore-case" {
		return "", c.fail(path, `%s: the only nested operator is "equals-ignore-case", e.g. {%q: {"equals-ignore-case": "abc"}}`, op, op)
	}
	s, err := c.stringOperand(path, op+"/equals-ignore-case")
	if err != nil {
		return "", err
	}
	return s, c.end(path, op+"/equals-ignore-case")
}

func (c *compiler) numberOperand(path, what string, tok json.Token) (uint64, string, error) {
	n, ok := tok.(json.Number)
	if !ok {
		return 0, "", c.fail(path, "numeric: %s must be a number; got %s", what, describe(tok))
	}
	k, ok := numberKey([]byte(n))
	if !ok {
		return 0, "", c.fail(path, "numeric: %s cannot be compared: EventBridge numbers must fit a float64 exactly (at most about 15 significant digits, magnitude below 1.8e308)", n)
	}
	return k, string(n), nil
}

// numeric parses the array after "numeric": ["=", n], [">", n], [">=", n],
// ["<", n], ["<=", n], or [">"|">=", lo, "<"|"<=", hi].
func (c *compiler) numeric(path string) (r numRange, eq uint64, isEq bool, err error) {
	tok, err := c.token(path)
	if err != nil {
		return r, 0, false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return r, 0, false, c.fail(path, `numeric: operand must be an array such as [">", 0, "<=", 5]; got %s`, describe(tok))
	}
	next := func() (json.Token, error) { return c.token(path) }
	closing := func() error {
		tok, err := next()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); !ok || d != ']' {
			return c.fail(path, `numeric: too many elements; the longest form is [">", lo, "<", hi]`)
		}
		return nil
	}
	tok, err = next()
	if err != nil {
		return r, 0, false, err
	}
	op, ok := tok.(string)
	if !ok {
		return r, 0, false, c.fail(path, `numeric: the first element must be one of "=", "<", "<=", ">", ">="; got %s`, describe(tok))
	}
	const minKey, maxKey = 0x0010000000000000, 0xFFEFFFFFFFFFFFFF // -MaxFloat64, +MaxFloat64
	tok, err = next()
	if err != nil {
		return r, 0, false, err
	}
	switch op {
	case "=":
		k, _, err := c.numberOperand(path, "the value of =", tok)
		if err != nil {
			return r, 0, false, err
		}
		return r, k, true, closing()
	case "<", "<=":
		k, _, err := c.numberOperand(path, "the value of "+op, tok)
		if err != nil {
			return r, 0, false, err
		}
		return numRange{lo: minKey, hi: k, hiOpen: op == "<"}, 0, false, closing()
	case ">", ">=":
		lo, lotext, err := c.numberOperand(path, "the value of "+op, tok)
		if err != nil {
			return r, 0, false, err
		}
		r = numRange{lo: lo, loOpen: op == ">", hi: maxKey}
		tok, err = next()
		if err != nil {
			return r, 0, false, err
		}
		if d, ok := tok.(json.Delim); ok && d == ']' {
			return r, 0, false, nil
		}
		op2, ok := tok.(string)
		if !ok {
			return r, 0, false, c.fail(path, `numeric: expected "<" or "<=" after the lower bound; got %s`, describe(tok))
		}
		if op2 != "<" && op2 != "<=" {
			return r, 0, false, c.fail(path, `numeric: bad range operator %q after the lower bound; use "<" or "<="`, op2)
		}
		tok, err = next()
		if err != nil {
			return r, 0, false, err
		}
		hi, hitext, err := c.numberOperand(path, "the value of "+op2, tok)
		if err != nil {
			return r, 0, false, err
		}
		if lo >= hi {
			rel := "above"
			if lo == hi {
				rel = "equal to"
			}
			return r, 0, false, c.fail(path, "numeric: range lower bound %s is %s upper bound %s; the lower bound must be below the upper bound", lotext, rel, hitext)
		}
		r.hi, r.hiOpen = hi, op2 == "<"
		return r, 0, false, closing()
	default:
		return r, 0, false, c.fail(path, `numeric: unknown operator %q; use "=", "<", "<=", ">" or ">="`, op)
	}
}

// anythingBut parses the operand of "anything-but", through the operator's '}'
// for the nested forms (the caller reads the last '}').
func (c *compiler) anythingBut(f *field) (*anythingBut, error) {
	path := f.path
	tok, err := c.token(path)
	if err != nil {
		return nil, err
	}
	b := &anythingBut{}
	nested := ""
	if d, ok := tok.(json.Delim); ok && d == '{' {
		tok, err = c.token(path)
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		switch name {
		case "equals-ignore-case":
			b.kind = butFold
		case "prefix":
			b.kind = butPrefix
		case "suffix":
			b.kind = butSuffix
		case "wildcard":
			b.kind = butGlob
		default:
			if d, ok := tok.(json.Delim); ok && d == '}' {
				return nil, c.fail(path, `anything-but: empty object; use e.g. {"anything-but": {"prefix": "abc"}}`)
			}
			return nil, c.fail(path, "anything-but: unsupported nested operator %q; use prefix, suffix, equals-ignore-case or wildcard", name)
		}
		nested = name
		tok, err = c.token(path)
		if err != nil {
			return nil, err
		}
	}
	what := "anything-but"
	if nested != "" {
		what += "/" + nested
	}
	var items []json.Token
	if d, ok := tok.(json.Delim); ok && d == '[' {
		for {
			t, err := c.token(path)
			if err != nil {
				return nil, err
			}
			if d, ok := t.(json.Delim); ok && d == ']' {
				break
			}
			if d, ok := t.(json.Delim); ok && (d == '{' || d == '[') {
				return nil, c.fail(path, "%s: list members must be strings or numbers, not %s", what, describe(t))
			}
			items = append(items, t)
		}
		if nested == "" && len(items) == 0 {
			return nil, c.fail(path, "anything-but: the list is empty; give strings or numbers to exclude")
		}
	} else {
		switch tok.(type) {
		case string, json.Number:
			items = []json.Token{tok}
		default:
			if nested == "" {
				return nil, c.fail(path, "anything-but: operand must be a string, a number, a list of strings or of numbers, or an object; got %s", describe(tok))
			}
			if _, isNum := tok.(json.Number); !isNum {
				return nil, c.fail(path, "%s: operand must be a string or a list of strings; got %s", what, describe(tok))
			}
			items = []json.Token{tok}
		}
	}
	if nested == "" {
		hasNum, hasStr := false, false
		for _, it := range items {
			switch t := it.(type) {
			case string:
				hasStr = true
				if b.strs == nil {
					b.strs = map[string]struct{}{}
				}
				b.strs[t] = struct{}{}
			case json.Number:
				hasNum = true
				k, ok := numberKey([]byte(t))
				if !ok {
					return nil, c.fail(path, "anything-but: %s cannot be compared: EventBridge numbers must fit a float64 exactly", t)
				}
				b.nums = append(b.nums, k)
			default:
				return nil, c.fail(path, "anything-but: list members must be strings or numbers, not %s", describe(it))
			}
		}
		if hasNum && hasStr {
			return nil, c.fail(path, "anything-but: the list mixes strings and numbers; use all strings or all numbers")
		}
		b.kind = butStrings
		if hasNum {
			b.kind = butNumbers
		}
		return b, nil
	}
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, c.fail(path, "%s: operand must be a string or a list of strings; got %s", what, describe(it))
		}
		switch b.kind {
		case butPrefix, butSuffix:
			if s == "" {
				return nil, c.fail(path, "%s: empty %s is not allowed", what, nested)
			}
			b.list = append(b.list, s)
		case butFold:
			b.folds = append(b.folds, newFoldPattern(s))
		case butGlob:
			g, err := parseGlob(s)
			if err != nil {
				return nil, c.fail(path, "%s %q: %v", what, s, err)
			}
			b.globs = append(b.globs, g)
			f.globs = append(f.globs, g)
		}
	}
	return b, c.end(path, what)
}

// checkWildcards rejects patterns whose wildcards on one field are too
// complex, as EventBridge does.
func checkWildcards(alts []alt) error {
	byPath := map[string][]*glob{}
	seen := map[*glob]bool{}
	for _, a := range alts {
		for _, f := range a {
			for _, g := range f.globs {
				if !seen[g] {
					seen[g] = true
					byPath[f.path] = append(byPath[f.path], g)
				}
			}
		}
	}
	for path, globs := range byPath {
		stars := 0
		for _, g := range globs {
			stars += len(g.parts) - 1
		}
		if stars < 2 {
			continue // one star cannot be too complex
		}
		if n := wildcardComplexity(globs, maxWildcardComplexity); n > maxWildcardComplexity {
			var ops []string
			for _, g := range globs {
				ops = append(ops, strings.Join(g.parts, "*"))
			}
			return &Error{Path: path, Reason: fmt.Sprintf("wildcard %q is too complex (complexity %d, limit %d): "+
				"use fewer '*' or fewer repeated characters after a '*'", strings.Join(ops, `", "`), n, maxWildcardComplexity)}
		}
	}
	return nil
}
