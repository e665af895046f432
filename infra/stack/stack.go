// Package stack is troupe's whole AWS stack in CDK, derived from the one
// topology declaration: the EventBridge bus and its archive, the Kinesis
// stream, the DynamoDB idempotency table, and per consumer its Lambda
// function, dead-letter queue, rule (bus) or event source mapping (stream),
// least-privilege policy, alarms and outputs. No consumer is named here: New
// loops over Props.Topology.
package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Stack is the synthesized stack and handles on what it made.
type Stack struct {
	awscdk.Stack
	Props Props // with every default filled in

	Bus       awsevents.EventBus
	Archive   awsevents.CfnArchive
	Stream    awskinesis.Stream
	StreamKey awskms.Key // nil with the AWS-managed key
	Table     awsdynamodb.Table
	Dashboard awscloudwatch.Dashboard
	// Consumers by consumer name, in the declaration's order in Names.
	Consumers map[string]*Consumer
	Names     []string
	Ingest    *Ingest // nil unless Props.Ingest
	Alarms    []awscloudwatch.Alarm
}

// Name is the bus's and the stream's name: "<topology>-<stage>".
func (s *Stack) Name() string { return s.Props.Topology.Name + "-" + s.Props.Stage }

// New builds the stack in scope. It fails, before anything is created, on a
// missing topology, a bad setting or a missing function artifact.
func New(scope constructs.Construct, id string, props Props) (*Stack, error) {
	props.setDefaults()
	if err := props.validate(); err != nil {
		return nil, err
	}
	// Resolve every function's code first: a missing artifact fails here,
	// not halfway through the construct tree.
	codes := map[string]awslambda.Code{}
	for _, c := range props.Topology.Consumers {
		code, err := props.Code(c.Name)
		if err != nil {
			return nil, err
		}
		codes[c.Name] = code
	}
	if props.Ingest {
		code, err := props.Code(IngestName)
		if err != nil {
			return nil, err
		}
		codes[IngestName] = code
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("troupe: the " + props.Topology.Name + " choreography (" + props.Stage + "), derived from its topology declaration")
	}
	s := &Stack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp), Props: props, Consumers: map[string]*Consumer{}}
	// The dashboard is left untagged: the CloudFormation schema cfn-lint
	// checks against has no Tags on AWS::CloudWatch::Dashboard.
	tagProps := &awscdk.TagProps{ExcludeResourceTypes: jsii.Strings("AWS::CloudWatch::Dashboard")}
	awscdk.Tags_Of(s.Stack).Add(jsii.String("troupe:topology"), jsii.String(props.Topology.Name), tagProps)
	awscdk.Tags_Of(s.Stack).Add(jsii.String("troupe:stage"), jsii.String(props.Stage), tagProps)

	s.addBus()
	s.addStream()
	s.addTable()
	for i := range props.Topology.Consumers {
		c := &props.Topology.Consumers[i]
		s.Consumers[c.Name] = s.addConsumer(c, codes[c.Name])
		s.Names = append(s.Names, c.Name)
	}
	if props.Ingest {
		s.addIngest(codes[IngestName])
	}
	s.addStackAlarms()
	s.addDashboard()

	out := func(id, value, desc string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: jsii.String(value), Description: jsii.String(desc)})
	}
	out("BusName", *s.Bus.EventBusName(), "the EventBridge bus producers put events on (TROUPE_BUS)")
	out("BusArn", *s.Bus.EventBusArn(), "the EventBridge bus's ARN")
	out("StreamName", *s.Stream.StreamName(), "the Kinesis stream producers put records on (TROUPE_STREAM)")
	out("StreamArn", *s.Stream.StreamArn(), "the Kinesis stream's ARN")
	out("IdempotencyTableName", *s.Table.TableName(), "the DynamoDB table of idempotency records")
	return s, nil
}

func (s *Stack) addBus() {
	s.Bus = awsevents.NewEventBus(s.Stack, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(s.Name()),
		Description:  jsii.String("troupe " + s.Props.Topology.Name + ": versioned domain events (CloudEvents envelopes in Detail)"),
	})
	// No event pattern: the archive keeps every event, including those put
	// by other accounts, so that any of them can be replayed.
	days := s.Props.ArchiveRetentionDays
	if days == -1 {
		days = 0 // EventBridge: 0 keeps events indefinitely
	}
	s.Archive = awsevents.NewCfnArchive(s.Stack, jsii.String("Archive"), &awsevents.CfnArchiveProps{
		SourceArn:     s.Bus.EventBusArn(),
		ArchiveName:   jsii.String(s.Name()),
		Description:   jsii.String("every event on " + s.Name() + ", for replay"),
		RetentionDays: jsii.Number(float64(days)),
	})
	if len(s.Props.PutEventsAccounts) > 0 {
		var principals []awsiam.IPrincipal
		for _, a := range s.Props.PutEventsAccounts {
			principals = append(principals, awsiam.NewAccountPrincipal(jsii.String(a)))
		}
		s.Bus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("PutEventsFromOtherAccounts"),
			Effect:     awsiam.Effect_ALLOW,
			Principals: &principals,
			Actions:    jsii.Strings("events:PutEvents"),
			Resources:  jsii.Strings(*s.Bus.EventBusArn()),
		}))
	}
}

func (s *Stack) addStream() {
	props := &awskinesis.StreamProps{
		StreamName:      jsii.String(s.Name()),
		RetentionPeriod: awscdk.Duration_Hours(jsii.Number(float64(s.Props.StreamRetentionHours))),
		Encryption:      awskinesis.StreamEncryption_MANAGED,
		RemovalPolicy:   s.Props.RemovalPolicy,
	}
	if s.Props.StreamMode == Provisioned {
		props.StreamMode = awskinesis.StreamMode_PROVISIONED
		props.ShardCount = jsii.Number(float64(s.Props.ShardCount))
	} else {
		props.StreamMode = awskinesis.StreamMode_ON_DEMAND
	}
	if s.Props.StreamCustomerKey {
		s.StreamKey = awskms.NewKey(s.Stack, jsii.String("StreamKey"), &awskms.KeyProps{
			Description:       jsii.String("troupe " + s.Name() + ": the Kinesis stream's key"),
			EnableKeyRotation: jsii.Bool(true),
			RemovalPolicy:     s.Props.RemovalPolicy,
		})
		props.Encryption = awskinesis.StreamEncryption_KMS
		props.EncryptionKey = s.StreamKey
	}
	s.Stream = awskinesis.NewStream(s.Stack, jsii.String("Stream"), props)
}

func (s *Stack) addTable() {
	s.Table = awsdynamodb.NewTable(s.Stack, jsii.String("Idempotency"), &awsdynamodb.TableProps{
		// Keys are "<consumer>#<key>"; each consumer's policy is bound to
		// its own prefix (dynamodb:LeadingKeys).
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String("expiration"),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:    awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy: s.Props.RemovalPolicy,
	})
}
