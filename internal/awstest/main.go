// Package awstest is test support for code that talks to AWS: it runs the
// tests of a package against an AWS emulator (moto), hands out unique resource
// names so tests can run in parallel against one emulator, creates buses,
// queues and streams with cleanup, reads back what was delivered, and injects
// faults into AWS responses in their real wire shape.
//
// A package's tests start with
//
//	func TestMain(m *testing.M) { awstest.Main(m) }
//
// and then call Config(t) for an aws.Config that points at the emulator.
package awstest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvEndpoint names the environment variable that points the tests at an
// emulator that is already running (e.g. http://127.0.0.1:5000). When it is
// unset, Main starts moto_server itself.
const EnvEndpoint = "TROUPE_TEST_AWS_ENDPOINT"

// startTimeout bounds how long Main waits for a fresh moto_server to answer.
const startTimeout = 30 * time.Second

// endpoint is the emulator's base URL, set once by Main before any test runs.
var endpoint string

// Endpoint returns the emulator's base URL, or "" when Main has not run.
func Endpoint() string { return endpoint }

// Main runs the tests of a package against an AWS emulator and exits with
// their code. Call it from TestMain.
//
// If TROUPE_TEST_AWS_ENDPOINT is set, the tests use that emulator. Otherwise
// Main starts `moto_server -H 127.0.0.1 -p <free port>` (found on PATH), waits
// until it answers, runs the tests and stops the server by its PID, also when
// the run is interrupted. When moto_server cannot be found or does not start,
// Main says so and exits non-zero: the tests are never skipped.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		endpoint = strings.TrimRight(ep, "/")
		return m.Run()
	}
	srv, err := startMoto()
	if err != nil {
		fmt.Fprintf(os.Stderr, "awstest: %v\n", err)
		return 2
	}
	defer srv.stop()

	// Stop the emulator on Ctrl-C or a kill from go test's timeout too. The
	// child also carries Pdeathsig, so it dies with this process if a test
	// panics and the deferred stop never runs.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		srv.stop()
		fmt.Fprintf(os.Stderr, "awstest: stopped moto_server on %v\n", s)
		os.Exit(1)
	}()
	defer signal.Stop(sigs)

	endpoint = srv.url
	return m.Run()
}

const motoMissing = `moto_server was not found on PATH.

These tests run against moto (https://github.com/getmoto/moto), an emulator
of the AWS APIs (EventBridge, Kinesis, SQS, DynamoDB) that runs locally with no
AWS account. Install it (pip install 'moto[server]'; moto 5.2.1 is known to
work) so that moto_server is on PATH, or start one yourself and point the tests
at it with %s=http://127.0.0.1:PORT. 'make test' starts it for you.`

type motoServer struct {
	url  string
	cmd  *exec.Cmd
	log  *os.File
	once sync.Once
}

func startMoto() (*motoServer, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf(motoMissing, EnvEndpoint)
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("find a free port for moto_server: %w", err)
	}
	logf, err := os.CreateTemp("", "awstest-moto-*.log")
	if err != nil {
		return nil, fmt.Errorf("create moto_server log: %w", err)
	}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own process group, so stop reaches python behind any wrapper script;
	// Pdeathsig, so the server dies with the test binary even on a panic.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.Remove(logf.Name())
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	srv := &motoServer{url: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, log: logf}

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := waitReady(srv.url, exited); err != nil {
		srv.stop()
		return nil, fmt.Errorf("moto_server (%s) did not start: %w\n--- its output:\n%s", path, err, srv.output())
	}
	return srv, nil
}

// waitReady polls /moto-api/ until the server answers, it exits, or
// startTimeout passes.
func waitReady(url string, exited <-chan error) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("it exited: %v", err)
		default:
		}
		resp, err := client.Get(url + "/moto-api/")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("no answer from " + url + "/moto-api/ within " + startTimeout.String())
}

func (s *motoServer) output() string {
	b, err := os.ReadFile(s.log.Name())
	if err != nil {
		return err.Error()
	}
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// stop kills the server's process group (its PID is the group id) and
// removes its log. It is safe to call more than once.
func (s *motoServer) stop() {
	s.once.Do(func() {
		if p := s.cmd.Process; p != nil {
			_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
		}
		s.log.Close()
		os.Remove(s.log.Name())
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
