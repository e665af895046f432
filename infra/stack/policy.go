package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// The actions each part of a consumer's runtime calls (packages aws/...):
// a new call there needs its action here.
var (
	// aws/idempotency: a conditional put of the lock, an update to
	// COMPLETED, a delete on handler error.
	idempotencyActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
	// aws/deadletter, and Lambda's OnFailure destinations on the function's
	// behalf.
	dlqActions = []string{"sqs:SendMessage"}
	// aws/bus: PutEvents, and DescribeEventBus to check the bus exists
	// before the first send (AWS drops events put on a missing bus).
	busPutActions = []string{"events:PutEvents", "events:DescribeEventBus"}
	// aws/stream, likewise.
	streamPutActions = []string{"kinesis:PutRecords", "kinesis:DescribeStreamSummary"}
	// What Lambda's event source mapping needs to poll the stream.
	streamReadActions = []string{
		"kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
		"kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:SubscribeToShard",
	}
	logActions = []string{"logs:CreateLogStream", "logs:PutLogEvents"}
)

func statement(sid string, actions []string, resources []*string, conditions map[string]any) awsiam.PolicyStatement {
	p := &awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	}
	if conditions != nil {
		p.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(p)
}

// consumerStatements is the whole of what consumer c's function may do: write
// its own logs, send to its own DLQ, read and write only its own idempotency
// keys, poll the stream if it subscribes to it, and put on the bus and the
// stream only if it declares Emits. Every resource is named.
func (s *Stack) consumerStatements(c *Consumer) *[]awsiam.PolicyStatement {
	d := c.Decl
	st := []awsiam.PolicyStatement{
		statement("Logs", logActions, []*string{c.LogGroup.LogGroupArn()}, nil),
		statement("DeadLetters", dlqActions, []*string{c.DLQ.QueueArn()}, nil),
	}
	if !d.Idempotency.Disabled {
		st = append(st, statement("OwnIdempotencyKeys", idempotencyActions, []*string{s.Table.TableArn()},
			map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{d.Name + "#*"}}}))
	}
	if !d.OnBus() {
		st = append(st, statement("ReadStream", streamReadActions, []*string{s.Stream.StreamArn()}, nil))
		if s.StreamKey != nil {
			st = append(st, statement("DecryptStream", []string{"kms:Decrypt"}, []*string{s.StreamKey.KeyArn()}, nil))
		}
	}
	if len(d.Emits) > 0 {
		st = append(st, s.emitStatements()...)
	}
	return &st
}

// emitStatements let a function put on the bus and the stream.
func (s *Stack) emitStatements() []awsiam.PolicyStatement {
	st := []awsiam.PolicyStatement{
		statement("PutOnBus", busPutActions, []*string{s.Bus.EventBusArn()}, nil),
		statement("PutOnStream", streamPutActions, []*string{s.Stream.StreamArn()}, nil),
	}
	if s.StreamKey != nil {
		st = append(st, statement("EncryptStream", []string{"kms:GenerateDataKey"}, []*string{s.StreamKey.KeyArn()}, nil))
	}
	return st
}
