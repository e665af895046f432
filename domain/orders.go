package domain

import (
	"encoding/json"
	"math"

	"github.com/troupehq/troupe/events"
)

// OrderPlacedV1 is the first version of orders.OrderPlaced: prices as
// decimal numbers in US dollars.
type OrderPlacedV1 struct {
	OrderID    string        `json:"orderId"`
	CustomerID string        `json:"customerId"`
	Items      []OrderLineV1 `json:"items"`
	Total      float64       `json:"total"`
}

// OrderLineV1 is an order line of OrderPlacedV1.
type OrderLineV1 struct {
	SKU      string  `json:"sku"`
	Quantity int     `json:"quantity"`
	Price    float64 `json:"price"`
}

// OrderPlacedV2 is the current version of orders.OrderPlaced: amounts in
// integer minor units with a currency, and an optional shipping address.
// Breaking: price and total changed type.
type OrderPlacedV2 struct {
	OrderID         string      `json:"orderId"`
	CustomerID      string      `json:"customerId"`
	Items           []OrderLine `json:"items"`
	Total           Money       `json:"total"`
	ShippingAddress *Address    `json:"shippingAddress,omitempty"`
}

// OrderLine is an order line of OrderPlacedV2.
type OrderLine struct {
	SKU       string `json:"sku"`
	Quantity  int    `json:"quantity"`
	UnitPrice Money  `json:"unitPrice"`
}

// Address is a postal address.
type Address struct {
	Line1      string `json:"line1"`
	City       string `json:"city"`
	PostalCode string `json:"postalCode"`
	Country    string `json:"country"`
}

// OrderCancelled says an order will not be fulfilled.
type OrderCancelled struct {
	OrderID string `json:"orderId"`
	Reason  string `json:"reason"`
}

var (
	// OrderPlacedV1Def is orders.OrderPlaced v1, kept for events already out there.
	OrderPlacedV1Def = events.MustDefine[OrderPlacedV1](registry, "orders.OrderPlaced", 1)
	// OrderPlacedDef is orders.OrderPlaced v2, the current version.
	OrderPlacedDef = events.MustDefine[OrderPlacedV2](registry, "orders.OrderPlaced", 2,
		events.Breaking("prices and total became integer minor units with a currency"))
	// OrderCancelledDef is orders.OrderCancelled v1.
	OrderCancelledDef = events.MustDefine[OrderCancelled](registry, "orders.OrderCancelled", 1)
)

func init() {
	if err := registry.AddUpcaster("orders.OrderPlaced", 1, upcastOrderPlacedV1); err != nil {
		panic(err)
	}
}

// upcastOrderPlacedV1 turns v1's dollar amounts into v2's cents in USD, the
// only currency v1 knew.
func upcastOrderPlacedV1(data json.RawMessage) (json.RawMessage, error) {
	var v1 OrderPlacedV1
	if err := json.Unmarshal(data, &v1); err != nil {
		return nil, err
	}
	v2 := OrderPlacedV2{OrderID: v1.OrderID, CustomerID: v1.CustomerID, Total: usd(v1.Total)}
	for _, l := range v1.Items {
		v2.Items = append(v2.Items, OrderLine{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: usd(l.Price)})
	}
	return json.Marshal(v2)
}

func usd(dollars float64) Money {
	return Money{AmountCents: int64(math.Round(dollars * 100)), Currency: "USD"}
}
