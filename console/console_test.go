package console_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/console"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/local"
	"github.com/troupehq/troupe/schemas"
)

// rig is a running engine of the sample choreography on a temporary data
// directory, served with its console on a 127.0.0.1 listener.
type rig struct {
	eng     *local.Engine
	console *console.Console
	srv     *httptest.Server
}

func newRig(t *testing.T) *rig {
	t.Helper()
	top, err := choreography.Topology()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := local.Open(local.Config{
		DataDir: t.TempDir(), Topology: top, Validator: schemas.Sample(), Shards: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := console.New(console.Config{Engine: eng, Topology: top, Registry: domain.Registry(), Schemas: schemas.Sample(), Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler(eng.Handler()))
	t.Cleanup(func() {
		c.Close()
		srv.Close()
		if err := eng.Close(); err != nil {
			t.Error(err)
		}
	})
	return &rig{eng: eng, console: c, srv: srv}
}

// call sends a request and decodes a JSON answer into out (when not nil).
func (r *rig) call(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, r.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// eventually polls cond for up to 20s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) depth(t *testing.T, consumer string) int {
	t.Helper()
	var qs local.QueuesResponse
	if code := r.call(t, "GET", "/console/api/dlq", "", &qs); code != 200 {
		t.Fatalf("GET /console/api/dlq: %d", code)
	}
	for _, q := range qs.Queues {
		if q.Consumer == consumer {
			return q.Depth
		}
	}
	t.Fatalf("no queue of %s in %+v", consumer, qs)
	return 0
}

// putPoison sends, through the AWS-compatible endpoint, a PaymentAuthorized
// without its payment from a system that knows nothing of troupe; inventory
// dead-letters it.
func (r *rig) putPoison(t *testing.T) {
	t.Helper()
	req, _ := http.NewRequest("POST", r.srv.URL+"/", strings.NewReader(
		`{"Entries":[{"Source":"legacy.billing","DetailType":"payments.PaymentAuthorized","Detail":"{\"orderId\":\"o-poison\"}"}]}`))
	req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"FailedEntryCount":0`)) {
		t.Fatalf("PutEvents through the console's handler: %d %s", resp.StatusCode, body)
	}
	eventually(t, "the poison in inventory's DLQ", func() bool { return r.depth(t, "inventory") == 1 })
}

func TestRoutesKeepTheEngineEndpoints(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(r.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != console.Path {
		t.Errorf("GET /: %d to %q, want a redirect to %s", resp.StatusCode, resp.Header.Get("Location"), console.Path)
	}

	for _, path := range []string{"/console/", "/console/app.js", "/console/style.css", "/console/vendor/cytoscape.esm.min.mjs", "/console/vendor/cytoscape-dagre.min.mjs"} {
		req, _ := http.NewRequest("GET", r.srv.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 || resp.Header.Get("ETag") == "" {
			t.Errorf("GET %s: %d, %d bytes, ETag %q", path, resp.StatusCode, len(body), resp.Header.Get("ETag"))
			continue
		}
		if strings.Contains(path, "/vendor/") && resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("GET %s: not gzipped for a client that takes gzip", path)
		}
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		again, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		again.Body.Close()
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", path, again.StatusCode)
		}
	}
	if code := r.call(t, "GET", "/console/nothing.js", "", nil); code != 404 {
		t.Errorf("GET /console/nothing.js: %d", code)
	}
	if code := r.call(t, "GET", "/console/api/nothing", "", nil); code != 404 {
		t.Errorf("GET /console/api/nothing: %d", code)
	}
	// The engine's own endpoints are still there, POST / included.
	var st local.Status
	if code := r.call(t, "GET", local.PathStatus, "", &st); code != 200 || len(st.Consumers) == 0 {
		t.Errorf("GET /status through the console's handler: %d %+v", code, st)
	}
	r.putPoison(t)
}

func TestGraphHasEveryConsumer(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	var g struct {
		Nodes []struct{ ID, Kind, Name string }
		Edges []struct{ From, To, Kind, Type string }
	}
	if code := r.call(t, "GET", "/console/api/graph", "", &g); code != 200 {
		t.Fatalf("GET graph: %d", code)
	}
	top, _ := choreography.Topology()
	for _, c := range top.Consumers {
		found := false
		for _, n := range g.Nodes {
			found = found || (n.Kind == "consumer" && n.Name == c.Name)
		}
		if !found {
			t.Errorf("no node for consumer %s in %+v", c.Name, g.Nodes)
		}
	}
	if len(g.Edges) == 0 {
		t.Error("no edges")
	}
}

func TestTypesOfferEveryRegisteredVersionWithAValidExample(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	var resp console.TypesResponse
	if code := r.call(t, "GET", "/console/api/types", "", &resp); code != 200 {
		t.Fatalf("GET types: %d", code)
	}
	n := 0
	for _, typ := range resp.Types {
		for _, v := range typ.Versions {
			n++
			if string(v.Example) == "null" {
				t.Errorf("%s v%d: no example", typ.Type, v.Version)
				continue
			}
			if err := schemas.Sample().ValidateData(typ.Type, v.Version, v.Example); err != nil {
				t.Errorf("%s v%d: the example offered is invalid: %v", typ.Type, v.Version, err)
			}
		}
	}
	if want := len(domain.Registry().Versions()); n != want {
		t.Errorf("%d versions offered, the registry has %d", n, want)
	}
}

// example returns the data of the schema's first example of typ vN.
func example(t *testing.T, r *rig, typ string, ver int) json.RawMessage {
	t.Helper()
	var resp console.TypesResponse
	r.call(t, "GET", "/console/api/types", "", &resp)
	for _, et := range resp.Types {
		for _, v := range et.Versions {
			if et.Type == typ && v.Version == ver {
				return v.Example
			}
		}
	}
	t.Fatalf("no %s v%d offered", typ, ver)
	return nil
}

func TestPublishedEventIsTracedAndCountedOnItsEdges(t *testing.T) {
	t.Parallel()
	r := newRig(t)

	// Watch the live stream from before the event.
	live, err := http.Get(r.srv.URL + "/console/api/live")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Body.Close()
	if ct := live.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("live: Content-Type %q", ct)
	}
	snaps := make(chan console.Snapshot, 64)
	go readSnapshots(live.Body, snaps)
	select {
	case s := <-snaps:
		if len(s.Status.Consumers) == 0 {
			t.Fatalf("first snapshot has no consumers: %+v", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no snapshot on connect")
	}

	body, _ := json.Marshal(console.PublishRequest{Type: "orders.OrderPlaced", Version: 2, Data: example(t, r, "orders.OrderPlaced", 2), Subject: "ord-console"})
	var pub console.PublishResponse
	if code := r.call(t, "POST", "/console/api/publish", string(body), &pub); code != 200 || pub.EventID == "" || !strings.HasPrefix(pub.Bus, "ok") || !strings.HasPrefix(pub.Stream, "ok") {
		t.Fatalf("publish: %d %+v", code, pub)
	}

	var tr local.Trace
	// The chain can be handled before the publish that started it returns
	// (the bus hands events out once queued), so the published event's own
	// record may reach the trace after its consumers' outcomes: wait for it.
	eventually(t, "the trace to reach shipping.ShipmentScheduled, with the published event's record", func() bool {
		tr = local.Trace{}
		if r.call(t, "GET", "/console/api/trace/"+pub.EventID, "", &tr) != 200 || len(tr.Events) == 0 || len(tr.Events[0].Legs) == 0 {
			return false
		}
		for _, e := range tr.Events {
			if e.Type == "shipping.ShipmentScheduled" {
				return true
			}
		}
		return false
	})
	if tr.CorrelationID != pub.CorrelationID || tr.Events[0].ID != pub.EventID || tr.Events[0].Source != "troupe.console" {
		t.Errorf("trace: %+v", tr)
	}

	// The live stream tells the edges' counts without being asked again.
	want := map[[2]string]bool{{"payments", "orders.OrderPlaced"}: true, {"inventory", "payments.PaymentAuthorized"}: true, {"shipping", "inventory.StockReserved"}: true}
	deadline := time.After(20 * time.Second)
	for len(want) > 0 {
		select {
		case s := <-snaps:
			for _, e := range s.Edges {
				if e.Delivered >= 1 && e.Handled >= 1 {
					delete(want, [2]string{e.Consumer, e.Type})
				}
			}
		case <-deadline:
			t.Fatalf("the live stream never counted the edges %v", want)
		}
	}
}

func readSnapshots(body io.Reader, out chan<- console.Snapshot) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var s console.Snapshot
			if json.Unmarshal([]byte(data), &s) == nil {
				out <- s
			}
		}
	}
	close(out)
}

func TestInvalidDataIsRefusedWithItsSchemaErrors(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	var data map[string]any
	_ = json.Unmarshal(example(t, r, "orders.OrderPlaced", 2), &data)
	delete(data, "total")
	data["items"].([]any)[0].(map[string]any)["quantity"] = 0
	raw, _ := json.Marshal(data)
	body, _ := json.Marshal(console.PublishRequest{Type: "orders.OrderPlaced", Version: 2, Data: raw})
	var p console.PublishProblem
	if code := r.call(t, "POST", "/console/api/publish", string(body), &p); code != http.StatusUnprocessableEntity {
		t.Fatalf("publish of invalid data: %d %+v, want 422", code, p)
	}
	got := map[string]string{}
	for _, v := range p.Violations {
		got[v.Pointer] = v.Message
	}
	if !strings.Contains(got[""], "total") || !strings.Contains(got["/items/0/quantity"], "1") || !strings.Contains(p.Schema, "OrderPlaced/v2.json") {
		t.Errorf("violations: %+v (schema %q)", p.Violations, p.Schema)
	}
	for _, bad := range []string{
		`{"type":"orders.OrderPlaced","version":2,"data":"{not json"}`,
		`{"type":"orders.OrderPlaced","version":2}`,
		`{"type":"orders.OrderPlaced","version":9,"data":{}}`,
		`{"type":"nobody.Nothing","version":1,"data":{}}`,
		`{"type":"orders.OrderPlaced","version":2,"data":{},"extra":1}`,
	} {
		if code := r.call(t, "POST", "/console/api/publish", bad, nil); code < 400 || code >= 500 {
			t.Errorf("publish %s: %d, want a 4xx", bad, code)
		}
	}
	// Nothing reached the bus or the stream.
	time.Sleep(200 * time.Millisecond)
	var s console.Snapshot
	r.call(t, "GET", "/console/api/snapshot", "", &s)
	if len(s.Edges) != 0 {
		t.Errorf("a refused event was delivered: %+v", s.Edges)
	}
	if sh := r.eng.Stream().Shards(); len(sh) > 0 {
		for _, x := range sh {
			if latest, _ := r.eng.Stream().Latest(x.ID); latest != "" && latest != "0" {
				t.Errorf("shard %s has records (latest %s)", x.ID, latest)
			}
		}
	}
}

// Another site's page cannot make the console act: it can send a form or
// text/plain to 127.0.0.1 without the browser asking first, but not JSON,
// and its Origin gives it away.
func TestActionsTakeOnlyJSONFromTheConsolesOrigin(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.putPoison(t)
	for _, tc := range []struct {
		contentType, origin string
		want                int
	}{
		{"text/plain", "", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", "", http.StatusUnsupportedMediaType},
		{"application/json", "http://evil.invalid", http.StatusForbidden},
	} {
		req, _ := http.NewRequest("POST", r.srv.URL+"/console/api/dlq/inventory/purge", strings.NewReader(`{"confirm":"inventory"}`))
		req.Header.Set("Content-Type", tc.contentType)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("purge with %s from %q: %d, want %d", tc.contentType, tc.origin, resp.StatusCode, tc.want)
		}
	}
	if d := r.depth(t, "inventory"); d != 1 {
		t.Fatalf("a refused purge deleted: depth %d", d)
	}
	req, _ := http.NewRequest("POST", r.srv.URL+"/console/api/dlq/inventory/purge", strings.NewReader(`{"confirm":"inventory"}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Origin", r.srv.URL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || r.depth(t, "inventory") != 0 {
		t.Errorf("purge from the console's own origin: %d", resp.StatusCode)
	}
}

func TestUnknownTraceIDSaysSo(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	var p struct{ Title, Detail string }
	if code := r.call(t, "GET", "/console/api/trace/no-such-id", "", &p); code != 404 || !strings.Contains(p.Detail, `"no-such-id"`) {
		t.Errorf("trace of an unknown id: %d %+v", code, p)
	}
}

func TestReplayOfThePoisonFailsAndKeepsItThenPurgeConfirmed(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.putPoison(t)

	var msgs console.MessagesResponse
	if code := r.call(t, "GET", "/console/api/dlq/inventory", "", &msgs); code != 200 || msgs.Depth != 1 || len(msgs.Messages) != 1 {
		t.Fatalf("GET dlq/inventory: %d %+v", code, msgs)
	}
	m := msgs.Messages[0]
	if !strings.Contains(m.Error, "paymentId") || m.Attempts < 1 || m.Event == nil || m.Event.Type != "payments.PaymentAuthorized" ||
		!strings.Contains(string(m.Event.Data), "o-poison") || m.Consumer != "inventory" || m.Reason != "schema" {
		t.Errorf("message: %+v", m)
	}

	var run console.RunResponse
	if code := r.call(t, "POST", "/console/api/dlq/inventory/replay", `{}`, &run); code != 200 {
		t.Fatalf("replay: %d", code)
	}
	if run.Summary.Failed != 1 || len(run.Results) != 1 || run.Results[0].Action != "failed" || run.Results[0].Deleted ||
		!strings.Contains(run.Results[0].Error, "paymentId") || run.Results[0].ID != m.ID {
		t.Fatalf("replay of the invalid event: %+v", run)
	}
	if d := r.depth(t, "inventory"); d != 1 {
		t.Fatalf("after the failed replay the DLQ holds %d, want the message kept", d)
	}

	var p struct{ Detail string }
	if code := r.call(t, "POST", "/console/api/dlq/inventory/purge", `{}`, &p); code != 400 || !strings.Contains(p.Detail, "confirm") {
		t.Errorf("unconfirmed purge: %d %+v", code, p)
	}
	if code := r.call(t, "POST", "/console/api/dlq/inventory/purge", `{"confirm":"payments"}`, nil); code != 400 {
		t.Errorf("purge confirmed with another name: %d", code)
	}
	if d := r.depth(t, "inventory"); d != 1 {
		t.Fatalf("an unconfirmed purge deleted: depth %d", d)
	}
	run = console.RunResponse{}
	if code := r.call(t, "POST", "/console/api/dlq/inventory/purge", `{"confirm":"inventory"}`, &run); code != 200 || run.Summary.Purged != 1 {
		t.Fatalf("purge: %d %+v", code, run)
	}
	if d := r.depth(t, "inventory"); d != 0 {
		t.Errorf("after the purge: depth %d", d)
	}
	if code := r.call(t, "POST", "/console/api/dlq/nobody/replay", `{}`, nil); code != 404 {
		t.Errorf("replay of an unknown consumer: %d", code)
	}
}

// The poison event fixed in the console and replayed: the fixed event goes to
// inventory alone, is handled, and the message leaves the queue; an edit for
// more than one message, or still invalid, is refused and keeps it.
func TestPoisonFixedInTheConsoleIsReplayed(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.putPoison(t)
	var msgs console.MessagesResponse
	if code := r.call(t, "GET", "/console/api/dlq/inventory", "", &msgs); code != 200 || len(msgs.Messages) != 1 {
		t.Fatalf("GET dlq/inventory: %d %+v", code, msgs)
	}
	m := msgs.Messages[0]
	fixed := *m.Event
	fixed.Data = json.RawMessage(`{"orderId":"o-poison","paymentId":"pay_1","amount":{"amountCents":100,"currency":"EUR"}}`)

	body, _ := json.Marshal(console.ReplayRequest{IDs: []string{m.ID, "2"}, Event: &fixed})
	if code := r.call(t, "POST", "/console/api/dlq/inventory/replay", string(body), nil); code != 400 {
		t.Errorf("an edited event for two messages: %d, want 400", code)
	}
	still := *m.Event
	body, _ = json.Marshal(console.ReplayRequest{IDs: []string{m.ID}, Event: &still})
	var run console.RunResponse
	if code := r.call(t, "POST", "/console/api/dlq/inventory/replay", string(body), &run); code != 200 || run.Summary.Failed != 1 {
		t.Fatalf("replay of the unfixed event: %d %+v", code, run)
	}

	body, _ = json.Marshal(console.ReplayRequest{IDs: []string{m.ID}, Event: &fixed})
	run = console.RunResponse{}
	if code := r.call(t, "POST", "/console/api/dlq/inventory/replay", string(body), &run); code != 200 ||
		run.Summary.Replayed != 1 || run.Summary.Deleted != 1 || run.Results[0].EventID != m.Event.ID {
		t.Fatalf("replay of the fixed event: %d %+v", code, run)
	}
	if d := r.depth(t, "inventory"); d != 0 {
		t.Errorf("depth %d after the fixed replay", d)
	}
	eventually(t, "inventory to handle the fixed event", func() bool {
		var s console.Snapshot
		r.call(t, "GET", "/console/api/snapshot", "", &s)
		for _, e := range s.Edges {
			if e.Consumer == "inventory" && e.Type == "payments.PaymentAuthorized" && e.Handled == 1 {
				return true
			}
		}
		return false
	})
}

// A dead letter whose event is valid (the failure has passed) is replayed
// to its consumer, handled, and leaves the queue; replaying one id touches
// no other message.
func TestReplayOfOneMessageRedeliversAndDeletesIt(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	for i := range 2 {
		env, err := events.New("payments.PaymentAuthorized", 1, json.RawMessage(fmt.Sprintf(
			`{"orderId":"o-%d","paymentId":"pay_%d","amount":{"amountCents":100,"currency":"EUR"}}`, i, i)))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if err := r.eng.DeadLetters().Send(ctx, consumers.DeadLetter{
			Consumer: "inventory", Envelope: &env, Error: "the stock service timed out", Reason: "timeout", Attempts: 3,
			FirstFailure: now, LastFailure: now, Origin: consumers.Origin{Source: "bus", Rule: "inventory"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	var msgs console.MessagesResponse
	r.call(t, "GET", "/console/api/dlq/inventory", "", &msgs)
	if len(msgs.Messages) != 2 {
		t.Fatalf("messages: %+v", msgs)
	}
	first := msgs.Messages[0]

	var run console.RunResponse
	body, _ := json.Marshal(console.ReplayRequest{IDs: []string{first.ID}})
	if code := r.call(t, "POST", "/console/api/dlq/inventory/replay", string(body), &run); code != 200 ||
		run.Summary.Replayed != 1 || run.Summary.Deleted != 1 || len(run.Results) != 1 || run.Results[0].ID != first.ID || !run.Results[0].Deleted {
		t.Fatalf("replay of one: %d %+v", code, run)
	}
	if d := r.depth(t, "inventory"); d != 1 {
		t.Fatalf("depth %d after replaying one of two", d)
	}
	eventually(t, "inventory to handle the replayed event", func() bool {
		var s console.Snapshot
		r.call(t, "GET", "/console/api/snapshot", "", &s)
		for _, e := range s.Edges {
			if e.Consumer == "inventory" && e.Type == "payments.PaymentAuthorized" && e.Handled == 1 {
				return true
			}
		}
		return false
	})
	run = console.RunResponse{}
	if code := r.call(t, "POST", "/console/api/dlq/inventory/replay", `{"ids":[]}`, &run); code != 200 || run.Summary.Replayed != 1 {
		t.Fatalf("replay of all: %d %+v", code, run)
	}
	if d := r.depth(t, "inventory"); d != 0 {
		t.Errorf("depth %d after replaying all", d)
	}
	if code := r.call(t, "POST", "/console/api/dlq/inventory/replay", `{"ids":["x"]}`, nil); code != 400 {
		t.Errorf("replay of a bad id: %d", code)
	}
}

func TestCloseEndsTheLiveStreams(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	resp, err := http.Get(r.srv.URL + "/console/api/live")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, resp.Body); close(done) }()
	time.Sleep(100 * time.Millisecond)
	r.console.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the live stream is still open after Close")
	}
}
