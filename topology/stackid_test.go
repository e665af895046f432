package topology_test

import (
	"testing"

	"github.com/troupehq/troupe/topology"
)

func TestStackID(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"billing":       "Billing",
		"order-audit":   "OrderAudit",
		"a-b-c":         "ABC",
		"stock2-ledger": "Stock2Ledger",
		"x9":            "X9",
		"ab-c":          "AbC",
		"a-bc":          "ABc",
		"a-1":           "A1",
		"a1":            "A1",
		"a--b":          "AB",
	} {
		c := topology.Consumer{Name: name}
		if got := c.StackID(); got != want {
			t.Errorf("Consumer{Name: %q}.StackID() = %q, want %q", name, got, want)
		}
	}
}
