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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/spf13/cobra"

	"github.com/troupehq/troupe/aws/bus"
	"github.com/troupehq/troupe/aws/stream"
	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

type publishFlags struct {
	data, subject, partitionKey, source string
	version                             int
	bus, stream, endpointURL, region    string
	timeout                             time.Duration
	output                              string
	to, devAddr                         string
}

func newPublishCmd() *cobra.Command {
	var f publishFlags
	cmd := &cobra.Command{
		Use:   "publish TYPE --data JSON|@FILE",
		Short: "Publish one event to the bus and the stream",
		Long: `Publish builds a troupe event of TYPE around the given data, validates it
against its JSON Schema, and puts it on the EventBridge bus and the Kinesis
stream. It prints the event id and the result on each leg, and exits non-zero
if either leg failed.

--data takes the event's data as JSON, @FILE to read it from a file, or @- for
standard input. A whole troupe envelope is accepted too: its data, version and
subject are used, and the event gets a new id.

The bus and the stream come from --bus/--stream or TROUPE_BUS/TROUPE_STREAM.
AWS credentials and region follow the SDK's usual chain (AWS_PROFILE,
AWS_REGION, ~/.aws/config, ...); --endpoint-url sends both calls elsewhere,
e.g. to a local emulator.`,
		Example: `  troupe publish orders.OrderPlaced --subject o-1001 \
    --data '{"orderId":"o-1001","customerId":"c-7","items":[{"sku":"SKU-1","quantity":1,"unitPrice":{"amountCents":1250,"currency":"EUR"}}],"total":{"amountCents":1250,"currency":"EUR"}}' \
    --bus orders --stream orders

  # an older version, upcast by consumers that read v2
  TROUPE_BUS=orders TROUPE_STREAM=orders troupe publish orders.OrderPlaced --version 1 --data @order-v1.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPublish(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "the event data: JSON, @FILE, or @- for stdin (required)")
	fl.IntVar(&f.version, "version", 0, "the data version (default: the type's latest)")
	fl.StringVar(&f.subject, "subject", "", "the event subject, e.g. the order id (default partition key)")
	fl.StringVar(&f.partitionKey, "partition-key", "", "the stream partition key (default: subject, else id)")
	fl.StringVar(&f.source, "source", "", "the event source (default: the type's domain, e.g. orders)")
	fl.StringVar(&f.bus, "bus", os.Getenv("TROUPE_BUS"), "EventBridge bus name or ARN [$TROUPE_BUS]")
	fl.StringVar(&f.stream, "stream", os.Getenv("TROUPE_STREAM"), "Kinesis stream name or ARN [$TROUPE_STREAM]")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "send AWS calls to this URL instead (e.g. a local emulator)")
	fl.StringVar(&f.region, "region", "", "AWS region (default: the SDK's chain, e.g. $AWS_REGION)")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up on an unacknowledged leg after this long")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	fl.StringVar(&f.to, "to", "aws", "where to publish: aws (the SDK's configuration) or local (a running troupe dev)")
	fl.StringVar(&f.devAddr, "dev-addr", envOr("TROUPE_DEV_ADDR", DefaultDevAddr), "the troupe dev address, with --to local [$TROUPE_DEV_ADDR]")
	_ = cmd.MarkFlagRequired("data")
	return cmd
}

func runPublish(cmd *cobra.Command, typ string, f publishFlags) error {
	if f.output != "text" && f.output != "json" {
		return fmt.Errorf("--output %q: use text or json", f.output)
	}
	switch f.to {
	case "aws":
	case "local":
		f = toLocal(f)
	default:
		return fmt.Errorf("--to %q: use aws or local", f.to)
	}
	e, err := buildEvent(cmd.InOrStdin(), typ, f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	pub, err := newPublisher(ctx, f)
	if err != nil {
		return err
	}
	results, err := pub.Publish(ctx, e)
	var pubErr *producers.PublishError
	if err != nil && !errors.As(err, &pubErr) {
		return fmt.Errorf("nothing published: %w", err) // e.g. a leg is missing or unreachable
	}
	printResults(cmd.OutOrStdout(), f.output, results)
	if pubErr != nil {
		return errors.New("the event was not published on both legs (see above)")
	}
	return nil
}

// buildEvent makes the envelope from the flags: the data, the version (the
// latest by default) and the optional attributes.
func buildEvent(stdin io.Reader, typ string, f publishFlags) (events.Envelope, error) {
	reg := domain.Registry()
	raw, err := readData(stdin, f.data)
	if err != nil {
		return events.Envelope{}, err
	}
	data, version, subject, err := unwrapEnvelope(raw, typ)
	if err != nil {
		return events.Envelope{}, err
	}
	if f.version != 0 {
		version = f.version
	}
	if version == 0 {
		if version, err = reg.Latest(typ); err != nil {
			return events.Envelope{}, fmt.Errorf("%w; run `troupe schemas ls` to list them", err)
		}
	}
	if err := reg.Known(typ, version); err != nil {
		return events.Envelope{}, fmt.Errorf("%w; run `troupe schemas ls` to list them", err)
	}
	if f.subject != "" {
		subject = f.subject
	}
	opts := []events.Option{events.WithSubject(subject), events.WithPartitionKey(f.partitionKey)}
	if f.source != "" {
		opts = append(opts, events.WithSource(f.source))
	}
	return events.New(typ, version, data, opts...)
}

// readData returns the --data bytes: inline JSON, @FILE, or @- for stdin.
func readData(stdin io.Reader, arg string) (json.RawMessage, error) {
	var raw []byte
	var err error
	from := "--data"
	switch {
	case arg == "@-":
		from = "stdin"
		raw, err = io.ReadAll(stdin)
	case strings.HasPrefix(arg, "@"):
		from = arg[1:]
		raw, err = os.ReadFile(arg[1:])
	default:
		raw = []byte(arg)
	}
	if err != nil {
		return nil, fmt.Errorf("read data: %w", err)
	}
	if !json.Valid(raw) {
		var v any
		synErr := json.Unmarshal(raw, &v)
		return nil, fmt.Errorf("data from %s is not valid JSON: %v", from, synErr)
	}
	return raw, nil
}

// unwrapEnvelope returns raw as data, or, if raw is a whole troupe envelope,
// its data, version and subject.
func unwrapEnvelope(raw json.RawMessage, typ string) (data json.RawMessage, version int, subject string, err error) {
	var probe struct {
		SpecVersion string `json:"specversion"`
	}
	if json.Unmarshal(raw, &probe) != nil || probe.SpecVersion == "" {
		return raw, 0, "", nil
	}
	e, err := events.Decode(raw)
	if err != nil {
		return nil, 0, "", fmt.Errorf("data looks like an envelope (it has specversion) but: %w", err)
	}
	if e.Type != typ {
		return nil, 0, "", fmt.Errorf("the envelope in --data is a %s, not a %s", e.Type, typ)
	}
	return e.Data, e.DataVersion, e.Subject, nil
}

func newPublisher(ctx context.Context, f publishFlags) (*producers.Publisher, error) {
	if f.bus == "" || f.stream == "" {
		return nil, errors.New("both legs need a name: give --bus and --stream (or set TROUPE_BUS and TROUPE_STREAM)")
	}
	cfg, err := loadAWSConfig(ctx, f.region)
	if err != nil {
		return nil, err
	}
	sender, err := bus.NewFromConfig(cfg, bus.Config{BusName: f.bus}, func(o *eventbridge.Options) {
		o.BaseEndpoint = endpoint(f.endpointURL)
	})
	if err != nil {
		return nil, err
	}
	streamCfg := stream.Config{StreamName: f.stream}
	if strings.HasPrefix(f.stream, "arn:") {
		streamCfg = stream.Config{StreamARN: f.stream}
	}
	writer, err := stream.NewFromConfig(cfg, streamCfg, func(o *kinesis.Options) {
		o.BaseEndpoint = endpoint(f.endpointURL)
	})
	if err != nil {
		return nil, err
	}
	return producers.New(producers.Config{Bus: sender, Stream: writer, Validator: schemas.Sample()})
}

func endpoint(url string) *string {
	if url == "" {
		return nil
	}
	return aws.String(url)
}

func loadAWSConfig(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set AWS_REGION, a region in your profile, or --region")
	}
	return cfg, nil
}

func printResults(w io.Writer, format string, results []producers.Result) {
	if format == "json" {
		type leg struct {
			Status, ID, Shard, Error string `json:",omitempty"`
			Attempts                 int    `json:",omitempty"`
		}
		legJSON := func(l producers.LegResult) leg {
			out := leg{Status: l.Status.String(), ID: l.ID, Shard: l.Shard, Attempts: l.Attempts}
			if l.Err != nil {
				out.Error = l.Err.Error()
			}
			return out
		}
		for _, r := range results {
			_ = json.NewEncoder(w).Encode(map[string]any{"eventId": r.EventID, "type": r.Type, "bus": legJSON(r.Bus), "stream": legJSON(r.Stream)})
		}
		return
	}
	for _, r := range results {
		if r.Bus.Status == producers.NotSent && r.Bus.Attempts == 0 && r.Stream.Attempts == 0 {
			fmt.Fprintf(w, "event %s %s\n  rejected, published on neither leg: %v\n", r.EventID, r.Type, r.Bus.Err)
			continue
		}
		fmt.Fprintf(w, "event %s %s\n  bus     %s\n  stream  %s\n", r.EventID, r.Type, r.Bus, r.Stream)
	}
}

// toLocal points the publish at a running troupe dev: its endpoint, its bus
// and stream (named after the sample topology), and placeholder credentials
// (the engine checks none).
func toLocal(f publishFlags) publishFlags {
	f.endpointURL = "http://" + f.devAddr
	f.bus, f.stream = choreography.Name, choreography.Name
	if f.region == "" {
		f.region = "us-east-1"
	}
	for _, kv := range [][2]string{{"AWS_ACCESS_KEY_ID", "local"}, {"AWS_SECRET_ACCESS_KEY", "local"}} {
		if os.Getenv(kv[0]) == "" {
			os.Setenv(kv[0], kv[1])
		}
	}
	return f
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
