package topology

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/troupehq/troupe/events"
)

// What a consumer may emit, and what comes from outside the topology.
//
// A consumer declares every event type and version its handler may emit in
// Consumer.Emits; the consumer runtime refuses any other, locally and on
// Lambda alike, and the CDK app grants put rights only to consumers that
// emit. Events that systems outside the topology publish (the shop's
// orders.OrderPlaced) are declared in Topology.External. Together they make
// the choreography readable from the declaration alone: `troupe graph` draws
// it and `troupe graph --check` finds the types no one consumes and the ones
// a consumer waits for that no one emits.

// Emit declares that a consumer may emit version `version` of type `typ`:
// Emits: []topology.EventRef{topology.Emit("payments.PaymentAuthorized", 1)}.
func Emit(typ string, version int) EventRef { return EventRef{Type: typ, Version: version} }

// MayEmit reports whether the consumer declares that it emits version
// `version` of type `typ`.
func (c *Consumer) MayEmit(typ string, version int) bool {
	for _, e := range c.Emits {
		if e.Type == typ && e.Version == version {
			return true
		}
	}
	return false
}

// typeName is the shape of an event type, as package events registers it:
// "<domain>.<Name>".
var typeName = regexp.MustCompile(`^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*\.[A-Z][A-Za-z0-9]*$`)

// registryOf returns the registry a handler decodes with, when it says
// (consumers.Router does): the declared emits are checked against it.
func registryOf(h Handler) *events.Registry {
	if r, ok := h.(interface{ Registry() *events.Registry }); ok {
		return r.Registry()
	}
	return nil
}

// validateRefs checks a list of declared events: well-formed type names,
// versions from 1, no duplicates, and, with registries, types and versions
// one of them knows. field names the list in messages ("Emits").
func validateRefs(field string, refs []EventRef, regs []*events.Registry) error {
	var errs []error
	seen := map[EventRef]bool{}
	for _, r := range refs {
		switch {
		case !typeName.MatchString(r.Type):
			errs = append(errs, fmt.Errorf("%s: event type %q: must look like domain.Name (e.g. orders.OrderPlaced)", field, r.Type))
			continue
		case r.Version < 1:
			errs = append(errs, fmt.Errorf("%s: %s: version must be >= 1, got %d", field, r.Type, r.Version))
			continue
		case seen[r]:
			errs = append(errs, fmt.Errorf("%s: %s declared twice", field, r))
			continue
		}
		seen[r] = true
		if err := known(r, regs); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w: register it (events.Define) or fix the declaration", field, r, err))
		}
	}
	return errors.Join(errs...)
}

// known returns nil if one of the registries knows ref, or if there is none
// to ask; else the first registry's answer, which lists what it knows.
func known(ref EventRef, regs []*events.Registry) error {
	var first error
	for _, reg := range regs {
		err := reg.Known(ref.Type, ref.Version)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// registries returns the distinct registries the topology's handlers decode
// with.
func (t *Topology) registries() []*events.Registry {
	var regs []*events.Registry
	for _, c := range t.Consumers {
		if c.Handler == nil {
			continue
		}
		if reg := registryOf(c.Handler); reg != nil && !containsReg(regs, reg) {
			regs = append(regs, reg)
		}
	}
	return regs
}

func containsReg(regs []*events.Registry, reg *events.Registry) bool {
	for _, r := range regs {
		if r == reg {
			return true
		}
	}
	return false
}
