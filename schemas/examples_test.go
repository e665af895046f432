package schemas

import (
	"encoding/json"
	"testing"

	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
)

// Every embedded schema carries one example (the standard "examples"
// keyword) that its own schema accepts and the domain's Go type decodes
// strictly: the event catalog shows it.
func TestEverySchemaHasAValidExample(t *testing.T) {
	t.Parallel()
	s := Sample()
	for _, v := range domain.Registry().Versions() {
		raw, ok := s.Raw(v.Type, v.Version)
		if !ok {
			t.Errorf("%s v%d: no schema", v.Type, v.Version)
			continue
		}
		var doc struct {
			Examples []json.RawMessage `json:"examples"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Examples) != 1 {
			t.Errorf("%s: %d examples, want one", s.Path(v.Type, v.Version), len(doc.Examples))
			continue
		}
		if err := s.ValidateData(v.Type, v.Version, doc.Examples[0]); err != nil {
			t.Errorf("%s: its example is invalid: %v", s.Path(v.Type, v.Version), err)
		}
		e, err := events.New(v.Type, v.Version, doc.Examples[0])
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(e)
		if _, err := decodeTyped(b); err != nil {
			t.Errorf("%s: its example does not decode into the Go type: %v", s.Path(v.Type, v.Version), err)
		}
	}
}
