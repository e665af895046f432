package local

import (
	"context"
	"time"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/local/bus"
	"github.com/troupehq/troupe/topology"
)

// busTarget makes a bus consumer a target of the local bus, as on AWS a rule
// targets the consumer's function: each matching event is handed to the
// runtime; an error is retried like Lambda's asynchronous invocation retries
// (Async.MaximumRetryAttempts, Async.MaximumEventAgeInSeconds), then the
// event goes to the consumer's DLQ, as Lambda's OnFailure destination would
// send it.
func (e *Engine) busTarget(c topology.Consumer, rt *consumers.Runtime) bus.Target {
	return bus.Target{
		Name:    c.Name,
		Pattern: c.Bus.Compiled(),
		Deliver: func(ctx context.Context, event []byte) error { return rt.HandleBusEvent(ctx, event) },
		RetryPolicy: bus.RetryPolicy{
			MaximumRetryAttempts:     c.Async.MaximumRetryAttempts,
			MaximumEventAgeInSeconds: c.Async.MaximumEventAgeInSeconds,
		},
		// Lambda waits about a minute, then two, between async retries;
		// locally the same shape, shorter.
		Backoff: bus.Backoff{Base: 500 * time.Millisecond, Max: 10 * time.Second},
		DeadLetter: func(ctx context.Context, event []byte, cause error, attempts int) error {
			return e.dlq.Send(ctx, deadLetterOf(c.Name, event, cause, attempts, consumers.Origin{Source: "bus", Rule: c.Name}))
		},
		Concurrency: e.cfg.BusConcurrency,
	}
}
