package redrive_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/troupehq/troupe/aws/redrive"
	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/dlq"
)

// Replay the dead letters of every consumer of a deployed stack: find each
// consumer's DLQ and function in the stack's outputs, drain the queue, hand
// each message back to the consumer that failed it, and delete it once
// Lambda has queued the invocation. (`troupe dlq replay` does this, with
// selection, rate limits and a dry run.)
func Example() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	topo, err := choreography.Topology()
	if err != nil {
		log.Fatal(err)
	}
	deps, err := redrive.OutputsFromConfig(ctx, awsCfg, "troupe-shop", topo)
	if err != nil {
		log.Fatal(err) // e.g. "stack troupe-shop (...) has no output BillingDlqUrl (consumer billing): ..."
	}
	to, err := redrive.NewLambdaRedelivererFromConfig(awsCfg, redrive.LambdaConfig{Topology: topo, Deployments: deps})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range deps {
		q, err := redrive.NewSQSQueueFromConfig(awsCfg, redrive.QueueConfig{QueueURL: d.DLQURL, Consumer: d.Consumer})
		if err != nil {
			log.Fatal(err)
		}
		for {
			batch, err := q.Receive(ctx, redrive.MaxBatch)
			if err != nil {
				log.Fatal(err)
			}
			if len(batch) == 0 {
				break // the end of the queue
			}
			var done, kept []dlq.Entry
			for _, e := range batch {
				err := to.Redeliver(ctx, e)
				switch {
				case err == nil:
					done = append(done, e)
				case errors.Is(err, redrive.ErrPastRetention), errors.Is(err, redrive.ErrNotRedeliverable):
					fmt.Println("kept for good:", err)
					kept = append(kept, e)
				default:
					fmt.Println("kept, try again:", err)
					kept = append(kept, e)
				}
			}
			if err := q.Delete(ctx, done); err != nil {
				fmt.Println(err) // the next replay redelivers them; idempotency makes that harmless
			}
			if err := q.Release(ctx, kept); err != nil {
				fmt.Println(err)
			}
		}
	}
}
