package awstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// X-Amz-Target values (AWS JSON 1.1) of the calls the adapters make. A
// FaultInjector fails entries of PutEvents and PutRecords; any call as a
// whole.
const (
	TargetPutEvents             = "AWSEvents.PutEvents"
	TargetDescribeEventBus      = "AWSEvents.DescribeEventBus"
	TargetPutRecords            = "Kinesis_20131202.PutRecords"
	TargetDescribeStreamSummary = "Kinesis_20131202.DescribeStreamSummary"
)

// EntryFault decides, for entry i of a batch call (its JSON as sent), whether
// it fails and with which per-entry ErrorCode. An empty code with fail set
// means the target's usual throttling code: ThrottlingException for
// PutEvents, ProvisionedThroughputExceededException for PutRecords.
type EntryFault func(i int, entry json.RawMessage) (code string, fail bool)

// CallFault fails a whole call: the injector answers with Status and an AWS
// JSON 1.1 error body of type Code, and the emulator never sees the call,
// unless AfterForward is set.
type CallFault struct {
	Status  int    // e.g. 500, or 400 for ThrottlingException
	Code    string // e.g. "InternalFailure", "ThrottlingException"
	Message string
	// AfterForward makes it a lost answer: the call is carried out by the
	// emulator, and its response replaced by the fault.
	AfterForward bool
}

// batchShape is where a batch call keeps its entries and its failure count,
// in the request and in the response (AWS JSON 1.1).
type batchShape struct {
	list        string // "Entries" or "Records", in request and response alike
	failedCount string // "FailedEntryCount" or "FailedRecordCount"
	defaultCode string
}

var shapes = map[string]batchShape{
	TargetPutEvents:  {list: "Entries", failedCount: "FailedEntryCount", defaultCode: "ThrottlingException"},
	TargetPutRecords: {list: "Records", failedCount: "FailedRecordCount", defaultCode: "ProvisionedThroughputExceededException"},
}

// FaultInjector is an http.RoundTripper in front of the emulator that fails
// chosen calls, or chosen entries of chosen PutEvents and PutRecords calls, in
// the real AWS response shape, and counts calls per X-Amz-Target.
//
// An entry fault is faithful: the failed entries are removed from the
// request before it is forwarded, so the emulator holds exactly the entries
// reported as accepted; then a failed result ({"ErrorCode": ...,
// "ErrorMessage": ...}) is spliced into the response at each failed entry's
// position, and FailedEntryCount / FailedRecordCount is raised to match. If
// every entry fails the call is not forwarded at all.
//
// Faults are queued per target and each applies to one call. Use it through
// a service client's options:
//
//	inj := awstest.NewFaultInjector(http.DefaultTransport)
//	client := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.HTTPClient = inj.Client() })
//
// A FaultInjector is safe for concurrent use.
type FaultInjector struct {
	next http.RoundTripper

	mu          sync.Mutex
	calls       map[string]int
	maxEntries  map[string]int // the largest batch seen per target
	entryFaults map[string][]EntryFault
	callFaults  map[string][]CallFault
}

// NewFaultInjector returns an injector that forwards to next
// (Transport when nil).
func NewFaultInjector(next http.RoundTripper) *FaultInjector {
	if next == nil {
		next = Transport
	}
	return &FaultInjector{
		next:        next,
		calls:       map[string]int{},
		maxEntries:  map[string]int{},
		entryFaults: map[string][]EntryFault{},
		callFaults:  map[string][]CallFault{},
	}
}

// Client returns an *http.Client that sends through the injector.
func (f *FaultInjector) Client() *http.Client { return &http.Client{Transport: f} }

