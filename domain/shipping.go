package domain

import (
	"time"

	"github.com/troupehq/troupe/events"
)

// ShipmentScheduled says an order's parcel has a carrier and a date.
type ShipmentScheduled struct {
	OrderID      string    `json:"orderId"`
	ShipmentID   string    `json:"shipmentId"`
	Carrier      string    `json:"carrier"`
	ScheduledFor time.Time `json:"scheduledFor"`
}

// ShipmentScheduledDef is shipping.ShipmentScheduled v1.
var ShipmentScheduledDef = events.MustDefine[ShipmentScheduled](registry, "shipping.ShipmentScheduled", 1)
