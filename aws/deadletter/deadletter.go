// Package deadletter is the SQS adapter of consumers.DeadLetterQueue: it
// sends troupe's own dead letters to an SQS queue, one SendMessage each, and
// reads them back (DecodeMessage) for the DLQ CLI.
//
// # Wire format (deadletter/v1)
//
// The body is a JSON object:
//
//	{
//	  "troupe": "deadletter/v1",          // marker: troupe's shape, and its version
//	  "consumer": "billing",              // the consumer that failed the event
//	  "reason": "handler",                // consumers.DeadLetter.Reason
//	  "error": "charge card: declined",   // the last error, as text
//	  "attempts": 3,                      // handler runs (0: it never ran)
//	  "firstFailure": "2025-06-01T12:00:00.123456789Z",  // RFC 3339, as precise as given
//	  "lastFailure": "2025-06-01T12:00:04.5Z",
//	  "origin": {"source": "stream", "stream": "orders", "shard": "shardId-000000000001",
//	             "sequenceNumber": "4960...", "rule": ""},   // empty members omitted
//	  "envelope": {...},                  // the event (CloudEvents JSON), when it decoded
//	  "raw": {...},                       // or: the payload as received, when it is compact JSON
//	  "rawBase64": "..."                  // or: the payload as received, in base64, otherwise
//	}
//
// "envelope", "raw" and "rawBase64" are omitted when empty; "raw" and
// "rawBase64" never both appear. A payload comes back byte for byte either
// way. The "troupe" field tells this shape from the three others a DLQ can
// hold (an EventBridge target DLQ message, a Lambda destination record, a
// Kinesis mapping failure record), none of which has it. Fields may be
// added to v1 (readers ignore what they do not know); any other change is a
// new version.
//
// When the message would exceed the queue's limit, the body is instead the
// gzip of that JSON in standard base64, and the attribute troupe-encoding is
// "gzip". (Such a body starts with "H4sI", so it is recognised even if the
// attribute is lost.) If even that does not fit, Send fails with
// consumers.ErrTooLarge and nothing is sent.
//
// Message attributes, for filtering without reading bodies (at most 8 of
// SQS's 10; one is left out when the dead letter has no value for it):
// troupe-consumer, troupe-event-type, troupe-event-version, troupe-event-id,
// troupe-reason, troupe-origin (String), troupe-attempts (Number), and
// troupe-encoding (String, only on a compressed body).
//
// # Size
//
// SQS counts the body and every attribute's name, data type and value
// against the queue's MaximumMessageSize: at most 1 MiB (1,048,576 bytes),
// which is also the default of a queue created since 2025. A queue created
// earlier, or with MaximumMessageSize set, may take less (256 KiB was the
// old maximum): set Config.MaxMessageBytes to the queue's value. If SQS
// still refuses a message as too long, Send's error wraps
// consumers.ErrTooLarge and says to align the two.
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/troupehq/troupe/consumers"
)

// API is the part of the SQS client the Queue uses.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ API = (*sqs.Client)(nil)

// Config configures a Queue.
type Config struct {
	// QueueURL is the queue's URL, as CreateQueue and GetQueueUrl return it
	// (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME). Required. The queue is
	// a standard queue: FIFO queues are not supported.
	QueueURL string
	// MaxMessageBytes is the largest message the queue takes: its
	// MaximumMessageSize attribute. Default (0): DefaultMaxMessageBytes,
	// 1 MiB; valid: 1,024 to 1,048,576.
	MaxMessageBytes int
}

// SetDefaults fills in what was left empty.
func (c *Config) SetDefaults() {
	c.QueueURL = strings.TrimSpace(c.QueueURL)
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
}

// Validate reports what is wrong with the configuration.
func (c Config) Validate() error {
	if c.QueueURL == "" {
		return errors.New("deadletter: Config.QueueURL is required: the SQS queue's URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)")
	}
	u, err := url.Parse(c.QueueURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		hint := ""
		if strings.HasPrefix(c.QueueURL, "arn:") {
			hint = " (it looks like an ARN)"
		}
		return fmt.Errorf("deadletter: Config.QueueURL %q is not a queue URL%s: want https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, "+
			"as CreateQueue or GetQueueUrl return it", c.QueueURL, hint)
	}
	if strings.HasSuffix(u.Path, ".fifo") {
		return fmt.Errorf("deadletter: Config.QueueURL %q is a FIFO queue: troupe's dead-letter queues are standard queues", c.QueueURL)
	}
	if c.MaxMessageBytes < MinMaxMessageBytes || c.MaxMessageBytes > DefaultMaxMessageBytes {
		return fmt.Errorf("deadletter: Config.MaxMessageBytes %d is out of SQS's range %d to %d: set it to the queue's MaximumMessageSize, or leave it 0 for %d",
			c.MaxMessageBytes, MinMaxMessageBytes, DefaultMaxMessageBytes, DefaultMaxMessageBytes)
	}
	return nil
}

// Queue sends dead letters to one SQS queue. It implements
// consumers.DeadLetterQueue and is safe for concurrent use.
type Queue struct {
	api API
	cfg Config
}

var _ consumers.DeadLetterQueue = (*Queue)(nil)

// New returns a Queue for cfg, calling SQS through api.
func New(api API, cfg Config) (*Queue, error) {
	if api == nil {
		return nil, errors.New("deadletter: New: api is nil: pass an *sqs.Client")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Queue{api: api, cfg: cfg}, nil
}

// NewFromConfig returns a Queue that calls SQS with a client built from
// awsCfg and optFns (e.g. to set BaseEndpoint or HTTPClient).
//
// The client keeps the SDK's own retryer, which retries a call that
// throttles, fails with a 5xx or cannot connect a few times before Send
// returns its error; bound the whole with ctx.
func NewFromConfig(awsCfg aws.Config, cfg Config, optFns ...func(*sqs.Options)) (*Queue, error) {
	return New(sqs.NewFromConfig(awsCfg, optFns...), cfg)
}

// QueueURL returns the URL of the queue the Queue sends to.
func (q *Queue) QueueURL() string { return q.cfg.QueueURL }

// Send sends the dead letter with one SendMessage call and returns nil only
// when SQS accepted it. It wraps consumers.ErrTooLarge, and sends nothing,
// when the message does not fit the limit even gzipped; any other error
// means SQS did not take it (or the answer was lost: then it may hold it).
// Cancelling ctx abandons the call; the error then wraps ctx's.
func (q *Queue) Send(ctx context.Context, dl consumers.DeadLetter) error {
	body, attrs, err := EncodeMessage(dl, q.cfg.MaxMessageBytes)
	if err != nil {
		return err
	}
	_, err = q.api.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(q.cfg.QueueURL),
		MessageBody:       aws.String(body),
		MessageAttributes: attrs,
	})
	if err != nil {
		what := fmt.Sprintf("sqs SendMessage of the dead letter of %s for consumer %q to %s", eventRef(dl), dl.Consumer, q.cfg.QueueURL)
		return translate(ctx, err, what, q.cfg, MessageSize(body, attrs))
	}
	return nil
}
