package schemas

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
)

// orderPlacedV2 is a realistic orders.OrderPlaced v2 event.
func orderPlacedV2(tb testing.TB) events.Envelope {
	tb.Helper()
	usd := func(c int64) domain.Money { return domain.Money{AmountCents: c, Currency: "USD"} }
	e, err := domain.OrderPlacedDef.New(domain.OrderPlacedV2{
		OrderID:    "ord_01JPBX6Q7Z3K9M2N4P5R6S7T8V",
		CustomerID: "cus_8f3a2c91",
		Items: []domain.OrderLine{
			{SKU: "SKU-TSHIRT-BLK-M", Quantity: 2, UnitPrice: usd(1999)},
			{SKU: "SKU-MUG-WHT", Quantity: 1, UnitPrice: usd(1250)},
			{SKU: "SKU-SOCKS-3PK", Quantity: 3, UnitPrice: usd(999)},
		},
		Total: usd(8245),
		ShippingAddress: &domain.Address{
			Line1: "742 Evergreen Terrace", City: "Springfield", PostalCode: "97403", Country: "US",
		},
	},
		events.WithSubject("ord_01JPBX6Q7Z3K9M2N4P5R6S7T8V"),
		events.WithTime(time.Date(2025, 3, 14, 9, 26, 53, 589e6, time.UTC)),
		events.WithTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
	)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// decodeTyped decodes a sample envelope into its domain struct, strictly.
func decodeTyped(raw []byte) (any, error) {
	e, err := events.Decode(raw)
	if err != nil {
		return nil, err
	}
	switch e.Type + "/" + string(rune('0'+e.DataVersion)) {
	case "orders.OrderPlaced/1":
		return domain.OrderPlacedV1Def.Decode(e)
	case "orders.OrderPlaced/2":
		return domain.OrderPlacedDef.Decode(e)
	case "orders.OrderCancelled/1":
		return domain.OrderCancelledDef.Decode(e)
	case "payments.PaymentAuthorized/1":
		return domain.PaymentAuthorizedDef.Decode(e)
	case "payments.PaymentDeclined/1":
		return domain.PaymentDeclinedDef.Decode(e)
	case "payments.PaymentRefunded/1":
		return domain.PaymentRefundedDef.Decode(e)
	case "inventory.StockReserved/1":
		return domain.StockReservedDef.Decode(e)
	case "inventory.StockUnavailable/1":
		return domain.StockUnavailableDef.Decode(e)
	case "shipping.ShipmentScheduled/1":
		return domain.ShipmentScheduledDef.Decode(e)
	}
	return nil, fmt.Errorf("no typed definition for %s v%d", e.Type, e.DataVersion)
}

func fmtSscan(s string, v *int) (int, error) {
	return fmt.Sscanf(strings.TrimPrefix(s, "v"), "%d", v)
}

// fstestFS lets a nil MapFS become a nil fs.FS, not a non-nil interface
// holding a nil map.
type fstestFS fstest.MapFS

func (m fstestFS) fs() fs.FS {
	if m == nil {
		return nil
	}
	return fstest.MapFS(m)
}
