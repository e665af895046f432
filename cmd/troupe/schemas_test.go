package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/schemas"
)

// okLine is what a clean check prints: the counts follow package domain.
var okLine = regexp.MustCompile(fmt.Sprintf(`^ok: %d types, %d versions, \d+ samples\n$`,
	len(domain.Registry().Types()), len(domain.Registry().Versions())))

// samplesDir is the repository's sample events, seen from this package.
var samplesDir = filepath.Join("..", "..", "testdata", "events")

// runSchemas executes `troupe schemas ARGS...` in-process.
func runSchemas(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newSchemasCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

// copySchemas copies the embedded schema tree to a temporary directory a
// test may edit, and returns it.
func copySchemas(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "schemas")
	if err := os.CopyFS(dir, schemas.SampleFS()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSchemasCheckPasses(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"check", "--testdata", samplesDir},
		{"check", "--dir", filepath.Join("..", "..", "schemas"), "--testdata", samplesDir},
		{"check", "--dir", copySchemas(t), "--testdata", samplesDir},
	} {
		stdout, stderr, err := runSchemas(t, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s%s", args, err, stdout, stderr)
		}
		if !okLine.MatchString(stdout) {
			t.Errorf("%v: stdout %q, want %s", args, stdout, okLine)
		}
		if strings.HasSuffix(stdout, " 0 samples\n") {
			t.Errorf("%v: no samples checked", args)
		}
		if stderr != "" {
			t.Errorf("%v: stderr %q", args, stderr)
		}
	}
}

func TestSchemasCheckWithoutSamples(t *testing.T) {
	t.Chdir(t.TempDir()) // no testdata/events here
	stdout, stderr, err := runSchemas(t, "check")
	if err != nil {
		t.Fatal(err)
	}
	if !okLine.MatchString(stdout) || !strings.HasSuffix(stdout, " 0 samples\n") {
		t.Errorf("stdout %q", stdout)
	}
	if !strings.Contains(stderr, "checked no samples: testdata/events not found") {
		t.Errorf("stderr %q", stderr)
	}
	if _, _, err := runSchemas(t, "check", "--testdata", "nope"); err == nil || !strings.Contains(err.Error(), "--testdata") {
		t.Errorf("missing --testdata dir: %v", err)
	}
}

func TestSchemasCheckUndeclaredBreakingChange(t *testing.T) {
	t.Parallel()
	dir := copySchemas(t)
	// A v2 of PaymentAuthorized that retypes amount, with no registered v2,
	// no breaking declaration and no upcaster.
	writeFile(t, filepath.Join(dir, "payments", "PaymentAuthorized", "v2.json"), `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://troupe.dev/schemas/payments/PaymentAuthorized/v2.json",
  "type": "object",
  "additionalProperties": false,
  "required": ["orderId", "paymentId", "amount"],
  "properties": {
    "orderId": {"type": "string", "minLength": 1},
    "paymentId": {"type": "string", "minLength": 1},
    "amount": {"type": "number", "minimum": 0}
  }
}`)
	stdout, _, err := runSchemas(t, "check", "--dir", dir, "--testdata", samplesDir)
	if err == nil {
		t.Fatalf("check passed:\n%s", stdout)
	}
	file := filepath.ToSlash(dir) + "/payments/PaymentAuthorized/v2.json"
	for _, want := range []string{
		file + "#/properties/amount/type: type changed from object to number; v2 is not backward compatible with v1: declare it breaking with events.Breaking(...) and register an upcaster v1->v2\n",
		file + ": schema of payments.PaymentAuthorized v2, which the registry does not know",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout does not contain\n%s\nstdout:\n%s", want, stdout)
		}
	}
	if !strings.Contains(err.Error(), "2 problems") {
		t.Errorf("error %v", err)
	}
}

