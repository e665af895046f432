// Package local is the embedded engine behind `troupe dev`: the bus, the
// stream and every consumer of a topology in one process, with no Docker and
// no AWS account, on a durable store (bbolt). A user's module runs its own
// topology with a main of a few lines:
//
//	eng, err := local.Open(local.Config{DataDir: ".troupe", Topology: myTopology, Validator: mySchemas})
//	...
//	err = eng.Start(ctx)
//	http.ListenAndServe("127.0.0.1:4195", eng.Handler())
//
// The engine mirrors AWS's delivery semantics: a bus consumer gets each
// matching event at least once, retried under its Async settings (Lambda's
// asynchronous retries) and then dead-lettered; a stream consumer reads each
// shard in order, in batches, from a durable checkpoint, with the consumer
// runtime's per-key order, in-process retries and batch item failures.
package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/local/bus"
	"github.com/troupehq/troupe/local/commit"
	"github.com/troupehq/troupe/local/deadletter"
	"github.com/troupehq/troupe/local/idempotency"
	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/topology"
)

// Validator checks an event's data against its schema; schemas.Set is one.
type Validator interface {
	Validate(e events.Envelope) error
}

// Config configures an Engine.
type Config struct {
	// DataDir holds the engine's state (troupe.db); created if missing.
	DataDir string
	// Topology is the choreography to run; validated by Open.
	Topology *topology.Topology
	// Validator checks events on publish and on delivery; required.
	Validator Validator
	// Shards is the stream's shard count (default 4).
	Shards int
	// BusConcurrency is how many events each bus consumer handles at once
	// (default 256). On AWS, Lambda runs a function's asynchronous
	// invocations side by side, scaling out to the account's concurrency
	// (1,000 by default); Function.Concurrency bounds only a stream
	// consumer's partition keys within a batch.
	BusConcurrency int
	// TraceEvents is how many of the most recent events the trace keeps,
	// with their outcomes, for troupe trace and the console (default
	// DefaultTraceEvents).
	TraceEvents int
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Observer, when set, is told every delivery's outcome (see
	// consumers.Deps.Observer); the engine's trace records them too.
	Observer func(consumers.Outcome)
}

