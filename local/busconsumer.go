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
			dl := consumers.DeadLetter{
				Consumer: c.Name, Error: cause.Error(), Reason: consumers.Reason(cause), Attempts: attempts,
				FirstFailure: time.Now(), LastFailure: time.Now(), Origin: consumers.Origin{Source: "bus", Rule: c.Name},
			}
			if env, err := consumers.EnvelopeFromBus(event); err == nil {
				dl.Envelope = &env
			} else {
				dl.Raw = event
			}
			return e.dlq.Send(ctx, dl)
		},
		Concurrency: c.Function.Concurrency,
	}
}
