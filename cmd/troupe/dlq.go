package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/events/pattern"
	"github.com/troupehq/troupe/local/devclient"
)

// dlqFlags are the flags every dlq subcommand shares: where the queues are,
// and which messages to act on.
type dlqFlags struct {
	local    bool
	devAddr  string
	aws      awsDLQFlags
	consumer string
	filter   string
	since    string
	until    string
	limit    int
	output   string
}

func (f *dlqFlags) addWhere(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.local, "local", false, "the queues of a running troupe dev (at --dev-addr)")
	fl.StringVar(&f.devAddr, "dev-addr", envOr("TROUPE_DEV_ADDR", DefaultDevAddr), "the troupe dev address, with --local [$TROUPE_DEV_ADDR]")
	f.aws.add(cmd, &f.consumer)
}

func (f *dlqFlags) addSelect(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.consumer, "consumer", "", "only this consumer's messages")
	fl.StringVar(&f.filter, "filter", "", `only events matching this EventBridge pattern (JSON or @FILE), e.g. '{"detail-type":["orders.OrderPlaced"]}'`)
	fl.StringVar(&f.since, "since", "", "only messages that last failed at or after this time (RFC 3339, or a duration ago: 2h)")
	fl.StringVar(&f.until, "until", "", "only messages that last failed before this time (RFC 3339, or a duration ago)")
	fl.IntVar(&f.limit, "limit", 0, "act on at most this many messages (0: all)")
}

// selector builds the dlq.Selector of the flags.
func (f *dlqFlags) selector(stdin io.Reader) (dlq.Selector, error) {
	// --consumer picks the queues (see site), not messages: in a consumer's
	// queue, a message in an AWS shape names the function, not the consumer.
	var sel dlq.Selector
	if f.filter != "" {
		raw, err := readData(stdin, f.filter)
		if err != nil {
			return sel, fmt.Errorf("--filter: %w", err)
		}
		if sel.Filter, err = pattern.Compile(raw); err != nil {
			return sel, fmt.Errorf("--filter: %w", err)
		}
	}
	var err error
	if sel.Since, err = parseWhen("--since", f.since); err != nil {
		return sel, err
	}
	if sel.Until, err = parseWhen("--until", f.until); err != nil {
		return sel, err
	}
	return sel, nil
}

// parseWhen reads a time: RFC 3339, or a duration meaning that long ago.
func parseWhen(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: give an RFC 3339 time (2026-11-23T09:00:00Z) or a duration ago (90m, 2h)", flag, s)
}

// site is where the queues are: each consumer's queue and how to redeliver.
type site struct {
	queues      []dlq.QueueInfo
	open        func(dlq.QueueInfo) dlq.Queue
	redeliverer dlq.Redeliverer
	// oldest, when set, finds when a queue's oldest message arrived where
	// the queue itself does not say (SQS tells it to CloudWatch only).
	oldest func(context.Context, dlq.QueueInfo) (time.Time, error)
}

// site resolves the flags to the queues in scope (all, or --consumer's).
func (f *dlqFlags) site(ctx context.Context) (*site, error) {
	var s *site
	var err error
	switch {
	case f.local && f.aws.set():
		return nil, errors.New("--local and --stack/--queue both given: choose troupe dev or AWS")
	case f.local:
		s, err = localSite(ctx, f.devAddr)
	case f.aws.set():
		s, err = f.aws.site(ctx)
	default:
		return nil, errors.New("say where the queues are: --local (troupe dev), --stack NAME (the CDK stack's outputs) or --queue URL|NAME")
	}
	if err != nil {
		return nil, err
	}
	if f.consumer != "" {
		var in []dlq.QueueInfo
		for _, q := range s.queues {
			if q.Consumer == f.consumer {
				in = append(in, q)
			}
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("--consumer %q: no such consumer's queue here (%s)", f.consumer, consumerList(s.queues))
		}
		s.queues = in
	}
	return s, nil
}

func consumerList(qs []dlq.QueueInfo) string {
	var names []string
	for _, q := range qs {
		names = append(names, q.Consumer)
	}
	return "consumers: " + strings.Join(names, ", ")
}

func localSite(ctx context.Context, addr string) (*site, error) {
	c := devclient.New(addr)
	qs, err := c.Queues(ctx)
	if err != nil {
		return nil, err
	}
	return &site{
		queues:      qs,
		open:        func(q dlq.QueueInfo) dlq.Queue { return c.Queue(q.Consumer) },
		redeliverer: c.Redeliverer(),
	}, nil
}

func newDLQCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Inspect, replay, export and purge dead letters, on AWS and on troupe dev",
		Long: `dlq reads every consumer's dead-letter queue, whatever wrote the message:
troupe's own dead letter, an EventBridge rule target's DLQ message, a Lambda
asynchronous-invocation failure record, or a Kinesis event source mapping
failure record (replayed by reading the records back from the stream).

A replay redelivers each event to the consumer that failed it, and only to
it: on AWS by invoking that consumer's function asynchronously with the event
as its trigger sends it; on troupe dev through the engine's redelivery. A
message is deleted only after its redelivery is acknowledged, so a replay
stopped at any point loses nothing, and the consumer's idempotency makes a
second replay of the same event harmless.

Say where the queues are: --local (a running troupe dev), --stack NAME (the
CDK stack's outputs), or --queue URL|NAME with --function NAME.`,
		Example: `  troupe dlq ls --local
  troupe dlq show --local --consumer payments
  troupe dlq replay --local --consumer payments --dry-run
  troupe dlq replay --stack troupe-orders --filter '{"detail-type":["orders.OrderPlaced"]}' --rate 20
  troupe dlq export failed.jsonl --stack troupe-orders --drain
  troupe dlq replay --stack troupe-orders --from-file failed.jsonl
  troupe dlq purge --local --consumer shipping --yes`,
	}
	cmd.AddCommand(newDLQLsCmd(), newDLQShowCmd(), newDLQReplayCmd(), newDLQExportCmd(), newDLQPurgeCmd())
	return cmd
}

// failures is a command's error when some messages failed: exit code 1,
// after the per-message report.
type failures struct{ sum dlq.Summary }

func (f failures) Error() string {
	return fmt.Sprintf("%d failed, %d unreadable (reported above; they are still in their queues)", f.sum.Failed, f.sum.Unreadable)
}

func checkOutput(o string) error {
	if o != "table" && o != "json" {
		return fmt.Errorf("--output %q: use table or json", o)
	}
	return nil
}

func writeJSONLine(w io.Writer, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

// stdinOf is the command's stdin as a reader (for --filter @-).
func stdinOf(cmd *cobra.Command) io.Reader {
	if r := cmd.InOrStdin(); r != nil {
		return r
	}
	return os.Stdin
}
