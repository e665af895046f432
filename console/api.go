package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/graph"
	"github.com/troupehq/troupe/local/ingest"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

// The console's source, for the events it publishes when the form names
// none.
const defaultSource = "troupe.console"

func (c *Console) serveGraph(w http.ResponseWriter, r *http.Request) {
	g, err := graph.Build(c.cfg.Topology)
	if err != nil {
		problem(w, http.StatusInternalServerError, "internal", "Cannot draw the topology", err.Error())
		return
	}
	var buf bytes.Buffer
	if err := g.JSON(&buf); err != nil {
		problem(w, http.StatusInternalServerError, "internal", "Cannot write the graph", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
}

func (c *Console) serveTrace(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PathValue("id"))
	tr, err := c.cfg.Engine.Trace(r.Context(), id)
	if err != nil {
		problem(w, http.StatusNotFound, "unknown-id", "Nothing to trace", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, tr)
}

// TypesResponse lists what the publish form offers.
type TypesResponse struct {
	Types []EventType `json:"types"`
}

// EventType is one registered type and its versions, newest last.
type EventType struct {
	Type     string         `json:"type"`
	Versions []EventVersion `json:"versions"`
}

// EventVersion is one version of a type: its schema's title and
// description, and the data of its first example (null when the schema has
// none, or no schema is embedded for it).
type EventVersion struct {
	Version     int             `json:"version"`
	Title       string          `json:"title,omitempty"`
	Description string          `json:"description,omitempty"`
	Breaking    string          `json:"breaking,omitempty"`
	Schema      string          `json:"schema,omitempty"` // the schema file
	Example     json.RawMessage `json:"example"`
}

func (c *Console) serveTypes(w http.ResponseWriter, r *http.Request) {
	resp := TypesResponse{Types: []EventType{}}
	for _, vi := range c.cfg.Registry.Versions() {
		if n := len(resp.Types); n == 0 || resp.Types[n-1].Type != vi.Type {
			resp.Types = append(resp.Types, EventType{Type: vi.Type})
		}
		v := EventVersion{Version: vi.Version, Breaking: vi.Breaking, Example: json.RawMessage("null")}
		if raw, ok := c.cfg.Schemas.Raw(vi.Type, vi.Version); ok {
			var doc struct {
				Title       string            `json:"title"`
				Description string            `json:"description"`
				Examples    []json.RawMessage `json:"examples"`
			}
			if json.Unmarshal(raw, &doc) == nil {
				v.Title, v.Description = doc.Title, doc.Description
				if len(doc.Examples) > 0 {
					v.Example = doc.Examples[0]
				}
			}
			v.Schema = c.cfg.Schemas.Path(vi.Type, vi.Version)
		}
		t := &resp.Types[len(resp.Types)-1]
		t.Versions = append(t.Versions, v)
	}
	writeJSON(w, http.StatusOK, resp)
}

// PublishRequest is the publish form: the type and version, the data, and
// optional attributes (the source defaults to "troupe.console"; the subject
// and partition key to none).
type PublishRequest struct {
	Type    string          `json:"type"`
	Version int             `json:"version"`
	Data    json.RawMessage `json:"data"`
	Source  string          `json:"source,omitempty"`
	Subject string          `json:"subject,omitempty"`
}

// PublishResponse is a published event: its id and correlation id (to
// trace it), and each leg's outcome.
type PublishResponse struct {
	EventID       string `json:"eventId"`
	CorrelationID string `json:"correlationId"`
	Type          string `json:"type"`
	Version       int    `json:"version"`
	Bus           string `json:"bus"`
	Stream        string `json:"stream"`
}

// PublishProblem is the answer to data its schema refuses (422): the
// problem, and every wrong spot by JSON pointer, for the form to show.
type PublishProblem struct {
	ingest.Problem
	Schema     string      `json:"schema,omitempty"`
	Violations []Violation `json:"violations,omitempty"`
}

// Violation is one spot where the data breaks its schema.
type Violation struct {
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

func (c *Console) servePublish(w http.ResponseWriter, r *http.Request) {
	var req PublishRequest
	if !readJSON(w, r, &req) {
		return
	}
	if err := c.cfg.Registry.Known(req.Type, req.Version); err != nil {
		problem(w, http.StatusBadRequest, "unknown-type", "Unknown event type or version", err.Error())
		return
	}
	if len(bytes.TrimSpace(req.Data)) == 0 {
		req.Data = nil
	}
	if err := c.cfg.Schemas.ValidateData(req.Type, req.Version, req.Data); err != nil {
		p := PublishProblem{Problem: ingest.Problem{
			Type: problemType("invalid-data"), Title: "The data breaks its schema: nothing was published",
			Status: http.StatusUnprocessableEntity, Detail: err.Error(),
		}}
		var ve *schemas.ValidationError
		if errors.As(err, &ve) {
			p.Schema = ve.File
			for _, v := range ve.Violations {
				p.Violations = append(p.Violations, Violation{Pointer: v.Pointer, Message: v.Message})
			}
		}
		writeProblem(w, p.Status, p)
		return
	}
	src := strings.TrimSpace(req.Source)
	if src == "" {
		src = defaultSource
	}
	opts := []events.Option{events.WithSource(src)}
	if s := strings.TrimSpace(req.Subject); s != "" {
		opts = append(opts, events.WithSubject(s))
	}
	env, err := events.New(req.Type, req.Version, req.Data, opts...)
	if err != nil {
		problem(w, http.StatusBadRequest, "invalid-event", "Invalid event: nothing was published", err.Error())
		return
	}
	results, err := c.cfg.Engine.Publisher().Publish(r.Context(), env)
	var pubErr *producers.PublishError
	if err != nil && !errors.As(err, &pubErr) {
		problem(w, http.StatusServiceUnavailable, "not-published", "Nothing was published", err.Error())
		return
	}
	resp := PublishResponse{EventID: env.ID, CorrelationID: env.CorrelationID, Type: env.Type, Version: env.DataVersion}
	if len(results) == 1 {
		resp.Bus, resp.Stream = results[0].Bus.String(), results[0].Stream.String()
	}
	if pubErr != nil {
		problem(w, http.StatusServiceUnavailable, "not-published", "The event did not reach both legs", pubErr.Error())
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// readJSON decodes a request body of at most 2 MiB into v, or answers 400.
// Only a JSON request from the console's own origin is read: a page of
// another site can post a form or text/plain to 127.0.0.1 without asking,
// but not application/json, and its Origin names it.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		problem(w, http.StatusUnsupportedMediaType, "unsupported-media-type", "Send JSON", "the console's actions take Content-Type: application/json")
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			problem(w, http.StatusForbidden, "cross-origin", "Request from another site", fmt.Sprintf("Origin %q is not this console's (%s)", o, r.Host))
			return false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 2<<20))
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "too-large", "Request too large", err.Error())
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		problem(w, http.StatusBadRequest, "bad-request", "Unreadable request", fmt.Sprintf("the body is not the JSON this endpoint reads: %v", err))
		return false
	}
	return true
}

func problemType(slug string) string { return "urn:troupe:problem:" + slug }

func problem(w http.ResponseWriter, status int, slug, title, detail string) {
	writeProblem(w, status, ingest.Problem{Type: problemType(slug), Title: title, Status: status, Detail: detail})
}

func writeProblem(w http.ResponseWriter, status int, p any) {
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", ingest.ContentTypeProblem)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
