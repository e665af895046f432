// Package producertest is the conformance suite of the producer ports:
// RunBus for a producers.BusSender, RunStream for a producers.StreamWriter.
// Every adapter runs it (the AWS adapters against an emulator, the local
// engine's in-process), so all backends keep the same contract. What a
// backend cannot show is a Features flag; a test that needs a missing
// feature is skipped with the feature's name.
package producertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/troupehq/troupe/producers"
)

// Features says what a backend supports or exposes beyond the core contract.
type Features struct {
	// TraceHeader: events read back from the bus carry the TraceHeader they
	// were sent with. (EventBridge passes it to X-Ray, not to targets.)
	TraceHeader bool
	// Resources: events read back from the bus carry their Resources.
	Resources bool
	// RejectsMalformedDetail: the bus rejects, entry by entry and not
	// retryable, a Detail that is not JSON (EventBridge: MalformedDetail),
	// and accepts the other entries of the batch.
	RejectsMalformedDetail bool
}

func (f Features) need(t *testing.T, name string, have bool) {
	t.Helper()
	if !have {
		t.Skipf("backend lacks feature %s", name)
	}
}

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

// checkResults checks the shape every batch result shares: one result per
// entry, accepted ones with an id, ids unique (on a stream, unique per shard:
// Kinesis sequence numbers are, and moto counts them per shard from 1).
func checkResults(t *testing.T, results []producers.EntryResult, n int) {
	t.Helper()
	if len(results) != n {
		t.Fatalf("got %d results for %d entries; want one per entry, in order", len(results), n)
	}
	type key struct{ shard, id string }
	seen := map[key]int{}
	for i, r := range results {
		if r.Failed() {
			continue
		}
		if r.ID == "" {
			t.Errorf("result %d: accepted without an ID: %+v", i, r)
			continue
		}
		k := key{r.Shard, r.ID}
		if j, dup := seen[k]; dup {
			t.Errorf("results %d and %d share ID %q (shard %q)", j, i, r.ID, r.Shard)
		}
		seen[k] = i
	}
}

func mustAccepted(t *testing.T, results []producers.EntryResult) {
	t.Helper()
	for i, r := range results {
		if r.Failed() {
			t.Fatalf("result %d rejected: %s: %s", i, r.ErrorCode, r.ErrorMessage)
		}
	}
}

func detail(test string, i int) []byte {
	return fmt.Appendf(nil, `{"specversion":"1.0","type":"producertest.Sent","test":%q,"n":%d,"data":{"nested":[1,2,{"k":"v"}]}}`, test, i)
}
