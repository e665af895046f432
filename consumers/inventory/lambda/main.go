// Command lambda is the inventory consumer's AWS Lambda function (built as
// bootstrap by `make lambdas`).
package main

import (
	"github.com/troupehq/troupe/aws/function"
	"github.com/troupehq/troupe/choreography"
)

func main() {
	t, err := choreography.Topology()
	function.Start(t, err, "inventory")
}
