// Command troupe is the CLI of troupe, the event-driven choreography platform
// for Go on AWS: publish events, check schemas, test event patterns.
package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

// exitCode maps a command's error to the process exit code: an error that
// carries its own code (interface{ ExitCode() int }) keeps it, any other
// error is 1. The error itself has been printed by cobra already.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return 1
}
