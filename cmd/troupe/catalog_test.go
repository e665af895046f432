package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/troupehq/troupe/catalog"
	"github.com/troupehq/troupe/domain"
)

// runCatalog executes `troupe catalog ARGS...` in-process.
func runCatalog(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newCatalogCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestCatalogWritesEveryType(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "events")
	r := troupe(t, nil, "catalog", "--out", dir)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	types := domain.Registry().Types()
	want := 5 + 2*len(types)
	if !strings.HasPrefix(r.stdout, "wrote "+strconv.Itoa(want)+" files for "+strconv.Itoa(len(types))+" event types to "+dir) {
		t.Errorf("stdout %q", r.stdout)
	}
	for _, name := range append([]string{catalog.IndexHTML, catalog.IndexMarkdown, catalog.GraphMermaid, catalog.GraphDOT, catalog.GraphJSON}, pages(types)...) {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	index, _ := os.ReadFile(filepath.Join(dir, catalog.IndexMarkdown))
	if !strings.Contains(string(index), "```mermaid\nflowchart LR\n") {
		t.Errorf("index.md embeds no Mermaid graph")
	}
}

func pages(types []string) []string {
	var out []string
	for _, typ := range types {
		out = append(out, catalog.PageHTML(typ), catalog.PageMarkdown(typ))
	}
	return out
}

func TestCatalogShowsSchemaProblems(t *testing.T) {
	t.Parallel()
	schemasDir := copySchemas(t)
	writeFile(t, filepath.Join(schemasDir, "payments", "PaymentDeclined", "v2.json"), `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["orderId", "reason"],
  "properties": {"orderId": {"type": "string"}, "reason": {"type": "integer"}}
}`)
	out := filepath.Join(t.TempDir(), "c")
	stdout, stderr, err := runCatalog(t, "--out", out, "--schemas", schemasDir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout, "wrote ") {
		t.Errorf("stdout %q", stdout)
	}
	if !strings.Contains(stderr, "note: "+filepath.ToSlash(schemasDir)+"/payments/PaymentDeclined/v2.json") {
		t.Errorf("stderr %q", stderr)
	}
	page, err := os.ReadFile(filepath.Join(out, catalog.PageMarkdown("payments.PaymentDeclined")))
	if err != nil || !strings.Contains(string(page), "✗ v2 is not backward compatible with v1") || !strings.Contains(string(page), "No example") {
		t.Errorf("%v\n%s", err, page)
	}
	if _, _, err := runCatalog(t, "--schemas", filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "schema directory") {
		t.Errorf("missing --schemas dir: %v", err)
	}
}

func TestCatalogDefaultOut(t *testing.T) {
	t.Chdir(t.TempDir())
	stdout, _, err := runCatalog(t)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("event-catalog", catalog.IndexHTML)); err != nil || !strings.Contains(stdout, " to event-catalog: open event-catalog/index.html") {
		t.Errorf("%v: %q", err, stdout)
	}
}
