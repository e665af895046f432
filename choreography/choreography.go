// Package choreography declares troupe's sample: the order-fulfilment
// choreography, once. `troupe dev`, each consumer's Lambda and the CDK app
// all read this declaration.
//
//	orders.OrderPlaced ──payments──▶ payments.PaymentAuthorized ──inventory──▶ inventory.StockReserved ──shipping──▶ shipping.ShipmentScheduled
//	                          └────▶ payments.PaymentDeclined ──orders──▶ orders.OrderCancelled
//	inventory.StockUnavailable ──refunds──▶ payments.PaymentRefunded ──orders──▶ orders.OrderCancelled
//	every event, in order per order id ──timeline (stream)
package choreography

import (
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/consumers/inventory"
	"github.com/troupehq/troupe/consumers/orders"
	"github.com/troupehq/troupe/consumers/payments"
	"github.com/troupehq/troupe/consumers/refunds"
	"github.com/troupehq/troupe/consumers/shipping"
	"github.com/troupehq/troupe/consumers/timeline"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/topology"
)

// Name names the sample's deployment.
const Name = "troupe-orders"

// Option changes the declaration's stateful parts.
type Option func(*options)

type options struct{ timeline timeline.Store }

// WithTimelineStore sets the timeline consumer's store (default: in memory).
func WithTimelineStore(s timeline.Store) Option { return func(o *options) { o.timeline = s } }

// Topology returns the sample choreography, validated, with every default
// filled in.
func Topology(opts ...Option) (*topology.Topology, error) {
	o := options{timeline: timeline.NewMemory()}
	for _, opt := range opts {
		opt(&o)
	}
	reg := domain.Registry()
	ref := topology.Emit
	t := &topology.Topology{
		Name: Name,
		// The shop publishes the orders (v2; older systems still send v1).
		External: []topology.EventRef{ref("orders.OrderPlaced", 1), ref("orders.OrderPlaced", 2)},
		Consumers: []topology.Consumer{
			{
				Name:        "payments",
				Description: "charges each placed order",
				Bus:         topology.OnBusTypes("orders.OrderPlaced"),
				Handler:     consumers.MustRouter(reg, consumers.On("orders.OrderPlaced", 2, payments.OnOrderPlaced)),
				Emits:       []topology.EventRef{ref("payments.PaymentAuthorized", 1), ref("payments.PaymentDeclined", 1)},
			},
			{
				Name:        "inventory",
				Description: "reserves the stock of paid orders",
				Bus:         topology.OnBusTypes("payments.PaymentAuthorized"),
				Handler:     consumers.MustRouter(reg, consumers.On("payments.PaymentAuthorized", 1, inventory.OnPaymentAuthorized)),
				Emits:       []topology.EventRef{ref("inventory.StockReserved", 1), ref("inventory.StockUnavailable", 1)},
			},
			{
				Name:        "shipping",
				Description: "schedules the shipment of reserved orders",
				Bus:         topology.OnBusTypes("inventory.StockReserved"),
				Handler:     consumers.MustRouter(reg, consumers.On("inventory.StockReserved", 1, shipping.OnStockReserved)),
				Emits:       []topology.EventRef{ref("shipping.ShipmentScheduled", 1)},
			},
			{
				Name:        "refunds",
				Description: "refunds paid orders whose stock is unavailable (compensation)",
				Bus:         topology.OnBusTypes("inventory.StockUnavailable"),
				Handler:     consumers.MustRouter(reg, consumers.On("inventory.StockUnavailable", 1, refunds.OnStockUnavailable)),
				Emits:       []topology.EventRef{ref("payments.PaymentRefunded", 1)},
			},
			{
				Name:        "orders",
				Description: "cancels orders whose payment was declined or refunded",
				Bus:         topology.OnBusTypes("payments.PaymentDeclined", "payments.PaymentRefunded"),
				Handler: consumers.MustRouter(reg,
					consumers.On("payments.PaymentDeclined", 1, orders.OnPaymentDeclined),
					consumers.On("payments.PaymentRefunded", 1, orders.OnPaymentRefunded)),
				Emits: []topology.EventRef{ref("orders.OrderCancelled", 1)},
			},
			{
				Name:        "timeline",
				Description: "keeps each order's timeline from the stream, in order per order id",
				Stream:      topology.OnStream(""),
				Handler:     consumers.MustRouter(reg, timeline.New(o.timeline).Routes()...),
			},
		},
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}
