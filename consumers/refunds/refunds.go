// Package refunds is the first step of the sample's compensation: when stock
// cannot be reserved for a paid order, its payment is refunded.
package refunds

import (
	"context"
	"strings"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
)

// OnStockUnavailable refunds the order's payment.
func OnStockUnavailable(ctx context.Context, e consumers.Event[domain.StockUnavailable]) error {
	s := e.Data
	return consumers.Emit(ctx, domain.PaymentRefundedDef, domain.PaymentRefunded{
		OrderID: s.OrderID, PaymentID: s.PaymentID, Amount: s.Amount,
		Reason: "stock unavailable: " + strings.Join(s.SKUs, ", "),
	})
}
