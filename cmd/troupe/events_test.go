package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runEvents(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := newEventsCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	code = 0
	if err != nil {
		var coded interface{ ExitCode() int }
		if !errors.As(err, &coded) {
			t.Fatalf("error %v has no exit code", err)
		}
		code = coded.ExitCode()
	}
	return out.String(), errOut.String(), code
}

func TestTestPattern(t *testing.T) {
	dir := t.TempDir()
	patternFile := filepath.Join(dir, "rule.json")
	if err := os.WriteFile(patternFile, []byte(`{"source":["orders"],"detail":{"amount":[{"numeric":[">",100]}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	match := `{"source":"orders","detail":{"amount":250}}`
	miss := `{"source":"orders","detail":{"amount":50}}`
	tests := []struct {
		name       string
		stdin      string
		args       []string
		out        string
		code       int
		errContain string
	}{
		{"inline match", "", []string{"test-pattern", "--pattern", `{"source":["orders"]}`, "--event", match}, "true\n", 0, ""},
		{"file match", "", []string{"test-pattern", "--pattern", patternFile, "--event", match}, "true\n", 0, ""},
		{"at file", "", []string{"test-pattern", "--pattern", "@" + patternFile, "--event", match}, "true\n", 0, ""},
		{"no match", "", []string{"test-pattern", "--pattern", patternFile, "--event", miss}, "false\n", 1, ""},
		{"stdin event", match, []string{"test-pattern", "--pattern", patternFile, "--event", "-"}, "true\n", 0, ""},
		{"invalid pattern", "", []string{"test-pattern", "--pattern", `{"detail":{"amount":[{"numeric":[">",10,"<",5]}]}}`, "--event", match}, "", 2, "detail.amount: numeric: range lower bound 10 is above upper bound 5"},
		{"invalid event", "", []string{"test-pattern", "--pattern", patternFile, "--event", `{"source":`}, "", 2, "invalid JSON"},
		{"missing file", "", []string{"test-pattern", "--pattern", filepath.Join(dir, "nope.json"), "--event", match}, "", 2, "nope.json"},
		{"both stdin", "{}", []string{"test-pattern", "--pattern", "-", "--event", "-"}, "", 2, "cannot both read stdin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runEvents(t, tc.stdin, tc.args...)
			if out != tc.out || code != tc.code {
				t.Fatalf("stdout %q, code %d; want %q, %d (stderr %q)", out, code, tc.out, tc.code, errOut)
			}
			if tc.errContain == "" && errOut != "" {
				t.Fatalf("stderr %q, want none", errOut)
			}
			if !strings.Contains(errOut, tc.errContain) {
				t.Fatalf("stderr %q, want it to contain %q", errOut, tc.errContain)
			}
		})
	}
}

func TestTestPatternExitErrorMessage(t *testing.T) {
	e := &exitError{code: 1}
	if e.Error() != "" || e.ExitCode() != 1 || e.Unwrap() != nil {
		t.Fatalf("exitError{1} = %q, %d, %v", e.Error(), e.ExitCode(), e.Unwrap())
	}
}

func TestTestPatternHelp(t *testing.T) {
	out, _, code := runEvents(t, "", "test-pattern", "--help")
	if code != 0 || !strings.Contains(out, "aws events test-event-pattern") || !strings.Contains(out, "Exit status") {
		t.Fatalf("help: code %d, %q", code, out)
	}
}
