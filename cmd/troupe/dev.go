package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/console"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/local"
	"github.com/troupehq/troupe/schemas"
)

// DefaultDevAddr is where `troupe dev` listens unless told otherwise.
const DefaultDevAddr = "127.0.0.1:4195"

type devFlags struct {
	addr, dataDir string
	shards        int
	traceEvents   int
	verbose       bool
}

func newDevCmd() *cobra.Command {
	var f devFlags
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole choreography on this machine: bus, stream and every consumer",
		Long: `dev runs the sample order choreography in one process, with no Docker and no
AWS account: the bus (rules from the topology, matched with the full
EventBridge pattern language), the stream (shards by partition-key hash,
order per key), and every consumer, with the same retry, idempotency and
dead-letter semantics as on AWS. What it acknowledges is on disk in
--data-dir and survives a crash.

Any system can publish to it: troupe publish, CloudEvents over HTTP, and any
AWS SDK or the AWS CLI with --endpoint-url pointed at it. It listens on
127.0.0.1 unless --addr says otherwise. Ctrl-C stops it; undelivered events
stay on disk for the next start.`,
		Example: `  troupe dev
  troupe dev --addr 127.0.0.1:4300 --data-dir /tmp/troupe

  # publish from elsewhere, with the AWS CLI
  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1 \
    aws --endpoint-url http://127.0.0.1:4195 events put-events --entries \
    '[{"Source":"shop","DetailType":"orders.OrderPlaced","Detail":"{...}"}]'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDev(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", DefaultDevAddr, "address to listen on (host:port)")
	fl.StringVar(&f.dataDir, "data-dir", ".troupe", "directory of the engine's state")
	fl.IntVar(&f.shards, "shards", 4, "shards of the stream (fixed when the data directory is created)")
	fl.IntVar(&f.traceEvents, "trace-events", local.DefaultTraceEvents, "how many recent events the trace keeps for troupe trace and the console (about 1 KB of memory each)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log every delivery, not only warnings")
	return cmd
}

func runDev(cmd *cobra.Command, f devFlags) error {
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	top, err := choreography.Topology()
	if err != nil {
		return err
	}
	local.TuneGC()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (%v): stop what uses it, or give another --addr", f.addr, err)
	}
	eng, err := local.Open(local.Config{DataDir: f.dataDir, Topology: top, Validator: schemas.Sample(), Shards: f.shards, TraceEvents: f.traceEvents, Logger: logger})
	if err != nil {
		ln.Close()
		return err
	}
	ctx := cmd.Context()
	if err := eng.Start(ctx); err != nil {
		ln.Close()
		eng.Close()
		return err
	}
	// The web console shares the engine's address: GET / and /console/ are
	// its; everything else (POST / included) is the engine's.
	cons, err := console.New(console.Config{Engine: eng, Topology: top, Registry: domain.Registry(), Schemas: schemas.Sample()})
	if err != nil {
		ln.Close()
		eng.Close()
		return err
	}
	// The listener is bound: print the endpoints first, so that whoever
	// sees an answer has the banner too.
	printEndpoints(cmd.OutOrStdout(), ln.Addr().String(), f.dataDir, eng, top.Name)
	srv := &http.Server{Handler: cons.Handler(eng.Handler()), ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(cons.Close) // its live streams would hold Shutdown up
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if isTerminal(os.Stdout) {
		go liveSummary(ctx, cmd.OutOrStdout(), eng)
	}

	select {
	case <-ctx.Done():
	case err = <-served:
	}
	fmt.Fprintln(cmd.OutOrStdout(), "troupe dev: stopping; undelivered events stay on disk")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(ignoreClosed(err), srv.Shutdown(shutdown), eng.Close())
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func printEndpoints(w io.Writer, addr, dataDir string, eng *local.Engine, name string) {
	url := "http://" + addr
	st, _ := eng.Status(context.Background())
	var names []string
	for _, c := range st.Consumers {
		names = append(names, c.Name+" ("+c.Subscription+")")
	}
	abs, _ := filepath.Abs(filepath.Join(dataDir, "troupe.db"))
	fmt.Fprintf(w, `troupe dev: %s running, state in %s
  consumers     %s
  console       %s%s   (live graph, traces, dead letters, test events: open it in a browser)
  AWS endpoint  %s   (EventBridge PutEvents to bus %q; Kinesis PutRecord(s) to stream %q)
  CloudEvents   POST %s%s   (application/cloudevents+json or application/cloudevents-batch+json)
  status        GET  %s%s
  publish       troupe publish orders.OrderPlaced --to local --data @testdata/events/orders.OrderPlaced/v2/placed.json
Ctrl-C stops it.
`, name, abs, strings.Join(names, ", "), url, console.Path, url, st.Bus, st.Stream, url, local.PathCloudEvents, url, local.PathStatus)
	_ = os.Stdout.Sync()
}

// isTerminal reports whether f is a terminal (not merely a character
// device: /dev/null is one too).
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// liveSummary prints one line every few seconds while something changes:
// what the consumers handled, skipped as duplicates and dead-lettered, and
// what is still pending.
func liveSummary(ctx context.Context, w io.Writer, eng *local.Engine) {
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			st, err := eng.Status(ctx)
			if err != nil {
				continue
			}
			var handled, dups, dead, pending int64
			var lag uint64
			dlq := 0
			for _, c := range st.Consumers {
				handled, dups, dead, pending, lag = handled+c.Handled, dups+c.Duplicates, dead+c.DeadLettered, pending+c.Pending, lag+c.Lag
				dlq += c.DLQ
			}
			line := fmt.Sprintf("handled %d  duplicates %d  dead-lettered %d  pending %d  stream lag %d  in DLQs %d", handled, dups, dead, pending, lag, dlq)
			if line != last {
				fmt.Fprintf(w, "%s  %s\n", now.Format("15:04:05"), line)
				last = line
			}
		}
	}
}
