// Package bus is the EventBridge adapter of producers.BusSender: it puts a
// batch of entries on an event bus with one PutEvents call, reports each
// entry's outcome, and translates AWS errors into the producers package's
// sentinels.
package bus

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/troupehq/troupe/producers"
)

// API is the part of the EventBridge client the Sender uses.
type API interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
	DescribeEventBus(ctx context.Context, in *eventbridge.DescribeEventBusInput, optFns ...func(*eventbridge.Options)) (*eventbridge.DescribeEventBusOutput, error)
}

var _ API = (*eventbridge.Client)(nil)

// Config configures a Sender.
type Config struct {
	// BusName is the event bus's name (e.g. "orders") or ARN
	// (arn:aws:events:REGION:ACCOUNT:event-bus/NAME). Required; "default"
	// names the account's default bus.
	BusName string
}

// SetDefaults fills in what was left empty; today it only trims BusName.
func (c *Config) SetDefaults() {
	c.BusName = strings.TrimSpace(c.BusName)
}

// busNameRE is EventBridge's rule for a bus name (the name part of an ARN
// too), 1-256 of these characters; the length is checked apart, since a
// {1,256} repetition makes a large regexp, slow to compile at every start.
var busNameRE = regexp.MustCompile(`^[/\.\-_A-Za-z0-9]+$`)

// Validate reports what is wrong with the configuration.
func (c Config) Validate() error {
	name := c.BusName
	if name == "" {
		return errors.New("bus: Config.BusName is required: the event bus's name or ARN")
	}
	if strings.HasPrefix(name, "arn:") {
		i := strings.Index(name, ":event-bus/")
		if i < 0 || strings.Count(name[:i], ":") != 4 {
			return fmt.Errorf("bus: Config.BusName %q is not an event bus ARN (want arn:PARTITION:events:REGION:ACCOUNT:event-bus/NAME)", name)
		}
		name = name[i+len(":event-bus/"):]
	}
	if len(name) > 256 || !busNameRE.MatchString(name) {
		return fmt.Errorf("bus: Config.BusName %q is not a valid event bus name (1-256 of letters, digits, '.', '-', '_', '/')", c.BusName)
	}
	return nil
}

// Sender puts entries on one EventBridge bus. It implements
// producers.BusSender and is safe for concurrent use.
type Sender struct {
	api API
	bus string
}

var _ producers.BusSender = (*Sender)(nil)

// New returns a Sender for the bus in cfg, calling EventBridge through api.
func New(api API, cfg Config) (*Sender, error) {
	if api == nil {
		return nil, errors.New("bus: New: api is nil: pass an *eventbridge.Client")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sender{api: api, bus: cfg.BusName}, nil
}

// NewFromConfig returns a Sender that calls EventBridge with a client built
// from awsCfg and optFns (e.g. to set BaseEndpoint or HTTPClient).
//
// The client keeps the SDK's own retryer, which retries a whole call that
// throttles or fails with a 5xx a few times before SendBatch returns its
// error; set o.Retryer (e.g. aws.NopRetryer{}) to leave every retry to the
// caller.
func NewFromConfig(awsCfg aws.Config, cfg Config, optFns ...func(*eventbridge.Options)) (*Sender, error) {
	return New(eventbridge.NewFromConfig(awsCfg, optFns...), cfg)
}

// BusName returns the bus name or ARN the Sender puts entries on.
func (s *Sender) BusName() string { return s.bus }

// SendBatch puts entries on the bus with one PutEvents call and returns one
// result per entry, in order: the event id of an accepted entry, or the
// ErrorCode and ErrorMessage of a rejected one, with Retryable set for
// InternalFailure and ThrottlingException. An empty batch makes no call.
//
// Keeping the batch within PutEvents' limits (10 entries, 1 MB) is the
// caller's job; a batch beyond them fails as a whole, not retryable.
func (s *Sender) SendBatch(ctx context.Context, entries []producers.BusEntry) ([]producers.EntryResult, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(entries))}
	for i, e := range entries {
		in.Entries[i] = s.requestEntry(e)
	}
	out, err := s.api.PutEvents(ctx, in)
	if err != nil {
		return nil, translate(ctx, err, fmt.Sprintf("eventbridge PutEvents of %d entries to bus %q", len(entries), s.bus), s.bus)
	}
	if len(out.Entries) != len(entries) {
		return nil, fmt.Errorf("eventbridge PutEvents to bus %q answered %d results for %d entries: "+
			"which entries were accepted is unknown, so they are not retried; check the bus for duplicates or gaps",
			s.bus, len(out.Entries), len(entries))
	}
	results := make([]producers.EntryResult, len(entries))
	for i, r := range out.Entries {
		results[i] = entryResult(r)
	}
	return results, nil
}

func (s *Sender) requestEntry(e producers.BusEntry) types.PutEventsRequestEntry {
	re := types.PutEventsRequestEntry{
		EventBusName: aws.String(s.bus),
		Source:       aws.String(e.Source),
		DetailType:   aws.String(e.DetailType),
		Detail:       aws.String(string(e.Detail)),
	}
	if !e.Time.IsZero() {
		t := e.Time
		re.Time = &t
	}
	if len(e.Resources) > 0 {
		re.Resources = e.Resources
	}
	if e.TraceHeader != "" {
		re.TraceHeader = aws.String(e.TraceHeader)
	}
	return re
}

// Per-entry error codes of PutEvents (PutEventsResultEntry.ErrorCode in the
// EventBridge API reference). Retryable: InternalFailure, ThrottlingException.
// Not retryable: AccessDeniedException, InvalidAccountIdException,
// InvalidArgument, MalformedDetail, RedactionFailure,
// NotAuthorizedForSourceException, NotAuthorizedForDetailTypeException.
// Codes not listed (including ones AWS adds later) are not retried.
var retryableEntryCodes = map[string]bool{
	"InternalFailure":     true,
	"InternalException":   true,
	"ThrottlingException": true,
	"ServiceUnavailable":  true,
}

// RetryableEntryCode reports whether an entry rejected with this PutEvents
// per-entry ErrorCode may be accepted if sent again.
func RetryableEntryCode(code string) bool { return retryableEntryCodes[code] }

// codeNoResult marks an entry the bus answered with neither an event id nor
// an error code; it is not EventBridge's own code.
const codeNoResult = "troupe.NoResult"

func entryResult(r types.PutEventsResultEntry) producers.EntryResult {
	res := producers.EntryResult{
		ID:           aws.ToString(r.EventId),
		ErrorCode:    aws.ToString(r.ErrorCode),
		ErrorMessage: aws.ToString(r.ErrorMessage),
	}
	switch {
	case res.ErrorCode != "":
		res.Retryable = RetryableEntryCode(res.ErrorCode)
	case res.ID == "":
		res.ErrorCode = codeNoResult
		res.ErrorMessage = "EventBridge answered this entry with neither an event id nor an error code; sending it again may duplicate it"
		res.Retryable = true
	}
	return res
}

// Check verifies that the bus exists with DescribeEventBus. It matters:
// PutEvents to a bus that does not exist succeeds and drops the events.
func (s *Sender) Check(ctx context.Context) error {
	_, err := s.api.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(s.bus)})
	if err != nil {
		return translate(ctx, err, fmt.Sprintf("eventbridge DescribeEventBus %q", s.bus), s.bus)
	}
	return nil
}
