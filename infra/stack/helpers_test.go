package stack_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/infra/stack"
	"github.com/troupehq/troupe/topology"
)

// placeholders holds the stand-in bootstraps (stack.Placeholder) so that the
// tests synthesize without `make lambdas`.
var placeholders string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "troupe-infra-test-")
	if err != nil {
		panic(err)
	}
	placeholders = dir
	// Before the first jsii call starts the runtime, which inherits it.
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	code := m.Run()
	jsii.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// synthesized is one stack, synthesized, with its template as plain JSON.
type synthesized struct {
	s   *stack.Stack
	tpl assertions.Template
	doc map[string]any
}

// synth builds the stack of topo (the sample when nil) in a fresh app.
func synth(t *testing.T, topo *topology.Topology, mutate func(*stack.Props)) synthesized {
	t.Helper()
	if topo == nil {
		topo = sampleTopology(t)
	}
	props := stack.Props{Topology: topo, Code: stack.Placeholder(placeholders)}
	if mutate != nil {
		mutate(&props)
	}
	app := awscdk.NewApp(&awscdk.AppProps{
		Outdir: jsii.String(t.TempDir()),
		// The CLI's default; the tests find resources by construct path.
		Context: &map[string]any{"aws:cdk:enable-path-metadata": true},
	})
	s, err := stack.New(app, "test", props)
	if err != nil {
		t.Fatal(err)
	}
	tpl := assertions.Template_FromStack(s.Stack, nil)
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return synthesized{s: s, tpl: tpl, doc: doc}
}

func sampleTopology(t *testing.T) *topology.Topology {
	t.Helper()
	topo, err := choreography.Topology()
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// withConsumer is the sample plus c, validated; c borrows the first
// consumer's handler.
func withConsumer(t *testing.T, c topology.Consumer) *topology.Topology {
	t.Helper()
	topo := sampleTopology(t)
	c.Handler = topo.Consumers[0].Handler
	topo.Consumers = append(topo.Consumers, c)
	if err := topo.Validate(); err != nil {
		t.Fatal(err)
	}
	return topo
}

var (
	sampleOnce synthesized
	sampleDone bool
)

// sample is the sample choreography's stack with default props, synthesized
// once for every test that only reads it.
func sample(t *testing.T) synthesized {
	t.Helper()
	if !sampleDone {
		sampleOnce, sampleDone = synth(t, nil, nil), true
	}
	return sampleOnce
}

func (x synthesized) resources() map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range x.doc["Resources"].(map[string]any) {
		out[id] = r.(map[string]any)
	}
	return out
}

// byPath finds the resource whose construct path (under the stack) is path,
// e.g. "ConsumerPayments/Function/Resource".
func (x synthesized) byPath(t *testing.T, path string) (string, map[string]any) {
	t.Helper()
	want := *x.s.Stack.Node().Path() + "/" + path
	for id, r := range x.resources() {
		if md, ok := r["Metadata"].(map[string]any); ok && md["aws:cdk:path"] == want {
			return id, r
		}
	}
	t.Fatalf("no resource at %s", want)
	return "", nil
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// countByType counts the template's resources by type.
func (x synthesized) countByType() map[string]int {
	n := map[string]int{}
	for _, r := range x.resources() {
		n[r["Type"].(string)]++
	}
	return n
}

// ofType lists the logical ids of the resources of a type.
func (x synthesized) ofType(typ string) []string {
	var ids []string
	for id, r := range x.resources() {
		if r["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func ref(id string) any          { return map[string]any{"Ref": id} }
func getAtt(id, attr string) any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }
func jsonOf(v any) string        { b, _ := json.Marshal(v); return string(b) }
func num(n int) any              { return float64(n) }
func strs(s ...string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// equal fails unless got and want are the same JSON.
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	var g, w any
	json.Unmarshal([]byte(jsonOf(got)), &g)
	json.Unmarshal([]byte(jsonOf(want)), &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %s\n want %s", what, jsonOf(got), jsonOf(want))
	}
}

// jsonEqual compares two JSON texts by value.
func jsonEqual(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: %v in %s", what, err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %s\n want %s", what, got, want)
	}
}

// writeTemplate writes x's template into dir and returns its path.
func (x synthesized) writeTemplate(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name+".template.json")
	if err := os.WriteFile(p, []byte(jsonOf(x.doc)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func pascal(name string) string {
	parts := strings.Split(name, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}
