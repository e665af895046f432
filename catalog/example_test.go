package catalog_test

import (
	"fmt"

	"github.com/troupehq/troupe/catalog"
	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/schemas"
)

func ExampleBuild() {
	top, _ := choreography.Topology()
	c, _ := catalog.Build(top, schemas.Sample(), domain.Registry())
	placed, _ := c.Type("orders.OrderPlaced")
	for _, v := range placed.Versions {
		fmt.Printf("v%d %s, example valid: %v\n", v.Version, v.SchemaFile, v.Example != "" && v.ExampleError == "")
		if v.Compat != nil {
			fmt.Println("  check against v1 passes:", v.Compat.OK, "- upcaster:", v.Upcaster)
		}
	}
	for _, r := range placed.Consumers {
		fmt.Printf("read by %s from the %s\n", r.Name, r.Via)
	}
	// Output:
	// v1 schemas/orders/OrderPlaced/v1.json, example valid: true
	// v2 schemas/orders/OrderPlaced/v2.json, example valid: true
	//   check against v1 passes: true - upcaster: true
	// read by payments from the bus
	// read by timeline from the stream
}
