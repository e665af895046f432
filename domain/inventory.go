package domain

import "github.com/troupehq/troupe/events"

// StockReserved says every item of an order is set aside.
type StockReserved struct {
	OrderID       string `json:"orderId"`
	ReservationID string `json:"reservationId"`
	Items         []Item `json:"items"`
}

// StockUnavailable says some items of an order cannot be reserved.
type StockUnavailable struct {
	OrderID string   `json:"orderId"`
	SKUs    []string `json:"skus"`
}

var (
	// StockReservedDef is inventory.StockReserved v1.
	StockReservedDef = events.MustDefine[StockReserved](registry, "inventory.StockReserved", 1)
	// StockUnavailableDef is inventory.StockUnavailable v1.
	StockUnavailableDef = events.MustDefine[StockUnavailable](registry, "inventory.StockUnavailable", 1)
)
