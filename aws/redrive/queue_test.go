package redrive_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/troupehq/troupe/aws/redrive"
	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/internal/awstest"
)

// fill puts n EventBridge-shaped messages in the queue, ten per call.
func fill(t testing.TB, cfg aws.Config, queueURL string, n int) {
	t.Helper()
	sq := sqs.NewFromConfig(cfg)
	for start := 0; start < n; start += 10 {
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL)}
		for i := start; i < min(start+10, n); i++ {
			in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{
				Id: aws.String(fmt.Sprint(i)),
				MessageBody: aws.String(fmt.Sprintf(`{"version":"0","id":"e-%d","detail-type":"orders.OrderPlaced",`+
					`"source":"shop.orders","time":"2025-06-01T12:00:00Z","detail":{"n":%d}}`, i, i)),
				MessageAttributes: map[string]sqstypes.MessageAttributeValue{
					"TARGET_ARN": {DataType: aws.String("String"), StringValue: aws.String("arn:aws:lambda:us-east-1:123456789012:function:billing")},
					"BLOB":       {DataType: aws.String("Binary"), BinaryValue: []byte{0xff, 0x00}},
				},
			})
		}
		out, err := sq.SendMessageBatch(ctxT(t), in)
		if err != nil || len(out.Failed) > 0 {
			t.Fatalf("fill %s: %v %+v", queueURL, err, out)
		}
	}
}

// drain receives until the queue has no more and returns every entry.
func drain(t testing.TB, q *redrive.SQSQueue, max int) []dlq.Entry {
	t.Helper()
	var all []dlq.Entry
	for {
		got, err := q.Receive(ctxT(t), max)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			return all
		}
		if len(got) > max && max > 0 {
			t.Fatalf("received %d, asked for at most %d", len(got), max)
		}
		all = append(all, got...)
	}
}

func ids(entries []dlq.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	sort.Strings(out)
	return out
}

func depth(t *testing.T, q *redrive.SQSQueue) int {
	t.Helper()
	info, err := q.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.Depth
}

func TestQueueReceiveDeleteRelease(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	queueURL := awstest.NewQueue(t, cfg)
	fill(t, cfg, queueURL, 25)

	q := newQueue(t, cfg, queueURL)
	info, err := q.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Depth != 25 || info.Queue != queueURL || info.Consumer != "test" || !info.Oldest.IsZero() {
		t.Errorf("info %+v, want depth 25 of %s, consumer test", info, queueURL)
	}

	all := drain(t, q, 10)
	if len(all) != 25 || len(ids(all)) != 25 {
		t.Fatalf("drained %d messages, want 25", len(all))
	}
	seen := map[string]bool{}
	for _, e := range all {
		if seen[e.ID] {
			t.Errorf("message %s handed out twice", e.ID)
		}
		seen[e.ID] = true
		if e.Err != nil || e.Message.Shape != dlq.ShapeEventBridgeTarget || e.Message.Consumer != "billing" {
			t.Errorf("message %s decoded as %s of %q (%v)", e.ID, e.Message.Shape, e.Message.Consumer, e.Err)
		}
		if e.Attributes["BLOB"] != "/wA=" || e.SentAt.IsZero() || time.Since(e.SentAt) > time.Hour {
			t.Errorf("message %s: attributes %v, sentAt %v", e.ID, e.Attributes, e.SentAt)
		}
	}
	// Received messages are in flight: still counted.
	if d := depth(t, q); d != 25 {
		t.Errorf("depth %d while all are in flight, want 25", d)
	}

	// 12 deleted (a batch of 10 and one of 2), 13 released.
	if err := q.Delete(ctxT(t), all[:12]); err != nil {
		t.Fatal(err)
	}
	if err := q.Release(ctxT(t), all[12:]); err != nil {
		t.Fatal(err)
	}
	if d := depth(t, q); d != 13 {
		t.Errorf("depth %d after deleting 12 of 25, want 13", d)
	}
	// This pass handed them out already; a new pass sees the released ones.
	if got, err := q.Receive(ctxT(t), 10); err != nil || len(got) != 0 {
		t.Errorf("the same pass received %d again (%v), want none", len(got), err)
	}
	again := drain(t, newQueue(t, cfg, queueURL), 10)
	if fmt.Sprint(ids(again)) != fmt.Sprint(ids(all[12:])) {
		t.Errorf("a new pass received %v, want the released %v", ids(again), ids(all[12:]))
	}
}

