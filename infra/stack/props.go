package stack

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/troupehq/troupe/topology"
)

// StreamMode is the Kinesis stream's capacity mode.
type StreamMode string

const (
	// OnDemand scales the stream by itself (the default). At rest it costs
	// a per-stream hourly fee; see infra/README.md.
	OnDemand StreamMode = "ON_DEMAND"
	// Provisioned runs Props.ShardCount shards.
	Provisioned StreamMode = "PROVISIONED"
)

// Props configures the stack. Only Topology is required; every other field
// has a default, filled in by New.
type Props struct {
	awscdk.StackProps

	// Topology is the one declaration the stack is derived from, validated
	// (choreography.Topology returns it so). Every consumer becomes a Lambda
	// function with its DLQ, rule or mapping, alarms and policy.
	Topology *topology.Topology

	// Stage names the deployment beside the topology's name (dev, prod...):
	// the bus and the stream are named "<topology>-<stage>". Default "dev".
	Stage string

	// ArchiveRetentionDays keeps the bus's events in an EventBridge archive
	// for replay. Default 7; -1 keeps them indefinitely.
	ArchiveRetentionDays int

	// PutEventsAccounts lists other AWS accounts allowed to put events on
	// the bus (a resource policy); none by default.
	PutEventsAccounts []string

	// StreamMode is OnDemand (default) or Provisioned with ShardCount shards
	// (default 1).
	StreamMode StreamMode
	ShardCount int
	// StreamRetentionHours is how long the stream keeps records (default
	// 24, 24-8760). A stream consumer's mapping-failure DLQ records hold
	// only sequence numbers: the payload must be re-read within this time.
	StreamRetentionHours int
	// StreamCustomerKey encrypts the stream with a customer-managed KMS key
	// (with rotation) instead of the AWS-managed alias/aws/kinesis key.
	StreamCustomerKey bool

	// LogRetention of each function's log group (default two weeks).
	LogRetention awslogs.RetentionDays

	// IteratorAgeAlarmMillis alarms when a stream consumer falls behind by
	// more than this (default 60000).
	IteratorAgeAlarmMillis int

	// AlarmTopicArn, when set, is an SNS topic every alarm notifies.
	AlarmTopicArn string

	// RemovalPolicy of the stateful resources (stream, table, DLQs, log
	// groups). Default RETAIN: deleting the stack keeps the data.
	RemovalPolicy awscdk.RemovalPolicy

	// Code gives each consumer's function code. Default: FromDist("../dist/lambdas"),
	// the artifacts `make lambdas` builds at the repository root.
	Code CodeSource

	// Ingest adds an HTTP API with IAM authorization in front of an ingest
	// function (dist/lambdas/ingest/bootstrap), for systems that cannot use
	// an AWS SDK. Off by default.
	Ingest bool
}

var (
	stageRE   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
)

func (p *Props) setDefaults() {
	if p.Stage == "" {
		p.Stage = "dev"
	}
	if p.ArchiveRetentionDays == 0 {
		p.ArchiveRetentionDays = 7
	}
	if p.StreamMode == "" {
		p.StreamMode = OnDemand
	}
	if p.StreamMode == Provisioned && p.ShardCount == 0 {
		p.ShardCount = 1
	}
	if p.StreamRetentionHours == 0 {
		p.StreamRetentionHours = 24
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_TWO_WEEKS
	}
	if p.IteratorAgeAlarmMillis == 0 {
		p.IteratorAgeAlarmMillis = 60000
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	if p.Code == nil {
		p.Code = FromDist(DefaultDist)
	}
}

func (p *Props) validate() error {
	var errs []error
	if p.Topology == nil {
		return errors.New("stack: no topology: pass the declaration (e.g. choreography.Topology())")
	}
	if len(p.Topology.Consumers) == 0 {
		errs = append(errs, fmt.Errorf("stack: topology %s declares no consumer", p.Topology.Name))
	}
	if !stageRE.MatchString(p.Stage) {
		errs = append(errs, fmt.Errorf("stack: stage %q: use 1-20 lower case letters, digits and dashes", p.Stage))
	}
	if p.ArchiveRetentionDays < -1 {
		errs = append(errs, fmt.Errorf("stack: ArchiveRetentionDays %d: -1 (indefinitely) or more than 0", p.ArchiveRetentionDays))
	}
	for _, a := range p.PutEventsAccounts {
		if !accountRE.MatchString(a) {
			errs = append(errs, fmt.Errorf("stack: PutEventsAccounts: %q is not a 12-digit account id", a))
		}
	}
	switch p.StreamMode {
	case OnDemand:
		if p.ShardCount != 0 {
			errs = append(errs, fmt.Errorf("stack: ShardCount %d is for a Provisioned stream; StreamMode is %s", p.ShardCount, p.StreamMode))
		}
	case Provisioned:
		if p.ShardCount < 1 {
			errs = append(errs, fmt.Errorf("stack: ShardCount %d: at least 1", p.ShardCount))
		}
	default:
		errs = append(errs, fmt.Errorf("stack: StreamMode %q: %s or %s", p.StreamMode, OnDemand, Provisioned))
	}
	if p.StreamRetentionHours < 24 || p.StreamRetentionHours > 8760 {
		errs = append(errs, fmt.Errorf("stack: StreamRetentionHours %d: 24-8760", p.StreamRetentionHours))
	}
	// Construct ids and output names are derived from consumer names; two
	// names must not collapse into one.
	seen := map[string]string{}
	for _, c := range p.Topology.Consumers {
		id := c.StackID()
		if other, ok := seen[id]; ok {
			errs = append(errs, fmt.Errorf("stack: consumers %q and %q both become %q in resource and output names: rename one", other, c.Name, id))
		}
		seen[id] = c.Name
		if p.Ingest && c.Name == IngestName {
			errs = append(errs, fmt.Errorf("stack: consumer %q: the name is taken by the ingest function", c.Name))
		}
	}
	return errors.Join(errs...)
}
