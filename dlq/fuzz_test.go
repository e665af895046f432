package dlq_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/events/pattern"
)

// FuzzDecode: Decode never panics, and what it accepts has a known shape
// and can be given to a Selector.
func FuzzDecode(f *testing.F) {
	var files []string
	for _, glob := range []string{"*.json", "*/*"} {
		m, _ := filepath.Glob(filepath.Join(samples, glob))
		files = append(files, m...)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "", "", "")
		f.Add(string(b), "SDK_CLIENT_ERROR", "arn:aws:lambda:us-east-1:1:function:f", "3")
	}
	f.Add(`{"requestContext":{"functionArn":"arn:aws:lambda:r:1:function:f"},"requestPayload":"x","responsePayload":"y"}`, "", "", "")
	f.Add(`{"KinesisBatchInfo":{"shardId":"s","streamArn":"a","startSequenceNumber":"1"}}`, "", "", "")
	f.Add(`{"DDBStreamBatchInfo":{}}`, "", "", "")
	f.Add("H4sI", "", "", "")
	f.Add("", "X", "", "-1")

	sel := dlq.Selector{Consumer: "f", Filter: pattern.MustCompile(`{"detail-type":[{"prefix":""}]}`)}
	known := map[dlq.Shape]bool{}
	for _, s := range dlq.Shapes() {
		known[s] = true
	}
	f.Fuzz(func(t *testing.T, body, code, target, retries string) {
		attrs := map[string]string{}
		for k, v := range map[string]string{"ERROR_CODE": code, "TARGET_ARN": target, "RETRY_ATTEMPTS": retries} {
			if v != "" {
				attrs[k] = v
			}
		}
		m, err := dlq.Decode(body, attrs)
		if err != nil {
			return
		}
		if !known[m.Shape] {
			t.Fatalf("Decode accepted a message of unknown shape %q", m.Shape)
		}
		if m.Event != nil && m.Raw != nil {
			t.Fatalf("Decode set both Event and Raw: %+v", m)
		}
		_, _ = sel.Match(m)
	})
}
