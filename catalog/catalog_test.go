package catalog_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/net/html"

	"github.com/troupehq/troupe/catalog"
	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/schemas"
)

func sampleCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	top, err := choreography.Topology()
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Build(top, schemas.Sample(), domain.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func files(t *testing.T, c *catalog.Catalog) map[string][]byte {
	t.Helper()
	fs, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestEveryTypeAndVersionIsInTheCatalog(t *testing.T) {
	t.Parallel()
	c := sampleCatalog(t)
	fs := files(t, c)
	if err := c.Err(); err != nil {
		t.Errorf("the sample's catalog has problems: %v", err)
	}
	for _, name := range []string{catalog.IndexHTML, catalog.IndexMarkdown, catalog.GraphMermaid, catalog.GraphDOT, catalog.GraphJSON} {
		if len(fs[name]) == 0 {
			t.Errorf("no %s", name)
		}
	}
	reg := domain.Registry()
	if len(c.Types) != len(reg.Types()) {
		t.Errorf("%d types, the registry has %d", len(c.Types), len(reg.Types()))
	}
	for _, v := range reg.Versions() {
		typ, ok := c.Type(v.Type)
		if !ok {
			t.Errorf("no %s", v.Type)
			continue
		}
		i := slices.IndexFunc(typ.Versions, func(ver catalog.Version) bool { return ver.Version == v.Version })
		if i < 0 {
			t.Errorf("%s: no v%d", v.Type, v.Version)
			continue
		}
		ver := typ.Versions[i]
		if !ver.Registered || !ver.HasSchema || ver.SchemaFile != schemas.Sample().Path(v.Type, v.Version) || ver.Schema == "" {
			t.Errorf("%s v%d: %+v", v.Type, v.Version, ver)
		}
		htmlPage, mdPage := string(fs[catalog.PageHTML(v.Type)]), string(fs[catalog.PageMarkdown(v.Type)])
		if !strings.Contains(htmlPage, fmt.Sprintf(`<h2 id="v%d">v%d`, v.Version, v.Version)) {
			t.Errorf("%s: no v%d section in its HTML page", v.Type, v.Version)
		}
		if !strings.Contains(mdPage, fmt.Sprintf("\n## v%d", v.Version)) {
			t.Errorf("%s: no v%d section in its Markdown page", v.Type, v.Version)
		}
		for _, index := range []string{catalog.IndexHTML, catalog.IndexMarkdown} {
			link := catalog.PageHTML(v.Type)
			if index == catalog.IndexMarkdown {
				link = catalog.PageMarkdown(v.Type)
			}
			if !strings.Contains(string(fs[index]), link) {
				t.Errorf("%s does not link %s", index, link)
			}
		}
	}
}

func TestProducersConsumersAndUpcasters(t *testing.T) {
	t.Parallel()
	c := sampleCatalog(t)
	placed, _ := c.Type("orders.OrderPlaced")
	if !placed.External || len(placed.Producers) != 1 || placed.Producers[0].Name != "external producers" ||
		!slices.Equal(placed.Producers[0].Versions, []int{1, 2}) {
		t.Errorf("OrderPlaced producers %+v", placed.Producers)
	}
	if len(placed.Consumers) != 2 || placed.Consumers[0].Name != "payments" || placed.Consumers[0].Via != "bus" ||
		placed.Consumers[0].Pattern != `{"detail-type":["orders.OrderPlaced"]}` || placed.Consumers[1].Via != "stream" {
		t.Errorf("OrderPlaced consumers %+v", placed.Consumers)
	}
	v2 := placed.Versions[1]
	if v2.Compat == nil || !v2.Compat.OK || !v2.Upcaster || v2.Breaking == "" || len(v2.Compat.Changes) == 0 ||
		!strings.Contains(v2.Compat.Verdict, "the registered upcaster v1->v2") {
		t.Errorf("OrderPlaced v2: %+v %+v", v2, v2.Compat)
	}
	if placed.Versions[0].Compat != nil {
		t.Error("v1 has a verdict against nothing")
	}
	fs := files(t, c)
	for _, want := range []string{
		"| external producers | v1, v2 |",
		"| payments | v2 (older versions upcast) | bus | `{\"detail-type\":[\"orders.OrderPlaced\"]}` |",
		"- Upcaster: v1 → v2: registered upcaster",
		"- Against v1: ✓ v2 breaks v1 (declared: ",
	} {
		if !strings.Contains(string(fs[catalog.PageMarkdown("orders.OrderPlaced")]), want) {
			t.Errorf("orders.OrderPlaced.md lacks %q", want)
		}
	}
	auth, _ := c.Type("payments.PaymentAuthorized")
	if len(auth.Producers) != 1 || auth.Producers[0].Name != "payments" || auth.External {
		t.Errorf("PaymentAuthorized producers %+v", auth.Producers)
	}
}

// Every example in the catalog is valid against its schema.
func TestExamplesAreValid(t *testing.T) {
	t.Parallel()
	c := sampleCatalog(t)
	fs := files(t, c)
	set := schemas.Sample()
	for _, typ := range c.Types {
		for _, v := range typ.Versions {
			if v.Example == "" || v.ExampleError != "" {
				t.Errorf("%s v%d: example %q, error %q", typ.Name, v.Version, v.Example, v.ExampleError)
				continue
			}
			if err := set.ValidateData(typ.Name, v.Version, []byte(v.Example)); err != nil {
				t.Errorf("%s v%d: %v", typ.Name, v.Version, err)
			}
		}
		// The examples shown in the Markdown page are the same, and JSON.
		blocks := regexp.MustCompile("(?s)### Example\n\n```json\n(.*?)\n```").FindAllStringSubmatch(string(fs[catalog.PageMarkdown(typ.Name)]), -1)
		if len(blocks) != len(typ.Versions) {
			t.Errorf("%s: %d examples shown, %d versions", typ.Name, len(blocks), len(typ.Versions))
		}
		for i, b := range blocks {
			ver := typ.Versions[len(typ.Versions)-1-i] // newest first
			if err := set.ValidateData(typ.Name, ver.Version, []byte(b[1])); err != nil {
				t.Errorf("%s v%d, shown: %v", typ.Name, ver.Version, err)
			}
		}
	}
}

// voids are the HTML elements that have no end tag.
var voids = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// wellFormed checks an HTML page strictly, with x/net/html's tokenizer
// (its parser forgives everything): a doctype first, every element closed
// in order, no stray end tag, nothing left open.
func wellFormed(page []byte) error {
	z := html.NewTokenizer(bytes.NewReader(page))
	var stack []string
	for first := true; ; first = false {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				return z.Err()
			}
			break
		}
		tok := z.Token()
		if first && (tt != html.DoctypeToken || tok.Data != "html") {
			return fmt.Errorf("does not start with <!DOCTYPE html>")
		}
		switch tt {
		case html.StartTagToken:
			if !voids[tok.Data] {
				stack = append(stack, tok.Data)
			}
		case html.SelfClosingTagToken:
			if !voids[tok.Data] {
				return fmt.Errorf("<%s/> is not a void element", tok.Data)
			}
		case html.EndTagToken:
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				return fmt.Errorf("</%s> closes %v", tok.Data, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		return fmt.Errorf("left open: %v", stack)
	}
	return nil
}

// links returns the href of every <a>, and the ids, of an HTML page.
func links(t *testing.T, page []byte) (hrefs []string, ids map[string]bool) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	ids = map[string]bool{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				switch {
				case a.Key == "id":
					ids[a.Val] = true
				case a.Key == "href" && n.Data == "a":
					hrefs = append(hrefs, a.Val)
				case a.Key == "src" || a.Key == "href":
					t.Errorf("<%s %s=%q>: the catalog has no external assets", n.Data, a.Key, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return hrefs, ids
}

func TestHTMLIsWellFormedAndLinked(t *testing.T) {
	t.Parallel()
	fs := files(t, sampleCatalog(t))
	pages := 0
	for name, page := range fs {
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		pages++
		if err := wellFormed(page); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		hrefs, _ := links(t, page)
		for _, h := range hrefs {
			file, frag, _ := strings.Cut(h, "#")
			if file == "" {
				file = name
			}
			if strings.Contains(file, "/") || strings.Contains(file, ":") {
				t.Errorf("%s: link %q leaves the catalog", name, h)
				continue
			}
			target, ok := fs[file]
			if !ok {
				t.Errorf("%s: link %q to no file", name, h)
				continue
			}
			if frag != "" {
				if _, ids := links(t, target); !ids[frag] {
					t.Errorf("%s: link %q to no anchor", name, h)
				}
			}
		}
	}
	if pages != 1+len(domain.Registry().Types()) {
		t.Errorf("%d HTML pages", pages)
	}
}

// The checker above does catch a broken page.
func TestWellFormedCatchesBrokenHTML(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"<!DOCTYPE html><html><body><p>x</body></html>",
		"<!DOCTYPE html><html><body><table><tr><td>x</tr></table></body></html>",
		"<html><body></body></html>",
	} {
		if wellFormed([]byte(bad)) == nil {
			t.Errorf("%q passed", bad)
		}
	}
}

func TestMarkdownEmbedsTheGraphAndLinksResolve(t *testing.T) {
	t.Parallel()
	c := sampleCatalog(t)
	fs := files(t, c)
	index := string(fs[catalog.IndexMarkdown])
	if !strings.Contains(index, "```mermaid\n"+string(fs[catalog.GraphMermaid])+"```\n") {
		t.Error("index.md does not embed graph.mmd in a mermaid block")
	}
	var g struct{ OK bool }
	if err := json.Unmarshal(fs[catalog.GraphJSON], &g); err != nil || !g.OK {
		t.Errorf("graph.json: %v %+v", err, g)
	}
	link := regexp.MustCompile(`\]\(([^)]+)\)`)
	for name, page := range fs {
		if !strings.HasSuffix(name, ".md") {
			continue
		}
		if strings.Count(string(page), "```")%2 != 0 {
			t.Errorf("%s: an unclosed code fence", name)
		}
		for _, m := range link.FindAllStringSubmatch(string(page), -1) {
			file, frag, _ := strings.Cut(m[1], "#")
			if file == "" {
				file = name
			}
			if _, ok := fs[file]; !ok {
				t.Errorf("%s: link %q to no file", name, m[1])
			}
			if frag != "" && !strings.Contains(string(fs[file]), `<a id="`+frag+`"></a>`) {
				t.Errorf("%s: link %q to no anchor", name, m[1])
			}
		}
	}
	if page := string(fs[catalog.PageMarkdown("payments.PaymentDeclined")]); !strings.Contains(page, `consumer_payments -->|"payments.PaymentDeclined v1"| consumer_orders`) {
		t.Errorf("the type page does not embed its part of the graph:\n%s", page)
	}
}

// A v2 that breaks v1 without a declaration fails the schema check, and the
// catalog says so, as `troupe schemas check` does.
func TestCompatibilityVerdictFollowsTheSchemaCheck(t *testing.T) {
	t.Parallel()
	m := fstest.MapFS{}
	if err := fs.WalkDir(schemas.SampleFS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(schemas.SampleFS(), p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	m["payments/PaymentDeclined/v2.json"] = &fstest.MapFile{Data: []byte(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "payments.PaymentDeclined v2",
  "examples": [{"orderId": "o-1", "reason": 7}],
  "type": "object",
  "required": ["orderId", "reason"],
  "properties": {"orderId": {"type": "string"}, "reason": {"type": "integer"}}
}`)}
	set, err := schemas.Load(m)
	if err != nil {
		t.Fatal(err)
	}
	top, _ := choreography.Topology()
	c, err := catalog.Build(top, set, domain.Registry())
	if err != nil {
		t.Fatal(err)
	}
	declined, _ := c.Type("payments.PaymentDeclined")
	if len(declined.Versions) != 2 {
		t.Fatalf("versions %+v", declined.Versions)
	}
	v2 := declined.Versions[1]
	if v2.Registered || v2.Compat == nil || v2.Compat.OK || !strings.Contains(v2.Compat.Verdict, "not declared breaking: schemas check fails") {
		t.Fatalf("v2 %+v, verdict %+v", v2, v2.Compat)
	}
	if v2.ExampleError != "" {
		t.Errorf("its example is valid against it: %s", v2.ExampleError)
	}
	report := schemas.Check(set, domain.Registry(), nil)
	var inFile []string
	for _, p := range report.Problems {
		if p.File == v2.SchemaFile {
			inFile = append(inFile, p.String())
		}
	}
	var shown []string
	for _, p := range v2.Problems {
		shown = append(shown, p.String())
	}
	if len(inFile) == 0 || !slices.Equal(shown, inFile) {
		t.Errorf("problems shown %v, the check's %v", shown, inFile)
	}
	if c.Err() == nil {
		t.Error("Err() is nil")
	}
	page := string(files(t, c)[catalog.PageMarkdown("payments.PaymentDeclined")])
	if !strings.Contains(page, "- Against v1: ✗ v2 is not backward compatible with v1") || !strings.Contains(page, "- Registered: no") {
		t.Errorf("page:\n%s", page)
	}
}

func TestWriteDir(t *testing.T) {
	t.Parallel()
	c := sampleCatalog(t)
	dir := filepath.Join(t.TempDir(), "catalog")
	names, err := c.WriteDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := files(t, c)
	if len(names) != len(want) || !slices.IsSorted(names) {
		t.Fatalf("wrote %v", names)
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || !bytes.Equal(b, want[n]) {
			t.Errorf("%s: %v", n, err)
		}
	}
}