// Engine is a running choreography. Its methods are safe for concurrent use.
type Engine struct {
	cfg      Config
	db       *bbolt.DB
	group    *commit.Group // every write transaction
	bus      *bus.Bus
	stream   *stream.Stream
	idem     *idempotency.Store
	dlq      *deadletter.Queue
	pub      tracedPublisher
	runtimes map[string]*consumers.Runtime
	// outcomes counts each consumer's delivery outcomes, for the status of
	// stream consumers (the bus counts its targets' own).
	outcomes map[string]*outcomeCounts
	edges    edgeCounts // per consumer and event type, for Edges
	tracer   *tracer
	// busLeg and streamLeg are the bus and the stream as publishers and
	// ingest see them: what they accept is traced.
	busLeg    producers.BusSender
	streamLeg producers.StreamWriter

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// Open opens (or creates) the engine's state in cfg.DataDir and builds every
// consumer of the topology. A data directory in use by another engine is an
// error that says so.
func Open(cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BusConcurrency == 0 {
		cfg.BusConcurrency = 256
	}
	if cfg.TraceEvents == 0 {
		cfg.TraceEvents = DefaultTraceEvents
	}
	if cfg.TraceEvents < 0 {
		return nil, fmt.Errorf("local: Config.TraceEvents is %d: give a positive number of events for the trace to keep", cfg.TraceEvents)
	}
	if cfg.Topology == nil || cfg.Validator == nil || cfg.DataDir == "" {
		return nil, errors.New("local: Config needs DataDir, Topology and Validator")
	}
	if err := cfg.Topology.Validate(); err != nil {
		return nil, fmt.Errorf("local: topology %s: %w", cfg.Topology.Name, err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("local: data directory: %w", err)
	}
	path := filepath.Join(cfg.DataDir, "troupe.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("local: %s is in use by another troupe dev: stop it, or give another --data-dir", path)
	}
	if err != nil {
		return nil, fmt.Errorf("local: open %s: %w", path, err)
	}
	e := &Engine{cfg: cfg, db: db, runtimes: map[string]*consumers.Runtime{}}
	if err := e.build(); err != nil {
		if e.tracer != nil {
			e.tracer.close()
		}
		if e.group != nil {
			e.group.Close()
		}
		_ = db.Close()
		return nil, err
	}
	return e, nil
}

// build opens the bus, the stream, the stores and the consumers' runtimes.
func (e *Engine) build() error {
	name := e.cfg.Topology.Name
	var err error
	// One group commit for every writer: a transaction per round, whoever
	// is waiting, rather than one each (local/commit). The bus, the stream
	// and the idempotency store queue their writes (Enqueue) and go on
	// where nothing needs the commit first: the bus hands an event out once
	// it is queued, a completion is not waited for. Transactions commit in
	// queue order, so no effect is ever on disk before its cause.
	e.group = commit.New(e.db)
	if e.bus, err = bus.Open(e.db, name, bus.Config{Commit: e.group.Do, Enqueue: e.group.Enqueue}); err != nil {
		return err
	}
	if e.stream, err = stream.Open(e.db, name, stream.Config{Shards: e.cfg.Shards, Commit: e.group.Do, Enqueue: e.group.Enqueue}); err != nil {
		return err
	}
	if e.idem, err = idempotency.New(e.db, "idempotency", idempotency.WithCommit(e.group.Do), idempotency.WithEnqueue(e.group.Enqueue)); err != nil {
		return err
	}
	// This process owns the file: an INPROGRESS lock in it was left by a
	// run that died with a previous process (kill -9, a crash). Release it
	// now rather than let its event wait for the lock to expire.
	if n, err := e.idem.ReleaseInProgress(); err != nil {
		return err
	} else if n > 0 {
		e.cfg.Logger.Warn("released idempotency locks left by a previous run that did not finish", "locks", n)
	}
	if e.dlq, err = deadletter.New(e.db, "deadletters"); err != nil {
		return err
	}
	if e.tracer, err = openTracer(e.db, e.group.Do, e.cfg.Logger, e.cfg.TraceEvents); err != nil {
		return err
	}
	// What arrives over the AWS-compatible ingest is traced as the legs
	// take it (decoded for the trace); what is published as envelopes, by
	// the consumers, the console and CloudEvents, is traced from them.
	e.busLeg = tracedBus{BusSender: e.bus, t: e.tracer, now: time.Now}
	e.streamLeg = tracedStream{StreamWriter: e.stream, t: e.tracer, now: time.Now}
	pub, err := producers.New(producers.Config{Bus: orderedBus{e.bus}, Stream: orderedStream{e.stream}, Validator: e.cfg.Validator})
	if err != nil {
		return err
	}
	e.pub = tracedPublisher{p: pub, t: e.tracer, now: time.Now}
	e.outcomes = map[string]*outcomeCounts{}
	for _, c := range e.cfg.Topology.Consumers {
		e.outcomes[c.Name] = &outcomeCounts{}
	}
	observe := func(o consumers.Outcome) {
		e.outcomes[o.Consumer].add(o)
		e.edges.add(o)
		e.tracer.add(traceRecord{outcome: &o})
		if e.cfg.Observer != nil {
			e.cfg.Observer(o)
		}
	}
	for _, c := range e.cfg.Topology.Consumers {
		rt, err := consumers.New(c, consumers.Deps{
			Idempotency: e.idem, DeadLetters: e.dlq, Publisher: e.pub, Validator: e.cfg.Validator,
			Logger: e.cfg.Logger.With("consumer", c.Name), Observer: observe,
		})
		if err != nil {
			return err
		}
		e.runtimes[c.Name] = rt
		var target bus.Target
		if c.OnBus() {
			target = e.busTarget(c, rt)
		} else { // a stream consumer takes its replays from the bus
			target = e.replayTarget(c, rt)
		}
		if err := e.bus.AddTarget(target); err != nil {
			return err
		}
	}
	return nil
}

// Start runs delivery: the bus's targets and a reader per shard for each
// stream consumer, until ctx ends or Close.
func (e *Engine) Start(ctx context.Context) error {
	ctx, e.stop = context.WithCancel(ctx)
	if err := e.bus.Start(ctx); err != nil {
		return err
	}
	for _, c := range e.cfg.Topology.Consumers {
		if c.OnBus() {
			continue
		}
		for _, sh := range e.stream.Shards() {
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				e.readShard(ctx, c, e.runtimes[c.Name], sh.ID)
			}()
		}
	}
	e.wg.Add(1)
	go func() { defer e.wg.Done(); e.trimLoop(ctx) }()
	return nil
}

// Close stops delivery, waits for the work in flight, and closes the store.
// Undelivered events stay on disk for the next Start.
func (e *Engine) Close() error {
	if e.stop != nil {
		e.stop()
	}
	e.wg.Wait()
	busErr := e.bus.Close()
	e.tracer.close()
	e.group.Close()
	return errors.Join(busErr, e.db.Close())
}

// Publisher publishes to the engine's bus and stream, and records what it
// sent in the trace.
func (e *Engine) Publisher() Publisher { return e.pub }

// Bus and Stream are the engine's legs, for ingest endpoints.
func (e *Engine) Bus() *bus.Bus { return e.bus }

// Stream is the engine's stream.
func (e *Engine) Stream() *stream.Stream { return e.stream }

// DeadLetters is the engine's dead-letter store, one queue per consumer.
func (e *Engine) DeadLetters() *deadletter.Queue { return e.dlq }

// trimLoop applies the stream's retention every minute.
func (e *Engine) trimLoop(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := e.stream.Trim(now); err != nil {
				e.cfg.Logger.Error("stream retention", "error", err)
			} else if n > 0 {
				e.cfg.Logger.Info("stream retention trimmed records", "records", n)
			}
		}
	}
}

// Commits are the engine's write transactions so far, and the writes they
// carried: how well concurrent writers share commits.
func (e *Engine) Commits() commit.Stats { return e.group.Stats() }
