package stack

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/troupehq/troupe/topology"
)

// The function's environment, as package aws/function reads it.
const (
	EnvBus              = "TROUPE_BUS"
	EnvStream           = "TROUPE_STREAM"
	EnvIdempotencyTable = "TROUPE_IDEMPOTENCY_TABLE"
	EnvDLQURL           = "TROUPE_DLQ_URL"
)

// DLQ settings: SQS's longest retention, and its largest message (1 MiB),
// so that a troupe DLQ message (the full event and the error) always fits.
const (
	DLQRetentionDays   = 14
	DLQMaxMessageBytes = 1024 * 1024
)

// Consumer is what one consumer of the declaration became.
type Consumer struct {
	Decl     *topology.Consumer
	Scope    constructs.Construct // "Consumer<Name>"
	Function awslambda.Function
	Role     awsiam.Role
	Policy   awsiam.Policy
	LogGroup awslogs.LogGroup
	DLQ      awssqs.Queue
	// Rule for a bus consumer, Mapping for a stream consumer; AsyncConfig
	// for both.
	Rule        awsevents.CfnRule
	AsyncConfig awslambda.CfnEventInvokeConfig
	Mapping     awslambda.CfnEventSourceMapping
}

func (s *Stack) addConsumer(decl *topology.Consumer, code awslambda.Code) *Consumer {
	id := decl.StackID()
	scope := constructs.NewConstruct(s.Stack, jsii.String("Consumer"+id))
	c := &Consumer{Decl: decl, Scope: scope}
	desc := "troupe consumer " + decl.Name
	if decl.Description != "" {
		desc += ": " + decl.Description
	}

	c.DLQ = awssqs.NewQueue(scope, jsii.String("DLQ"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(DLQRetentionDays)),
		MaxMessageSizeBytes: jsii.Number(DLQMaxMessageBytes),
		RemovalPolicy:       s.Props.RemovalPolicy,
	})
	c.LogGroup = awslogs.NewLogGroup(scope, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     s.Props.LogRetention,
		RemovalPolicy: s.Props.RemovalPolicy,
	})
	// An explicit role with no managed policy: the function may do exactly
	// what the statements below allow, no more.
	c.Role = awsiam.NewRole(scope, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("runs " + desc),
	})
	c.Policy = awsiam.NewPolicy(scope, jsii.String("Policy"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{c.Role},
		Statements: s.consumerStatements(c),
	})

	env := map[string]*string{EnvDLQURL: c.DLQ.QueueUrl()}
	if !decl.Idempotency.Disabled {
		env[EnvIdempotencyTable] = s.Table.TableName()
	}
	if len(decl.Emits) > 0 {
		env[EnvBus] = s.Bus.EventBusName()
		env[EnvStream] = s.Stream.StreamName()
	}
	c.Function = awslambda.NewFunction(scope, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String(truncate(desc, 256)),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         code,
		Role:         c.Role,
		Timeout:      awscdk.Duration_Seconds(jsii.Number(float64(decl.Function.TimeoutSeconds))),
		MemorySize:   jsii.Number(float64(decl.Function.MemorySize)),
		Environment:  &env,
		LogGroup:     c.LogGroup,
	})
	c.Function.Node().AddDependency(c.Policy)

	if decl.OnBus() {
		s.subscribeBus(c)
	} else {
		s.subscribeStream(c)
	}
	s.asyncInvoke(c)
	s.addConsumerAlarms(c)
	awscdk.NewCfnOutput(s.Stack, jsii.String(id+"DlqUrl"), &awscdk.CfnOutputProps{
		Value:       c.DLQ.QueueUrl(),
		Description: jsii.String("consumer " + decl.Name + "'s dead-letter queue (troupe dlq)"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String(id+"FunctionName"), &awscdk.CfnOutputProps{
		Value:       c.Function.FunctionName(),
		Description: jsii.String("consumer " + decl.Name + "'s Lambda function"),
	})
	return c
}

// subscribeBus adds the consumer's rule on the bus: its declared pattern, the
// function as target with the declared RetryPolicy and the DLQ as the
// target's DeadLetterConfig; and the function's async invoke config, whose
// OnFailure destination is the same DLQ (see asyncInvoke).
func (s *Stack) subscribeBus(c *Consumer) {
	d := c.Decl
	var pattern any
	if err := json.Unmarshal([]byte(d.Bus.Pattern), &pattern); err != nil {
		// Topology.Validate compiled the pattern already; this cannot fail
		// for a validated declaration.
		panic(fmt.Sprintf("consumer %s: bus pattern: %v", d.Name, err))
	}
	c.Rule = awsevents.NewCfnRule(c.Scope, jsii.String("Rule"), &awsevents.CfnRuleProps{
		// One rule per consumer on the stack's own bus: the consumer's name
		// is unique there, and alarms name the rule by it.
		Name:         jsii.String(d.Name),
		Description:  jsii.String(truncate("events for troupe consumer "+d.Name, 512)),
		EventBusName: s.Bus.EventBusName(),
		EventPattern: pattern,
		State:        jsii.String("ENABLED"),
		Targets: &[]*awsevents.CfnRule_TargetProperty{{
			Id:  jsii.String("Function"),
			Arn: c.Function.FunctionArn(),
			RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(float64(*d.Target.MaximumRetryAttempts)),
				MaximumEventAgeInSeconds: jsii.Number(float64(d.Target.MaximumEventAgeInSeconds)),
			},
			DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: c.DLQ.QueueArn()},
		}},
	})
	c.Function.AddPermission(jsii.String("InvokeByRule"), &awslambda.Permission{
		Principal: awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Action:    jsii.String("lambda:InvokeFunction"),
		SourceArn: c.Rule.AttrArn(),
	})
	// EventBridge writes undeliverable events to the DLQ for this rule only.
	c.DLQ.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DeadLettersOfRule"),
		Effect:     awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sqs:SendMessage"),
		Resources:  jsii.Strings(*c.DLQ.QueueArn()),
		Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": c.Rule.AttrArn()}},
	}))
}

