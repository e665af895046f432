package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The AWS CLI v1 and boto3 are part of this machine's image (beside moto);
// these tests run them as a user would, against the endpoint. They fail,
// not skip, when either is missing: that is a broken machine.

// clientEnv is the environment of a CLI or boto3 run: static credentials, a
// region, and no profile or config file of the machine's.
func clientEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION="+testRegion,
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
	)
}

func runClient(t *testing.T, stdin string, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = clientEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func needAWSCLI(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI v1 (`aws`) is not on PATH (%v): it is part of this machine image, installed with moto and boto3; "+
			"install it (pip install awscli) or fix PATH", err)
	}
	return path
}

func TestAWSCLI(t *testing.T) {
	t.Parallel()
	aws := needAWSCLI(t)
	rig := newAWSRig(t)
	cli := func(t *testing.T, args ...string) (map[string]any, string, error) {
		t.Helper()
		stdout, stderr, err := runClient(t, "", aws, append([]string{"--endpoint-url", rig.url, "--output", "json"}, args...)...)
		var out map[string]any
		if err == nil {
			if jerr := json.Unmarshal([]byte(stdout), &out); jerr != nil {
				t.Fatalf("aws %s: output is not JSON (%v): %s", strings.Join(args, " "), jerr, stdout)
			}
		}
		return out, stderr, err
	}

	t.Run("put-events", func(t *testing.T) {
		t.Parallel()
		entries, _ := json.Marshal([]map[string]string{
			{"Source": "test.cli", "DetailType": "orders.OrderCancelled", "Detail": cancelled("cli1"), "EventBusName": testBus},
			{"Source": "test.cli", "DetailType": "orders.OrderCancelled", "Detail": badCancelled("cli2")},
			{"Source": "test.cli", "DetailType": "legacy.Thing", "Detail": `{"x":1}`, "EventBusName": "elsewhere"},
			{"Source": "test.cli", "DetailType": "legacy.Thing", "Detail": `{"x":2}`},
		})
		out, stderr, err := cli(t, "events", "put-events", "--entries", string(entries))
		if err != nil {
			t.Fatalf("aws events put-events: %v\n%s", err, stderr)
		}
		res := out["Entries"].([]any)
		if out["FailedEntryCount"] != float64(2) || len(res) != 4 {
			t.Fatalf("put-events: %v", out)
		}
		for i, wantCode := range []string{"", "InvalidArgument", "ResourceNotFoundException", ""} {
			e := res[i].(map[string]any)
			if code, _ := e["ErrorCode"].(string); code != wantCode || (wantCode == "" && e["EventId"] == nil) {
				t.Errorf("entry %d: %v, want code %q", i, e, wantCode)
			}
		}
	})

	t.Run("put-record", func(t *testing.T) {
		t.Parallel()
		data := cancelled("cli3")
		out, stderr, err := cli(t, "kinesis", "put-record", "--stream-name", testStream, "--partition-key", "ord-cli3", "--data", data)
		if err != nil {
			t.Fatalf("aws kinesis put-record: %v\n%s", err, stderr)
		}
		if s, _ := out["ShardId"].(string); !strings.HasPrefix(s, "shardId-") || out["SequenceNumber"] == nil {
			t.Errorf("put-record: %v", out)
		}
		found := false
		for _, r := range rig.stream.got() {
			found = found || (string(r.Data) == data && r.PartitionKey == "ord-cli3")
		}
		if !found {
			t.Errorf("the stream does not hold the record byte for byte: %q", rig.stream.got())
		}
		_, stderr, err = cli(t, "kinesis", "put-record", "--stream-name", "ghost", "--partition-key", "k", "--data", "x")
		if err == nil || !strings.Contains(stderr, "ResourceNotFoundException") || !strings.Contains(stderr, "Stream ghost under account") {
			t.Errorf("put-record to another stream: err %v, stderr %s", err, stderr)
		}
		_, stderr, err = cli(t, "kinesis", "put-record", "--stream-name", testStream, "--partition-key", "k", "--data", badCancelled("cli4"))
		if err == nil || !strings.Contains(stderr, "InvalidArgumentException") || !strings.Contains(stderr, "/reason") {
			t.Errorf("put-record of an invalid envelope: err %v, stderr %s", err, stderr)
		}
	})

	t.Run("describe", func(t *testing.T) {
		t.Parallel()
		out, stderr, err := cli(t, "events", "describe-event-bus", "--name", testBus)
		if err != nil || out["Name"] != testBus {
			t.Errorf("describe-event-bus: %v %v\n%s", err, out, stderr)
		}
		out, stderr, err = cli(t, "kinesis", "describe-stream-summary", "--stream-name", testStream)
		if err != nil {
			t.Fatalf("describe-stream-summary: %v\n%s", err, stderr)
		}
		if s := out["StreamDescriptionSummary"].(map[string]any); s["StreamStatus"] != "ACTIVE" || s["OpenShardCount"] != float64(2) {
			t.Errorf("describe-stream-summary: %v", s)
		}
		out, stderr, err = cli(t, "kinesis", "list-shards", "--stream-name", testStream)
		if err != nil || len(out["Shards"].([]any)) != 2 {
			t.Errorf("list-shards: %v %v\n%s", err, out, stderr)
		}
	})
}

