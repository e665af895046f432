// Package payments is the sample payments consumer: it charges each placed
// order and says whether the payment was authorized or declined.
package payments

import (
	"context"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
)

// DeclineAboveCents is the sample's card limit: an order whose total is
// above it is declined, any other is authorized.
const DeclineAboveCents = 100_000

// OnOrderPlaced authorizes or declines the order's payment. The payment id
// derives from the order id, so a retry emits the same event.
func OnOrderPlaced(ctx context.Context, e consumers.Event[domain.OrderPlacedV2]) error {
	order := e.Data
	if order.Total.AmountCents > DeclineAboveCents {
		return consumers.Emit(ctx, domain.PaymentDeclinedDef, domain.PaymentDeclined{
			OrderID: order.OrderID, Reason: "amount over the card limit",
		})
	}
	return consumers.Emit(ctx, domain.PaymentAuthorizedDef, domain.PaymentAuthorized{
		OrderID: order.OrderID, PaymentID: "pay_" + order.OrderID, Amount: order.Total,
	})
}
