package redrive

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/troupehq/troupe/dlq"
)

// SQSAPI is the part of the SQS client an SQSQueue uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// SQS's limits and the defaults of QueueConfig.
const (
	// MaxBatch is the most messages one ReceiveMessage returns, and the
	// most entries of one DeleteMessageBatch or
	// ChangeMessageVisibilityBatch.
	MaxBatch = 10
	// DefaultVisibilityTimeout is how long a received message stays hidden
	// from other readers unless it is deleted or released first.
	DefaultVisibilityTimeout = 60 * time.Second
	// DefaultWaitTime is the long poll of each receive.
	DefaultWaitTime = time.Second
	// DefaultEmptyReceives is how many receives in a row must come back
	// empty before Receive says the queue has no more.
	DefaultEmptyReceives = 2
)

// QueueConfig configures an SQSQueue.
type QueueConfig struct {
	// QueueURL is the dead-letter queue's URL (a stack output: see
	// Outputs). Required.
	QueueURL string
	// Consumer names the consumer whose DLQ this is, for Info. Optional.
	Consumer string
	// VisibilityTimeout hides each received message from other readers
	// until it is deleted or released, or until it passes: then SQS gives
	// the message back, so a reader that dies loses nothing. A pass that
	// holds a message longer sees it again (the dlq package's pass hands it
	// out once). Default DefaultVisibilityTimeout; 1 s to 12 h, in whole
	// seconds.
	VisibilityTimeout time.Duration
	// WaitTime is each receive's long poll: a long poll asks every SQS
	// server of the queue, where a short poll (0) asks a sample and may
	// come back empty while messages remain. Default DefaultWaitTime; 0 to
	// 20 s, in whole seconds. Set NoWait for a short poll.
	WaitTime time.Duration
	NoWait   bool
	// EmptyReceives is how many receives in a row must come back empty
	// before Receive returns an empty batch (the end of the queue). Default
	// DefaultEmptyReceives. Each costs up to WaitTime.
	EmptyReceives int
	// OneAtATime receives one message per ReceiveMessage and deletes and
	// releases them one call each (DeleteMessage, ChangeMessageVisibility):
	// the slow way, kept to compare with the batched calls.
	OneAtATime bool
}

