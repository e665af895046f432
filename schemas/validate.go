package schemas

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	xmessage "golang.org/x/text/message"

	"github.com/troupehq/troupe/events"
)

// ErrNoSchema is wrapped by Validate's error when the set has no schema for
// an event's type or version.
var ErrNoSchema = errors.New("no schema")

// Violation is one spot where data breaks its schema.
type Violation struct {
	// Pointer is the JSON pointer (RFC 6901) of the wrong value inside the
	// event's data: "/items/0/quantity"; "" is the data as a whole.
	Pointer string
	// Message says what is wrong: `must be >= 1, got 0`.
	Message string
}

func (v Violation) String() string {
	p := v.Pointer
	if p == "" {
		p = "(data)"
	}
	return p + ": " + v.Message
}

// ValidationError says that an event's data breaks the schema of its type and
// version. Its message names the schema file and every wrong spot:
//
//	orders.OrderPlaced v2 (schemas/orders/OrderPlaced/v2.json): /items/0/quantity: must be >= 1, got 0; /total: missing property "currency"
type ValidationError struct {
	Type       string
	Version    int
	File       string      // the schema file, e.g. schemas/orders/OrderPlaced/v2.json
	Violations []Violation // at least one, sorted by pointer
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s v%d (%s): ", e.Type, e.Version, e.File)
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}

// Validate checks e.Data against the schema of e.Type version e.DataVersion.
// It returns an error wrapping ErrNoSchema when the set has no such schema,
// and a *ValidationError when the data breaks it. It is safe for concurrent
// use and compiles nothing: the data is decoded once and validated.
func (s *Set) Validate(e events.Envelope) error {
	ent, err := s.lookup(e.Type, e.DataVersion)
	if err != nil {
		return err
	}
	return ent.validate(s.file(ent.rel), e.Data)
}

// ValidateData checks raw data against the schema of typ version ver, like
// Validate without an envelope.
func (s *Set) ValidateData(typ string, ver int, data []byte) error {
	ent, err := s.lookup(typ, ver)
	if err != nil {
		return err
	}
	return ent.validate(s.file(ent.rel), data)
}

func (s *Set) lookup(typ string, ver int) (*entry, error) {
	if ent, ok := s.entries[key{typ, ver}]; ok {
		return ent, nil
	}
	dir := s.file(typeDir(typ)) + "/"
	vs := s.vers[typ]
	if len(vs) == 0 {
		known := "none"
		if len(s.types) > 0 {
			known = strings.Join(s.types, ", ")
		}
		return nil, fmt.Errorf("event %s v%d: %w for this type in %s (types with schemas: %s)", typ, ver, ErrNoSchema, dir, known)
	}
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = fmt.Sprintf("v%d", v)
	}
	return nil, fmt.Errorf("event %s v%d: %w (known: %s) in %s", typ, ver, ErrNoSchema, strings.Join(names, ", "), dir)
}

func (ent *entry) validate(file string, data []byte) error {
	verr := func(vs ...Violation) error {
		return &ValidationError{Type: ent.typ, Version: ent.ver, File: file, Violations: vs}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return verr(Violation{Message: "no data: an event's data must be a JSON value"})
	}
	if ent.valid.has(data) {
		return nil
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return verr(Violation{Message: jsonSyntaxMessage(data, err)})
	}
	err = ent.schema.Validate(v)
	if err == nil {
		ent.valid.add(data)
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return verr(Violation{Message: err.Error()})
	}
	return verr(leaves(ve)...)
}

// leaves flattens the library's tree of errors into the spots that are wrong,
// sorted by pointer, without duplicates.
func leaves(ve *jsonschema.ValidationError) []Violation {
	var out []Violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		out = append(out, Violation{Pointer: pointer(e.InstanceLocation), Message: message(e.ErrorKind)})
	}
	walk(ve)
	slices.SortStableFunc(out, func(a, b Violation) int {
		if c := comparePointers(a.Pointer, b.Pointer); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return slices.Compact(out)
}

// comparePointers orders pointers token by token, array indexes numerically.
func comparePointers(a, b string) int {
	at, bt := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(at) && i < len(bt); i++ {
		if at[i] == bt[i] {
			continue
		}
		if len(at[i]) != len(bt[i]) && isDigits(at[i]) && isDigits(bt[i]) {
			return len(at[i]) - len(bt[i])
		}
		return strings.Compare(at[i], bt[i])
	}
	return len(at) - len(bt)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// pointer builds a JSON pointer from tokens, escaping "~" and "/".
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

var tokenEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapeToken(t string) string { return tokenEscaper.Replace(t) }

// message words the common kinds of violation the way a user reads them and
// falls back on the library's words for the rest.
func message(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("must be %s, got %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Required:
		if len(k.Missing) == 1 {
			return fmt.Sprintf("missing property %q", k.Missing[0])
		}
		return "missing properties " + quoteAll(k.Missing)
	case *kind.AdditionalProperties:
		if len(k.Properties) == 1 {
			return fmt.Sprintf("unknown property %q (not in the schema: misspelled?)", k.Properties[0])
		}
		return "unknown properties " + quoteAll(k.Properties) + " (not in the schema: misspelled?)"
	case *kind.Minimum:
		return fmt.Sprintf("must be >= %s, got %s", ratString(k.Want), ratString(k.Got))
	case *kind.Maximum:
		return fmt.Sprintf("must be <= %s, got %s", ratString(k.Want), ratString(k.Got))
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("must be > %s, got %s", ratString(k.Want), ratString(k.Got))
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("must be < %s, got %s", ratString(k.Want), ratString(k.Got))
	case *kind.MinLength:
		if k.Want == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters long, got %d", k.Want, k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters long, got %d", k.Want, k.Got)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items, got %d", k.Want, k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items, got %d", k.Want, k.Got)
	case *kind.Pattern:
		return fmt.Sprintf("%q does not match pattern %q", k.Got, k.Want)
	case *kind.Format:
		if s, ok := k.Got.(string); ok {
			return fmt.Sprintf("%q is not a valid %s: %v", s, k.Want, k.Err)
		}
		return fmt.Sprintf("%v is not a valid %s: %v", k.Got, k.Want, k.Err)
	case *kind.Enum:
		if len(k.Want) == 1 {
			return fmt.Sprintf("must be %s, got %s", show(k.Want[0]), show(k.Got))
		}
		return fmt.Sprintf("must be one of %s, got %s", showList(k.Want), show(k.Got))
	case *kind.Const:
		return fmt.Sprintf("must be %s, got %s", show(k.Want), show(k.Got))
	case *kind.UniqueItems:
		return fmt.Sprintf("items %d and %d are equal: items must be unique", k.Duplicates[0], k.Duplicates[1])
	}
	return k.LocalizedString(printer())
}

// printer words the library's own messages; made on first use.
var printer = sync.OnceValue(func() *xmessage.Printer { return xmessage.NewPrinter(language.English) })

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return fmt.Sprint(f)
}
