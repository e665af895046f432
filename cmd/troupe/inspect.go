package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/troupehq/troupe/local"
)

func newTraceCmd() *cobra.Command {
	var addr string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "trace EVENT_ID|CORRELATION_ID",
		Short: "Show an event's chain in troupe dev: every event and every consumer's outcome",
		Long: `trace asks a running troupe dev for the chain an event belongs to: every
event that shares its correlation id, in publish order, with the legs it went
to and, for each consumer that received it, the outcome (handled, duplicate,
dead-lettered, failed and to be delivered again), the attempts, the time it
took and the events it emitted.`,
		Example: `  troupe trace 019593fa-5d95-744e-b7fd-bf94c690a9c1
  troupe trace 019593fa-5d95-744e-b7fd-bf94c690a9c1 --json | jq '.events[].type'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var tr local.Trace
			if err := getDev(addr, local.PathTrace+url.PathEscape(args[0]), &tr); err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(tr)
			}
			printTrace(cmd.OutOrStdout(), tr)
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", envOr("TROUPE_DEV_ADDR", DefaultDevAddr), "the troupe dev address [$TROUPE_DEV_ADDR]")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the trace as JSON")
	return cmd
}

func newStatusCmd() *cobra.Command {
	var addr string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show troupe dev's consumers: deliveries, retries, dead letters, lag",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st local.Status
			if err := getDev(addr, local.PathStatus, &st); err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(st)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "CONSUMER\tON\tHANDLED\tDUPLICATES\tDELIVERED\tRETRIED\tDEAD-LETTERED\tPENDING\tLAG\tDLQ\n")
			for _, c := range st.Consumers {
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", c.Name, c.Subscription, c.Handled, c.Duplicates,
					c.Delivered, c.Retried, c.DeadLettered, c.Pending, c.Lag, c.DLQ)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&addr, "addr", envOr("TROUPE_DEV_ADDR", DefaultDevAddr), "the troupe dev address [$TROUPE_DEV_ADDR]")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

// getDev GETs a troupe dev endpoint into v.
func getDev(addr, path string, v any) error {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return fmt.Errorf("no troupe dev answers on %s (%v): start it with `troupe dev`, or give --addr", addr, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("troupe dev: %s", strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, v)
}

func printTrace(w io.Writer, tr local.Trace) {
	fmt.Fprintf(w, "correlation %s: %d event(s)\n", tr.CorrelationID, len(tr.Events))
	if len(tr.Events) == 0 {
		return
	}
	t0 := tr.Events[0].PublishedAt
	for _, e := range tr.Events {
		fmt.Fprintf(w, "+%-7s %s v%d  %s  (%s)\n", e.PublishedAt.Sub(t0).Round(time.Millisecond), e.Type, e.Version, e.ID, strings.Join(e.Legs, ", "))
		for _, o := range e.Outcomes {
			line := fmt.Sprintf("          %-10s %-13s %d attempt(s)  %v", o.Consumer, o.Kind, o.Attempts, o.Duration.Round(time.Microsecond))
			if len(o.Emitted) > 0 {
				line += "  emitted " + strings.Join(o.Emitted, ", ")
			}
			if o.Error != "" {
				line += "  error: " + o.Error
			}
			fmt.Fprintln(w, line)
		}
	}
}
