package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/troupehq/troupe/dlq"
)

func newDLQLsCmd() *cobra.Command {
	f := &dlqFlags{}
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "Every consumer's dead-letter queue: depth and age of the oldest message",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(f.output); err != nil {
				return err
			}
			s, err := f.site(cmd.Context())
			if err != nil {
				return err
			}
			for i, q := range s.queues {
				if q.Depth == 0 || !q.Oldest.IsZero() || s.oldest == nil {
					continue
				}
				t, err := s.oldest(cmd.Context(), q)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: the age of %s's oldest message: %v\n", q.Consumer, err)
					continue
				}
				s.queues[i].Oldest = t
			}
			if f.output == "json" {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(s.queues)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "CONSUMER\tDEPTH\tOLDEST\tQUEUE")
			for _, q := range s.queues {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", q.Consumer, q.Depth, age(q), q.Queue)
			}
			return w.Flush()
		},
	}
	f.addWhere(cmd)
	cmd.Flags().StringVar(&f.consumer, "consumer", "", "only this consumer's queue")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	return cmd
}

func age(q dlq.QueueInfo) string {
	switch {
	case q.Depth == 0:
		return "-"
	case q.Oldest.IsZero():
		return "?" // CloudWatch has no ApproximateAgeOfOldestMessage for it in the last 15 minutes
	default:
		return time.Since(q.Oldest).Round(time.Second).String()
	}
}

// showRow is one message as `show` prints it.
type showRow struct {
	Queue        string       `json:"queue"`
	ID           string       `json:"id"`
	Shape        dlq.Shape    `json:"shape"`
	Consumer     string       `json:"consumer,omitempty"`
	EventID      string       `json:"eventId,omitempty"`
	Type         string       `json:"type,omitempty"`
	Version      int          `json:"version,omitempty"`
	Error        string       `json:"error,omitempty"`
	Reason       string       `json:"reason,omitempty"`
	Attempts     int          `json:"attempts"`
	FirstFailure time.Time    `json:"firstFailure,omitzero"`
	LastFailure  time.Time    `json:"lastFailure,omitzero"`
	Unreadable   string       `json:"unreadable,omitempty"`
	Message      *dlq.Message `json:"message,omitempty"`
}

func rowOf(e dlq.Entry) showRow {
	r := showRow{Queue: e.Queue, ID: e.ID}
	if e.Err != nil {
		r.Unreadable = e.Err.Error()
		return r
	}
	m := e.Message
	r.Shape, r.Consumer, r.Error, r.Reason, r.Attempts = m.Shape, m.Consumer, m.Error, m.Reason, m.Attempts
	r.FirstFailure, r.LastFailure = m.FirstFailure, m.LastFailure
	if m.Event != nil {
		r.EventID, r.Type, r.Version = m.Event.ID, m.Event.Type, m.Event.DataVersion
	}
	if m.Kinesis != nil {
		r.EventID = fmt.Sprintf("%s %s..%s", m.Kinesis.ShardID, m.Kinesis.StartSequenceNumber, m.Kinesis.EndSequenceNumber)
		r.Type = fmt.Sprintf("(%d Kinesis records)", m.Kinesis.BatchSize)
	}
	r.Message = &m
	return r
}

