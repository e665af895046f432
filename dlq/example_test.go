package dlq_test

import (
	"errors"
	"fmt"

	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/events/pattern"
)

func ExampleDecode() {
	// A message an EventBridge rule's target DLQ received: the body is the
	// event, the attributes say what failed.
	body := `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"orders.OrderPlaced",
		"source":"shop.orders","account":"123456789012","time":"2025-06-01T12:00:00Z","region":"us-east-1",
		"resources":[],"detail":{"order":"o-42"}}`
	attrs := map[string]string{
		"ERROR_CODE":    "NO_PERMISSIONS",
		"ERROR_MESSAGE": "EventBridge could not invoke the function",
		"RULE_ARN":      "arn:aws:events:us-east-1:123456789012:rule/troupe-bus/billing-on-order-placed",
		"TARGET_ARN":    "arn:aws:lambda:us-east-1:123456789012:function:billing",
	}
	m, err := dlq.Decode(body, attrs)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Shape, m.Consumer, m.Reason, m.Origin.Rule)
	fmt.Println(m.Event.Ref(), string(m.Event.Data))

	// A body in none of the four shapes is reported, never deleted.
	_, err = dlq.Decode(`{"hello":"world"}`, nil)
	fmt.Println(errors.Is(err, dlq.ErrUnknownShape))
	// Output:
	// eventbridge-target billing NO_PERMISSIONS billing-on-order-placed
	// orders.OrderPlaced v1 (id 6a7e8feb-b491-4cf7-a9f1-bf3703467718) {"order":"o-42"}
	// true
}

func ExampleSelector() {
	m, err := dlq.Decode(`{"version":"0","id":"e-1","detail-type":"orders.OrderPlaced","source":"shop.orders",
		"time":"2025-06-01T12:00:00Z","detail":{"order":"o-42","total":250}}`,
		map[string]string{"TARGET_ARN": "arn:aws:lambda:us-east-1:123456789012:function:billing"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The filter sees the envelope as the detail of an EventBridge event.
	big := dlq.Selector{
		Consumer: "billing",
		Filter:   pattern.MustCompile(`{"detail-type":["orders.OrderPlaced"],"detail":{"data":{"total":[{"numeric":[">",100]}]}}}`),
	}
	ok, _ := big.Match(m)
	fmt.Println(ok)
	ok, _ = dlq.Selector{Consumer: "shipping"}.Match(m)
	fmt.Println(ok)
	// Output:
	// true
	// false
}
