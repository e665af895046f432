package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Incompatibility is one spot where a new schema rejects or drops data that
// the old one accepted.
type Incompatibility struct {
	// Pointer is the JSON pointer of the spot inside the new schema, e.g.
	// "/properties/amount/type"; for a removed property, the new schema's
	// "properties" that lacks it.
	Pointer string
	// Via is the pointer of the $ref that led to Pointer, when the spot sits
	// in a definition ("/properties/total" for "/$defs/Money/required").
	Via string
	// Message says what changed: "type changed from object to number".
	Message string
}

func (i Incompatibility) String() string {
	s := i.Pointer
	if s == "" {
		s = "(root)"
	}
	s += ": " + i.Message
	if i.Via != "" {
		s += " (via " + i.Via + ")"
	}
	return s
}

// Compare reports where data valid under the old schema would be rejected or
// lost by the new one; none means the new schema is backward compatible as
// far as the keywords in the package documentation go. It returns an error
// only when a document is not JSON.
func Compare(old, new []byte) ([]Incompatibility, error) {
	o, err := jsonschema.UnmarshalJSON(bytes.NewReader(old))
	if err != nil {
		return nil, fmt.Errorf("old schema: %s", jsonSyntaxMessage(old, err))
	}
	n, err := jsonschema.UnmarshalJSON(bytes.NewReader(new))
	if err != nil {
		return nil, fmt.Errorf("new schema: %s", jsonSyntaxMessage(new, err))
	}
	return compareDocs(o, n), nil
}

func compareDocs(o, n any) []Incompatibility {
	c := &comparer{oldRoot: o, newRoot: n, seen: map[[2]string]bool{}}
	c.compare(c.node(o, o, ""), c.node(n, n, ""))
	slices.SortStableFunc(c.out, func(a, b Incompatibility) int {
		return comparePointers(a.Pointer, b.Pointer)
	})
	return c.out
}

type comparer struct {
	oldRoot, newRoot any
	seen             map[[2]string]bool
	out              []Incompatibility
}

// node is one schema with its $ref chain followed: the keywords of the
// referencing object win over those of its target, and each keyword knows
// the pointer of the object it came from.
type node struct {
	ptr   string // where the schema is, before following $ref
	via   string // pointer of the first $ref followed, if any
	isSet bool   // false: the schema is absent, which accepts anything
	bool  *bool  // a boolean schema
	kw    map[string]any
	at    map[string]string // keyword -> pointer of the object holding it
}

func (n node) acceptsAll() bool {
	if n.bool != nil {
		return *n.bool
	}
	if !n.isSet {
		return true
	}
	for k := range n.kw {
		if !annotation[k] {
			return false
		}
	}
	return true
}

func (n node) rejectsAll() bool { return n.bool != nil && !*n.bool }

// annotation keywords do not constrain data.
var annotation = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "$defs": true, "definitions": true,
	"$anchor": true, "$dynamicAnchor": true, "$vocabulary": true,
	"title": true, "description": true, "default": true, "examples": true,
	"deprecated": true, "readOnly": true, "writeOnly": true,
}

// node builds the view of schema v found at ptr in root.
func (c *comparer) node(root, cur any, ptr string) node {
	nd := node{ptr: ptr, isSet: true, kw: map[string]any{}, at: map[string]string{}}
	for depth := 0; depth < 32; depth++ {
		switch v := cur.(type) {
		case bool:
			if len(nd.kw) == 0 {
				nd.bool = &v
			}
			return nd
		case map[string]any:
			for k, val := range v {
				if k == "$ref" {
					continue
				}
				if _, ok := nd.kw[k]; !ok {
					nd.kw[k] = val
					nd.at[k] = ptr
				}
			}
			ref, ok := v["$ref"].(string)
			if !ok {
				return nd
			}
			target, tptr, ok := resolveLocal(root, ref)
			if !ok {
				// Not a local reference: keep it as a keyword so that a change
				// of it is seen.
				if _, dup := nd.kw["$ref"]; !dup {
					nd.kw["$ref"], nd.at["$ref"] = ref, ptr
				}
				return nd
			}
			if nd.via == "" {
				nd.via = ptr
			}
			cur, ptr = target, tptr
		default:
			return nd
		}
	}
	return nd
}

