package schemas

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/troupehq/troupe/domain"
)

// sampleMapFS copies the embedded sample schemas into a MapFS a test may edit.
func sampleMapFS(tb testing.TB) fstest.MapFS {
	tb.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(SampleFS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(SampleFS(), p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestSampleSet(t *testing.T) {
	t.Parallel()
	s := Sample()
	if s != Sample() {
		t.Error("Sample compiles more than once")
	}
	var want []string
	for _, v := range domain.Registry().Versions() {
		if !s.Has(v.Type, v.Version) {
			t.Errorf("no schema for %s v%d", v.Type, v.Version)
		}
		if !slices.Contains(want, v.Type) {
			want = append(want, v.Type)
		}
	}
	if got := s.Types(); !slices.Equal(got, want) {
		t.Errorf("Types() = %v, want %v", got, want)
	}
	if got := s.Versions("orders.OrderPlaced"); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("Versions(orders.OrderPlaced) = %v", got)
	}
	if s.Len() != len(domain.Registry().Versions()) {
		t.Errorf("Len() = %d", s.Len())
	}
	if s.Has("orders.OrderPlaced", 3) {
		t.Error("Has(orders.OrderPlaced, 3)")
	}
	if got := s.Path("orders.OrderPlaced", 2); got != "schemas/orders/OrderPlaced/v2.json" {
		t.Errorf("Path = %q", got)
	}
	raw, ok := s.Raw("orders.OrderPlaced", 2)
	disk, err := os.ReadFile("orders/OrderPlaced/v2.json")
	if !ok || err != nil || string(raw) != string(disk) {
		t.Errorf("Raw(orders.OrderPlaced, 2) differs from the file (ok=%v, err=%v)", ok, err)
	}
	if _, ok := s.Raw("orders.OrderPlaced", 9); ok {
		t.Error("Raw of a missing version")
	}
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	s, err := LoadDir(".") // this package's directory: testdata/ and .go files are skipped
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != Sample().Len() {
		t.Errorf("LoadDir(.) has %d schemas, want %d", s.Len(), Sample().Len())
	}
	if got := s.Path("orders.OrderPlaced", 2); got != "orders/OrderPlaced/v2.json" {
		t.Errorf("Path = %q", got)
	}
	dir := t.TempDir()
	if _, err := LoadDir(filepath.Join(dir, "nope")); err == nil {
		t.Error("LoadDir of a missing directory: no error")
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	const ok = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}`
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"misnamed version", map[string]string{"orders/OrderPlaced/2.json": ok},
			[]string{"schemas/orders/OrderPlaced/2.json: misnamed schema file: want <domain>/<Name>/v<N>.json"}},
		{"lower-case name", map[string]string{"orders/orderPlaced/v1.json": ok},
			[]string{"schemas/orders/orderPlaced/v1.json: misnamed"}},
		{"too shallow", map[string]string{"orders/OrderPlaced.json": ok},
			[]string{"schemas/orders/OrderPlaced.json: misnamed"}},
		{"v0", map[string]string{"orders/OrderPlaced/v0.json": ok},
			[]string{"schemas/orders/OrderPlaced/v0.json: misnamed"}},
		{"malformed JSON", map[string]string{"orders/OrderPlaced/v1.json": "{\n  \"type\": \"object\",\n}"},
			[]string{"schemas/orders/OrderPlaced/v1.json: malformed JSON at line 3"}},
		{"not an object", map[string]string{"orders/OrderPlaced/v1.json": `[]`},
			[]string{"schemas/orders/OrderPlaced/v1.json: a schema must be a JSON object, got array"}},
		{"other draft", map[string]string{"orders/OrderPlaced/v1.json": `{"$schema":"http://json-schema.org/draft-07/schema#"}`},
			[]string{"schemas/orders/OrderPlaced/v1.json#/$schema: must be"}},
		{"bad type keyword", map[string]string{"orders/OrderPlaced/v1.json": `{"type":"object","properties":{"qty":{"type":"integr"}}}`},
			[]string{"schemas/orders/OrderPlaced/v1.json#/properties/qty/type: invalid schema: "}},
		{"bad minimum", map[string]string{"orders/OrderPlaced/v1.json": `{"properties":{"items":{"items":{"minLength":"one"}}}}`},
			[]string{"schemas/orders/OrderPlaced/v1.json#/properties/items/items/minLength: "}},
		{"bad regex", map[string]string{"orders/OrderPlaced/v1.json": `{"properties":{"c":{"pattern":"[A-Z"}}}`},
			[]string{"schemas/orders/OrderPlaced/v1.json#/properties/c/pattern: ", "not a valid regex"}},
		{"dangling ref", map[string]string{"orders/OrderPlaced/v1.json": `{"properties":{"t":{"$ref":"#/$defs/Money"}}}`},
			[]string{"schemas/orders/OrderPlaced/v1.json: reference to schemas/orders/OrderPlaced/v1.json#/$defs/Money: no such location"}},
		{"remote ref", map[string]string{"orders/OrderPlaced/v1.json": `{"properties":{"t":{"$ref":"https://example.com/money.json"}}}`},
			[]string{"schemas/orders/OrderPlaced/v1.json: ", "self-contained"}},
		{"several files", map[string]string{"orders/OrderPlaced/v1.json": `[]`, "payments/X.json": ok},
			[]string{"orders/OrderPlaced/v1.json", "payments/X.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{}
			for p, s := range tt.files {
				fsys[p] = &fstest.MapFile{Data: []byte(s)}
			}
			_, err := Load(fsys)
			if err == nil {
				t.Fatal("Load: no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestLoadIgnores(t *testing.T) {
	t.Parallel()
	fsys := sampleMapFS(t)
	fsys["README.md"] = &fstest.MapFile{Data: []byte("# schemas")}
	fsys["orders/OrderPlaced/notes.txt"] = &fstest.MapFile{Data: []byte("x")}
	fsys["testdata/bad/v1.json"] = &fstest.MapFile{Data: []byte("not json")}
	fsys[".git/x/v1.json"] = &fstest.MapFile{Data: []byte("not json")}
	fsys["_draft/Foo/v1.json"] = &fstest.MapFile{Data: []byte("not json")}
	s, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != Sample().Len() {
		t.Errorf("%d schemas, want %d", s.Len(), Sample().Len())
	}
}

func TestLoadEmpty(t *testing.T) {
	t.Parallel()
	s, err := Load(fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 0 || len(s.Types()) != 0 {
		t.Errorf("empty tree: %d schemas", s.Len())
	}
	err = s.ValidateData("a.B", 1, []byte(`{}`))
	if !errors.Is(err, ErrNoSchema) || !strings.Contains(err.Error(), "(types with schemas: none)") {
		t.Errorf("Validate on an empty set: %v", err)
	}
}

func TestSchemasMatchGoStructs(t *testing.T) {
	t.Parallel()
	// Every property a schema names is a json tag of the domain struct, and
	// the required ones are exactly the non-omitempty ones; checked through
	// the typed decode of each sample: strict decoding rejects unknown fields.
	files, _ := filepath.Glob("../testdata/events/*/v*/*.json")
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		if _, err := decodeTyped(raw); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
