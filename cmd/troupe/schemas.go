package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/schemas"
)

// schemaRoles names, for one version of an event type, the producers that
// emit it and the consumers that react to it, for `troupe schemas ls`: the
// sample topology's (roles.go).
var schemaRoles = topologyRoles

func newSchemasCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schemas",
		Short: "Check and list the JSON Schemas of the event types",
		Long: `Every event type and version has a JSON Schema (draft 2020-12) at
schemas/<domain>/<Name>/v<N>.json: orders.OrderPlaced v2 is
schemas/orders/OrderPlaced/v2.json. The schemas are embedded in troupe, and
every event is validated against its schema before it is published.`,
		Example: `  # Check the embedded schemas, the registry and testdata/events
  troupe schemas check

  # Check the schemas you are editing, before building
  troupe schemas check --dir schemas

  # List types, versions, schema files and breaking changes
  troupe schemas ls`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE:         func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newSchemasCheckCmd(), newSchemasLsCmd())
	return cmd
}

func newSchemasCheckCmd() *cobra.Command {
	var dir, testdata string
	cmd := &cobra.Command{
		Use:   "check [--dir DIR] [--testdata DIR]",
		Short: "Check schemas, registered versions, compatibility and sample events",
		Long: `Check compares the schemas with the registered event types and versions
and with the sample events, and prints every problem, one per line, as
file#pointer: message. It exits non-zero if it found any. It checks that:

  - every registered type and version has a schema, and every schema is registered;
  - every sample event (<type>/v<N>/<name>.json under --testdata, a full
    envelope) validates against its schema, and, upcast to each newer version,
    against that version's schema too;
  - every version N>1 is backward compatible with N-1 (no new required
    property, no property removed or retyped, no constraint tightened, ...),
    or is declared breaking with events.Breaking(...) AND has an upcaster.

By default it checks the schemas embedded in this binary; --dir checks a
schema directory on disk instead, the one you are editing. --testdata
defaults to testdata/events if it exists.`,
		Example: `  troupe schemas check
  troupe schemas check --dir schemas --testdata testdata/events`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSchemasCheck(cmd, dir, testdata, cmd.Flags().Changed("testdata"))
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "check the schema directory `DIR` on disk instead of the embedded schemas")
	cmd.Flags().StringVar(&testdata, "testdata", schemas.DefaultSamplesRoot, "sample events under `DIR`, laid out as <type>/v<N>/<name>.json")
	return cmd
}

func runSchemasCheck(cmd *cobra.Command, dir, testdata string, testdataSet bool) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	set, err := loadSchemaSet(dir)
	if err != nil {
		lines := strings.Split(err.Error(), "\n")
		for _, l := range lines {
			fmt.Fprintln(out, l)
		}
		return problemsError(len(lines))
	}
	var samples fs.FS
	switch st, err := os.Stat(testdata); {
	case err == nil && st.IsDir():
		samples = os.DirFS(testdata)
	case testdataSet && err == nil:
		return fmt.Errorf("--testdata %s: not a directory", testdata)
	case testdataSet:
		return fmt.Errorf("--testdata: %w", err)
	default:
		fmt.Fprintf(errOut, "note: checked no samples: %s not found (use --testdata DIR)\n", testdata)
	}
	report := schemas.Check(set, domain.Registry(), samples, schemas.WithSamplesRoot(testdata))
	for _, p := range report.Problems {
		fmt.Fprintln(out, p)
	}
	if n := len(report.Problems); n > 0 {
		return problemsError(n)
	}
	for _, v := range report.Unsampled {
		fmt.Fprintf(errOut, "note: no sample event for %s under %s\n", v, testdata)
	}
	fmt.Fprintf(out, "ok: %d types, %d versions, %d samples\n", report.Types, report.Versions, report.Samples)
	return nil
}

func problemsError(n int) error {
	if n == 1 {
		return errors.New("schemas check: 1 problem")
	}
	return fmt.Errorf("schemas check: %d problems", n)
}