// resolveLocal follows a reference inside the same document: "#" or
// "#/json/pointer".
func resolveLocal(root any, ref string) (any, string, bool) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok || (frag != "" && !strings.HasPrefix(frag, "/")) {
		return nil, "", false
	}
	v := root
	if frag == "" {
		return v, "", true
	}
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch cur := v.(type) {
		case map[string]any:
			next, ok := cur[tok]
			if !ok {
				return nil, "", false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(cur) {
				return nil, "", false
			}
			v = cur[i]
		default:
			return nil, "", false
		}
	}
	return v, frag, true
}

func (c *comparer) report(n node, kw, format string, args ...any) {
	p := n.ptr
	if at, ok := n.at[kw]; ok {
		p = at
	}
	if kw != "" {
		p += "/" + escapeToken(kw)
	}
	via := ""
	if n.via != "" && !strings.HasPrefix(p, n.via) {
		via = n.via
	}
	c.out = append(c.out, Incompatibility{Pointer: p, Via: via, Message: fmt.Sprintf(format, args...)})
}

func (c *comparer) compare(o, n node) {
	// A spot is compared once, whichever path (or $ref) leads to it: this
	// ends recursive schemas and keeps shared definitions linear.
	pair := [2]string{o.ptr, n.ptr}
	if c.seen[pair] {
		return
	}
	c.seen[pair] = true

	switch {
	case o.rejectsAll():
		return // nothing was valid: nothing can break
	case n.rejectsAll():
		c.report(n, "", "schema became false: no value is accepted any more")
		return
	case n.acceptsAll():
		return
	}
	if c.compareTypes(o, n) {
		return // a new type: what is below does not matter
	}
	c.compareValues(o, n)
	c.compareBounds(o, n)
	c.compareStrings(o, n)
	c.compareObjects(o, n)
	c.compareArrays(o, n)
	c.compareOpaque(o, n)
}

// sub returns the view of the subschema at keyword path kw (and key) of n, or
// an absent schema.
func (c *comparer) sub(root any, n node, kw string, keys ...string) node {
	v, ok := n.kw[kw]
	p := n.at[kw] + "/" + escapeToken(kw)
	if !ok {
		p = n.ptr + "/" + escapeToken(kw)
	}
	for _, k := range keys {
		if !ok {
			break
		}
		switch cur := v.(type) {
		case map[string]any:
			v, ok = cur[k]
		case []any:
			i, err := strconv.Atoi(k)
			ok = err == nil && i >= 0 && i < len(cur)
			if ok {
				v = cur[i]
			}
		default:
			ok = false
		}
		p += "/" + escapeToken(k)
	}
	if !ok {
		return node{ptr: p, via: n.via}
	}
	nd := c.node(root, v, p)
	if nd.via == "" {
		nd.via = n.via
	}
	return nd
}

func (c *comparer) oldSub(n node, kw string, keys ...string) node {
	return c.sub(c.oldRoot, n, kw, keys...)
}

func (c *comparer) newSub(n node, kw string, keys ...string) node {
	return c.sub(c.newRoot, n, kw, keys...)
}

