package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/troupehq/troupe/events/pattern"
)

// exitError is an error that sets the process exit code (main checks for
// interface{ ExitCode() int }). A nil err means "exit with code, print
// nothing".
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the process exit code.
func (e *exitError) ExitCode() int { return e.code }

func newEventsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Work with EventBridge events and event patterns",
	}
	cmd.AddCommand(newTestPatternCmd())
	return cmd
}

func newTestPatternCmd() *cobra.Command {
	var patternArg, eventArg string
	cmd := &cobra.Command{
		Use:   "test-pattern --pattern PATTERN --event EVENT",
		Short: "Test whether an event matches an EventBridge event pattern, offline",
		Long: `test-pattern is the offline twin of "aws events test-event-pattern": it
decides whether the event matches the pattern exactly as EventBridge would,
without calling AWS.

It prints "true" or "false". Exit status: 0 if the event matches, 1 if it does
not, 2 if the pattern or the event is invalid (the reason goes to stderr).

Each of --pattern and --event takes inline JSON (a value starting with "{"),
a file path (optionally prefixed with "@"), or "-" to read standard input
(only one of them can).`,
		Example: `  troupe events test-pattern \
    --pattern '{"source":["orders"],"detail":{"amount":[{"numeric":[">",100]}]}}' \
    --event '{"source":"orders","detail":{"amount":250}}'

  troupe events test-pattern --pattern rule.json --event - < event.json`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true, // we print reasons ourselves; "false" prints nothing
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTestPattern(cmd, patternArg, eventArg)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&patternArg, "pattern", "", `the event pattern: inline JSON, a file path, or "-" for stdin (required)`)
	fl.StringVar(&eventArg, "event", "", `the event: inline JSON, a file path, or "-" for stdin (required)`)
	_ = cmd.MarkFlagRequired("pattern")
	_ = cmd.MarkFlagRequired("event")
	return cmd
}

func runTestPattern(cmd *cobra.Command, patternArg, eventArg string) error {
	invalid := func(err error) error {
		fmt.Fprintln(cmd.ErrOrStderr(), err)
		return &exitError{code: 2, err: err}
	}
	if patternArg == "-" && eventArg == "-" {
		return invalid(errors.New(`--pattern and --event cannot both read stdin ("-")`))
	}
	src, err := readJSONArg(cmd.InOrStdin(), "--pattern", patternArg)
	if err != nil {
		return invalid(err)
	}
	event, err := readJSONArg(cmd.InOrStdin(), "--event", eventArg)
	if err != nil {
		return invalid(err)
	}
	p, err := pattern.Compile(src)
	if err != nil {
		return invalid(err)
	}
	ok, err := p.Match(event)
	if err != nil {
		return invalid(err)
	}
	fmt.Fprintln(cmd.OutOrStdout(), ok)
	if !ok {
		return &exitError{code: 1}
	}
	return nil
}

// readJSONArg returns a flag's JSON: the value itself if it starts with "{",
// stdin for "-" (or "@-"), else the contents of the named file ("@" optional).
func readJSONArg(stdin io.Reader, flag, arg string) ([]byte, error) {
	trimmed := strings.TrimSpace(arg)
	switch {
	case trimmed == "":
		return nil, fmt.Errorf("%s is empty; give inline JSON, a file path, or - for stdin", flag)
	case strings.HasPrefix(trimmed, "{"):
		return []byte(arg), nil
	case trimmed == "-" || trimmed == "@-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("%s: reading stdin: %w", flag, err)
		}
		return b, nil
	}
	path := strings.TrimPrefix(arg, "@")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (a value that does not start with \"{\" is read as a file path)", flag, err)
	}
	return b, nil
}