// FailNext makes the next call to target (TargetPutEvents or
// TargetPutRecords) fail the entries fault chooses. Each FailNext applies to
// one call; queue several for several calls.
func (f *FaultInjector) FailNext(target string, fault EntryFault) {
	if _, ok := shapes[target]; !ok {
		panic(fmt.Sprintf("awstest: FailNext: cannot fail entries of %q (only %s, %s)", target, TargetPutEvents, TargetPutRecords))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entryFaults[target] = append(f.entryFaults[target], fault)
}

// FailNextCall makes the next call to target (any X-Amz-Target) fail as a
// whole with fault. Queue n of them to outlast an SDK retryer's n attempts.
func (f *FaultInjector) FailNextCall(target string, fault CallFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.callFaults[target] = append(f.callFaults[target], fault)
}

// Calls returns how many calls to target have passed through the injector,
// failed or not.
func (f *FaultInjector) Calls(target string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[target]
}

// MaxEntries returns the most entries (PutEvents) or records (PutRecords)
// one call to target carried.
func (f *FaultInjector) MaxEntries(target string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxEntries[target]
}

// countEntries records the size of a batch call's list, and puts the body
// back for whoever reads it next.
func (f *FaultInjector) countEntries(req *http.Request, shape batchShape) error {
	raw, err := readAll(req.Body)
	if err != nil {
		return fmt.Errorf("awstest: read request body: %w", err)
	}
	setBody(req, raw)
	var body map[string]json.RawMessage
	var entries []json.RawMessage
	if json.Unmarshal(raw, &body) != nil || json.Unmarshal(body[shape.list], &entries) != nil {
		return nil // not a batch as expected: the emulator will say so
	}
	target := req.Header.Get("X-Amz-Target")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maxEntries[target] = max(f.maxEntries[target], len(entries))
	return nil
}

// RoundTrip implements http.RoundTripper.
func (f *FaultInjector) RoundTrip(req *http.Request) (*http.Response, error) {
	target := req.Header.Get("X-Amz-Target")
	f.mu.Lock()
	f.calls[target]++
	var (
		callFault  *CallFault
		entryFault EntryFault
	)
	if q := f.callFaults[target]; len(q) > 0 {
		callFault, f.callFaults[target] = &q[0], q[1:]
	} else if q := f.entryFaults[target]; len(q) > 0 {
		entryFault, f.entryFaults[target] = q[0], q[1:]
	}
	f.mu.Unlock()
	if shape, ok := shapes[target]; ok && req.Body != nil {
		if err := f.countEntries(req, shape); err != nil {
			return nil, err
		}
	}

	switch {
	case callFault != nil && callFault.AfterForward:
		resp, err := f.next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return callFault.response(req), nil
	case callFault != nil:
		if req.Body != nil {
			io.Copy(io.Discard, req.Body)
			req.Body.Close()
		}
		return callFault.response(req), nil
	case entryFault != nil:
		return f.failEntries(req, shapes[target], entryFault)
	default:
		return f.next.RoundTrip(req)
	}
}

// response is the fault's answer to req, in the AWS JSON error shape.
func (c *CallFault) response(req *http.Request) *http.Response {
	body, _ := json.Marshal(map[string]string{"__type": c.Code, "message": c.Message})
	resp := jsonResponse(req, c.Status, body)
	resp.Header.Set("X-Amzn-ErrorType", c.Code)
	return resp
}

// failed is one injected per-entry failure, at its index in the original batch.
type failed struct {
	index int
	code  string
}

func (f *FaultInjector) failEntries(req *http.Request, shape batchShape, fault EntryFault) (*http.Response, error) {
	raw, err := readAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("awstest: read request body: %w", err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("awstest: request is not AWS JSON (%v); does the SDK still use awsjson 1.1 for this call?", err)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(body[shape.list], &entries); err != nil {
		return nil, fmt.Errorf("awstest: request %s: %w", shape.list, err)
	}

	var (
		keep  []json.RawMessage
		fails []failed
	)
	for i, e := range entries {
		if code, fail := fault(i, e); fail {
			if code == "" {
				code = shape.defaultCode
			}
			fails = append(fails, failed{index: i, code: code})
		} else {
			keep = append(keep, e)
		}
	}

	// Forward only the entries that are to succeed.
	var results []json.RawMessage
	respBody := map[string]json.RawMessage{}
	var resp *http.Response
	if len(keep) > 0 {
		body[shape.list], _ = json.Marshal(keep)
		fwdBody, _ := json.Marshal(body)
		fwd := req.Clone(req.Context())
		setBody(fwd, fwdBody)
		resp, err = f.next.RoundTrip(fwd)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return resp, nil // a whole-call error: pass it on as it is
		}
		if enc := resp.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
			resp.Body.Close()
			return nil, fmt.Errorf("awstest: cannot rewrite a response with Content-Encoding %q", enc)
		}
		rb, err := readAll(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("awstest: read response body: %w", err)
		}
		if err := json.Unmarshal(rb, &respBody); err != nil {
			return nil, fmt.Errorf("awstest: response is not AWS JSON: %w", err)
		}
		if err := json.Unmarshal(respBody[shape.list], &results); err != nil {
			return nil, fmt.Errorf("awstest: response %s: %w", shape.list, err)
		}
		if len(results) != len(keep) {
			return nil, fmt.Errorf("awstest: emulator answered %d %s for %d sent", len(results), shape.list, len(keep))
		}
	} else {
		resp = jsonResponse(req, http.StatusOK, nil)
	}

	// Splice the failures back in at their original positions.
	merged := make([]json.RawMessage, 0, len(entries))
	next := 0
	for i := range entries {
		if len(fails) > 0 && fails[0].index == i {
			r, _ := json.Marshal(map[string]string{
				"ErrorCode":    fails[0].code,
				"ErrorMessage": fails[0].code + " injected by awstest.FaultInjector (entry " + strconv.Itoa(i) + ")",
			})
			merged = append(merged, r)
			fails = fails[1:]
			continue
		}
		merged = append(merged, results[next])
		next++
	}
	failedCount := 0
	if c, ok := respBody[shape.failedCount]; ok {
		if err := json.Unmarshal(c, &failedCount); err != nil {
			return nil, fmt.Errorf("awstest: response %s: %w", shape.failedCount, err)
		}
	}
	failedCount += len(entries) - len(keep)
	respBody[shape.list], _ = json.Marshal(merged)
	respBody[shape.failedCount], _ = json.Marshal(failedCount)
	out, _ := json.Marshal(respBody)
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return resp, nil
}

func readAll(rc io.ReadCloser) ([]byte, error) {
	if rc == nil {
		return nil, nil
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// setBody replaces a request's body and fixes its length. The signature is
// left stale: the emulator does not verify it.
func setBody(req *http.Request, b []byte) {
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.ContentLength = int64(len(b))
	req.Header.Del("Content-Length")
}

func jsonResponse(req *http.Request, status int, body []byte) *http.Response {
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-RequestId", "awstest-fault-injector")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
