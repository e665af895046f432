// Package lambdart is a small Lambda Runtime API server for tests: it lets a
// test run a real `bootstrap` binary as a process and invoke it the way the
// Lambda service does (GET next, POST response or error).
package lambdart

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const prefix = "/2018-06-01/runtime/"

// Result is the outcome of one invocation.
type Result struct {
	RequestID string
	Body      []byte // the response, or the error document
	IsError   bool
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	result   chan Result
}

// Server is a Runtime API on 127.0.0.1, for one function process.
type Server struct {
	// Addr is host:port, the value of AWS_LAMBDA_RUNTIME_API.
	Addr string

	srv     *http.Server
	queue   chan *invocation
	mu      sync.Mutex
	pending map[string]*invocation
	first   chan time.Time // the time of the first GET next
	once    sync.Once
	initErr chan []byte
}

// Start serves a Runtime API until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Addr: ln.Addr().String(), queue: make(chan *invocation), pending: map[string]*invocation{},
		first: make(chan time.Time, 1), initErr: make(chan []byte, 1),
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// FirstNext returns when the function first asked for an invocation: the end
// of its init. It fails the test if that takes longer than timeout, or if the
// function reported an init error.
func (s *Server) FirstNext(t testing.TB, timeout time.Duration) time.Time {
	t.Helper()
	select {
	case at := <-s.first:
		s.first <- at
		return at
	case body := <-s.initErr:
		t.Fatalf("the function failed its init: %s", body)
	case <-time.After(timeout):
		t.Fatalf("the function did not ask for an invocation within %v", timeout)
	}
	return time.Time{}
}

// Invoke hands payload to the function and waits for its response or error.
func (s *Server) Invoke(t testing.TB, payload []byte, timeout time.Duration) Result {
	t.Helper()
	inv := &invocation{
		id: fmt.Sprintf("req-%d", time.Now().UnixNano()), payload: payload,
		deadline: time.Now().Add(timeout), result: make(chan Result, 1),
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	select {
	case s.queue <- inv:
	case <-ctx.Done():
		t.Fatalf("the function did not take the invocation within %v", timeout)
	}
	select {
	case r := <-inv.result:
		return r
	case <-ctx.Done():
		t.Fatalf("the function did not answer within %v", timeout)
	}
	return Result{}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, prefix)
	switch {
	case r.Method == http.MethodGet && path == "invocation/next":
		s.next(w, r)
	case r.Method == http.MethodPost && path == "init/error":
		body, _ := io.ReadAll(r.Body)
		s.initErr <- body
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		id, kind, _ := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		inv := s.pending[id]
		delete(s.pending, id)
		s.mu.Unlock()
		if inv == nil || (kind != "response" && kind != "error") {
			http.Error(w, "unknown invocation", http.StatusBadRequest)
			return
		}
		inv.result <- Result{RequestID: id, Body: body, IsError: kind == "error"}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.once.Do(func() { s.first <- time.Now() })
	select {
	case inv := <-s.queue:
		s.mu.Lock()
		s.pending[inv.id] = inv
		s.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(inv.deadline.UnixMilli()))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:test")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	}
}
