// Package shipping is the sample shipping consumer: reserved stock gets a
// carrier and a date.
package shipping

import (
	"context"
	"time"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/domain"
)

// Carrier ships every sample order.
const Carrier = "troupe-post"

// OnStockReserved schedules the shipment for the next day after the
// reservation event (deterministic for a retried event).
func OnStockReserved(ctx context.Context, e consumers.Event[domain.StockReserved]) error {
	day := e.Envelope.Time.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	return consumers.Emit(ctx, domain.ShipmentScheduledDef, domain.ShipmentScheduled{
		OrderID: e.Data.OrderID, ShipmentID: "shp_" + e.Data.OrderID, Carrier: Carrier, ScheduledFor: day,
	})
}
