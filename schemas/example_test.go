package schemas_test

import (
	"errors"
	"fmt"
	"os"
	"testing/fstest"

	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/schemas"
)

// Validate an event's data against the schema of its type and version.
func ExampleSet_Validate() {
	set := schemas.Sample() // the embedded schemas of the sample domain

	e, _ := events.New("orders.OrderPlaced", 2, map[string]any{
		"orderId":    "ord_1",
		"customerId": "cus_1",
		"items":      []any{map[string]any{"sku": "SKU-1", "quantity": 0, "unitPrice": map[string]any{"amountCents": 999, "currency": "USD"}}},
		"total":      map[string]any{"amountCents": 999},
	})
	err := set.Validate(e)
	fmt.Println(err)

	var ve *schemas.ValidationError
	if errors.As(err, &ve) {
		for _, v := range ve.Violations {
			fmt.Println(v.Pointer)
		}
	}
	// Output:
	// orders.OrderPlaced v2 (schemas/orders/OrderPlaced/v2.json): /items/0/quantity: must be >= 1, got 0; /total: missing property "currency"
	// /items/0/quantity
	// /total
}

// Load a schema tree of your own, from any fs.FS.
func ExampleLoad() {
	fsys := fstest.MapFS{
		"billing/InvoiceIssued/v1.json": {Data: []byte(`{
			"$schema": "https://json-schema.org/draft/2020-12/schema",
			"type": "object",
			"additionalProperties": false,
			"required": ["invoiceId"],
			"properties": {"invoiceId": {"type": "string", "minLength": 1}}
		}`)},
	}
	set, err := schemas.Load(fsys)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(set.Types(), set.Path("billing.InvoiceIssued", 1))
	fmt.Println(set.ValidateData("billing.InvoiceIssued", 1, []byte(`{"invoiceId":"inv_1","amount":5}`)))
	fmt.Println(set.ValidateData("billing.InvoiceIssued", 2, []byte(`{}`)))
	// Output:
	// [billing.InvoiceIssued] schemas/billing/InvoiceIssued/v1.json
	// billing.InvoiceIssued v1 (schemas/billing/InvoiceIssued/v1.json): (data): unknown property "amount" (not in the schema: misspelled?)
	// event billing.InvoiceIssued v2: no schema (known: v1) in schemas/billing/InvoiceIssued/
}

// Check the schemas against the registry and the sample events: what
// `troupe schemas check` runs.
func ExampleCheck() {
	report := schemas.Check(schemas.Sample(), domain.Registry(), os.DirFS("../testdata/events"))
	if err := report.Err(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("ok: %d types, %d versions\n", report.Types, report.Versions)
	// Output:
	// ok: 8 types, 9 versions
}

// Compare two versions of a schema: an undeclared breaking change.
func ExampleCompare() {
	v1 := []byte(`{"type":"object","properties":{"amount":{"type":"object"}}}`)
	v2 := []byte(`{"type":"object","required":["amount"],"properties":{"amount":{"type":"number"}}}`)
	incs, _ := schemas.Compare(v1, v2)
	for _, inc := range incs {
		fmt.Println(inc)
	}
	// Output:
	// /properties/amount/type: type changed from object to number
	// /required/0: property "amount" became required: old data may lack it
}
