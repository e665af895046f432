package awstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// CatchAllPattern is an EventBridge event pattern that matches every event
// (every event has a source, and every source starts with "").
const CatchAllPattern = `{"source":[{"prefix":""}]}`

// setupTimeout bounds each create/delete call of the helpers.
const setupTimeout = 30 * time.Second

// NewBus creates a custom event bus, an SQS queue, and a rule on the bus that
// matches every event with the queue as its target (and a queue policy that
// lets EventBridge send to it, as on AWS). Everything is deleted when the
// test ends. It returns the bus name and the queue URL; read what the bus
// delivered with ReceiveAll.
//
// moto delivers rule→SQS slowly (about 6-8 events a second here): keep tests
// that read back from the queue to a handful of events.
func NewBus(t testing.TB, cfg aws.Config) (busName, queueURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	eb := eventbridge.NewFromConfig(cfg)
	sq := sqs.NewFromConfig(cfg)

	busName = Name(t, "bus")
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		t.Fatalf("awstest: create event bus %s: %v", busName, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := eb.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String(busName)}); err != nil {
			t.Errorf("awstest: delete event bus %s: %v", busName, err)
		}
	})

	queueName := Name(t, "busq")
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queueName)})
	if err != nil {
		t.Fatalf("awstest: create queue %s: %v", queueName, err)
	}
	queueURL = aws.ToString(q.QueueUrl)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := sq.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(queueURL)}); err != nil {
			t.Errorf("awstest: delete queue %s: %v", queueURL, err)
		}
	})
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("awstest: get ARN of queue %s: %v", queueURL, err)
	}
	queueARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]

	ruleName := Name(t, "all")
	rule, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{
		Name:         aws.String(ruleName),
		EventBusName: aws.String(busName),
		EventPattern: aws.String(CatchAllPattern),
		State:        ebtypes.RuleStateEnabled,
	})
	if err != nil {
		t.Fatalf("awstest: put rule %s on bus %s: %v", ruleName, busName, err)
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q,`+
		`"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`, queueARN, aws.ToString(rule.RuleArn))
	if _, err := sq.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   aws.String(queueURL),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): policy},
	}); err != nil {
		t.Fatalf("awstest: set policy of queue %s: %v", queueURL, err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule:         aws.String(ruleName),
		EventBusName: aws.String(busName),
		Targets:      []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(queueARN)}},
	}); err != nil {
		t.Fatalf("awstest: put queue target on rule %s: %v", ruleName, err)
	}
	// Cleanups run last-in first-out: targets and rule go before the bus.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{
			Rule: aws.String(ruleName), EventBusName: aws.String(busName), Ids: []string{"queue"},
		}); err != nil {
			t.Errorf("awstest: remove target of rule %s: %v", ruleName, err)
		}
		if _, err := eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{
			Name: aws.String(ruleName), EventBusName: aws.String(busName),
		}); err != nil {
			t.Errorf("awstest: delete rule %s: %v", ruleName, err)
		}
	})
	return busName, queueURL
}

// ReceiveAll reads messages from the queue, deleting each one it reads, until
// it holds want of them or timeout passes, and returns their bodies in the
// order received. It returns fewer than want when the timeout passes first,
// and may return more if more arrived in the last poll: callers check the
// count. To prove that no extra message arrives, ask for one more than
// expected with a short timeout.
func ReceiveAll(t testing.TB, cfg aws.Config, queueURL string, want int, timeout time.Duration) []string {
	t.Helper()
	sq := sqs.NewFromConfig(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), timeout+setupTimeout)
	defer cancel()
	deadline := time.Now().Add(timeout)
	var bodies []string
	for len(bodies) < want {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		wait := int32(1)
		if left < time.Second {
			wait = 0
		}
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(queueURL),
			MaxNumberOfMessages: 10,
			WaitTimeSeconds:     wait,
			VisibilityTimeout:   60,
		})
		if err != nil {
			t.Fatalf("awstest: receive from %s: %v", queueURL, err)
		}
		if len(out.Messages) == 0 {
			if wait == 0 {
				time.Sleep(50 * time.Millisecond)
			}
			continue
		}
		entries := make([]sqstypes.DeleteMessageBatchRequestEntry, 0, len(out.Messages))
		for i, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{
				Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle,
			})
		}
		if _, err := sq.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
			QueueUrl: aws.String(queueURL), Entries: entries,
		}); err != nil {
			t.Fatalf("awstest: delete messages from %s: %v", queueURL, err)
		}
	}
	return bodies
}
