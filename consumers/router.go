package consumers

import (
	"context"
	"fmt"
	"sort"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/topology"
)

// Event is an event as a typed handler receives it: the envelope (upcast to
// the version the handler asked for) and its data decoded.
type Event[T any] struct {
	Envelope events.Envelope
	Data     T
}

// Route is one typed handler: the type and version it reads, and how to
// decode and run an envelope.
type Route struct {
	ref events.VersionInfo
	run func(ctx context.Context, reg *events.Registry, e events.Envelope) error
}

// On registers a typed handler for an event type: the handler receives every
// version of the type up to `version`, upcast to `version` and decoded into a
// T. An event newer than `version` is an error (the consumer must be
// upgraded), never a silent misread.
func On[T any](typ string, version int, h func(ctx context.Context, e Event[T]) error) Route {
	return Route{
		ref: events.VersionInfo{Type: typ, Version: version},
		run: func(ctx context.Context, reg *events.Registry, e events.Envelope) error {
			def, err := events.Lookup[T](reg, typ, version)
			if err != nil {
				return Permanent(err)
			}
			up, err := reg.Upcast(e, version)
			if err != nil {
				return Permanent(err)
			}
			data, err := def.Decode(up)
			if err != nil {
				return Permanent(err)
			}
			return h(ctx, Event[T]{Envelope: up, Data: data})
		},
	}
}

// Router dispatches events to the typed handlers registered with On, by
// type. It implements topology.Handler. It is immutable and safe for
// concurrent use.
type Router struct {
	reg    *events.Registry
	routes map[string]Route
}

// NewRouter returns a router over the registry's types. Registering two
// routes for one type is an error.
func NewRouter(reg *events.Registry, routes ...Route) (*Router, error) {
	r := &Router{reg: reg, routes: make(map[string]Route, len(routes))}
	for _, rt := range routes {
		if _, dup := r.routes[rt.ref.Type]; dup {
			return nil, fmt.Errorf("two handlers for %s: one route per type", rt.ref.Type)
		}
		if err := reg.Known(rt.ref.Type, rt.ref.Version); err != nil {
			return nil, fmt.Errorf("route %s v%d: %w", rt.ref.Type, rt.ref.Version, err)
		}
		r.routes[rt.ref.Type] = rt
	}
	return r, nil
}

// MustRouter is NewRouter for declarations: it panics on error.
func MustRouter(reg *events.Registry, routes ...Route) *Router {
	r, err := NewRouter(reg, routes...)
	if err != nil {
		panic(err)
	}
	return r
}

// Handle runs the handler of e's type. An event of a type the router does
// not handle is a permanent error: the subscription let through something
// the consumer cannot read.
func (r *Router) Handle(ctx context.Context, e events.Envelope) error {
	rt, ok := r.routes[e.Type]
	if !ok {
		return Permanent(fmt.Errorf("%s: %w: this consumer handles %v; fix its subscription or add a route", e.Ref(), ErrNoRoute, r.Accepts()))
	}
	return rt.run(ctx, r.reg, e)
}

// Accepts lists the routed types and versions, sorted.
func (r *Router) Accepts() []topology.EventRef {
	refs := make([]topology.EventRef, 0, len(r.routes))
	for _, rt := range r.routes {
		refs = append(refs, topology.EventRef{Type: rt.ref.Type, Version: rt.ref.Version})
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Type < refs[j].Type })
	return refs
}

// Registry returns the registry the router decodes with.
func (r *Router) Registry() *events.Registry { return r.reg }