// SetDefaults fills in what was left empty.
func (c *QueueConfig) SetDefaults() {
	c.QueueURL = strings.TrimSpace(c.QueueURL)
	if c.VisibilityTimeout == 0 {
		c.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if c.WaitTime == 0 && !c.NoWait {
		c.WaitTime = DefaultWaitTime
	}
	if c.EmptyReceives == 0 {
		c.EmptyReceives = DefaultEmptyReceives
	}
}

// Validate reports what is wrong with the configuration.
func (c QueueConfig) Validate() error {
	var errs []error
	if c.QueueURL == "" {
		errs = append(errs, errors.New("redrive: QueueConfig.QueueURL is required: the DLQ's URL "+
			"(https://sqs.REGION.amazonaws.com/ACCOUNT/NAME; the stack output <Consumer>DlqUrl)"))
	} else if u, err := url.Parse(c.QueueURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		strings.Trim(u.Path, "/") == "" {
		hint := ""
		if strings.HasPrefix(c.QueueURL, "arn:") {
			hint = " (it looks like an ARN)"
		}
		errs = append(errs, fmt.Errorf("redrive: QueueConfig.QueueURL %q is not a queue URL%s: want "+
			"https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, as the stack output <Consumer>DlqUrl gives it", c.QueueURL, hint))
	}
	if c.VisibilityTimeout < time.Second || c.VisibilityTimeout > 12*time.Hour || c.VisibilityTimeout%time.Second != 0 {
		errs = append(errs, fmt.Errorf("redrive: QueueConfig.VisibilityTimeout %v: SQS takes whole seconds from 1 s to 12 h", c.VisibilityTimeout))
	}
	if c.WaitTime < 0 || c.WaitTime > 20*time.Second || c.WaitTime%time.Second != 0 {
		errs = append(errs, fmt.Errorf("redrive: QueueConfig.WaitTime %v: SQS takes whole seconds from 0 to 20 s", c.WaitTime))
	}
	if c.EmptyReceives < 1 {
		errs = append(errs, fmt.Errorf("redrive: QueueConfig.EmptyReceives %d: at least 1", c.EmptyReceives))
	} else if window := c.WaitTime * time.Duration(c.EmptyReceives); c.VisibilityTimeout <= window {
		// Otherwise a message handed out earlier could come back within
		// every window, and Receive would never see the queue empty.
		errs = append(errs, fmt.Errorf("redrive: QueueConfig.VisibilityTimeout %v must be longer than WaitTime %v times "+
			"EmptyReceives %d, or a message received earlier keeps coming back before the end of the queue is seen",
			c.VisibilityTimeout, c.WaitTime, c.EmptyReceives))
	}
	return errors.Join(errs...)
}

// SQSQueue is one SQS dead-letter queue, as `troupe dlq` drains it. It
// implements dlq.Queue. An SQSQueue is one pass over the queue: it hands
// each message out once, and deletes and releases with the latest receipt
// handle of each message. A message handed out before that the pass
// receives again (SQS gave it back after its visibility timeout, or Release
// did) is kept hidden and not handed out; one Release gave back is released
// again when Receive reaches the end of the queue. Make a new SQSQueue for
// each pass. It is safe for concurrent use.
type SQSQueue struct {
	api SQSAPI
	cfg QueueConfig

	mu       sync.Mutex
	handles  map[string]string   // message id -> latest receipt handle, for the messages handed out
	released map[string]bool     // ids released by Release
	rehidden map[string]struct{} // released ids received again, to release at the end of the queue
}

var _ dlq.Queue = (*SQSQueue)(nil)

// NewSQSQueue returns the queue in cfg, calling SQS through api.
func NewSQSQueue(api SQSAPI, cfg QueueConfig) (*SQSQueue, error) {
	if api == nil {
		return nil, errors.New("redrive: NewSQSQueue: api is nil: pass an *sqs.Client")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &SQSQueue{api: api, cfg: cfg, handles: map[string]string{}, released: map[string]bool{}, rehidden: map[string]struct{}{}}, nil
}

// NewSQSQueueFromConfig returns the queue in cfg with an SQS client built
// from awsCfg and optFns (e.g. to set BaseEndpoint or HTTPClient).
func NewSQSQueueFromConfig(awsCfg aws.Config, cfg QueueConfig, optFns ...func(*sqs.Options)) (*SQSQueue, error) {
	return NewSQSQueue(sqs.NewFromConfig(awsCfg, optFns...), cfg)
}

// QueueURL returns the URL of the queue.
func (q *SQSQueue) QueueURL() string { return q.cfg.QueueURL }

// Info reports the queue's depth: ApproximateNumberOfMessages, ...NotVisible
// and ...Delayed added up (SQS's counts are approximate). SQS tells a
// message's age only to CloudWatch: Oldest is zero.
func (q *SQSQueue) Info(ctx context.Context) (dlq.QueueInfo, error) {
	names := []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	}
	out, err := q.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.cfg.QueueURL), AttributeNames: names})
	if err != nil {
		return dlq.QueueInfo{}, translateSQS(ctx, err, "sqs GetQueueAttributes of "+q.cfg.QueueURL, "sqs:GetQueueAttributes")
	}
	info := dlq.QueueInfo{Consumer: q.cfg.Consumer, Queue: q.cfg.QueueURL}
	for _, name := range names {
		v, ok := out.Attributes[string(name)]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return dlq.QueueInfo{}, fmt.Errorf("sqs GetQueueAttributes of %s: %s is %q, not a count", q.cfg.QueueURL, name, v)
		}
		info.Depth += n
	}
	return info, nil
}