func newDLQShowCmd() *cobra.Command {
	f := &dlqFlags{}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "List dead letters: event, consumer, error, attempts, first and last failure",
		Long: `show reads the selected queues once and lists their messages, leaving them
in place. With --output json each message is one JSON object per line,
decoded message included. A message troupe cannot read is listed with why.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(f.output); err != nil {
				return err
			}
			sel, err := f.selector(stdinOf(cmd))
			if err != nil {
				return err
			}
			s, err := f.site(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			if f.output == "table" {
				fmt.Fprintln(w, "CONSUMER\tEVENT\tTYPE\tV\tATTEMPTS\tFIRST FAILURE\tLAST FAILURE\tERROR")
			}
			n, unreadable := 0, 0
			for _, q := range s.queues {
				err := dlq.Scan(cmd.Context(), s.open(q), sel, func(e dlq.Entry, selected bool) error {
					if e.Err != nil {
						unreadable++
					} else if !selected {
						return nil
					}
					if f.limit > 0 && n >= f.limit {
						return dlq.ErrStop
					}
					n++
					r := rowOf(e)
					if f.output == "json" {
						r.Message = nil
						if e.Err == nil {
							r.Message = &e.Message
						}
						writeJSONLine(out, r)
						return nil
					}
					if r.Unreadable != "" {
						fmt.Fprintf(w, "%s\t%s\t(unreadable)\t\t\t\t\t%s\n", q.Consumer, r.ID, oneLine(r.Unreadable, 120))
						return nil
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", orDash(r.Consumer), r.EventID, r.Type, r.Version, r.Attempts,
						when(r.FirstFailure), when(r.LastFailure), oneLine(r.Error, 80))
					return nil
				})
				if err != nil {
					return fmt.Errorf("queue %s: %w", q.Queue, err)
				}
			}
			if f.output == "table" {
				if err := w.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d messages", n)
				if unreadable > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), " (%d unreadable: kept, never deleted)", unreadable)
				}
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			return nil
		},
	}
	f.addWhere(cmd)
	f.addSelect(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

type replayFlags struct {
	dlqFlags
	dryRun      bool
	keep        bool
	rate        float64
	concurrency int
	fromFile    string
}

func newDLQReplayCmd() *cobra.Command {
	f := &replayFlags{}
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Redeliver dead letters to the consumer that failed them, then delete them",
		Long: `replay redelivers each selected message to the consumer that failed it, and
only to it, and deletes it from its queue once the redelivery is acknowledged
(--keep leaves it). Each message's result is printed as it happens (a JSON
object per line with --output json); a progress bar shows on a terminal.
The exit code is 1 if any message failed or could not be read: those stay in
their queues.

--from-file replays a file written by ` + "`troupe dlq export`" + ` (edit an event's
"event" first if it needs fixing); it deletes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReplay(cmd, f) },
	}
	f.addWhere(cmd)
	f.addSelect(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&f.dryRun, "dry-run", false, "print what would be replayed; touch nothing")
	fl.BoolVar(&f.keep, "keep", false, "leave replayed messages in their queue")
	fl.Float64Var(&f.rate, "rate", 0, "at most this many redeliveries per second (0: no limit)")
	fl.IntVar(&f.concurrency, "concurrency", 4, "redeliveries at once")
	fl.StringVar(&f.fromFile, "from-file", "", "replay the messages of this export file instead of the queues")
	fl.StringVarP(&f.output, "output", "o", "table", "result log format: table or json")
	return cmd
}

func runReplay(cmd *cobra.Command, f *replayFlags) error {
	if err := checkOutput(f.output); err != nil {
		return err
	}
	if f.concurrency < 1 || f.rate < 0 {
		return fmt.Errorf("--concurrency %d / --rate %v: want at least 1 and at least 0", f.concurrency, f.rate)
	}
	sel, err := f.selector(stdinOf(cmd))
	if err != nil {
		return err
	}
	var from []dlq.Entry
	if f.fromFile != "" {
		if from, err = readExport(f.fromFile); err != nil {
			return err
		}
	}
	s, err := f.site(cmd.Context())
	if err != nil {
		return err
	}
	if s.redeliverer == nil && !f.dryRun {
		return errors.New("--queue: name the function to redeliver to with --function")
	}
	log := newResultLog(cmd, f.output, f.dryRun)
	cfg := dlq.ReplayConfig{
		To: s.redeliverer, Select: sel, DryRun: f.dryRun, Keep: f.keep, Rate: f.rate,
		Concurrency: f.concurrency, OnResult: log.add,
	}
	var total dlq.Summary
	if from != nil {
		cfg.From, cfg.Limit = from, f.limit
		log.start(len(from))
		total, err = dlq.Replay(cmd.Context(), cfg)
	} else {
		log.start(depth(s.queues))
		total, err = s.each(f.limit, func(q dlq.Queue, left int) (dlq.Summary, error) {
			c := cfg
			c.Queue, c.Limit = q, left
			return dlq.Replay(cmd.Context(), c)
		})
	}
	log.finish(total)
	if err != nil {
		return err
	}
	if !total.OK() {
		return failures{total}
	}
	return nil
}