// subscribeStream adds the consumer's event source mapping on the stream,
// with the declared batching and retry settings, ReportBatchItemFailures on,
// the DLQ as OnFailure destination, and the declared filter as Lambda's
// filter criteria, verbatim.
func (s *Stack) subscribeStream(c *Consumer) {
	m := c.Decl.Mapping
	props := &awslambda.CfnEventSourceMappingProps{
		FunctionName:                   c.Function.FunctionName(),
		EventSourceArn:                 s.Stream.StreamArn(),
		StartingPosition:               jsii.String(m.StartingPosition),
		BatchSize:                      jsii.Number(float64(m.BatchSize)),
		MaximumBatchingWindowInSeconds: jsii.Number(float64(m.MaximumBatchingWindowInSeconds)),
		ParallelizationFactor:          jsii.Number(float64(m.ParallelizationFactor)),
		BisectBatchOnFunctionError:     jsii.Bool(m.BisectBatchOnFunctionError),
		MaximumRetryAttempts:           jsii.Number(float64(*m.MaximumRetryAttempts)),
		MaximumRecordAgeInSeconds:      jsii.Number(float64(*m.MaximumRecordAgeInSeconds)),
		FunctionResponseTypes:          jsii.Strings("ReportBatchItemFailures"),
		DestinationConfig: &awslambda.CfnEventSourceMapping_DestinationConfigProperty{
			OnFailure: &awslambda.CfnEventSourceMapping_OnFailureProperty{Destination: c.DLQ.QueueArn()},
		},
	}
	if f := c.Decl.Stream.Filter; f != "" {
		props.FilterCriteria = &awslambda.CfnEventSourceMapping_FilterCriteriaProperty{
			Filters: &[]*awslambda.CfnEventSourceMapping_FilterProperty{{Pattern: jsii.String(f)}},
		}
	}
	c.Mapping = awslambda.NewCfnEventSourceMapping(c.Scope, jsii.String("Mapping"), props)
	// Lambda checks the role may read the stream and send to the DLQ.
	c.Mapping.Node().AddDependency(c.Policy)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// asyncInvoke sets the function's asynchronous invocation: the declared
// Async retries and maximum event age, and the DLQ as OnFailure destination.
// A bus consumer's events arrive this way; a stream consumer's arrive so
// only when `troupe dlq replay` redelivers them, and a replay it cannot
// finish then lands in its DLQ instead of being lost.
func (s *Stack) asyncInvoke(c *Consumer) {
	d := c.Decl
	c.AsyncConfig = awslambda.NewCfnEventInvokeConfig(c.Scope, jsii.String("AsyncInvoke"), &awslambda.CfnEventInvokeConfigProps{
		FunctionName:             c.Function.FunctionName(),
		Qualifier:                jsii.String("$LATEST"),
		MaximumRetryAttempts:     jsii.Number(float64(*d.Async.MaximumRetryAttempts)),
		MaximumEventAgeInSeconds: jsii.Number(float64(d.Async.MaximumEventAgeInSeconds)),
		DestinationConfig: &awslambda.CfnEventInvokeConfig_DestinationConfigProperty{
			OnFailure: &awslambda.CfnEventInvokeConfig_OnFailureProperty{Destination: c.DLQ.QueueArn()},
		},
	})
	// Lambda checks the role may send to the destination.
	c.AsyncConfig.Node().AddDependency(c.Policy)
}
