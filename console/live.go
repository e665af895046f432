package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/troupehq/troupe/local"
)

// Snapshot is the live view's state: every consumer's status (counters, lag,
// DLQ depth) and the outcome counts per consumer and event type, which the
// page puts on the graph's edges.
type Snapshot struct {
	At     time.Time         `json:"at"`
	Status local.Status      `json:"status"`
	Edges  []local.EdgeCount `json:"edges"`
}

func (c *Console) snapshot(ctx context.Context) (Snapshot, error) {
	st, err := c.cfg.Engine.Status(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	edges := c.cfg.Engine.Edges()
	if edges == nil {
		edges = []local.EdgeCount{}
	}
	return Snapshot{At: time.Now().UTC(), Status: st, Edges: edges}, nil
}

func (c *Console) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	s, err := c.snapshot(r.Context())
	if err != nil {
		problem(w, http.StatusInternalServerError, "internal", "Cannot read the engine's status", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// serveLive streams snapshots as server-sent events ("snapshot" events, one
// JSON Snapshot each): the current one at once, then each change. A comment
// line every 15s keeps idle connections open through proxies.
func (c *Console) serveLive(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		problem(w, http.StatusInternalServerError, "internal", "No streaming", "this server cannot stream responses")
		return
	}
	sub, cancel := c.live.subscribe()
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case data, open := <-sub:
			if !open {
				return
			}
			if _, err := fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", data); err != nil {
				return
			}
			flusher.Flush()
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

// hub polls the engine while someone watches, and sends each subscriber the
// snapshots that differ from the last one sent. One poller serves every
// subscriber, so ten open pages cost the engine what one does. A subscriber
// too slow to take a snapshot skips it and gets the next.
type hub struct {
	interval time.Duration
	read     func(context.Context) (Snapshot, error)

	mu      sync.Mutex
	subs    map[chan []byte]bool
	last    []byte // the last snapshot sent (JSON), for new subscribers
	running bool
	closed  bool
	kick    chan struct{}
	stop    chan struct{}
}

func newHub(interval time.Duration, read func(context.Context) (Snapshot, error)) *hub {
	return &hub{interval: interval, read: read, subs: map[chan []byte]bool{}, kick: make(chan struct{}, 1), stop: make(chan struct{})}
}

// subscribe returns a channel of snapshots (JSON), closed when the hub
// closes, and a function that unsubscribes.
func (h *hub) subscribe() (<-chan []byte, func()) {
	ch := make(chan []byte, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(ch)
		return ch, func() {}
	}
	h.subs[ch] = true
	if !h.running {
		h.running = true
		h.last = nil
		go h.run()
	}
	h.poke()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.subs[ch] {
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// poke asks for a snapshot now (after a replay or a purge, or for a new
// subscriber) rather than at the next tick.
func (h *hub) poke() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// run polls until no one subscribes or the hub closes.
func (h *hub) run() {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	fresh := true // a new subscriber gets the current snapshot even if unchanged
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		case <-h.kick:
			fresh = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := h.read(ctx)
		cancel()
		var data []byte
		if err == nil {
			data, err = json.Marshal(s)
		}
		h.mu.Lock()
		if len(h.subs) == 0 || h.closed {
			h.running = false
			h.mu.Unlock()
			return
		}
		if err == nil && (fresh || !sameState(h.last, data)) {
			h.last = data
			for ch := range h.subs {
				select {
				case <-ch: // drop the stale one a slow reader has not taken
				default:
				}
				ch <- data
			}
		}
		fresh = false
		h.mu.Unlock()
	}
}

// sameState compares two snapshots but for their time.
func sameState(a, b []byte) bool {
	if a == nil || b == nil {
		return false
	}
	// Both start with {"at":"<time>", then the state.
	cut := func(s []byte) []byte {
		if i := bytes.Index(s, []byte(`,"status":`)); i >= 0 {
			return s[i:]
		}
		return s
	}
	return bytes.Equal(cut(a), cut(b))
}

// close ends every subscription and the poller. Idempotent.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	close(h.stop)
	for ch := range h.subs {
		delete(h.subs, ch)
		close(ch)
	}
}
