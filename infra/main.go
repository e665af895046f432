// Command infra is troupe's CDK app: it synthesizes the stack of the sample
// choreography (package choreography) for one stage. Run it through the CDK
// CLI (`make synth`, `make deploy`; see README.md). Settings come from CDK
// context (-c key=value or cdk.json):
//
//	stage                 deployment stage (default "dev"; env TROUPE_STAGE)
//	archiveRetentionDays  the bus archive's retention (default 7; -1 indefinitely)
//	streamMode            ON_DEMAND (default) or PROVISIONED
//	shardCount            shards of a PROVISIONED stream (default 1)
//	streamCustomerKey     true: a customer-managed KMS key for the stream
//	putEventsAccounts     comma-separated accounts allowed to put events on the bus
//	alarmTopicArn         an SNS topic every alarm notifies
//	removalPolicy         retain (default) or destroy: the stateful resources on stack deletion
//	lambdas               the directory of built functions (default ../dist/lambdas)
//	ingest                true (default): the HTTP ingest API (dist/lambdas/ingest/bootstrap); false leaves it out
//
// The account and region are the CLI's (CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION);
// offline, the stack is synthesized environment-agnostic.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/infra/stack"
)

func main() {
	// The jsii runtime runs on node; node 20 is what these machines have.
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		jsii.Close()
		os.Exit(1)
	}
	jsii.Close()
}

func run() error {
	app := awscdk.NewApp(nil)
	t, err := choreography.Topology()
	if err != nil {
		return fmt.Errorf("the sample topology: %w", err)
	}
	ctx := func(key, def string) string {
		// -c gives strings; cdk.json may give numbers and booleans too.
		switch v := app.Node().TryGetContext(jsii.String(key)).(type) {
		case nil:
			return def
		case string:
			if v == "" {
				return def
			}
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return fmt.Sprint(v)
		}
	}
	var errs []string
	num := func(key string) int {
		v := ctx(key, "")
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("context %s=%q: not a number", key, v))
		}
		return n
	}
	props := stack.Props{
		Topology:             t,
		Stage:                ctx("stage", os.Getenv("TROUPE_STAGE")),
		ArchiveRetentionDays: num("archiveRetentionDays"),
		StreamMode:           stack.StreamMode(strings.ToUpper(ctx("streamMode", ""))),
		ShardCount:           num("shardCount"),
		StreamCustomerKey:    ctx("streamCustomerKey", "") == "true",
		AlarmTopicArn:        ctx("alarmTopicArn", ""),
		Code:                 stack.FromDist(ctx("lambdas", stack.DefaultDist)),
		Ingest:               ctx("ingest", "true") == "true",
	}
	if a := ctx("putEventsAccounts", ""); a != "" {
		props.PutEventsAccounts = strings.Split(a, ",")
	}
	switch rp := ctx("removalPolicy", "retain"); rp {
	case "retain":
		props.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	case "destroy":
		props.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
	default:
		errs = append(errs, fmt.Sprintf("context removalPolicy=%q: retain or destroy", rp))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION")
	if account != "" && region != "" {
		props.Env = &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
	}
	stage := props.Stage
	if stage == "" {
		stage = "dev"
	}
	if _, err := stack.New(app, t.Name+"-"+stage, props); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}