// Receive returns the next messages not handed out before, at most max
// (at most MaxBatch; max <= 0 means MaxBatch; 1 in OneAtATime mode), each
// decoded with dlq.Decode (Entry.Message, or Entry.Err for a message in no
// shape). It makes ReceiveMessage calls until one brings a message not
// handed out before, or until EmptyReceives calls in a row bring nothing:
// then it returns an empty batch, the end of the queue. Every message it
// receives stays hidden for VisibilityTimeout unless deleted or released.
// Cancelling ctx abandons the call; messages it received come back after
// their visibility timeout.
func (q *SQSQueue) Receive(ctx context.Context, max int) ([]dlq.Entry, error) {
	if max <= 0 || max > MaxBatch {
		max = MaxBatch
	}
	if q.cfg.OneAtATime {
		max = 1
	}
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(q.cfg.QueueURL),
		MaxNumberOfMessages:         int32(max),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameSentTimestamp},
		VisibilityTimeout:           int32(q.cfg.VisibilityTimeout / time.Second),
		WaitTimeSeconds:             int32(q.cfg.WaitTime / time.Second),
	}
	for empty := 0; empty < q.cfg.EmptyReceives; {
		out, err := q.api.ReceiveMessage(ctx, in)
		if err != nil {
			return nil, translateSQS(ctx, err, "sqs ReceiveMessage from "+q.cfg.QueueURL, "sqs:ReceiveMessage")
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		empty = 0
		if fresh := q.fresh(out.Messages); len(fresh) > 0 {
			return fresh, nil
		}
	}
	q.releaseRehidden(ctx)
	return nil, nil
}

// releaseRehidden releases again the messages that Release gave back and
// a later receive of this pass hid again, so that at the end of the queue
// they are visible as Release left them. It does its best: one it cannot
// release comes back after its visibility timeout.
func (q *SQSQueue) releaseRehidden(ctx context.Context) {
	q.mu.Lock()
	var again []dlq.Entry
	for id := range q.rehidden {
		again = append(again, dlq.Entry{ID: id, Handle: q.handles[id]})
	}
	q.rehidden = map[string]struct{}{}
	q.mu.Unlock()
	if len(again) > 0 {
		_ = q.Release(ctx, again)
	}
}

// fresh records the latest receipt handle of each message and returns the
// ones not handed out before, as entries.
func (q *SQSQueue) fresh(msgs []types.Message) []dlq.Entry {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []dlq.Entry
	for _, m := range msgs {
		id, handle := aws.ToString(m.MessageId), aws.ToString(m.ReceiptHandle)
		_, seen := q.handles[id]
		q.handles[id] = handle
		if seen {
			if q.released[id] {
				q.rehidden[id] = struct{}{}
			}
			continue
		}
		out = append(out, q.entry(m))
	}
	return out
}

func (q *SQSQueue) entry(m types.Message) dlq.Entry {
	e := dlq.Entry{
		Queue:  q.cfg.QueueURL,
		ID:     aws.ToString(m.MessageId),
		Handle: aws.ToString(m.ReceiptHandle),
		Body:   aws.ToString(m.Body),
	}
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		e.SentAt = time.UnixMilli(ms).UTC()
	}
	if len(m.MessageAttributes) > 0 {
		e.Attributes = make(map[string]string, len(m.MessageAttributes))
		for name, v := range m.MessageAttributes {
			switch {
			case v.StringValue != nil:
				e.Attributes[name] = *v.StringValue
			case v.BinaryValue != nil:
				e.Attributes[name] = base64.StdEncoding.EncodeToString(v.BinaryValue)
			}
		}
	}
	e.Message, e.Err = dlq.Decode(e.Body, e.Attributes)
	if e.Err != nil {
		e.Message = dlq.Message{}
	}
	return e
}

// handle returns the latest receipt handle of e's message.
func (q *SQSQueue) handle(e dlq.Entry) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if h, ok := q.handles[e.ID]; ok && h != "" {
		return h
	}
	return e.Handle
}

// Delete deletes the messages with DeleteMessageBatch, ten at a time (one
// DeleteMessage each in OneAtATime mode), using each message's latest
// receipt handle. When some are not deleted the error is a
// *dlq.DeleteError that names each (its id, SQS's code and message); the
// others are gone.
func (q *SQSQueue) Delete(ctx context.Context, entries []dlq.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	failed := map[string]error{}
	if q.cfg.OneAtATime {
		for _, e := range entries {
			_, err := q.api.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.cfg.QueueURL), ReceiptHandle: aws.String(q.handle(e))})
			if err != nil {
				failed[e.ID] = translateSQS(ctx, err, "sqs DeleteMessage of message "+e.ID+" from "+q.cfg.QueueURL, "sqs:DeleteMessage")
			}
		}
	} else {
		for start := 0; start < len(entries); start += MaxBatch {
			chunk := entries[start:min(start+MaxBatch, len(entries))]
			in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.cfg.QueueURL)}
			for i, e := range chunk {
				in.Entries = append(in.Entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(q.handle(e))})
			}
			out, err := q.api.DeleteMessageBatch(ctx, in)
			if err != nil {
				err = translateSQS(ctx, err, fmt.Sprintf("sqs DeleteMessageBatch of %d messages from %s", len(chunk), q.cfg.QueueURL), "sqs:DeleteMessage")
				for _, e := range chunk {
					failed[e.ID] = err
				}
				continue
			}
			batchFailures(chunk, out.Failed, failed)
		}
	}
	q.forget(entries, failed)
	if len(failed) > 0 {
		return &dlq.DeleteError{Failed: failed}
	}
	return nil
}

