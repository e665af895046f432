package graph

import (
	"fmt"
	"slices"
	"strings"
)

// ProblemKind names what the check found.
type ProblemKind string

// The problem kinds.
const (
	// Unconsumed: a type that a consumer emits, or that the topology
	// declares External, and that no consumer reads.
	Unconsumed ProblemKind = "unconsumed"
	// Unproduced: a type that a consumer waits for, that no consumer
	// emits and that the topology does not declare External.
	Unproduced ProblemKind = "unproduced"
	// NewerVersion: a producer emits a version newer than a reader asks
	// for; the reader would dead-letter it.
	NewerVersion ProblemKind = "newer-version"
)

// Problem is one thing the declaration leaves dangling.
type Problem struct {
	Kind ProblemKind `json:"kind"`
	Type string      `json:"type"`
	// Consumers are the consumers concerned: the producers of an unconsumed
	// type, the readers of an unproduced one, the reader and the producer
	// of a newer version.
	Consumers []string `json:"consumers"`
	// Message says what is wrong and what to do.
	Message string `json:"message"`
}

func (p Problem) String() string { return string(p.Kind) + ": " + p.Message }

// Err returns nil when the check found nothing, else an error listing every
// problem, one per line.
func (g *Graph) Err() error {
	if len(g.Problems) == 0 {
		return nil
	}
	lines := make([]string, len(g.Problems))
	for i, p := range g.Problems {
		lines[i] = p.String()
	}
	return fmt.Errorf("graph check of %s: %d problem(s):\n%s", g.Topology, len(lines), strings.Join(lines, "\n"))
}

// check fills Problems and OK, and marks the edges it flags.
func (g *Graph) check() {
	for _, ev := range g.Events {
		var emitters []string
		for _, p := range ev.Producers {
			if p.Node != ExternalID {
				emitters = append(emitters, p.Name)
			}
		}
		var readers []string
		for _, r := range ev.Consumers {
			readers = append(readers, r.Name)
		}
		switch {
		case len(readers) == 0:
			by := "emitted by " + strings.Join(emitters, ", ")
			fix := fmt.Sprintf("route it to a consumer (consumers.On(%q, ...)) or stop declaring it in the Emits of %s", ev.Type, strings.Join(emitters, ", "))
			if ev.External {
				by = "declared External"
				if len(emitters) > 0 {
					by += " and emitted by " + strings.Join(emitters, ", ")
				}
				fix = fmt.Sprintf("route it to a consumer (consumers.On(%q, ...)) or remove it from Topology.External", ev.Type)
			}
			g.problem(Unconsumed, ev.Type, emitters, "%s is %s, but no consumer reads it: %s", ev.Type, by, fix)
			g.flag(func(e *Edge) bool { return e.Type == ev.Type })
		case len(emitters) == 0 && !ev.External:
			g.problem(Unproduced, ev.Type, readers,
				"%s: %s waits for it, but no consumer emits it and the topology does not declare it External: declare it in the Emits of the consumer that emits it, or in Topology.External if a system outside publishes it",
				ev.Type, strings.Join(readers, ", "))
			g.flag(func(e *Edge) bool { return e.Type == ev.Type && e.From == ExternalID })
		}
		for _, r := range ev.Consumers {
			for _, p := range ev.Producers {
				if len(p.Versions) == 0 || slices.Max(p.Versions) <= r.Reads {
					continue
				}
				newest := slices.Max(p.Versions)
				concerned := []string{r.Name}
				if p.Node != ExternalID {
					concerned = append(concerned, p.Name)
				}
				g.problem(NewerVersion, ev.Type, concerned,
					"%s: %s emits v%d, but consumer %s reads up to v%d and would dead-letter it: upgrade its route to consumers.On(%q, %d, ...)",
					ev.Type, p.Name, newest, r.Name, r.Reads, ev.Type, newest)
				g.flag(func(e *Edge) bool { return e.Type == ev.Type && e.From == p.Node && e.To == r.Node })
			}
		}
	}
	g.OK = len(g.Problems) == 0
}

func (g *Graph) problem(kind ProblemKind, typ string, consumers []string, format string, args ...any) {
	if consumers == nil {
		consumers = []string{}
	}
	g.Problems = append(g.Problems, Problem{Kind: kind, Type: typ, Consumers: consumers, Message: fmt.Sprintf(format, args...)})
}

func (g *Graph) flag(match func(*Edge) bool) {
	for i := range g.Edges {
		if e := &g.Edges[i]; e.Kind == EdgeEvent && match(e) {
			e.Problem = true
		}
	}
}
