package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/local/deadletter"
	"github.com/troupehq/troupe/local/ingest"
)

// PathDLQ is the root of the engine's dead-letter endpoints, which `troupe
// dlq` uses against troupe dev:
//
//	GET    /dlq                          every consumer's queue: QueuesResponse
//	GET    /dlq/{consumer}?after=&limit= one page of its messages: PageResponse
//	DELETE /dlq/{consumer}/{id}          delete one message (204; 404 if gone)
//	POST   /dlq/{consumer}/redeliver     body: a troupe envelope; 202 RedeliverResponse
//
// Errors are problem details (application/problem+json).
const PathDLQ = "/dlq"

// QueueName is how the local queue of a consumer is named in dlq.Entry.Queue.
func QueueName(consumer string) string { return "local:" + consumer }

// QueuesResponse lists every consumer's dead-letter queue, empty ones too.
type QueuesResponse struct {
	Queues []dlq.QueueInfo `json:"queues"`
}

// DLQMessage is one stored dead letter as SQS would hold it.
type DLQMessage struct {
	ID         string            `json:"id"`
	SentAt     time.Time         `json:"sentAt"`
	Body       string            `json:"body"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// PageResponse is one page of a queue; Next is the after of the next page,
// empty on the last.
type PageResponse struct {
	Messages []DLQMessage `json:"messages"`
	Next     string       `json:"next,omitempty"`
}

// RedeliverResponse acknowledges a redelivery: the event is on disk, on its
// way to the consumer.
type RedeliverResponse struct {
	Consumer string `json:"consumer"`
	EventID  string `json:"eventId"`
	// BusEventID is the id of the bus event that carries it.
	BusEventID string `json:"busEventId"`
}

const maxPage = 1000

func (e *Engine) dlqRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PathDLQ, e.serveQueues)
	mux.HandleFunc("GET "+PathDLQ+"/{consumer}", e.servePage)
	mux.HandleFunc("DELETE "+PathDLQ+"/{consumer}/{id}", e.serveDelete)
	mux.HandleFunc("POST "+PathDLQ+"/{consumer}/redeliver", e.serveRedeliver)
}

// Queues returns every consumer's queue, in the topology's order.
func (e *Engine) Queues(ctx context.Context) ([]dlq.QueueInfo, error) {
	depths, err := e.dlq.Consumers(ctx)
	if err != nil {
		return nil, err
	}
	by := map[string]deadletter.Depth{}
	for _, d := range depths {
		by[d.Consumer] = d
	}
	var out []dlq.QueueInfo
	for _, c := range e.cfg.Topology.Consumers {
		d := by[c.Name]
		out = append(out, dlq.QueueInfo{Consumer: c.Name, Queue: QueueName(c.Name), Depth: d.Count, Oldest: d.Oldest})
	}
	return out, nil
}

func (e *Engine) serveQueues(w http.ResponseWriter, r *http.Request) {
	qs, err := e.Queues(r.Context())
	if err != nil {
		problem(w, http.StatusInternalServerError, "internal", "Cannot read the dead-letter queues", err.Error())
		return
	}
	writeJSONValue(w, http.StatusOK, QueuesResponse{Queues: qs})
}

func (e *Engine) servePage(w http.ResponseWriter, r *http.Request) {
	consumer, ok := e.knownConsumer(w, r)
	if !ok {
		return
	}
	after, limit, err := pageParams(r)
	if err != nil {
		problem(w, http.StatusBadRequest, "bad-request", "Bad page parameters", err.Error())
		return
	}
	msgs, err := e.dlq.List(r.Context(), consumer, after, limit+1)
	if err != nil {
		problem(w, http.StatusInternalServerError, "internal", "Cannot read the dead-letter queue", err.Error())
		return
	}
	page := PageResponse{Messages: []DLQMessage{}}
	for i, m := range msgs {
		if i == limit {
			page.Next = strconv.FormatUint(msgs[i-1].ID, 10)
			break
		}
		page.Messages = append(page.Messages, DLQMessage{ID: strconv.FormatUint(m.ID, 10), SentAt: m.SentAt, Body: m.Body, Attributes: m.Attributes})
	}
	writeJSONValue(w, http.StatusOK, page)
}

func pageParams(r *http.Request) (after uint64, limit int, err error) {
	limit = 100
	if s := r.URL.Query().Get("after"); s != "" {
		if after, err = strconv.ParseUint(s, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("after=%q: want a message id (a whole number)", s)
		}
	}
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxPage {
			return 0, 0, fmt.Errorf("limit=%q: want 1 to %d", s, maxPage)
		}
	}
	return after, limit, nil
}

func (e *Engine) serveDelete(w http.ResponseWriter, r *http.Request) {
	consumer, ok := e.knownConsumer(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		problem(w, http.StatusBadRequest, "bad-request", "Bad message id", fmt.Sprintf("%q is not a message id (a whole number)", r.PathValue("id")))
		return
	}
	err = e.dlq.Delete(r.Context(), consumer, id)
	switch {
	case errors.Is(err, deadletter.ErrNotFound):
		problem(w, http.StatusNotFound, "not-found", "No such message", err.Error())
	case err != nil:
		problem(w, http.StatusInternalServerError, "internal", "Cannot delete the message", err.Error())
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (e *Engine) serveRedeliver(w http.ResponseWriter, r *http.Request) {
	consumer, ok := e.knownConsumer(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 2<<20))
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "too-large", "Event too large", err.Error())
		return
	}
	env, err := events.Decode(body)
	if err != nil {
		problem(w, http.StatusBadRequest, "invalid-event", "Not a troupe envelope", err.Error())
		return
	}
	busID, err := e.Redeliver(r.Context(), consumer, env)
	switch {
	case errors.Is(err, ErrInvalidEvent):
		problem(w, http.StatusBadRequest, "invalid-event", "Invalid event", err.Error())
	case err != nil:
		problem(w, http.StatusInternalServerError, "internal", "Cannot redeliver", err.Error())
	default:
		writeJSONValue(w, http.StatusAccepted, RedeliverResponse{Consumer: consumer, EventID: env.ID, BusEventID: busID})
	}
}

// knownConsumer answers 404 for a consumer the topology does not have.
func (e *Engine) knownConsumer(w http.ResponseWriter, r *http.Request) (string, bool) {
	c := r.PathValue("consumer")
	if _, ok := e.runtimes[c]; !ok {
		problem(w, http.StatusNotFound, "unknown-consumer", "No such consumer",
			fmt.Sprintf("%q is not a consumer of topology %s; its consumers are %v", c, e.cfg.Topology.Name, e.consumerNames()))
		return "", false
	}
	return c, true
}

func problem(w http.ResponseWriter, status int, slug, title, detail string) {
	body, _ := json.Marshal(ingest.Problem{Type: "urn:troupe:problem:" + slug, Title: title, Status: status, Detail: detail})
	w.Header().Set("Content-Type", ingest.ContentTypeProblem)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeJSONValue(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
