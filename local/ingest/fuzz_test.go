package ingest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/troupehq/troupe/local/ingest"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

var awsTargets = []string{
	"AWSEvents.PutEvents", "AWSEvents.DescribeEventBus",
	"Kinesis_20131202.PutRecord", "Kinesis_20131202.PutRecords",
	"Kinesis_20131202.DescribeStreamSummary", "Kinesis_20131202.ListShards", "Nope.Nope",
}

// FuzzAWSRequest feeds the AWS endpoint arbitrary bodies for every target: it
// must never panic, and must always answer a JSON object, with __type on
// anything but 200.
func FuzzAWSRequest(f *testing.F) {
	seeds := []string{
		`{"Entries":[{"Source":"s","DetailType":"orders.OrderCancelled","Detail":` + jsonString(cancelled("f1")) + `,"Time":1.7e9}]}`,
		`{"Entries":[{"Source":"s","DetailType":"t","Detail":"{\"specversion\":1}","EventBusName":"arn:aws:events:x:1:event-bus/` + testBus + `"}]}`,
		`{"Entries":[{"Source":"s","DetailType":"t","Detail":"{\"dataversion\":1e400}"}]}`,
		`{"StreamName":"` + testStream + `","PartitionKey":"k","Data":"eyJzcGVjdmVyc2lvbiI6IjEuMCJ9","ExplicitHashKey":"12"}`,
		`{"StreamARN":"arn:aws:kinesis:r:1:stream/` + testStream + `","Records":[{"PartitionKey":"k","Data":""}]}`,
		`{"NextToken":"MQ","MaxResults":1}`, `{"Name":null}`, `{"Time":"x"}`, `[`, `{`, `null`, ``, `{"Entries":[null]}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	h := ingest.NewAWS(ingest.AWSConfig{
		BusName: testBus, StreamName: testStream, Bus: nopBus{}, Stream: nopStream{}, Validator: schemas.Sample(),
	})
	f.Fuzz(func(t *testing.T, target uint8, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", awsTargets[int(target)%len(awsTargets)])
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer is not a JSON object: %v: %s", err, rec.Body)
		}
		if rec.Code != 200 && (out["__type"] == nil || rec.Header().Get("X-Amzn-ErrorType") == "") {
			t.Fatalf("error %d without __type: %s", rec.Code, rec.Body)
		}
	})
}

// FuzzCloudEvents feeds the CloudEvents endpoint arbitrary bodies in both
// modes: it must never panic, and must answer JSON or problem+json.
func FuzzCloudEvents(f *testing.F) {
	for _, s := range []string{cancelled("f1"), "[" + cancelled("f2") + "," + badCancelled("f3") + "]", `[1,null,{}]`, `{"specversion":`, `[]`, `""`} {
		f.Add(true, s)
		f.Add(false, s)
	}
	pub, err := producers.New(producers.Config{Bus: nopBus{}, Stream: nopStream{}, Validator: schemas.Sample(), MaxAttempts: 1})
	if err != nil {
		f.Fatal(err)
	}
	h := ingest.NewCloudEvents(ingest.CloudEventsConfig{Publisher: pub, Validator: schemas.Sample()})
	f.Fuzz(func(t *testing.T, batch bool, body string) {
		ct := ingest.ContentTypeCloudEvent
		if batch {
			ct = ingest.ContentTypeCloudEventBatch
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %s", rec.Body)
		}
	})
}

// nopBus and nopStream accept everything and keep nothing, so that a long
// fuzzing run does not grow.
type nopBus struct{}

func (nopBus) SendBatch(_ context.Context, entries []producers.BusEntry) ([]producers.EntryResult, error) {
	return make([]producers.EntryResult, len(entries)), nil
}
func (nopBus) Check(context.Context) error { return nil }

type nopStream struct{}

func (nopStream) WriteBatch(_ context.Context, records []producers.StreamRecord) ([]producers.EntryResult, error) {
	res := make([]producers.EntryResult, len(records))
	for i := range res {
		res[i] = producers.EntryResult{ID: "1", Shard: "shardId-000000000000"}
	}
	return res, nil
}
func (nopStream) Check(context.Context) error { return nil }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
