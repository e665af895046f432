package schemas

import (
	"strings"
	"testing"
)

func TestCompareIncompatible(t *testing.T) {
	t.Parallel()
	const money = `"$defs":{"Money":{"type":"object","required":["amountCents","currency"],"properties":{"amountCents":{"type":"integer","minimum":0},"currency":{"type":"string","pattern":"^[A-Z]{3}$"}}}}`
	tests := []struct {
		name     string
		old, new string
		want     []Incompatibility // exactly these; Message is a substring
	}{
		{"new required property",
			`{"type":"object","properties":{"a":{"type":"string"}}}`,
			`{"type":"object","required":["a","b"],"properties":{"a":{"type":"string"},"b":{"type":"string"}}}`,
			[]Incompatibility{{Pointer: "/required/0", Message: `property "a" became required`}, {Pointer: "/required/1", Message: `property "b" became required`}}},
		{"removed property",
			`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}}}`,
			`{"type":"object","properties":{"a":{"type":"string"}}}`,
			[]Incompatibility{{Pointer: "/properties", Message: `property "b" removed`}}},
		{"removed last property",
			`{"type":"object","properties":{"a":{"type":"string"}}}`,
			`{"type":"object"}`,
			[]Incompatibility{{Pointer: "", Message: `property "a" removed`}}},
		{"type changed",
			`{"properties":{"amount":{"type":"object"}}}`,
			`{"properties":{"amount":{"type":"number"}}}`,
			[]Incompatibility{{Pointer: "/properties/amount/type", Message: "type changed from object to number"}}},
		{"type narrowed number to integer",
			`{"properties":{"q":{"type":"number"}}}`,
			`{"properties":{"q":{"type":"integer"}}}`,
			[]Incompatibility{{Pointer: "/properties/q/type", Message: "type changed from number to integer"}}},
		{"type list narrowed",
			`{"properties":{"q":{"type":["string","null"]}}}`,
			`{"properties":{"q":{"type":"string"}}}`,
			[]Incompatibility{{Pointer: "/properties/q/type", Message: "type narrowed from [string, null] to string: null no longer accepted"}}},
		{"type added",
			`{"properties":{"q":{}}}`,
			`{"properties":{"q":{"type":"string"}}}`,
			[]Incompatibility{{Pointer: "/properties/q/type", Message: "type added: must now be string"}}},
		{"enum narrowed",
			`{"properties":{"s":{"enum":["a","b","c"]}}}`,
			`{"properties":{"s":{"enum":["a","c"]}}}`,
			[]Incompatibility{{Pointer: "/properties/s/enum", Message: `enum narrowed: "b" no longer accepted`}}},
		{"enum added",
			`{"properties":{"s":{"type":"string"}}}`,
			`{"properties":{"s":{"type":"string","enum":["a"]}}}`,
			[]Incompatibility{{Pointer: "/properties/s/enum", Message: "enum added"}}},
		{"const changed",
			`{"properties":{"k":{"const":"v1"}}}`,
			`{"properties":{"k":{"const":"v2"}}}`,
			[]Incompatibility{{Pointer: "/properties/k/const", Message: `const changed from "v1" to "v2"`}}},
		{"const narrows an enum",
			`{"properties":{"k":{"enum":[1,2]}}}`,
			`{"properties":{"k":{"const":1}}}`,
			[]Incompatibility{{Pointer: "/properties/k/const", Message: "2 no longer accepted"}}},
		{"additionalProperties closed",
			`{"type":"object","properties":{"a":{}}}`,
			`{"type":"object","properties":{"a":{}},"additionalProperties":false}`,
			[]Incompatibility{{Pointer: "/additionalProperties", Message: "additionalProperties closed"}}},
		{"additionalProperties narrowed",
			`{"additionalProperties":{"type":"number"}}`,
			`{"additionalProperties":{"type":"integer"}}`,
			[]Incompatibility{{Pointer: "/additionalProperties/type", Message: "type changed from number to integer"}}},
		{"minimum raised",
			`{"properties":{"q":{"type":"integer","minimum":0}}}`,
			`{"properties":{"q":{"type":"integer","minimum":1}}}`,
			[]Incompatibility{{Pointer: "/properties/q/minimum", Message: "minimum raised from 0 to 1"}}},
		{"maximum added",
			`{"properties":{"q":{"type":"integer"}}}`,
			`{"properties":{"q":{"type":"integer","maximum":100}}}`,
			[]Incompatibility{{Pointer: "/properties/q/maximum", Message: "maximum added: 100"}}},
		{"exclusiveMinimum added",
			`{"properties":{"q":{"minimum":0}}}`,
			`{"properties":{"q":{"exclusiveMinimum":0}}}`,
			[]Incompatibility{{Pointer: "/properties/q/exclusiveMinimum", Message: "exclusiveMinimum added"}}},
		{"minLength raised, maxLength lowered",
			`{"properties":{"s":{"minLength":1,"maxLength":64}}}`,
			`{"properties":{"s":{"minLength":2,"maxLength":32}}}`,
			[]Incompatibility{{Pointer: "/properties/s/maxLength", Message: "maxLength lowered from 64 to 32"}, {Pointer: "/properties/s/minLength", Message: "minLength raised from 1 to 2"}}},
		{"minItems and maxItems",
			`{"properties":{"l":{"type":"array"}}}`,
			`{"properties":{"l":{"type":"array","minItems":1,"maxItems":9}}}`,
			[]Incompatibility{{Pointer: "/properties/l/maxItems", Message: "maxItems added"}, {Pointer: "/properties/l/minItems", Message: "minItems added"}}},
		{"multipleOf changed",
			`{"multipleOf":2}`,
			`{"multipleOf":3}`,
			[]Incompatibility{{Pointer: "/multipleOf", Message: "multipleOf changed from 2 to 3"}}},
		{"uniqueItems on",
			`{"type":"array"}`,
			`{"type":"array","uniqueItems":true}`,
			[]Incompatibility{{Pointer: "/uniqueItems", Message: "uniqueItems turned on"}}},
		{"pattern changed",
			`{"properties":{"c":{"pattern":"^[A-Z]{3}$"}}}`,
			`{"properties":{"c":{"pattern":"^[A-Z]{2}$"}}}`,
			[]Incompatibility{{Pointer: "/properties/c/pattern", Message: `pattern changed from "^[A-Z]{3}$" to "^[A-Z]{2}$"`}}},
		{"format added",
			`{"properties":{"t":{"type":"string"}}}`,
			`{"properties":{"t":{"type":"string","format":"date-time"}}}`,
			[]Incompatibility{{Pointer: "/properties/t/format", Message: `format added: "date-time"`}}},
		{"items changed",
			`{"properties":{"items":{"type":"array","items":{"type":"object","properties":{"q":{"type":"number"}}}}}}`,
			`{"properties":{"items":{"type":"array","items":{"type":"object","properties":{"q":{"type":"string"}}}}}}`,
			[]Incompatibility{{Pointer: "/properties/items/items/properties/q/type", Message: "type changed from number to string"}}},
		{"items added",
			`{"type":"array"}`,
			`{"type":"array","items":{"type":"string"}}`,
			[]Incompatibility{{Pointer: "/items/type", Message: "type added"}}},
		{"prefixItems changed",
			`{"prefixItems":[{"type":"string"},{"type":"number"}]}`,
			`{"prefixItems":[{"type":"string"},{"type":"integer"}]}`,
			[]Incompatibility{{Pointer: "/prefixItems/1/type", Message: "type changed from number to integer"}}},
		{"through $ref in both",
			`{"properties":{"total":{"$ref":"#/$defs/Money"}},` + money + `}`,
			`{"properties":{"total":{"$ref":"#/$defs/Money"}},` + strings.Replace(money, `"minimum":0`, `"minimum":1`, 1) + `}`,
			[]Incompatibility{{Pointer: "/$defs/Money/properties/amountCents/minimum", Via: "/properties/total", Message: "minimum raised from 0 to 1"}}},
		{"inline object became a $ref",
			`{"properties":{"total":{"type":"number"}}}`,
			`{"properties":{"total":{"$ref":"#/$defs/Money"}},` + money + `}`,
			[]Incompatibility{{Pointer: "/$defs/Money/type", Via: "/properties/total", Message: "type changed from number to object"}}},
		{"schema became false",
			`{"properties":{"x":{"type":"string"}}}`,
			`{"properties":{"x":false}}`,
			[]Incompatibility{{Pointer: "/properties/x", Message: "schema became false"}}},
		{"opaque keyword added",
			`{"type":"object"}`,
			`{"type":"object","oneOf":[{"required":["a"]},{"required":["b"]}]}`,
			[]Incompatibility{{Pointer: "/oneOf", Message: "oneOf added: troupe cannot prove"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Compare([]byte(tt.old), []byte(tt.new))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Compare:\n%v\nwant:\n%v", got, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Pointer != w.Pointer || g.Via != w.Via || !strings.Contains(g.Message, w.Message) {
					t.Errorf("incompatibility %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestCompareCompatible(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, old, new string }{
		{"identical", `{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}}`, `{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}}`},
		{"new optional property", `{"type":"object","additionalProperties":false,"properties":{"a":{}}}`, `{"type":"object","additionalProperties":false,"properties":{"a":{},"b":{"type":"string"}}}`},
		{"required dropped", `{"required":["a"],"properties":{"a":{}}}`, `{"properties":{"a":{}}}`},
		{"type widened", `{"properties":{"q":{"type":"integer"}}}`, `{"properties":{"q":{"type":["number","null"]}}}`},
		{"enum widened", `{"enum":["a"]}`, `{"enum":["a","b"]}`},
		{"const to enum", `{"const":1}`, `{"enum":[1,2]}`},
		{"bounds loosened", `{"minimum":1,"maximum":5,"minLength":2,"maxItems":3}`, `{"minimum":0,"maximum":9,"minLength":1,"maxItems":4}`},
		{"constraints removed", `{"pattern":"^a","format":"date-time","uniqueItems":true,"multipleOf":4}`, `{}`},
		{"multipleOf divides", `{"multipleOf":4}`, `{"multipleOf":2}`},
		{"additionalProperties opened", `{"additionalProperties":false}`, `{"additionalProperties":true}`},
		{"only descriptions changed", `{"description":"a","properties":{"a":{"description":"x","type":"string"}}}`, `{"description":"b","title":"t","properties":{"a":{"description":"y","type":"string"}}}`},
		{"definition renamed", `{"properties":{"m":{"$ref":"#/$defs/A"}},"$defs":{"A":{"type":"string"}}}`, `{"properties":{"m":{"$ref":"#/$defs/B"}},"$defs":{"B":{"type":"string"}}}`},
		{"recursive schema", `{"$defs":{"n":{"properties":{"c":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"}`, `{"$defs":{"n":{"properties":{"c":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"}`},
		{"old was false", `false`, `{"type":"string"}`},
		{"new is true", `{"type":"string"}`, `true`},
		{"opaque removed", `{"anyOf":[{"type":"string"},{"type":"number"}]}`, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Compare([]byte(tt.old), []byte(tt.new))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Errorf("Compare: %v, want none", got)
			}
		})
	}
}

func TestCompareSample(t *testing.T) {
	t.Parallel()
	s := Sample()
	v1, _ := s.Raw("orders.OrderPlaced", 1)
	v2, _ := s.Raw("orders.OrderPlaced", 2)
	got, err := Compare(v1, v2)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/$defs/Money/type: type changed from number to object (via /properties/total)",
		`/$defs/OrderLine/properties: property "price" removed: what old data carries in it would be lost (via /properties/items/items)`,
		`/$defs/OrderLine/required/2: property "unitPrice" became required: old data may lack it (via /properties/items/items)`,
	}
	if len(got) != len(want) {
		t.Fatalf("Compare(v1, v2) = %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("%d: %s\nwant %s", i, got[i], want[i])
		}
	}
	if got, _ := Compare(v2, v2); len(got) != 0 {
		t.Errorf("Compare(v2, v2) = %v", got)
	}
}

func TestCompareMalformed(t *testing.T) {
	t.Parallel()
	if _, err := Compare([]byte(`{`), []byte(`{}`)); err == nil || !strings.HasPrefix(err.Error(), "old schema: malformed JSON") {
		t.Errorf("old malformed: %v", err)
	}
	if _, err := Compare([]byte(`{}`), []byte(`x`)); err == nil || !strings.HasPrefix(err.Error(), "new schema: malformed JSON") {
		t.Errorf("new malformed: %v", err)
	}
}
