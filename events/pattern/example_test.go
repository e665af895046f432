package pattern_test

import (
	"fmt"

	"github.com/troupehq/troupe/events/pattern"
)

func ExampleCompile() {
	p, err := pattern.Compile([]byte(`{
		"source": ["orders"],
		"detail": {
			"amount": [{"numeric": [">", 100, "<=", 1000]}],
			"country": [{"anything-but": ["US", "CA"]}]
		}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	ok, _ := p.Match([]byte(`{"source": "orders", "detail": {"amount": 250.5, "country": "FR"}}`))
	fmt.Println(ok)
	ok, _ = p.Match([]byte(`{"source": "orders", "detail": {"amount": 250.5, "country": "US"}}`))
	fmt.Println(ok)
	// Output:
	// true
	// false
}

func ExampleCompile_error() {
	_, err := pattern.Compile([]byte(`{"detail": {"amount": [{"numeric": [">", 10, "<", 5]}]}}`))
	fmt.Println(err)
	// Output:
	// event pattern: detail.amount: numeric: range lower bound 10 is above upper bound 5; the lower bound must be below the upper bound
}

func ExampleMatcher() {
	m := pattern.NewMatcher()
	_ = m.Add("big-orders", []byte(`{"source": ["orders"], "detail": {"amount": [{"numeric": [">=", 1000]}]}}`))
	_ = m.Add("eu-orders", []byte(`{"source": ["orders"], "detail": {"country": ["FR", "DE"]}}`))
	_ = m.Add("audit", []byte(`{"source": [{"prefix": ""}]}`))

	names, _ := m.Match([]byte(`{"source": "orders", "detail": {"amount": 1200, "country": "FR"}}`))
	fmt.Println(names)

	m.Remove("audit")
	names, _ = m.Match([]byte(`{"source": "orders", "detail": {"amount": 5, "country": "US"}}`))
	fmt.Println(names)
	// Output:
	// [audit big-orders eu-orders]
	// []
}

func ExamplePattern_String() {
	p := pattern.MustCompile(`{ "source": [ "orders" ],
	   "detail": { "state": [ { "prefix": "ship" } ] } }`)
	fmt.Println(p)
	// Output:
	// {"source":["orders"],"detail":{"state":[{"prefix":"ship"}]}}
}
