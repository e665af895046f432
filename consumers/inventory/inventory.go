// Package inventory is the sample inventory consumer: once an order is paid,
// it reserves the stock, or says it cannot.
package inventory

import (
	"context"
	"strings"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
)

// OutOfStockMarker makes the sample deterministic: an order whose id contains
// it cannot be reserved, any other can.
const OutOfStockMarker = "nostock"

// OnPaymentAuthorized reserves the order's stock or reports it unavailable,
// carrying the payment so that the compensation can refund it.
func OnPaymentAuthorized(ctx context.Context, e consumers.Event[domain.PaymentAuthorized]) error {
	p := e.Data
	if strings.Contains(p.OrderID, OutOfStockMarker) {
		return consumers.Emit(ctx, domain.StockUnavailableDef, domain.StockUnavailable{
			OrderID: p.OrderID, PaymentID: p.PaymentID, Amount: p.Amount, SKUs: []string{"SKU-" + p.OrderID},
		})
	}
	return consumers.Emit(ctx, domain.StockReservedDef, domain.StockReserved{
		OrderID: p.OrderID, ReservationID: "res_" + p.OrderID, Items: []domain.Item{{SKU: "SKU-" + p.OrderID, Quantity: 1}},
	})
}