// botoScript exercises boto3's EventBridge and Kinesis clients and prints
// what each call answered, or its error code and message, as JSON.
const botoScript = `
import json, os, sys
import boto3
from botocore.exceptions import ClientError

url, bus, stream = os.environ["INGEST_URL"], os.environ["INGEST_BUS"], os.environ["INGEST_STREAM"]
good, bad = os.environ["INGEST_GOOD"], os.environ["INGEST_BAD"]
events = boto3.client("events", endpoint_url=url)
kinesis = boto3.client("kinesis", endpoint_url=url)
out = {}

def call(name, fn, **kw):
    try:
        r = fn(**kw)
        r.pop("ResponseMetadata", None)
        out[name] = r
    except ClientError as e:
        out[name] = {"error": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}

call("put_events", events.put_events, Entries=[
    {"Source": "test.boto", "DetailType": "orders.OrderCancelled", "Detail": good, "EventBusName": bus},
    {"Source": "test.boto", "DetailType": "orders.OrderCancelled", "Detail": bad},
    {"Source": "test.boto", "DetailType": "legacy.Thing", "Detail": json.dumps({"k": "v"}), "EventBusName": "nope"},
])
call("put_records", kinesis.put_records, StreamName=stream, Records=[
    {"PartitionKey": "a", "Data": good.encode()},
    {"PartitionKey": "b", "Data": bad.encode()},
    {"PartitionKey": "c", "Data": b"\x00raw"},
])
call("put_record", kinesis.put_record, StreamName=stream, PartitionKey="d", Data=good.encode())
call("put_record_missing", kinesis.put_record, StreamName="ghost", PartitionKey="d", Data=b"x")
call("describe_event_bus", events.describe_event_bus, Name=bus)
call("describe_stream_summary", kinesis.describe_stream_summary, StreamName=stream)
call("list_shards", kinesis.list_shards, StreamName=stream)
json.dump(out, sys.stdout, default=str)
`

func TestBoto3(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is not on PATH (%v): boto3 is part of this machine image", err)
	}
	if _, stderr, err := runClient(t, "", py, "-c", "import boto3"); err != nil {
		t.Fatalf("boto3 is not importable by %s (%v): it is part of this machine image, installed with moto; %s", py, err, stderr)
	}
	rig := newAWSRig(t)
	cmd := []string{"-c", botoScript}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, py, cmd...)
	c.Env = append(clientEnv(), "INGEST_URL="+rig.url, "INGEST_BUS="+testBus, "INGEST_STREAM="+testStream,
		"INGEST_GOOD="+cancelled("boto1"), "INGEST_BAD="+badCancelled("boto2"))
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, stderr.String())
	}
	var out map[string]map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("boto3 output: %v: %s", err, stdout.String())
	}

	pe := out["put_events"]
	if pe["FailedEntryCount"] != float64(2) {
		t.Errorf("put_events: %v", pe)
	} else {
		es := pe["Entries"].([]any)
		if es[0].(map[string]any)["EventId"] == nil || es[1].(map[string]any)["ErrorCode"] != "InvalidArgument" ||
			es[2].(map[string]any)["ErrorCode"] != "ResourceNotFoundException" {
			t.Errorf("put_events entries: %v", es)
		}
	}
	pr := out["put_records"]
	if pr["FailedRecordCount"] != float64(1) {
		t.Errorf("put_records: %v", pr)
	} else if rs := pr["Records"].([]any); rs[1].(map[string]any)["ErrorCode"] != "InvalidArgumentException" || rs[2].(map[string]any)["SequenceNumber"] == nil {
		t.Errorf("put_records records: %v", rs)
	}
	if r := out["put_record"]; r["SequenceNumber"] == nil || r["ShardId"] == nil {
		t.Errorf("put_record: %v", r)
	}
	if r := out["put_record_missing"]; r["error"] != "ResourceNotFoundException" {
		t.Errorf("put_record to another stream: %v", r)
	}
	if r := out["describe_event_bus"]; r["Name"] != testBus {
		t.Errorf("describe_event_bus: %v", r)
	}
	if r := out["describe_stream_summary"]; r["StreamDescriptionSummary"] == nil {
		t.Errorf("describe_stream_summary: %v", r)
	}
	if r := out["list_shards"]; r["Shards"] == nil || len(r["Shards"].([]any)) != 2 {
		t.Errorf("list_shards: %v", r)
	}
	recs := rig.stream.got()
	if len(recs) != 3 || string(recs[1].Data) != "\x00raw" {
		t.Errorf("stream: %q", recs)
	}
}