// each runs one pass over each queue in turn, the limit shared (left is 0
// for no limit), and adds up their summaries.
func (s *site) each(limit int, pass func(q dlq.Queue, left int) (dlq.Summary, error)) (dlq.Summary, error) {
	var total dlq.Summary
	for _, q := range s.queues {
		left := 0
		if limit > 0 {
			if left = limit - total.Selected; left <= 0 {
				break
			}
		}
		sum, err := pass(s.open(q), left)
		total = addSummary(total, sum)
		if err != nil {
			return total, fmt.Errorf("queue %s: %w", q.Queue, err)
		}
	}
	return total, nil
}

func depth(qs []dlq.QueueInfo) int {
	n := 0
	for _, q := range qs {
		n += q.Depth
	}
	return n
}

func addSummary(a, b dlq.Summary) dlq.Summary {
	return dlq.Summary{
		Seen: a.Seen + b.Seen, Selected: a.Selected + b.Selected, Replayed: a.Replayed + b.Replayed, Purged: a.Purged + b.Purged,
		Deleted: a.Deleted + b.Deleted, Failed: a.Failed + b.Failed, Unreadable: a.Unreadable + b.Unreadable,
	}
}

// resultLog prints each result (table lines or JSON lines) and, on a
// terminal, a progress bar on stderr.
type resultLog struct {
	out    io.Writer
	errOut io.Writer
	json   bool
	dryRun bool
	bar    *progressbar.ProgressBar
}

func newResultLog(cmd *cobra.Command, output string, dryRun bool) *resultLog {
	return &resultLog{out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(), json: output == "json", dryRun: dryRun}
}

func (l *resultLog) start(total int) {
	if f, ok := l.errOut.(*os.File); ok && isTerminal(f) && total > 0 {
		l.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("replay"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
	}
}

// resultLine is one result in the JSON log.
type resultLine struct {
	Action   dlq.Action `json:"action"`
	Queue    string     `json:"queue"`
	ID       string     `json:"id"`
	Consumer string     `json:"consumer,omitempty"`
	EventID  string     `json:"eventId,omitempty"`
	Type     string     `json:"type,omitempty"`
	Deleted  bool       `json:"deleted"`
	Error    string     `json:"error,omitempty"`
}

func (l *resultLog) add(r dlq.Result) {
	if l.bar != nil {
		_ = l.bar.Add(1)
	}
	row := rowOf(r.Entry)
	line := resultLine{Action: r.Action, Queue: r.Entry.Queue, ID: r.Entry.ID, Consumer: row.Consumer, EventID: row.EventID, Type: row.Type, Deleted: r.Deleted}
	if r.Err != nil {
		line.Error = r.Err.Error()
	}
	if l.json {
		writeJSONLine(l.out, line)
		return
	}
	msg := fmt.Sprintf("%-12s %-12s %s %s", line.Action, orDash(line.Consumer), orDash(line.EventID), line.Type)
	if line.EventID == "" {
		msg = fmt.Sprintf("%-12s %-12s message %s of %s", line.Action, orDash(line.Consumer), line.ID, line.Queue)
	}
	if line.Error != "" {
		msg += ": " + oneLine(line.Error, 300)
	}
	if l.bar != nil {
		_ = l.bar.Clear()
	}
	fmt.Fprintln(l.out, msg)
}

func (l *resultLog) finish(s dlq.Summary) {
	if l.bar != nil {
		_ = l.bar.Finish()
	}
	verb := "replayed"
	n := s.Replayed
	if l.dryRun {
		verb, n = "would replay", s.Selected
	}
	fmt.Fprintf(l.errOut, "%s %d of %d messages read (%d deleted, %d failed, %d unreadable)\n", verb, n, s.Seen, s.Deleted, s.Failed, s.Unreadable)
}

func readExport(path string) ([]dlq.Entry, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--from-file: %w", err)
	}
	defer fh.Close()
	entries, err := dlq.ReadLines(fh)
	if err != nil {
		return nil, fmt.Errorf("--from-file %s: %w", path, err)
	}
	return entries, nil
}

