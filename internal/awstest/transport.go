package awstest

import (
	"bytes"
	"io"
	"net/http"
	"sync"
)

// Transport is how tests reach the emulator: http.DefaultTransport, except
// that Kinesis writes go one at a time. moto appends records to a shard
// without a lock, and concurrent PutRecords calls lose records there
// (seen: 999 of 1,001 records stored), which Kinesis never does. The code
// under test still sends concurrently; only the emulator sees the writes in
// turn.
var Transport http.RoundTripper = &serialTargets{
	next:    http.DefaultTransport,
	targets: map[string]bool{"Kinesis_20131202.PutRecords": true, "Kinesis_20131202.PutRecord": true},
}

type serialTargets struct {
	next    http.RoundTripper
	targets map[string]bool
	mu      sync.Mutex
}

func (s *serialTargets) RoundTrip(req *http.Request) (*http.Response, error) {
	if !s.targets[req.Header.Get("X-Amz-Target")] {
		return s.next.RoundTrip(req)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	resp, err := s.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	// Read the body while holding the lock: moto has finished the write
	// once it has answered in full.
	return bufferBody(resp)
}

// bufferBody reads resp's body into memory and gives it back readable.
func bufferBody(resp *http.Response) (*http.Response, error) {
	b, err := readAll(resp.Body)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}
