package events_test

import (
	"encoding/json"
	"fmt"

	"github.com/troupehq/troupe/events"
)

type OrderPlacedV1 struct {
	OrderID string  `json:"orderId"`
	Total   float64 `json:"total"`
}

type OrderPlacedV2 struct {
	OrderID    string `json:"orderId"`
	TotalCents int64  `json:"totalCents"`
}

func Example() {
	reg := events.NewRegistry()
	v1 := events.MustDefine[OrderPlacedV1](reg, "orders.OrderPlaced", 1)
	v2 := events.MustDefine[OrderPlacedV2](reg, "orders.OrderPlaced", 2, events.Breaking("total in cents"))
	_ = reg.AddUpcaster("orders.OrderPlaced", 1, func(data json.RawMessage) (json.RawMessage, error) {
		var old OrderPlacedV1
		if err := json.Unmarshal(data, &old); err != nil {
			return nil, err
		}
		return json.Marshal(OrderPlacedV2{OrderID: old.OrderID, TotalCents: int64(old.Total * 100)})
	})

	// A producer still on v1 emits an event...
	e, _ := v1.New(OrderPlacedV1{OrderID: "o-1", Total: 12.5}, events.WithSubject("o-1"))
	// ...and a consumer that asks for v2 reads it upcast.
	order, _ := v2.Decode(e)
	fmt.Println(e.Type, e.DataVersion, "->", order.OrderID, order.TotalCents)
	// Output: orders.OrderPlaced 1 -> o-1 1250
}
