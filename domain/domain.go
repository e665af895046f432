// Package domain is troupe's sample domain: the events of an order-fulfilment
// choreography. Every later part of troupe (the consumers, `troupe dev`, the
// CDK stack, the DLQ tools) is shown and tested with it.
//
// The choreography: orders emits OrderPlaced; inventory reserves stock
// (StockReserved) or cannot (StockUnavailable); payments authorizes
// (PaymentAuthorized) or declines (PaymentDeclined), and refunds
// (PaymentRefunded) when an order is cancelled after payment; orders cancels
// (OrderCancelled); shipping schedules the shipment (ShipmentScheduled) once
// stock is reserved and payment authorized.
package domain

import "github.com/troupehq/troupe/events"

// Registry holds every sample event type, its versions and upcasters. Its
// JSON Schemas are embedded in package schemas.
func Registry() *events.Registry { return registry }

var registry = events.NewRegistry()

// Money is an amount in the currency's minor unit (cents for USD).
type Money struct {
	AmountCents int64  `json:"amountCents"`
	Currency    string `json:"currency"`
}

// Item is one line of an order or a reservation.
type Item struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}