// Release makes the messages visible again now (their visibility timeout
// set to 0) with ChangeMessageVisibilityBatch, ten at a time (one
// ChangeMessageVisibility each in OneAtATime mode). The error names each
// message not released; those come back on their own after their
// visibility timeout.
func (q *SQSQueue) Release(ctx context.Context, entries []dlq.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	failed := map[string]error{}
	if q.cfg.OneAtATime {
		for _, e := range entries {
			_, err := q.api.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(q.cfg.QueueURL), ReceiptHandle: aws.String(q.handle(e)), VisibilityTimeout: 0,
			})
			if err != nil {
				failed[e.ID] = translateSQS(ctx, err, "sqs ChangeMessageVisibility of message "+e.ID+" in "+q.cfg.QueueURL, "sqs:ChangeMessageVisibility")
			}
		}
	} else {
		for start := 0; start < len(entries); start += MaxBatch {
			chunk := entries[start:min(start+MaxBatch, len(entries))]
			in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(q.cfg.QueueURL)}
			for i, e := range chunk {
				in.Entries = append(in.Entries, types.ChangeMessageVisibilityBatchRequestEntry{
					Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(q.handle(e)), VisibilityTimeout: 0,
				})
			}
			out, err := q.api.ChangeMessageVisibilityBatch(ctx, in)
			if err != nil {
				err = translateSQS(ctx, err, fmt.Sprintf("sqs ChangeMessageVisibilityBatch of %d messages in %s", len(chunk), q.cfg.QueueURL), "sqs:ChangeMessageVisibility")
				for _, e := range chunk {
					failed[e.ID] = err
				}
				continue
			}
			batchFailures(chunk, out.Failed, failed)
		}
	}
	q.mu.Lock()
	for _, e := range entries {
		if failed[e.ID] == nil {
			q.released[e.ID] = true
		}
	}
	q.mu.Unlock()
	if len(failed) > 0 {
		return fmt.Errorf("redrive: %d of %d messages not released from %s (they come back on their own after the "+
			"visibility timeout, %v): %s", len(failed), len(entries), q.cfg.QueueURL, q.cfg.VisibilityTimeout, listFailures(failed))
	}
	return nil
}

// batchFailures records the failed entries of a batch call (their Id is
// the index in chunk), with SQS's code and message.
func batchFailures(chunk []dlq.Entry, fails []types.BatchResultErrorEntry, failed map[string]error) {
	for _, f := range fails {
		i, err := strconv.Atoi(aws.ToString(f.Id))
		if err != nil || i < 0 || i >= len(chunk) {
			continue
		}
		hint := "SQS failed it: try again"
		if f.SenderFault {
			hint = "SQS refused it: the receipt handle may be stale (the message was received again after its visibility timeout) or the message already deleted"
		}
		failed[chunk[i].ID] = fmt.Errorf("%s: %s (%s)", aws.ToString(f.Code), aws.ToString(f.Message), hint)
	}
}

// listFailures names each failed message, in id order.
func listFailures(failed map[string]error) string {
	ids := make([]string, 0, len(failed))
	for id := range failed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "message %s: %v", id, failed[id])
	}
	return b.String()
}

// forget drops the receipt handles of deleted messages.
func (q *SQSQueue) forget(entries []dlq.Entry, failed map[string]error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range entries {
		if failed[e.ID] == nil {
			// Keep the id, so the message is never handed out again in this
			// pass; its handle is of no more use.
			q.handles[e.ID] = ""
		}
	}
}
