// Package console is the web console of `troupe dev`: a page served by the
// engine's own address that draws the choreography live, traces an event,
// shows and replays the dead-letter queues, and publishes test events.
// Everything it needs is embedded in the binary (assets/, with the graph
// library vendored by `make console-assets`): no network, no other server.
//
// Routes, beside the engine's own endpoints (POST / stays the AWS endpoint):
//
//	GET  /                                  redirects to /console/
//	GET  /console/...                       the page and its scripts
//	GET  /console/api/graph                 the graph (graph.Graph's JSON)
//	GET  /console/api/live                  server-sent events: a Snapshot now, then on every change
//	GET  /console/api/snapshot              the Snapshot once
//	GET  /console/api/trace/{id}            local.Trace of an event or correlation id (404: unknown)
//	GET  /console/api/types                 event types, versions and examples (TypesResponse)
//	POST /console/api/publish               PublishRequest; 422 with the schema's violations
//	GET  /console/api/dlq                   every consumer's queue (local.QueuesResponse)
//	GET  /console/api/dlq/{consumer}        its messages, decoded (MessagesResponse)
//	POST /console/api/dlq/{consumer}/replay ReplayRequest: dlq.Replay, as `troupe dlq replay` runs it
//	POST /console/api/dlq/{consumer}/purge  PurgeRequest: dlq.Purge, confirmed
//
// Errors are problem details (application/problem+json), as the engine's.
package console

import (
	"errors"
	"net/http"
	"time"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/local"
	"github.com/troupehq/troupe/schemas"
	"github.com/troupehq/troupe/topology"
)

// Path is where the console's page is served.
const Path = "/console/"

// Config is what the console shows and acts on.
type Config struct {
	// Engine is the running engine. Required.
	Engine *local.Engine
	// Topology is the engine's topology, drawn as the graph. Required.
	Topology *topology.Topology
	// Registry lists the event types and versions the publish form offers;
	// Schemas gives their examples and checks the data. Both required.
	Registry *events.Registry
	Schemas  *schemas.Set
	// Interval is how often the live view looks for changes while someone
	// watches (default 1s: at 2 updates a second the browser's redraws cost the
	// engine about 9% of its throughput on 2 cores, at 1 about 4%).
	Interval time.Duration
}

// SetDefaults fills the zero Interval.
func (c *Config) SetDefaults() {
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
}

// Validate reports what is missing.
func (c Config) Validate() error {
	if c.Engine == nil || c.Topology == nil || c.Registry == nil || c.Schemas == nil {
		return errors.New("console: Config needs Engine, Topology, Registry and Schemas")
	}
	return nil
}

// Console serves the web console of one engine. Its methods are safe for
// concurrent use.
type Console struct {
	cfg  Config
	live *hub
}

// New returns the console of cfg.Engine. Close ends its live streams.
func New(cfg Config) (*Console, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg}
	c.live = newHub(cfg.Interval, c.snapshot)
	return c, nil
}

// Close ends the live streams, so that an http.Server's Shutdown does not
// wait for them (register it with Server.RegisterOnShutdown). Idempotent.
func (c *Console) Close() { c.live.close() }

// Handler serves the console and hands every other request to next (the
// engine's handler): GET / redirects to the console, POST / stays next's.
func (c *Console) Handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Path, http.StatusFound)
	})
	mux.Handle("GET "+Path, assetHandler())
	api := Path + "api/"
	mux.HandleFunc("GET "+api+"graph", c.serveGraph)
	mux.HandleFunc("GET "+api+"live", c.serveLive)
	mux.HandleFunc("GET "+api+"snapshot", c.serveSnapshot)
	mux.HandleFunc("GET "+api+"trace/{id}", c.serveTrace)
	mux.HandleFunc("GET "+api+"types", c.serveTypes)
	mux.HandleFunc("POST "+api+"publish", c.servePublish)
	mux.HandleFunc("GET "+api+"dlq", c.serveQueues)
	mux.HandleFunc("GET "+api+"dlq/{consumer}", c.serveMessages)
	mux.HandleFunc("POST "+api+"dlq/{consumer}/replay", c.serveReplay)
	mux.HandleFunc("POST "+api+"dlq/{consumer}/purge", c.servePurge)
	mux.HandleFunc("GET "+api, func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "not-found", "No such console endpoint", r.Method+" "+r.URL.Path+" is not one; see package console's documentation")
	})
	mux.Handle("/", next)
	return mux
}
