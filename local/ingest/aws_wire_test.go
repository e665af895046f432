package ingest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/troupehq/troupe/local/ingest"
)

// rawCall posts body to the endpoint with the given target and content type,
// as a hand-made client would, and returns the status, the error type header
// and the decoded body.
func rawCall(t *testing.T, method, url, target, contentType, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=whatever, SignedHeaders=host, Signature=deadbeef")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v: %s", method, target, err, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("%s: Content-Type %q", target, ct)
	}
	if resp.Header.Get("X-Amzn-RequestId") == "" {
		t.Errorf("%s: no X-Amzn-RequestId", target)
	}
	return resp.StatusCode, resp.Header, out
}

func TestAWSWireErrors(t *testing.T) {
	t.Parallel()
	rig := newAWSRig(t, func(c *ingest.AWSConfig) { c.MaxBusBatchBytes = 1000 }) // body cap 6000+1 MiB
	const js = "application/x-amz-json-1.1"
	tests := []struct {
		name, method, target, ct, body string
		status                         int
		code, msgPart                  string
	}{
		{"unknown target", "POST", "Kinesis_20131202.CreateStream", js, `{}`, 400, "UnknownOperationException", "does not serve Kinesis_20131202.CreateStream"},
		{"no target", "POST", "", js, `{}`, 400, "UnknownOperationException", "no X-Amz-Target"},
		{"GET", "GET", "AWSEvents.PutEvents", "", "", 405, "UnknownOperationException", "POST"},
		{"malformed JSON", "POST", "AWSEvents.PutEvents", js, `{"Entries": [}`, 400, "SerializationException", "malformed JSON at byte 14"},
		{"truncated JSON", "POST", "AWSEvents.PutEvents", js, `{"Entries": [`, 400, "SerializationException", "unexpected end"},
		{"empty body", "POST", "AWSEvents.PutEvents", js, ``, 400, "SerializationException", "empty"},
		{"array body", "POST", "AWSEvents.PutEvents", js, `[]`, 400, "SerializationException", "JSON object"},
		{"wrong type", "POST", "AWSEvents.PutEvents", js, `{"Entries": "x"}`, 400, "SerializationException", "member Entries: expected a JSON array"},
		{"detail not a string", "POST", "AWSEvents.PutEvents", js, `{"Entries": [{"Detail": {}}]}`, 400, "SerializationException", "Entries.Detail"},
		{"bad time", "POST", "AWSEvents.PutEvents", js, `{"Entries": [{"Time": "yesterday"}]}`, 400, "SerializationException", "epoch seconds"},
		{"null entries", "POST", "AWSEvents.PutEvents", js, `{}`, 400, "ValidationException", "Value null at 'entries'"},
		{"no entries", "POST", "AWSEvents.PutEvents", js, `{"Entries": []}`, 400, "ValidationException", "greater than or equal to 1"},
		{"too large body", "POST", "AWSEvents.PutEvents", js, `{"Entries": [{"Detail": "` + strings.Repeat("x", 1<<20+8000) + `"}]}`, 413, "RequestEntityTooLargeException", "limit"},
		{"over the entries' size", "POST", "AWSEvents.PutEvents", js, `{"Entries": [{"Source":"s","DetailType":"t","Detail": "{\"a\":\"` + strings.Repeat("x", 1000) + `\"}"}]}`, 400, "ValidationException", "Total size of the entries in the request is over the limit."},
		{"CBOR", "POST", "Kinesis_20131202.PutRecord", "application/x-amz-cbor-1.1", "\xbf\xff", 400, "UnsupportedProtocolException", "AWS_CBOR_DISABLE=true"},
		{"bad base64", "POST", "Kinesis_20131202.PutRecord", js, `{"StreamName":"` + testStream + `","PartitionKey":"k","Data":"%%%"}`, 400, "SerializationException", "base64"},
		{"no partition key", "POST", "Kinesis_20131202.PutRecords", js, `{"StreamName":"` + testStream + `","Records":[{"Data":"eA=="},{"Data":"eA==","PartitionKey":""}]}`, 400, "ValidationException",
			"2 validation errors detected: Value null at 'records.1.member.partitionKey' failed to satisfy constraint: Member must not be null; Value '' at 'records.2.member.partitionKey'"},
		{"no data", "POST", "Kinesis_20131202.PutRecord", js, `{"StreamName":"` + testStream + `","PartitionKey":"k"}`, 400, "ValidationException", "Value null at 'data'"},
		{"bad hash key", "POST", "Kinesis_20131202.PutRecord", js, `{"StreamName":"` + testStream + `","PartitionKey":"k","Data":"eA==","ExplicitHashKey":"-1"}`, 400, "ValidationException", "explicitHashKey"},
		{"no stream", "POST", "Kinesis_20131202.PutRecord", js, `{"PartitionKey":"k","Data":"eA=="}`, 400, "InvalidArgumentException", "Either StreamName or StreamARN"},
		{"bad stream name", "POST", "Kinesis_20131202.DescribeStreamSummary", js, `{"StreamName":"no spaces"}`, 400, "ValidationException", "streamName"},
		{"list shards token and name", "POST", "Kinesis_20131202.ListShards", js, `{"StreamName":"` + testStream + `","NextToken":"MQ"}`, 400, "InvalidArgumentException", "NextToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, hdr, out := rawCall(t, tc.method, rig.url, tc.target, tc.ct, tc.body)
			msg, _ := out["message"].(string)
			t.Logf("%d %v: %.300s", status, out["__type"], msg)
			if status != tc.status || out["__type"] != tc.code || hdr.Get("X-Amzn-ErrorType") != tc.code || !strings.Contains(msg, tc.msgPart) {
				t.Errorf("got %d %v %q (header %q), want %d %s containing %q", status, out["__type"], msg, hdr.Get("X-Amzn-ErrorType"), tc.status, tc.code, tc.msgPart)
			}
		})
	}
	if n := len(rig.bus.got()) + len(rig.stream.got()); n != 0 {
		t.Errorf("%d entries went through failed calls", n)
	}
}

func TestAWSWireTimes(t *testing.T) {
	t.Parallel()
	rig := newAWSRig(t)
	body := `{"Entries":[
		{"Source":"s","DetailType":"t","Detail":"{}","Time":1710408413.5},
		{"Source":"s","DetailType":"t","Detail":"{}","Time":"2024-03-14T09:26:53Z"},
		{"Source":"s","DetailType":"t","Detail":"{}"}]}`
	status, _, out := rawCall(t, "POST", rig.url, "AWSEvents.PutEvents", "", body)
	if status != 200 || out["FailedEntryCount"] != float64(0) {
		t.Fatalf("%d %v", status, out)
	}
	got := rig.bus.got()
	if got[0].Time.UnixMilli() != 1710408413500 || got[1].Time.Unix() != 1710408413 || got[2].Time.IsZero() {
		t.Errorf("times: %v %v %v", got[0].Time, got[1].Time, got[2].Time)
	}
}

func TestAWSConfigValidate(t *testing.T) {
	t.Parallel()
	err := ingest.AWSConfig{BusName: "bad name!"}.Validate()
	for _, part := range []string{"BusName", "StreamName", "Bus is required", "Stream is required", "Validator is required"} {
		if err == nil || !strings.Contains(err.Error(), part) {
			t.Errorf("Validate: %v, want it to name %s", err, part)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NewAWS with an invalid config must panic")
		}
	}()
	ingest.NewAWS(ingest.AWSConfig{})
}
