package ingest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/local/ingest"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

type ceRig struct {
	url    string
	bus    *memBus
	stream *memStream
}

// newCERig starts the CloudEvents endpoint on 127.0.0.1, publishing through
// a real producers.Publisher over in-memory legs.
func newCERig(t *testing.T, tweak ...func(*ingest.CloudEventsConfig)) *ceRig {
	t.Helper()
	rig := &ceRig{bus: &memBus{}, stream: &memStream{shards: 2}}
	pub, err := producers.New(producers.Config{
		Bus: rig.bus, Stream: rig.stream, Validator: schemas.Sample(),
		MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := ingest.CloudEventsConfig{Publisher: pub, Validator: schemas.Sample()}
	for _, f := range tweak {
		f(&cfg)
	}
	srv := httptest.NewServer(ingest.NewCloudEvents(cfg))
	t.Cleanup(srv.Close)
	rig.url = srv.URL
	return rig
}

// post sends body and returns the status, the Content-Type and the raw body.
func (r *ceRig) post(t *testing.T, method, contentType, body string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, r.url+"/events", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), raw
}

func (r *ceRig) results(t *testing.T, wantStatus int, contentType, body string) ingest.CloudEventsResponse {
	t.Helper()
	status, ct, raw := r.post(t, http.MethodPost, contentType, body)
	if status != wantStatus || ct != "application/json" {
		t.Fatalf("status %d (%s), want %d: %s", status, ct, wantStatus, raw)
	}
	var out ingest.CloudEventsResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (r *ceRig) problem(t *testing.T, wantStatus int, method, contentType, body string) ingest.Problem {
	t.Helper()
	status, ct, raw := r.post(t, method, contentType, body)
	if status != wantStatus || ct != ingest.ContentTypeProblem {
		t.Fatalf("status %d (%s), want %d problem+json: %s", status, ct, wantStatus, raw)
	}
	var p ingest.Problem
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != wantStatus || p.Title == "" || p.Detail == "" || !strings.HasPrefix(p.Type, "urn:troupe:problem:") {
		t.Errorf("problem %+v", p)
	}
	return p
}

func TestCloudEventsSingle(t *testing.T) {
	t.Parallel()
	rig := newCERig(t)
	out := rig.results(t, 200, "application/cloudevents+json; charset=utf-8", cancelled("ce1"))
	if out.Accepted != 1 || out.Rejected != 0 || len(out.Results) != 1 {
		t.Fatalf("%+v", out)
	}
	r := out.Results[0]
	if r.ID != "ce1" || r.Type != "orders.OrderCancelled" || r.Status != "accepted" ||
		r.Bus == nil || r.Bus.Status != "sent" || r.Bus.EventID == "" ||
		r.Stream == nil || r.Stream.Status != "sent" || r.Stream.SequenceNumber == "" || !strings.HasPrefix(r.Stream.ShardID, "shardId-") {
		t.Errorf("result %+v bus %+v stream %+v", r, r.Bus, r.Stream)
	}
	if len(rig.bus.got()) != 1 || len(rig.stream.got()) != 1 || rig.stream.got()[0].PartitionKey != "ord-ce1" {
		t.Errorf("legs: bus %d, stream %q", len(rig.bus.got()), rig.stream.got())
	}

	bad := rig.results(t, 400, ingest.ContentTypeCloudEvent, badCancelled("ce2"))
	if bad.Rejected != 1 || bad.Results[0].ID != "ce2" || !strings.Contains(bad.Results[0].Error, "/reason") || bad.Results[0].Retryable {
		t.Errorf("an invalid single event: %+v", bad)
	}
}

func TestCloudEventsBatch(t *testing.T) {
	t.Parallel()
	rig := newCERig(t)
	batch := "[" + strings.Join([]string{
		cancelled("b0"),
		badCancelled("b1"), // data breaks the schema
		cancelled("b2"),
		`{"specversion":"1.0","id":"b3","type":"orders.OrderCancelled","time":"2025-03-14T09:26:53Z","dataversion":1,"data":{}}`, // no source
		`42`,
		strings.Replace(cancelled("b5"), `"subject"`, `"colour":"red","subject"`, 1), // unknown attribute
	}, ",") + "]"
	out := rig.results(t, http.StatusMultiStatus, ingest.ContentTypeCloudEventBatch, batch)
	if out.Accepted != 2 || out.Rejected != 4 || len(out.Results) != 6 {
		t.Fatalf("%+v", out)
	}
	want := []struct{ status, errPart string }{
		{"accepted", ""}, {"rejected", "/reason"}, {"accepted", ""}, {"rejected", `"source"`}, {"rejected", "JSON object"}, {"rejected", `"colour": unknown field`},
	}
	for i, w := range want {
		r := out.Results[i]
		if r.Index != i || r.Status != w.status || !strings.Contains(r.Error, w.errPart) {
			t.Errorf("result %d: %+v, want %s with %q", i, r, w.status, w.errPart)
		}
	}
	if out.Results[3].ID != "b3" {
		t.Errorf("a rejected event's id should be read when it can be: %+v", out.Results[3])
	}
	if n := len(rig.bus.got()); n != 2 {
		t.Errorf("bus took %d events, want 2", n)
	}

	none := rig.results(t, 400, ingest.ContentTypeCloudEventBatch, "["+badCancelled("n1")+","+badCancelled("n2")+"]")
	if none.Accepted != 0 || none.Rejected != 2 {
		t.Errorf("all invalid: %+v", none)
	}
}

func TestCloudEventsLegFailure(t *testing.T) {
	t.Parallel()
	rig := newCERig(t)
	rig.stream.fail = func(r producers.StreamRecord) string {
		if strings.HasPrefix(r.PartitionKey, "ord-fail") {
			return "ProvisionedThroughputExceededException"
		}
		return ""
	}
	out := rig.results(t, http.StatusMultiStatus, ingest.ContentTypeCloudEventBatch, "["+cancelled("ok1")+","+cancelled("fail1")+"]")
	r := out.Results[1]
	if r.Status != "rejected" || !r.Retryable || r.Stream == nil || r.Stream.Status != "failed" || r.Bus == nil || r.Bus.Status != "sent" ||
		!strings.Contains(r.Error, "stream:") {
		t.Errorf("a failing stream leg: %+v bus %+v stream %+v", r, r.Bus, r.Stream)
	}
	all := rig.results(t, http.StatusServiceUnavailable, ingest.ContentTypeCloudEvent, cancelled("fail2"))
	if all.Rejected != 1 || !all.Results[0].Retryable {
		t.Errorf("a single event failing on a leg: %+v", all)
	}
	huge := envelope("huge", "orders.OrderCancelled", `{"orderId":"o","reason":"`+strings.Repeat("x", 1100<<10)+`"}`)
	tooLarge := rig.results(t, http.StatusBadRequest, ingest.ContentTypeCloudEvent, huge)
	if r := tooLarge.Results[0]; r.Retryable || r.Bus == nil || r.Bus.Status != "not sent" || !strings.Contains(r.Error, "too large") {
		t.Errorf("an event too large for the legs: %+v", r)
	}
}

func TestCloudEventsRequestErrors(t *testing.T) {
	t.Parallel()
	rig := newCERig(t, func(c *ingest.CloudEventsConfig) { c.MaxBodyBytes = 4096; c.MaxBatch = 3 })
	ce, batch := ingest.ContentTypeCloudEvent, ingest.ContentTypeCloudEventBatch

	p := rig.problem(t, 415, "POST", "application/json", cancelled("x"))
	if !strings.Contains(p.Detail, ce) || !strings.Contains(p.Detail, batch) {
		t.Errorf("415 must name the content types to send: %+v", p)
	}
	rig.problem(t, 415, "POST", "", cancelled("x"))
	rig.problem(t, 415, "POST", ce+"; charset=latin1", cancelled("x"))
	rig.problem(t, 405, "GET", ce, "")

	p = rig.problem(t, 400, "POST", ce, `{"specversion": "1.0", "id": }`)
	if p.Type != "urn:troupe:problem:malformed-json" || p.Offset == nil || *p.Offset != 30 || !strings.Contains(p.Detail, "byte 30") || p.Line != 1 {
		t.Errorf("malformed JSON: %+v (offset %v)", p, p.Offset)
	}
	p = rig.problem(t, 400, "POST", batch, "[\n"+cancelled("a")+",\n")
	if p.Offset == nil || p.Line != 3 || !strings.Contains(p.Detail, "malformed JSON at byte") {
		t.Errorf("truncated batch: %+v", p)
	}
	p = rig.problem(t, 400, "POST", batch, `[]`)
	if p.Type != "urn:troupe:problem:empty-batch" {
		t.Errorf("empty batch: %+v", p)
	}
	rig.problem(t, 400, "POST", batch, "  ")
	p = rig.problem(t, 400, "POST", batch, cancelled("obj"))
	if p.Type != "urn:troupe:problem:batch-not-array" {
		t.Errorf("an object sent as a batch: %+v", p)
	}
	p = rig.problem(t, 400, "POST", ce, "["+cancelled("arr")+"]")
	if p.Type != "urn:troupe:problem:array-as-single-event" {
		t.Errorf("an array sent as one event: %+v", p)
	}
	p = rig.problem(t, 413, "POST", batch, "["+strings.Repeat(cancelled("big")+",", 30)+cancelled("big")+"]")
	if p.Limit != 4096 || !strings.Contains(p.Detail, "4096-byte limit") {
		t.Errorf("too large: %+v", p)
	}
	p = rig.problem(t, 413, "POST", batch, "["+strings.Repeat(`{},`, 3)+`{}]`)
	if p.Type != "urn:troupe:problem:batch-too-large" || p.Limit != 3 {
		t.Errorf("too many events: %+v", p)
	}
	if n := len(rig.bus.got()) + len(rig.stream.got()); n != 0 {
		t.Errorf("%d events published by rejected requests", n)
	}
}
