package schemas

import (
	"testing"
	"testing/fstest"
)

func FuzzCompare(f *testing.F) {
	s := Sample()
	v1, _ := s.Raw("orders.OrderPlaced", 1)
	v2, _ := s.Raw("orders.OrderPlaced", 2)
	f.Add(v1, v2)
	f.Add([]byte(`{"$ref":"#"}`), []byte(`{"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/a"}}}`))
	f.Add([]byte(`{"minimum":1e400,"enum":[1,"a",null]}`), []byte(`{"minimum":-1e400,"const":{"a":[1]}}`))
	f.Add([]byte(`{"prefixItems":[true,false],"items":{"type":["string",1]}}`), []byte(`{"prefixItems":[false],"items":false,"multipleOf":0}`))
	f.Add([]byte(`{"properties":{"a~/b":{"$ref":"#/properties/a~0~1b"}}}`), []byte(`{"properties":{"a~/b":{"$ref":"#/properties/a~0~1b/x"}},"required":[1,"a"]}`))
	f.Fuzz(func(t *testing.T, old, new []byte) {
		incs, err := Compare(old, new)
		if err != nil {
			return
		}
		for _, i := range incs {
			_ = i.String()
		}
		// A schema is always compatible with itself.
		if same, err := Compare(new, new); err == nil && len(same) != 0 {
			t.Errorf("Compare(x, x) = %v for %s", same, new)
		}
	})
}

func FuzzLoad(f *testing.F) {
	s := Sample()
	v2, _ := s.Raw("orders.OrderPlaced", 2)
	f.Add(v2, []byte(`{"orderId":"o"}`))
	f.Add([]byte(`{"type":"object","properties":{"a":{"pattern":"[a-"}}}`), []byte(`{}`))
	f.Add([]byte(`{"$ref":"https://example.com/x.json"}`), []byte(`[]`))
	f.Add([]byte(`{"$schema":"https://json-schema.org/draft/2020-12/schema","format":"date-time"}`), []byte(`"2025-01-01T00:00:00Z"`))
	f.Fuzz(func(t *testing.T, schema, data []byte) {
		set, err := Load(fstest.MapFS{"a/B/v1.json": {Data: schema}})
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error")
			}
			return
		}
		_ = set.ValidateData("a.B", 1, data)
		_ = Check(set, reg(t, "a.B v1"), nil)
	})
}
