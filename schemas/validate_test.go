package schemas

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/troupehq/troupe/events"
)

func TestValidateSamples(t *testing.T) {
	t.Parallel()
	set := Sample()
	files, err := filepath.Glob("../testdata/events/*/v*/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e, err := events.Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := set.Validate(e); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestValidateViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		typ  string
		ver  int
		want []Violation // exactly these, in this order
	}{
		{"orderplaced-v2-bad-quantity.json", "orders.OrderPlaced", 2, []Violation{
			{"/items/1/quantity", "must be >= 1, got 0"},
		}},
		{"orderplaced-v2-missing-currency.json", "orders.OrderPlaced", 2, []Violation{
			{"/total", `missing property "currency"`},
		}},
		{"orderplaced-v2-misspelled-field.json", "orders.OrderPlaced", 2, []Violation{
			{"", `unknown property "shippingAdress" (not in the schema: misspelled?)`},
		}},
		{"orderplaced-v2-empty-items.json", "orders.OrderPlaced", 2, []Violation{
			{"/items", "must have at least 1 items, got 0"},
		}},
		{"orderplaced-v2-null-items.json", "orders.OrderPlaced", 2, []Violation{
			{"/items", "must be array, got null"},
		}},
		{"orderplaced-v2-several.json", "orders.OrderPlaced", 2, []Violation{
			{"/items/0/quantity", "must be integer, got number"},
			{"/items/0/unitPrice/amountCents", "must be >= 0, got -5"},
			{"/items/0/unitPrice/currency", `"usd" does not match pattern "^[A-Z]{3}$"`},
			{"/orderId", "must not be empty"},
			{"/shippingAddress/country", `"USA" does not match pattern "^[A-Z]{2}$"`},
			{"/total/amountCents", "must be integer, got string"},
		}},
		{"shipmentscheduled-v1-bad-time.json", "shipping.ShipmentScheduled", 1, []Violation{
			{"/scheduledFor", `"2025-03-15 14:00" is not a valid date-time`},
		}},
		{"stockunavailable-v1-duplicate-skus.json", "inventory.StockUnavailable", 1, []Violation{
			{"/skus", "items 0 and 1 are equal: items must be unique"},
		}},
		{"orderplaced-v1-price-as-string.json", "orders.OrderPlaced", 1, []Violation{
			{"/items/0/price", "must be number, got string"},
		}},
	}
	set := Sample()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "invalid", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			e, err := events.New(tt.typ, tt.ver, rawJSON(data))
			if err != nil {
				t.Fatal(err)
			}
			err = set.Validate(e)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			if ve.Type != tt.typ || ve.Version != tt.ver || ve.File != set.Path(tt.typ, tt.ver) {
				t.Errorf("error names %s v%d %s", ve.Type, ve.Version, ve.File)
			}
			if len(ve.Violations) != len(tt.want) {
				t.Fatalf("violations:\n%v\nwant:\n%v", ve.Violations, tt.want)
			}
			for i, w := range tt.want {
				got := ve.Violations[i]
				if got.Pointer != w.Pointer || !strings.HasPrefix(got.Message, w.Message) {
					t.Errorf("violation %d = %q, want %q", i, got, w)
				}
			}
			msg := err.Error()
			wantPrefix := tt.typ + " v" + string(rune('0'+tt.ver)) + " (schemas/"
			if !strings.HasPrefix(msg, wantPrefix) {
				t.Errorf("message %q does not start with %q", msg, wantPrefix)
			}
			for _, w := range tt.want {
				if w.Pointer != "" && !strings.Contains(msg, w.Pointer+": ") {
					t.Errorf("message %q does not name %s", msg, w.Pointer)
				}
			}
		})
	}
}

// rawJSON marshals as itself, so that events.New keeps the data verbatim.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

func TestValidateMessage(t *testing.T) {
	t.Parallel()
	err := Sample().ValidateData("orders.OrderPlaced", 2, []byte(
		`{"orderId":"o","customerId":"c","items":[{"sku":"s","quantity":0,"unitPrice":{"amountCents":1,"currency":"USD"}}],"total":{"amountCents":1}}`))
	want := `orders.OrderPlaced v2 (schemas/orders/OrderPlaced/v2.json): /items/0/quantity: must be >= 1, got 0; /total: missing property "currency"`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestValidateNoSchema(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ  string
		ver  int
		want string
	}{
		{"orders.OrderPlaced", 3, "event orders.OrderPlaced v3: no schema (known: v1, v2) in schemas/orders/OrderPlaced/"},
		{"orders.OrderShipped", 1, "event orders.OrderShipped v1: no schema for this type in schemas/orders/OrderShipped/ (types with schemas: inventory.StockReserved, "},
	}
	for _, tt := range tests {
		e := events.Envelope{Type: tt.typ, DataVersion: tt.ver, Data: []byte(`{}`)}
		err := Sample().Validate(e)
		if !errors.Is(err, ErrNoSchema) {
			t.Errorf("%s v%d: error %v does not wrap ErrNoSchema", tt.typ, tt.ver, err)
		}
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s v%d: error\n%v\nwant prefix\n%s", tt.typ, tt.ver, err, tt.want)
		}
	}
}

func TestValidateMalformedData(t *testing.T) {
	t.Parallel()
	for _, data := range []string{``, `   `, `{"orderId":`, `{} {}`, `[1]`, `"x"`} {
		err := Sample().ValidateData("orders.OrderCancelled", 1, []byte(data))
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Pointer != "" {
			t.Errorf("data %q: %v, want one violation of the whole data", data, err)
		}
	}
}

func TestValidateConcurrent(t *testing.T) {
	t.Parallel()
	set := Sample()
	good := orderPlacedV2(t)
	bad := good
	bad.Data = []byte(`{"orderId":"o"}`)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if err := set.Validate(good); err != nil {
					t.Error(err)
					return
				}
				var ve *ValidationError
				if err := set.Validate(bad); !errors.As(err, &ve) || len(ve.Violations) != 1 {
					t.Errorf("goroutine %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Validating the same bytes again gives the same answer: valid data stays
// valid (from the cache of valid payloads), and data that breaks the schema
// is refused every time, with its violations, even after a valid payload
// of the same type was remembered.
func TestValidateAgain(t *testing.T) {
	t.Parallel()
	set := Sample()
	good := orderPlacedV2(t)
	bad := good
	bad.Data = []byte(strings.Replace(string(good.Data), `"currency":"USD"`, `"currency":"usd"`, 1))
	if string(bad.Data) == string(good.Data) {
		t.Fatalf("the sample's data has no \"currency\":\"USD\": %s", good.Data)
	}
	for round := range 3 {
		if err := set.Validate(good); err != nil {
			t.Fatalf("round %d: valid data: %v", round, err)
		}
		var ve *ValidationError
		if err := set.Validate(bad); !errors.As(err, &ve) || len(ve.Violations) == 0 {
			t.Fatalf("round %d: invalid data: %v, want a *ValidationError with violations", round, err)
		}
	}
	// Past the cache's size, old payloads are validated in full again.
	for _, e := range distinct(t, 2*cacheEntries+1) {
		if err := set.Validate(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Validate(bad); err == nil {
		t.Fatal("invalid data passed after the cache turned over")
	}
}
