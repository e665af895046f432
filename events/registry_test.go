package events_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/troupehq/troupe/events"
)

type thingV1 struct {
	Name string `json:"name"`
}

type thingV2 struct {
	FullName string `json:"fullName"`
}

type thingV3 struct {
	FullName string   `json:"fullName"`
	Tags     []string `json:"tags"`
}

// newThings registers test.Thing v1..v3 with upcasters v1->v2->v3.
func newThings(t *testing.T) (*events.Registry, events.Def[thingV1], events.Def[thingV3]) {
	t.Helper()
	reg := events.NewRegistry()
	v1 := events.MustDefine[thingV1](reg, "test.Thing", 1)
	events.MustDefine[thingV2](reg, "test.Thing", 2, events.Breaking("name renamed"))
	v3 := events.MustDefine[thingV3](reg, "test.Thing", 3)
	must(t, reg.AddUpcaster("test.Thing", 1, func(d json.RawMessage) (json.RawMessage, error) {
		var in thingV1
		if err := json.Unmarshal(d, &in); err != nil {
			return nil, err
		}
		return json.Marshal(thingV2{FullName: in.Name})
	}))
	must(t, reg.AddUpcaster("test.Thing", 2, func(d json.RawMessage) (json.RawMessage, error) {
		var in thingV2
		if err := json.Unmarshal(d, &in); err != nil {
			return nil, err
		}
		return json.Marshal(thingV3{FullName: in.FullName, Tags: []string{}})
	}))
	return reg, v1, v3
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDecodeUpcastsThroughTheChain(t *testing.T) {
	_, v1, v3 := newThings(t)
	e, err := v1.New(thingV1{Name: "Ada"})
	must(t, err)
	got, err := v3.Decode(e)
	must(t, err)
	if got.FullName != "Ada" || got.Tags == nil {
		t.Fatalf("upcast v1->v3 = %+v", got)
	}
}

func TestDecodeRefusesNewerVersions(t *testing.T) {
	reg, v1, v3 := newThings(t)
	e, _ := v3.New(thingV3{FullName: "Ada"})
	_, err := v1.Decode(e)
	if !errors.Is(err, events.ErrNewerVersion) || !strings.Contains(err.Error(), "upgrade the consumer") {
		t.Fatalf("err = %v, want ErrNewerVersion saying what to do", err)
	}
	e.DataVersion = 9
	if _, err := reg.Upcast(e, 10); !errors.Is(err, events.ErrUnknownVersion) || !strings.Contains(err.Error(), "known: v1, v2, v3") {
		t.Fatalf("err = %v, want ErrUnknownVersion listing the known versions", err)
	}
}

func TestDecodeIsStrictAndNamesTheField(t *testing.T) {
	_, v1, _ := newThings(t)
	e, _ := v1.New(thingV1{Name: "Ada"})
	e.Data = json.RawMessage(`{"name":"Ada","nmae":"x"}`)
	_, err := v1.Decode(e)
	var fe *events.FieldError
	if !errors.As(err, &fe) || fe.Field != "data.nmae" {
		t.Fatalf("err = %v, want a FieldError on data.nmae", err)
	}
	e.Data = json.RawMessage(`{"name":7}`)
	if _, err = v1.Decode(e); !errors.As(err, &fe) || fe.Field != "data.name" {
		t.Fatalf("err = %v, want a FieldError on data.name", err)
	}
}

func TestDecodeOtherTypeFails(t *testing.T) {
	_, v1, _ := newThings(t)
	e, _ := events.New("test.Other", 1, struct{}{})
	if _, err := v1.Decode(e); err == nil || !strings.Contains(err.Error(), "cannot decode as test.Thing") {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingUpcasterSaysHowToAddOne(t *testing.T) {
	reg := events.NewRegistry()
	v1 := events.MustDefine[thingV1](reg, "test.Thing", 1)
	v2 := events.MustDefine[thingV2](reg, "test.Thing", 2, events.Breaking("name renamed"))
	e, _ := v1.New(thingV1{Name: "x"})
	_, err := v2.Decode(e)
	if !errors.Is(err, events.ErrNoUpcaster) || !strings.Contains(err.Error(), `AddUpcaster("test.Thing", 1`) {
		t.Fatalf("err = %v", err)
	}
}

func TestCompatibleVersionsNeedNoUpcaster(t *testing.T) {
	type v2 struct {
		Name string `json:"name"`
		Nick string `json:"nick,omitempty"` // a new optional field: compatible
	}
	reg := events.NewRegistry()
	d1 := events.MustDefine[thingV1](reg, "test.Thing", 1)
	d2 := events.MustDefine[v2](reg, "test.Thing", 2)
	e, _ := d1.New(thingV1{Name: "x"})
	got, err := d2.Decode(e)
	if err != nil || got.Name != "x" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestRegistryRejectsBadRegistrations(t *testing.T) {
	reg := events.NewRegistry()
	must(t, reg.Register("orders.OrderPlaced", 1))
	for name, err := range map[string]error{
		"duplicate":        reg.Register("orders.OrderPlaced", 1),
		"bad name":         reg.Register("OrderPlaced", 1),
		"version 0":        reg.Register("orders.OrderCancelled", 0),
		"upcaster to none": reg.AddUpcaster("orders.OrderPlaced", 1, nil),
		"upcaster unknown": reg.AddUpcaster("orders.Nope", 1, nil),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := reg.Known("orders.Nope", 1); !errors.Is(err, events.ErrUnknownType) || !strings.Contains(err.Error(), "known: orders.OrderPlaced") {
		t.Fatalf("Known: %v", err)
	}
}

func TestVersionsDescribeBreakingAndUpcasters(t *testing.T) {
	reg, _, _ := newThings(t)
	got := reg.Versions()
	want := []events.VersionInfo{
		{Type: "test.Thing", Version: 1},
		{Type: "test.Thing", Version: 2, Breaking: "name renamed", Upcaster: true},
		{Type: "test.Thing", Version: 3, Upcaster: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if latest, _ := reg.Latest("test.Thing"); latest != 3 {
		t.Fatalf("latest = %d", latest)
	}
}
