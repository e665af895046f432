package awstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// NewQueue creates a standard SQS queue with a fresh name and deletes it when
// the test ends. attrs are queue attributes for CreateQueue (e.g.
// "MaximumMessageSize": "1024"); none gives the emulator's defaults. It
// returns the queue's URL.
func NewQueue(t testing.TB, cfg aws.Config, attrs ...map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	sq := sqs.NewFromConfig(cfg)
	in := &sqs.CreateQueueInput{QueueName: aws.String(Name(t, "q"))}
	for _, a := range attrs {
		if in.Attributes == nil {
			in.Attributes = map[string]string{}
		}
		for k, v := range a {
			in.Attributes[k] = v
		}
	}
	out, err := sq.CreateQueue(ctx, in)
	if err != nil {
		t.Fatalf("awstest: create queue %s: %v", aws.ToString(in.QueueName), err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := sq.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Errorf("awstest: delete queue %s: %v", url, err)
		}
	})
	return url
}

// Message is one message received from a queue: its body and its message
// attributes (all of them).
type Message struct {
	Body       string
	Attributes map[string]sqstypes.MessageAttributeValue
}

// ReceiveMessages is ReceiveAll with the message attributes: it reads
// messages from the queue, deleting each one it reads, until it holds want of
// them or timeout passes, and returns them in the order received (a standard
// queue has no order). It may return more than want when the last receive
// brings several; it fails the test on an SQS error, not on a timeout: the
// caller checks how many it got.
func ReceiveMessages(t testing.TB, cfg aws.Config, queueURL string, want int, timeout time.Duration) []Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+setupTimeout)
	defer cancel()
	sq := sqs.NewFromConfig(cfg)
	deadline := time.Now().Add(timeout)
	var msgs []Message
	for len(msgs) < want {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		wait := int32(1)
		if left < time.Second {
			wait = 0
		}
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(queueURL),
			MaxNumberOfMessages:   10,
			WaitTimeSeconds:       wait,
			VisibilityTimeout:     60,
			MessageAttributeNames: []string{"All"},
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
			msgs = append(msgs, Message{Body: aws.ToString(m.Body), Attributes: m.MessageAttributes})
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
	return msgs
}