// One at a time: one message per receive, one call per delete and release.
func TestQueueOneAtATime(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	queueURL := awstest.NewQueue(t, cfg)
	fill(t, cfg, queueURL, 5)

	q := newQueue(t, cfg, queueURL, func(c *redrive.QueueConfig) { c.OneAtATime = true })
	var all []dlq.Entry
	for {
		got, err := q.Receive(ctxT(t), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		if len(got) != 1 {
			t.Fatalf("received %d at once, want 1", len(got))
		}
		all = append(all, got...)
	}
	if len(all) != 5 {
		t.Fatalf("received %d, want 5", len(all))
	}
	if err := q.Delete(ctxT(t), all[:3]); err != nil {
		t.Fatal(err)
	}
	if err := q.Release(ctxT(t), all[3:]); err != nil {
		t.Fatal(err)
	}
	if d := depth(t, q); d != 2 {
		t.Errorf("depth %d, want 2", d)
	}
}

// A message SQS gives back after its visibility timeout is not handed out
// twice in a pass, and is deleted with its latest receipt handle.
func TestQueueMessageBackAfterVisibilityTimeout(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	queueURL := awstest.NewQueue(t, cfg)
	fill(t, cfg, queueURL, 1)
	q := newQueue(t, cfg, queueURL, func(c *redrive.QueueConfig) { c.VisibilityTimeout = time.Second })
	first := drain(t, q, 10)
	if len(first) != 1 {
		t.Fatalf("received %d, want 1", len(first))
	}
	time.Sleep(1500 * time.Millisecond)
	if got := drain(t, q, 10); len(got) != 0 {
		t.Errorf("handed out again: %v", ids(got))
	}
	if err := q.Delete(ctxT(t), first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if d := depth(t, q); d != 0 {
		t.Errorf("depth %d after the delete, want 0", d)
	}
}

// A delete that SQS refuses for some messages names each of them; the
// others are gone.
func TestQueueDeleteReportsEachFailure(t *testing.T) {
	t.Parallel()
	for _, one := range []bool{false, true} {
		t.Run(fmt.Sprintf("one-at-a-time=%v", one), func(t *testing.T) {
			t.Parallel()
			cfg := awstest.Config(t)
			queueURL := awstest.NewQueue(t, cfg)
			fill(t, cfg, queueURL, 3)
			q := newQueue(t, cfg, queueURL)
			all := drain(t, q, 10)
			if len(all) != 3 {
				t.Fatalf("received %d, want 3", len(all))
			}
			bad := dlq.Entry{ID: "not-a-message", Handle: "not-a-receipt-handle"}
			del := newQueue(t, cfg, queueURL, func(c *redrive.QueueConfig) { c.OneAtATime = one })
			err := del.Delete(ctxT(t), append(all[:2:2], bad))
			var de *dlq.DeleteError
			if !errors.As(err, &de) {
				t.Fatalf("error %v, want a *dlq.DeleteError", err)
			}
			if len(de.Failed) != 1 || de.Failed[bad.ID] == nil || !strings.Contains(err.Error(), bad.ID) {
				t.Errorf("failed %v, want only %s", de.Failed, bad.ID)
			}
			if d := depth(t, q); d != 1 {
				t.Errorf("depth %d, want 1 (two deleted)", d)
			}
		})
	}
}

func TestQueueErrors(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	q := newQueue(t, cfg, awstest.Endpoint()+"/123456789012/"+awstest.Name(t, "nosuchqueue"))
	_, err := q.Receive(ctxT(t), 10)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("receive from a missing queue: %v, want an error saying it does not exist", err)
	}
	if _, err := q.Info(ctxT(t)); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("info of a missing queue: %v, want an error saying it does not exist", err)
	}
}

func TestQueueConfigValidate(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		cfg  redrive.QueueConfig
		want string
	}{
		"no url":              {redrive.QueueConfig{}, "QueueURL is required"},
		"arn":                 {redrive.QueueConfig{QueueURL: "arn:aws:sqs:us-east-1:1:q"}, "looks like an ARN"},
		"visibility too long": {redrive.QueueConfig{QueueURL: "https://sqs.us-east-1.amazonaws.com/1/q", VisibilityTimeout: 13 * time.Hour}, "1 s to 12 h"},
		"wait too long":       {redrive.QueueConfig{QueueURL: "https://sqs.us-east-1.amazonaws.com/1/q", WaitTime: 21 * time.Second}, "0 to 20 s"},
		"visibility within the end window": {redrive.QueueConfig{QueueURL: "https://sqs.us-east-1.amazonaws.com/1/q",
			VisibilityTimeout: 2 * time.Second, WaitTime: time.Second, EmptyReceives: 2}, "must be longer"},
		"defaults": {redrive.QueueConfig{QueueURL: "https://sqs.us-east-1.amazonaws.com/1/q"}, ""},
	} {
		_, err := redrive.NewSQSQueue(&sqs.Client{}, c.cfg)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
}
