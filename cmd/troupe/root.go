package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "troupe",
		Short: "Event-driven choreography on AWS, for Go",
		Long: `troupe publishes versioned domain events to an EventBridge bus and a Kinesis
stream, checks them against their JSON Schemas, and tests EventBridge event
patterns offline.

Configuration follows the AWS SDK's chain (environment, shared profile,
region); --endpoint-url points the AWS clients at another endpoint, such as a
local emulator.`,
		Example: `  # Publish the sample OrderPlaced event to the bus and the stream
  troupe publish orders.OrderPlaced --data @testdata/events/orders.OrderPlaced/v2/placed.json \
    --bus orders-bus --stream orders-stream

  # Check every schema, version and sample event
  troupe schemas check

  # Test an EventBridge pattern against an event, offline
  troupe events test-pattern --pattern '{"source":["orders"]}' --event @event.json`,
		SilenceUsage: true,
	}
	root.AddCommand(newDevCmd(), newPublishCmd(), newTraceCmd(), newStatusCmd(), newSchemasCmd(), newEventsCmd(), newDLQCmd())
	root.AddCommand(newGraphCmd(), newCatalogCmd())
	return root
}
