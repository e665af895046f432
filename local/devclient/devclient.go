// Package devclient talks to a running troupe dev over its HTTP endpoints:
// the dead-letter queues as dlq.Queue values and the redelivery as a
// dlq.Redeliverer, so that `troupe dlq` drains troupe dev's queues with the
// same code it drains SQS queues with.
package devclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/local"
	"github.com/troupehq/troupe/local/ingest"
)

// Client is a troupe dev at one address. Safe for concurrent use.
type Client struct {
	base string
	http *http.Client
}

// New returns a client of the troupe dev at addr ("127.0.0.1:4195" or a
// URL).
func New(addr string) *Client {
	base := strings.TrimSuffix(addr, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{base: base, http: &http.Client{Timeout: 30 * time.Second}}
}

// Queues lists every consumer's dead-letter queue.
func (c *Client) Queues(ctx context.Context) ([]dlq.QueueInfo, error) {
	var r local.QueuesResponse
	if err := c.do(ctx, http.MethodGet, local.PathDLQ, nil, http.StatusOK, &r); err != nil {
		return nil, err
	}
	return r.Queues, nil
}

// Queue returns the consumer's dead-letter queue. Receive pages through it
// in id order; Release has nothing to do (troupe dev hides nothing from
// other readers); Delete of a message already gone is no error.
func (c *Client) Queue(consumer string) dlq.Queue { return &queue{c: c, consumer: consumer} }

// Redeliverer redelivers a dead letter's event to the consumer named in the
// message, through troupe dev's redelivery endpoint.
func (c *Client) Redeliverer() dlq.Redeliverer { return redeliverer{c} }

type queue struct {
	c        *Client
	consumer string
	after    string
}

func (q *queue) path() string { return local.PathDLQ + "/" + url.PathEscape(q.consumer) }

func (q *queue) Info(ctx context.Context) (dlq.QueueInfo, error) {
	qs, err := q.c.Queues(ctx)
	if err != nil {
		return dlq.QueueInfo{}, err
	}
	for _, i := range qs {
		if i.Consumer == q.consumer {
			return i, nil
		}
	}
	return dlq.QueueInfo{}, fmt.Errorf("troupe dev at %s has no consumer %q", q.c.base, q.consumer)
}

func (q *queue) Receive(ctx context.Context, max int) ([]dlq.Entry, error) {
	v := url.Values{"limit": {strconv.Itoa(max)}}
	if q.after != "" {
		v.Set("after", q.after)
	}
	var page local.PageResponse
	if err := q.c.do(ctx, http.MethodGet, q.path()+"?"+v.Encode(), nil, http.StatusOK, &page); err != nil {
		return nil, err
	}
	out := make([]dlq.Entry, 0, len(page.Messages))
	for _, m := range page.Messages {
		out = append(out, dlq.Entry{
			Queue: local.QueueName(q.consumer), ID: m.ID, Handle: m.ID, SentAt: m.SentAt, Body: m.Body, Attributes: m.Attributes,
		})
		q.after = m.ID
	}
	return out, nil
}

func (q *queue) Delete(ctx context.Context, entries []dlq.Entry) error {
	failed := map[string]error{}
	for _, e := range entries {
		err := q.c.do(ctx, http.MethodDelete, q.path()+"/"+url.PathEscape(e.Handle), nil, http.StatusNoContent, nil)
		var pe *ProblemError
		if err != nil && !(errors.As(err, &pe) && pe.Status == http.StatusNotFound && pe.Type == "urn:troupe:problem:not-found") {
			failed[e.ID] = err
		}
	}
	if len(failed) > 0 {
		return &dlq.DeleteError{Failed: failed}
	}
	return nil
}

func (q *queue) Release(context.Context, []dlq.Entry) error { return nil }

type redeliverer struct{ c *Client }

func (r redeliverer) Redeliver(ctx context.Context, e dlq.Entry) error {
	m := e.Message
	if m.Consumer == "" {
		return errors.New("the message names no consumer to redeliver to")
	}
	if m.Event == nil {
		return fmt.Errorf("the dead letter holds no event, only %d bytes that are not one: export it, fix its \"event\", and replay the file", len(m.Raw))
	}
	body, err := json.Marshal(m.Event)
	if err != nil {
		return err
	}
	path := local.PathDLQ + "/" + url.PathEscape(m.Consumer) + "/redeliver"
	return r.c.do(ctx, http.MethodPost, path, body, http.StatusAccepted, nil)
}

// ProblemError is an error answer of troupe dev.
type ProblemError struct {
	ingest.Problem
}

func (e *ProblemError) Error() string { return fmt.Sprintf("%s: %s", e.Title, e.Detail) }

func (c *Client) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("troupe dev at %s: %w (is it running? start it with `troupe dev`)", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("troupe dev at %s: %s %s: %w", c.base, method, path, err)
	}
	if resp.StatusCode != want {
		var p ProblemError
		if json.Unmarshal(data, &p.Problem) == nil && p.Title != "" {
			return &p
		}
		return fmt.Errorf("troupe dev at %s: %s %s: %s: %s", c.base, method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("troupe dev at %s: %s %s: read the answer: %w", c.base, method, path, err)
		}
	}
	return nil
}