func newDLQExportCmd() *cobra.Command {
	f := &dlqFlags{}
	var drain bool
	cmd := &cobra.Command{
		Use:   "export FILE",
		Short: "Write dead letters to a JSON Lines file, to edit and replay with --from-file",
		Long: `export writes each selected message as one JSON object per line: the message
as its queue holds it and what troupe read from it, its "event" included.
The file is written and synced before anything else happens; with --drain the
exported messages are then deleted from their queues. Unreadable messages are
reported and stay in their queues. FILE must not exist.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sel, err := f.selector(stdinOf(cmd))
			if err != nil {
				return err
			}
			s, err := f.site(cmd.Context())
			if err != nil {
				return err
			}
			return runExport(cmd, s, sel, args[0], f.limit, drain)
		},
	}
	f.addWhere(cmd)
	f.addSelect(cmd)
	cmd.Flags().BoolVar(&drain, "drain", false, "delete the exported messages from their queues once the file is on disk")
	return cmd
}

func runExport(cmd *cobra.Command, s *site, sel dlq.Selector, path string, limit int, drain bool) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w (choose a new file)", err)
	}
	defer fh.Close()
	w := bufio.NewWriter(fh)
	write := func(lines []dlq.Line) error {
		for _, l := range lines {
			if err := json.NewEncoder(w).Encode(l); err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return fh.Sync()
	}
	report := func(r dlq.Result) {
		fmt.Fprintf(cmd.ErrOrStderr(), "unreadable: message %s of %s: %v (kept)\n", r.Entry.ID, r.Entry.Queue, r.Err)
	}
	total, err := s.each(limit, func(q dlq.Queue, left int) (dlq.Summary, error) {
		return dlq.Export(cmd.Context(), dlq.ExportConfig{Queue: q, Select: sel, Limit: left, Write: write, Drain: drain, OnResult: report})
	})
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(path)
	fmt.Fprintf(cmd.OutOrStdout(), "exported %d messages to %s (%d deleted from their queues)\n", total.Selected, abs, total.Deleted)
	if !total.OK() {
		return failures{total}
	}
	return nil
}

func newDLQPurgeCmd() *cobra.Command {
	f := &dlqFlags{}
	var yes, dryRun bool
	cmd := &cobra.Command{
		Use:   "purge",
		Short: "Delete dead letters for good (asks first)",
		Long: `purge deletes the selected messages for good. It says how many it is about to
delete and asks for confirmation on the terminal, unless --yes. Unreadable
messages are reported and kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sel, err := f.selector(stdinOf(cmd))
			if err != nil {
				return err
			}
			s, err := f.site(cmd.Context())
			if err != nil {
				return err
			}
			var scope []string
			for _, q := range s.queues {
				scope = append(scope, fmt.Sprintf("%s (%d)", q.Consumer, q.Depth))
			}
			if !yes && !dryRun {
				ok, err := confirm(cmd, fmt.Sprintf("Delete the selected dead letters of %s for good?", strings.Join(scope, ", ")))
				if err != nil || !ok {
					return err
				}
			}
			report := func(r dlq.Result) {
				row := rowOf(r.Entry)
				msg := fmt.Sprintf("%-12s %-12s %s %s", r.Action, orDash(row.Consumer), orDash(row.EventID), row.Type)
				if r.Err != nil {
					msg += ": " + oneLine(r.Err.Error(), 300)
				}
				fmt.Fprintln(cmd.OutOrStdout(), msg)
			}
			total, err := s.each(f.limit, func(q dlq.Queue, left int) (dlq.Summary, error) {
				return dlq.Purge(cmd.Context(), dlq.PurgeConfig{Queue: q, Select: sel, Limit: left, DryRun: dryRun, OnResult: report})
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "purged %d of %d messages read (%d failed, %d unreadable)\n", total.Purged, total.Seen, total.Failed, total.Unreadable)
			if !total.OK() {
				return failures{total}
			}
			return nil
		},
	}
	f.addWhere(cmd)
	f.addSelect(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be deleted; touch nothing")
	return cmd
}

// confirm asks a yes/no question on the command's stdin. Without a terminal
// to ask on, it refuses: pass --yes.
func confirm(cmd *cobra.Command, question string) (bool, error) {
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !isTerminal(in) {
		return false, errors.New("purge deletes for good: confirm with --yes (no terminal to ask on)")
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s [y/N] ", question)
	ans, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	if a := strings.ToLower(strings.TrimSpace(ans)); a == "y" || a == "yes" {
		return true, nil
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "nothing deleted")
	return false, nil
}
