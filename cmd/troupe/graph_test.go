package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/troupehq/troupe/graph"
	"github.com/troupehq/troupe/topology"
)

// runGraph executes `troupe graph ARGS...` in-process.
func runGraph(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newGraphCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestGraphDrawsTheSample(t *testing.T) {
	t.Parallel()
	r := troupe(t, nil, "graph")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "flowchart LR\n") {
		t.Fatalf("not a Mermaid flowchart:\n%s", r.stdout)
	}
	top, err := sampleTopology()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range top.Consumers {
		for _, want := range []string{
			"  " + graph.ConsumerID(c.Name) + `("` + c.Name + `")`,
			"  " + graph.ConsumerID(c.Name) + ` -.->|"failed events"| ` + graph.DLQID(c.Name),
		} {
			if !strings.Contains(r.stdout, want+"\n") {
				t.Errorf("no %q in\n%s", want, r.stdout)
			}
		}
	}
	for _, want := range []string{
		`external_producers -->|"orders.OrderPlaced v1, v2"| consumer_payments`,
		`consumer_payments -->|"payments.PaymentAuthorized v1"| consumer_inventory`,
		`consumer_orders ==>|"orders.OrderCancelled v1"| consumer_timeline`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("no %q in\n%s", want, r.stdout)
		}
	}
}

func TestGraphFormatsAndFilters(t *testing.T) {
	t.Parallel()
	stdout, _, err := runGraph(t, "--format", "json", "--consumer", "orders")
	if err != nil {
		t.Fatal(err)
	}
	var g graph.Graph
	if err := json.Unmarshal([]byte(stdout), &g); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if !g.OK || g.Topology != "troupe-orders" {
		t.Errorf("graph %+v", g)
	}
	for _, e := range g.Edges {
		if e.From != "consumer_orders" && e.To != "consumer_orders" {
			t.Errorf("edge %+v does not touch orders", e)
		}
	}
	stdout, _, err = runGraph(t, "-f", "dot", "--type", "inventory.StockReserved")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout, `digraph "troupe-orders" {`) || strings.Count(stdout, " -> ") != 4 ||
		!strings.Contains(stdout, `consumer_inventory -> consumer_shipping [label="inventory.StockReserved v1"`) {
		t.Errorf("dot --type:\n%s", stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "svg"}, "--format: format \"svg\": want one of mermaid, dot, json"},
		{[]string{"--consumer", "billing"}, `no consumer "billing" in topology troupe-orders (consumers: payments, inventory`},
		{[]string{"--type", "orders.OrderShipped"}, `no event type "orders.OrderShipped"`},
		{[]string{"extra"}, "unknown command"},
	} {
		if _, _, err := runGraph(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestGraphCheck(t *testing.T) {
	r := troupe(t, nil, "graph", "--check")
	if r.code != 0 || r.stdout != "ok: 6 consumers, 8 event types, 14 event edges\n" {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A declaration with a dangling type: a consumer whose emits no one
	// reads, and the shop's OrderPlaced no longer declared External.
	top, err := sampleTopology()
	if err != nil {
		t.Fatal(err)
	}
	bad := &topology.Topology{Name: top.Name, Consumers: append([]topology.Consumer(nil), top.Consumers...)}
	bad.Consumers[0].Emits = append(append([]topology.EventRef(nil), bad.Consumers[0].Emits...), topology.Emit("payments.PaymentCaptured", 1))
	saved := graphSource
	graphSource = func() (*graph.Graph, error) { return graph.Build(bad) }
	t.Cleanup(func() { graphSource = saved })

	stdout, stderr, err := runGraph(t, "--check")
	if err == nil || err.Error() != "graph check: 2 problems" || exitCode(err) != 1 {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{
		"unproduced: orders.OrderPlaced: payments, timeline waits for it, but no consumer emits it and the topology does not declare it External",
		"unconsumed: payments.PaymentCaptured is emitted by payments, but no consumer reads it",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in\n%s", want, stdout)
		}
	}
	// Without --check the graph is drawn, and the problems noted.
	stdout, stderr, err = runGraph(t, "--format", "json")
	if err != nil || !strings.Contains(stderr, "note: unconsumed: payments.PaymentCaptured") {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	var g graph.Graph
	if err := json.Unmarshal([]byte(stdout), &g); err != nil || g.OK || len(g.Problems) != 2 {
		t.Fatalf("json: %v %+v", err, g.Problems)
	}
	// --consumer keeps the problems about it.
	if stdout, _, err := runGraph(t, "--check", "--consumer", "inventory"); err != nil || !strings.HasPrefix(stdout, "ok: ") {
		t.Errorf("inventory: %v\n%s", err, stdout)
	}
}

// The README shows the sample's graph as `troupe graph` draws it.
func TestReadmeShowsTheSampleGraph(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runGraph(t)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```mermaid\n"+stdout+"```\n") {
		t.Errorf("README.md's ```mermaid block is not the output of `troupe graph`; paste it:\n%s", stdout)
	}
}
