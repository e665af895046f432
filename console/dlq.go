package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/local"
)

// maxListed bounds the messages one listing shows.
const maxListed = 500

func (c *Console) serveQueues(w http.ResponseWriter, r *http.Request) {
	qs, err := c.cfg.Engine.Queues(r.Context())
	if err != nil {
		problem(w, http.StatusInternalServerError, "internal", "Cannot read the dead-letter queues", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, local.QueuesResponse{Queues: qs})
}

// MessagesResponse is the first messages of one consumer's queue.
type MessagesResponse struct {
	Consumer string       `json:"consumer"`
	Depth    int          `json:"depth"`
	Messages []DLQMessage `json:"messages"`
	// Truncated is true when the queue holds more than the messages listed.
	Truncated bool `json:"truncated,omitempty"`
}

// DLQMessage is one dead letter as the console shows it.
type DLQMessage struct {
	ID     string    `json:"id"`
	SentAt time.Time `json:"sentAt"`
	// Unreadable says why the message could not be read; the rest is then
	// zero but Body.
	Unreadable string `json:"unreadable,omitempty"`
	Shape      string `json:"shape,omitempty"`
	Consumer   string `json:"consumer,omitempty"`
	Error      string `json:"error,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Attempts   int    `json:"attempts"`
	// FirstFailure and LastFailure bound the failed attempts.
	FirstFailure time.Time        `json:"firstFailure,omitzero"`
	LastFailure  time.Time        `json:"lastFailure,omitzero"`
	Origin       consumers.Origin `json:"origin,omitzero"`
	// Event is the failed event's envelope; Raw the payload when it holds
	// no event.
	Event *events.Envelope `json:"event,omitempty"`
	Raw   string           `json:"raw,omitempty"`
	Body  string           `json:"body,omitempty"`
}

func (c *Console) serveMessages(w http.ResponseWriter, r *http.Request) {
	consumer := r.PathValue("consumer")
	q, err := c.cfg.Engine.DeadLetterQueue(consumer)
	if err != nil {
		problem(w, http.StatusNotFound, "unknown-consumer", "No such consumer", err.Error())
		return
	}
	resp := MessagesResponse{Consumer: consumer, Messages: []DLQMessage{}}
	info, err := q.Info(r.Context())
	if err == nil {
		resp.Depth = info.Depth
		err = dlq.Scan(r.Context(), q, dlq.Selector{}, func(e dlq.Entry, _ bool) error {
			if len(resp.Messages) == maxListed {
				resp.Truncated = true
				return dlq.ErrStop
			}
			resp.Messages = append(resp.Messages, messageOf(e))
			return nil
		})
	}
	if err != nil {
		problem(w, http.StatusInternalServerError, "internal", "Cannot read the dead-letter queue", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func messageOf(e dlq.Entry) DLQMessage {
	m := DLQMessage{ID: e.ID, SentAt: e.SentAt}
	if e.Err != nil {
		m.Unreadable, m.Body = e.Err.Error(), e.Body
		return m
	}
	msg := e.Message
	m.Shape, m.Consumer, m.Error, m.Reason, m.Attempts = string(msg.Shape), msg.Consumer, msg.Error, msg.Reason, msg.Attempts
	m.FirstFailure, m.LastFailure, m.Origin, m.Event = msg.FirstFailure, msg.LastFailure, msg.Origin, msg.Event
	if len(msg.Raw) > 0 {
		m.Raw = string(msg.Raw)
	}
	return m
}

// ReplayRequest picks what to replay: the messages with these ids, or, when
// IDs is empty, every message of the queue. Event, with exactly one id,
// replays that message with this event in place of the one it holds: the
// event fixed in the console, as `troupe dlq replay --from-file` sends an
// event fixed in an export file.
type ReplayRequest struct {
	IDs   []string         `json:"ids,omitempty"`
	Event *events.Envelope `json:"event,omitempty"`
}

// RunResponse is a replay's or a purge's outcome: its summary and what
// happened to each message. A message whose replay failed is still in its
// queue, and its Error says why.
type RunResponse struct {
	Summary dlq.Summary `json:"summary"`
	Results []RunResult `json:"results"`
	// Error is for the run as a whole (the queue could not be read).
	Error string `json:"error,omitempty"`
}

// RunResult is what happened to one message.
type RunResult struct {
	ID      string     `json:"id"`
	EventID string     `json:"eventId,omitempty"`
	Type    string     `json:"type,omitempty"`
	Action  dlq.Action `json:"action"`
	Deleted bool       `json:"deleted"`
	Error   string     `json:"error,omitempty"`
}

// serveReplay replays through dlq.Replay, the code `troupe dlq replay` runs:
// a message leaves its queue only once the engine acknowledged its
// redelivery; a failure keeps it there and says why.
func (c *Console) serveReplay(w http.ResponseWriter, r *http.Request) {
	var req ReplayRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Event != nil && len(req.IDs) != 1 {
		problem(w, http.StatusBadRequest, "bad-request", "One message to fix",
			fmt.Sprintf("an edited event replaces the event of one message: give exactly one id, not %d", len(req.IDs)))
		return
	}
	q, ok := c.queue(w, r, req.IDs)
	if !ok {
		return
	}
	if req.Event != nil {
		q = editedQueue{Queue: q, event: req.Event}
	}
	var resp RunResponse
	sum, err := dlq.Replay(r.Context(), dlq.ReplayConfig{Queue: q, To: c.cfg.Engine.Redeliverer(), OnResult: resp.collect})
	resp.finish(sum, err)
	c.live.poke()
	writeJSON(w, http.StatusOK, resp)
}

// PurgeRequest confirms a purge: Confirm must be the consumer's name. IDs,
// when set, purges only those messages.
type PurgeRequest struct {
	Confirm string   `json:"confirm"`
	IDs     []string `json:"ids,omitempty"`
}

func (c *Console) servePurge(w http.ResponseWriter, r *http.Request) {
	var req PurgeRequest
	if !readJSON(w, r, &req) {
		return
	}
	consumer := r.PathValue("consumer")
	if req.Confirm != consumer {
		problem(w, http.StatusBadRequest, "unconfirmed", "Purge not confirmed",
			fmt.Sprintf(`a purge deletes dead letters for good: confirm it with {"confirm": %q}`, consumer))
		return
	}
	q, ok := c.queue(w, r, req.IDs)
	if !ok {
		return
	}
	var resp RunResponse
	sum, err := dlq.Purge(r.Context(), dlq.PurgeConfig{Queue: q, OnResult: resp.collect})
	resp.finish(sum, err)
	c.live.poke()
	writeJSON(w, http.StatusOK, resp)
}

// queue opens the consumer's queue (only ids, when given), or answers.
func (c *Console) queue(w http.ResponseWriter, r *http.Request, ids []string) (dlq.Queue, bool) {
	if ids != nil && len(ids) == 0 {
		ids = nil
	}
	q, err := c.cfg.Engine.DeadLetterQueue(r.PathValue("consumer"), ids...)
	switch {
	case errors.Is(err, local.ErrUnknownConsumer):
		problem(w, http.StatusNotFound, "unknown-consumer", "No such consumer", err.Error())
		return nil, false
	case err != nil:
		problem(w, http.StatusBadRequest, "bad-request", "Bad message ids", err.Error())
		return nil, false
	}
	return q, true
}

func (resp *RunResponse) collect(res dlq.Result) {
	rr := RunResult{ID: res.Entry.ID, Action: res.Action, Deleted: res.Deleted}
	if ev := res.Entry.Message.Event; ev != nil {
		rr.EventID, rr.Type = ev.ID, ev.Type
	}
	if res.Err != nil {
		rr.Error = res.Err.Error()
	}
	resp.Results = append(resp.Results, rr)
}

func (resp *RunResponse) finish(sum dlq.Summary, err error) {
	resp.Summary = sum
	if resp.Results == nil {
		resp.Results = []RunResult{}
	}
	if err != nil {
		resp.Error = err.Error()
	}
}

// editedQueue hands out its queue's messages with event in place of the
// event each holds, keeping what the message says of the consumer and the
// origin; deleting and releasing go to the queue as they are.
type editedQueue struct {
	dlq.Queue
	event *events.Envelope
}

func (q editedQueue) Receive(ctx context.Context, max int) ([]dlq.Entry, error) {
	es, err := q.Queue.Receive(ctx, max)
	for i := range es {
		if es[i].Err != nil {
			continue
		}
		m, derr := dlq.Decode(es[i].Body, es[i].Attributes)
		if derr != nil {
			es[i].Err = derr
			continue
		}
		m.Event, m.Raw = q.event, nil
		es[i].Message = m
	}
	return es, err
}
