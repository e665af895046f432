// Package orders is the sample order consumer: it cancels an order whose
// payment was declined, or refunded by the compensation.
package orders

import (
	"context"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
)

// OnPaymentDeclined cancels the order.
func OnPaymentDeclined(ctx context.Context, e consumers.Event[domain.PaymentDeclined]) error {
	return consumers.Emit(ctx, domain.OrderCancelledDef, domain.OrderCancelled{
		OrderID: e.Data.OrderID, Reason: "payment declined: " + e.Data.Reason,
	})
}

// OnPaymentRefunded cancels the order, the last step of the compensation.
func OnPaymentRefunded(ctx context.Context, e consumers.Event[domain.PaymentRefunded]) error {
	return consumers.Emit(ctx, domain.OrderCancelledDef, domain.OrderCancelled{
		OrderID: e.Data.OrderID, Reason: "refunded: " + e.Data.Reason,
	})
}
