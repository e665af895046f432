package domain

import "github.com/troupehq/troupe/events"

// StockReserved says every item of an order is set aside.
type StockReserved struct {
	OrderID       string `json:"orderId"`
	ReservationID string `json:"reservationId"`
	Items         []Item `json:"items"`
}

// StockUnavailable says some items of an order cannot be reserved. It carries
// the authorized payment, which the compensation refunds.
type StockUnavailable struct {
	OrderID   string   `json:"orderId"`
	PaymentID string   `json:"paymentId"`
	Amount    Money    `json:"amount"`
	SKUs      []string `json:"skus"`
}

var (
	// StockReservedDef is inventory.StockReserved v1.
	StockReservedDef = events.MustDefine[StockReserved](registry, "inventory.StockReserved", 1)
	// StockUnavailableDef is inventory.StockUnavailable v1.
	StockUnavailableDef = events.MustDefine[StockUnavailable](registry, "inventory.StockUnavailable", 1)
)