func TestSchemasCheckSampleNoLongerValid(t *testing.T) {
	t.Parallel()
	dir := copySchemas(t)
	// Tighten v1 in place: currencies must now be EUR. The USD samples break.
	path := filepath.Join(dir, "payments", "PaymentAuthorized", "v1.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, strings.Replace(string(raw), `"pattern": "^[A-Z]{3}$"`, `"enum": ["EUR"]`, 1))
	stdout, _, err := runSchemas(t, "check", "--dir", dir, "--testdata", samplesDir)
	if err == nil {
		t.Fatalf("check passed:\n%s", stdout)
	}
	want := filepath.ToSlash(samplesDir) + "/payments.PaymentAuthorized/v1/authorized.json#/data/amount/currency: must be \"EUR\", got \"USD\" (schema " + filepath.ToSlash(dir) + "/payments/PaymentAuthorized/v1.json)\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
}

func TestSchemasCheckInvalidSchema(t *testing.T) {
	t.Parallel()
	dir := copySchemas(t)
	writeFile(t, filepath.Join(dir, "orders", "OrderCancelled", "v1.json"), `{"type":"object","properties":{"reason":{"type":"text"}}}`)
	writeFile(t, filepath.Join(dir, "orders", "OrderCancelled", "V2.json"), `{}`)
	stdout, _, err := runSchemas(t, "check", "--dir", dir)
	if err == nil {
		t.Fatal("check passed")
	}
	base := filepath.ToSlash(dir) + "/orders/OrderCancelled/"
	for _, want := range []string{base + "v1.json#/properties/reason/type: invalid schema", base + "V2.json: misnamed schema file"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout does not contain %q:\n%s", want, stdout)
		}
	}
}

func TestSchemasLs(t *testing.T) {
	t.Parallel()
	stdout, _, err := runSchemas(t, "ls")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	versions := len(domain.Registry().Versions())
	if len(lines) != versions+1 {
		t.Fatalf("%d lines, want a header and %d rows:\n%s", len(lines), versions, stdout)
	}
	for _, col := range []string{"TYPE", "VERSION", "SCHEMA", "BREAKING", "UPCASTER", "PRODUCERS", "CONSUMERS"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header %q lacks %s", lines[0], col)
		}
	}
	var v2 string
	for _, l := range lines {
		if strings.HasPrefix(l, "orders.OrderPlaced") && strings.Contains(l, " v2 ") {
			v2 = l
		}
	}
	for _, want := range []string{"schemas/orders/OrderPlaced/v2.json", "prices and total became", "v1->v2", "latest"} {
		if !strings.Contains(v2, want) {
			t.Errorf("OrderPlaced v2 row %q lacks %q", v2, want)
		}
	}

	stdout, _, err = runSchemas(t, "ls", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []schemaRow
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != versions || rows[0].Type != domain.Registry().Types()[0] || rows[0].Producers == nil {
		t.Errorf("json rows: %+v", rows)
	}
	if _, _, err := runSchemas(t, "ls", "--output", "yaml"); err == nil || !strings.Contains(err.Error(), "want table or json") {
		t.Errorf("--output yaml: %v", err)
	}
}

func TestSchemasLsShowsUnregisteredSchemas(t *testing.T) {
	t.Parallel()
	dir := copySchemas(t)
	raw, _ := os.ReadFile(filepath.Join(dir, "orders", "OrderCancelled", "v1.json"))
	writeFile(t, filepath.Join(dir, "orders", "OrderCancelled", "v2.json"), strings.Replace(string(raw), "v1.json", "v2.json", 1))
	stdout, _, err := runSchemas(t, "ls", "--dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "not registered") {
		t.Errorf("ls does not flag the unregistered v2:\n%s", stdout)
	}
}

func TestSchemasHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"check", "--help"}, {"ls", "--help"}} {
		stdout, _, err := runSchemas(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "troupe schemas") {
			t.Errorf("%v: help lacks examples:\n%s", args, stdout)
		}
	}
}