// types returns the set of JSON types a schema allows; nil means any.
func types(n node) []string {
	switch t := n.kw["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, v := range t {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func typeAccepts(ts []string, t string) bool {
	return slices.Contains(ts, t) || (t == "integer" && slices.Contains(ts, "number"))
}

func typeList(ts []string) string {
	if len(ts) == 1 {
		return ts[0]
	}
	return "[" + strings.Join(ts, ", ") + "]"
}

// compareTypes reports a type narrowed or changed; it returns true when no
// old type is accepted any more.
func (c *comparer) compareTypes(o, n node) bool {
	nt := types(n)
	if _, ok := n.kw["type"]; !ok || nt == nil {
		return false
	}
	ot := types(o)
	if ot == nil {
		c.report(n, "type", "type added: must now be %s (any type was accepted)", typeList(nt))
		return false
	}
	var lost []string
	for _, t := range ot {
		if !typeAccepts(nt, t) {
			lost = append(lost, t)
		}
	}
	switch {
	case len(lost) == 0:
	case len(lost) == len(ot):
		c.report(n, "type", "type changed from %s to %s", typeList(ot), typeList(nt))
		return true
	default:
		c.report(n, "type", "type narrowed from %s to %s: %s no longer accepted", typeList(ot), typeList(nt), typeList(lost))
	}
	return false
}

func (c *comparer) compareValues(o, n node) {
	if ne, ok := n.kw["enum"].([]any); ok {
		switch {
		case has(o, "const"):
			if !containsValue(ne, o.kw["const"]) {
				c.report(n, "enum", "enum does not include %s, the value the old schema required", show(o.kw["const"]))
			}
		case has(o, "enum"):
			oe, _ := o.kw["enum"].([]any)
			var removed []string
			for _, v := range oe {
				if !containsValue(ne, v) {
					removed = append(removed, show(v))
				}
			}
			if len(removed) > 0 {
				c.report(n, "enum", "enum narrowed: %s no longer accepted", strings.Join(removed, ", "))
			}
		default:
			c.report(n, "enum", "enum added: only %s accepted now", showList(ne))
		}
	}
	if nc, ok := n.kw["const"]; ok {
		switch {
		case has(o, "const"):
			if !jsonEqual(o.kw["const"], nc) {
				c.report(n, "const", "const changed from %s to %s", show(o.kw["const"]), show(nc))
			}
		case has(o, "enum"):
			oe, _ := o.kw["enum"].([]any)
			var removed []string
			for _, v := range oe {
				if !jsonEqual(v, nc) {
					removed = append(removed, show(v))
				}
			}
			if len(removed) > 0 {
				c.report(n, "const", "const %s replaced an enum: %s no longer accepted", show(nc), strings.Join(removed, ", "))
			}
		default:
			c.report(n, "const", "const added: only %s accepted now", show(nc))
		}
	}
}

func has(n node, kw string) bool {
	_, ok := n.kw[kw]
	return ok
}

// Lower bounds may only go down, upper bounds only up.
var (
	lowerBounds = []string{"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"}
	upperBounds = []string{"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"}
)

func (c *comparer) compareBounds(o, n node) {
	for _, kw := range lowerBounds {
		nv, ok := number(n.kw[kw])
		if !ok {
			continue
		}
		ov, had := number(o.kw[kw])
		switch {
		case !had:
			c.report(n, kw, "%s added: %s", kw, show(n.kw[kw]))
		case nv > ov:
			c.report(n, kw, "%s raised from %s to %s", kw, show(o.kw[kw]), show(n.kw[kw]))
		}
	}
	for _, kw := range upperBounds {
		nv, ok := number(n.kw[kw])
		if !ok {
			continue
		}
		ov, had := number(o.kw[kw])
		switch {
		case !had:
			c.report(n, kw, "%s added: %s", kw, show(n.kw[kw]))
		case nv < ov:
			c.report(n, kw, "%s lowered from %s to %s", kw, show(o.kw[kw]), show(n.kw[kw]))
		}
	}
	if nm, ok := number(n.kw["multipleOf"]); ok && nm > 0 {
		om, had := number(o.kw["multipleOf"])
		switch {
		case !had:
			c.report(n, "multipleOf", "multipleOf added: %s", show(n.kw["multipleOf"]))
		case !jsonEqual(o.kw["multipleOf"], n.kw["multipleOf"]) && !isMultiple(om, nm):
			c.report(n, "multipleOf", "multipleOf changed from %s to %s", show(o.kw["multipleOf"]), show(n.kw["multipleOf"]))
		}
	}
	if n.kw["uniqueItems"] == true && o.kw["uniqueItems"] != true {
		c.report(n, "uniqueItems", "uniqueItems turned on: arrays with duplicates no longer accepted")
	}
}

func isMultiple(a, b float64) bool {
	q := a / b
	return !math.IsInf(q, 0) && !math.IsNaN(q) && math.Abs(q-math.Round(q)) < 1e-9
}

func (c *comparer) compareStrings(o, n node) {
	for _, kw := range []string{"pattern", "format"} {
		nv, ok := n.kw[kw]
		if !ok {
			continue
		}
		ov, had := o.kw[kw]
		switch {
		case !had:
			c.report(n, kw, "%s added: %s", kw, show(nv))
		case !jsonEqual(ov, nv):
			c.report(n, kw, "%s changed from %s to %s", kw, show(ov), show(nv))
		}
	}
}

func (c *comparer) compareObjects(o, n node) {
	// New required properties: old data may lack them.
	oreq := stringList(o.kw["required"])
	for i, r := range stringList(n.kw["required"]) {
		if !slices.Contains(oreq, r) {
			c.report(n, "required", "property %q became required: old data may lack it", r)
			c.out[len(c.out)-1].Pointer += "/" + strconv.Itoa(i)
		}
	}
	// Properties: each old one must still be there, and compatible.
	oprops, _ := o.kw["properties"].(map[string]any)
	nprops, _ := n.kw["properties"].(map[string]any)
	for _, p := range sortedKeys(oprops) {
		if _, ok := nprops[p]; !ok {
			kw := "properties"
			if !has(n, "properties") {
				kw = ""
			}
			c.report(n, kw, "property %q removed: what old data carries in it would be lost", p)
			continue
		}
		c.compare(c.oldSub(o, "properties", p), c.newSub(n, "properties", p))
	}
	// additionalProperties.
	oap, nap := c.oldSub(o, "additionalProperties"), c.newSub(n, "additionalProperties")
	switch {
	case !nap.isSet || o.kw["additionalProperties"] == false:
	case nap.rejectsAll():
		c.report(n, "additionalProperties", "additionalProperties closed: properties the schema does not name are no longer accepted")
	default:
		c.compare(oap, nap)
	}
}

func (c *comparer) compareArrays(o, n node) {
	npre, _ := n.kw["prefixItems"].([]any)
	opre, _ := o.kw["prefixItems"].([]any)
	oitems := func(i int) node {
		if i < len(opre) {
			return c.oldSub(o, "prefixItems", strconv.Itoa(i))
		}
		return c.oldSub(o, "items")
	}
	for i := range npre {
		c.compare(oitems(i), c.newSub(n, "prefixItems", strconv.Itoa(i)))
	}
	if !has(n, "items") {
		return
	}
	if _, isList := n.kw["items"].([]any); isList {
		return // draft-07 tuple form: left to compareOpaque's eye
	}
	nitems := c.newSub(n, "items")
	for i := len(npre); i < len(opre); i++ {
		c.compare(oitems(i), nitems)
	}
	c.compare(c.oldSub(o, "items"), nitems)
}

// opaque keywords are not analysed: adding or changing one is reported.
var opaque = []string{
	"allOf", "anyOf", "oneOf", "not", "if", "then", "else",
	"patternProperties", "propertyNames", "dependentRequired", "dependentSchemas", "dependencies",
	"contains", "minContains", "maxContains", "unevaluatedProperties", "unevaluatedItems",
	"additionalItems", "$ref", "$dynamicRef",
}

func (c *comparer) compareOpaque(o, n node) {
	for _, kw := range opaque {
		nv, ok := n.kw[kw]
		if !ok {
			continue
		}
		ov, had := o.kw[kw]
		switch {
		case !had:
			c.report(n, kw, "%s added: troupe cannot prove old data still validates; check it by hand", kw)
		case !jsonEqual(ov, nv):
			c.report(n, kw, "%s changed: troupe cannot prove old data still validates; check it by hand", kw)
		}
	}
}

func stringList(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		return f, err == nil || errors.Is(err, strconv.ErrRange)
	case float64:
		return v, true
	}
	return 0, false
}

func containsValue(list []any, v any) bool {
	for _, x := range list {
		if jsonEqual(x, v) {
			return true
		}
	}
	return false
}

// jsonEqual compares decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		af, aerr := strconv.ParseFloat(string(an), 64)
		bf, berr := strconv.ParseFloat(string(bn), 64)
		if aerr == nil && berr == nil {
			return af == bf
		}
		return an == bn
	}
	return reflect.DeepEqual(a, b)
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

func showList(l []any) string {
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = show(v)
	}
	return strings.Join(parts, ", ")
}
