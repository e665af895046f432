package domain

import "github.com/troupehq/troupe/events"

// PaymentAuthorized says the customer's payment for an order was authorized.
type PaymentAuthorized struct {
	OrderID   string `json:"orderId"`
	PaymentID string `json:"paymentId"`
	Amount    Money  `json:"amount"`
}

// PaymentDeclined says the payment for an order was declined.
type PaymentDeclined struct {
	OrderID string `json:"orderId"`
	Reason  string `json:"reason"`
}

// PaymentRefunded says an authorized payment was given back.
type PaymentRefunded struct {
	OrderID   string `json:"orderId"`
	PaymentID string `json:"paymentId"`
	Amount    Money  `json:"amount"`
	Reason    string `json:"reason"`
}

var (
	// PaymentAuthorizedDef is payments.PaymentAuthorized v1.
	PaymentAuthorizedDef = events.MustDefine[PaymentAuthorized](registry, "payments.PaymentAuthorized", 1)
	// PaymentDeclinedDef is payments.PaymentDeclined v1.
	PaymentDeclinedDef = events.MustDefine[PaymentDeclined](registry, "payments.PaymentDeclined", 1)
	// PaymentRefundedDef is payments.PaymentRefunded v1.
	PaymentRefundedDef = events.MustDefine[PaymentRefunded](registry, "payments.PaymentRefunded", 1)
)
