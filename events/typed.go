package events

import (
	"fmt"
)

// Def is a typed handle on one version of an event type: it builds envelopes
// from a Go struct and decodes envelopes of that type (of this or an older
// version, upcast on the way) into it.
//
//	var OrderPlaced = events.MustDefine[OrderPlacedV2](reg, "orders.OrderPlaced", 2)
//	e, err := OrderPlaced.New(OrderPlacedV2{...}, events.WithSubject(orderID))
//	data, err := OrderPlaced.Decode(e) // e may be v1: it is upcast to v2
type Def[T any] struct {
	Type    string
	Version int
	reg     *Registry
}

// Define registers version `version` of type `typ`, whose data is a T, and
// returns its typed handle.
func Define[T any](r *Registry, typ string, version int, opts ...VersionOption) (Def[T], error) {
	if err := r.Register(typ, version, opts...); err != nil {
		return Def[T]{}, err
	}
	return Def[T]{Type: typ, Version: version, reg: r}, nil
}

// MustDefine is Define for package-level declarations: it panics on error.
func MustDefine[T any](r *Registry, typ string, version int, opts ...VersionOption) Def[T] {
	d, err := Define[T](r, typ, version, opts...)
	if err != nil {
		panic(err)
	}
	return d
}

// Registry returns the registry the type was defined in.
func (d Def[T]) Registry() *Registry { return d.reg }

// New builds an envelope of this type and version around data.
func (d Def[T]) New(data T, opts ...Option) (Envelope, error) {
	return New(d.Type, d.Version, data, opts...)
}

// Decode returns the data of e as a T: e must be of this type, of this
// version or an older one (upcast through the registry's chain). The data is
// decoded strictly: an unknown field or a wrong type is a *FieldError.
func (d Def[T]) Decode(e Envelope) (T, error) {
	var zero T
	if e.Type != d.Type {
		return zero, fmt.Errorf("%s: cannot decode as %s", e.Ref(), d.Type)
	}
	up, err := d.reg.Upcast(e, d.Version)
	if err != nil {
		return zero, err
	}
	var data T
	if err := decodeStrict(up.Data, &data); err != nil {
		return zero, fmt.Errorf("%s: data as v%d: %w", e.Ref(), d.Version, prefixField("data", err))
	}
	return data, nil
}

// prefixField makes a *FieldError's path absolute within the envelope.
func prefixField(prefix string, err error) error {
	fe, ok := err.(*FieldError)
	if !ok {
		return err
	}
	field := prefix
	if fe.Field != "" {
		field += "." + fe.Field
	}
	return &FieldError{Field: field, Reason: fe.Reason}
}

// Lookup returns the typed handle of a version already registered: the way
// to decode into T without defining the version again.
func Lookup[T any](r *Registry, typ string, version int) (Def[T], error) {
	if err := r.Known(typ, version); err != nil {
		return Def[T]{}, err
	}
	return Def[T]{Type: typ, Version: version, reg: r}, nil
}
