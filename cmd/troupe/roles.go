package main

import (
	"sync"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/topology"
)

var sampleTopology = sync.OnceValues(func() (*topology.Topology, error) { return choreography.Topology() })

// topologyRoles names, from the sample choreography's declaration, the
// consumers that emit a version of a type and those that read it (a consumer
// reading v2 reads v1 too, upcast).
func topologyRoles(typ string, version int) (producers, consumers []string) {
	t, err := sampleTopology()
	if err != nil {
		return nil, nil
	}
	for _, c := range t.Consumers {
		for _, e := range c.Emits {
			if e.Type == typ && e.Version == version {
				producers = append(producers, c.Name)
			}
		}
		for _, a := range c.Accepts() {
			if a.Type == typ && a.Version >= version {
				consumers = append(consumers, c.Name)
			}
		}
	}
	return producers, consumers
}