// loadSchemaSet returns the embedded schemas, or those under dir.
func loadSchemaSet(dir string) (*schemas.Set, error) {
	if dir == "" {
		return schemas.Sample(), nil
	}
	return schemas.LoadDir(dir)
}

// schemaRow is one line of `troupe schemas ls`.
type schemaRow struct {
	Type       string   `json:"type"`
	Version    int      `json:"version"`
	Schema     string   `json:"schema"`
	HasSchema  bool     `json:"hasSchema"`
	Registered bool     `json:"registered"`
	Latest     bool     `json:"latest"`
	Breaking   string   `json:"breaking,omitempty"`
	Upcaster   bool     `json:"upcaster"`
	Producers  []string `json:"producers"`
	Consumers  []string `json:"consumers"`
}

func newSchemasLsCmd() *cobra.Command {
	var dir, output string
	cmd := &cobra.Command{
		Use:   "ls [--output table|json] [--dir DIR]",
		Short: "List event types, versions and their schemas",
		Long: `ls lists every registered event type and version with its schema file,
whether it is the latest version, the declared breaking change and whether an
upcaster from the previous version exists, and who produces and consumes it.
A schema without a registered version, or a version without a schema, is
listed too, with a note.`,
		Example: `  troupe schemas ls
  troupe schemas ls --output json | jq '.[] | select(.breaking != null)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			set, err := loadSchemaSet(dir)
			if err != nil {
				return err
			}
			rows := schemaRows(set, domain.Registry())
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			return printSchemaTable(cmd.OutOrStdout(), rows)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	cmd.Flags().StringVar(&dir, "dir", "", "list the schema directory `DIR` on disk instead of the embedded schemas")
	return cmd
}

func schemaRows(set *schemas.Set, reg *events.Registry) []schemaRow {
	var rows []schemaRow
	seen := map[string]bool{}
	add := func(typ string, ver int, info *events.VersionInfo) {
		r := schemaRow{Type: typ, Version: ver, Schema: set.Path(typ, ver), HasSchema: set.Has(typ, ver)}
		if info != nil {
			r.Registered, r.Breaking, r.Upcaster = true, info.Breaking, info.Upcaster
		}
		r.Producers, r.Consumers = schemaRoles(typ, ver)
		if r.Producers == nil {
			r.Producers = []string{}
		}
		if r.Consumers == nil {
			r.Consumers = []string{}
		}
		rows = append(rows, r)
		seen[fmt.Sprintf("%s/%d", typ, ver)] = true
	}
	for _, v := range reg.Versions() {
		add(v.Type, v.Version, &v)
	}
	for _, typ := range set.Types() {
		for _, ver := range set.Versions(typ) {
			if !seen[fmt.Sprintf("%s/%d", typ, ver)] {
				add(typ, ver, nil)
			}
		}
	}
	// Sort by type then version, and mark the latest version of each type.
	slices.SortFunc(rows, func(a, b schemaRow) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return a.Version - b.Version
	})
	for i := range rows {
		rows[i].Latest = i == len(rows)-1 || rows[i+1].Type != rows[i].Type
	}
	return rows
}

func printSchemaTable(w io.Writer, rows []schemaRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tVERSION\tSCHEMA\tBREAKING\tUPCASTER\tPRODUCERS\tCONSUMERS\tNOTES")
	for _, r := range rows {
		var notes []string
		if r.Latest {
			notes = append(notes, "latest")
		}
		if !r.Registered {
			notes = append(notes, "not registered")
		}
		schema := r.Schema
		if !r.HasSchema {
			schema = "(missing) " + schema
		}
		upcaster := "-"
		switch {
		case r.Upcaster:
			upcaster = fmt.Sprintf("v%d->v%d", r.Version-1, r.Version)
		case r.Breaking != "":
			upcaster = "MISSING"
		}
		fmt.Fprintf(tw, "%s\tv%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Type, r.Version, schema,
			dash(r.Breaking), upcaster, dash(strings.Join(r.Producers, ",")), dash(strings.Join(r.Consumers, ",")),
			dash(strings.Join(notes, ", ")))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
