// Package archtest holds checks of troupe's architecture: the core knows
// ports, never AWS.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// core lists the packages that must not depend on the AWS SDK, directly or
// through another package: they see only ports. Adapters live under aws/.
var core = []string{
	"github.com/troupehq/troupe/events/...",
	"github.com/troupehq/troupe/schemas/...",
	"github.com/troupehq/troupe/domain/...",
	"github.com/troupehq/troupe/producers",
	"github.com/troupehq/troupe/producers/producertest",
	"github.com/troupehq/troupe/topology",
	"github.com/troupehq/troupe/consumers",
	"github.com/troupehq/troupe/consumers/idempotencytest",
	"github.com/troupehq/troupe/consumers/deadlettertest",
	"github.com/troupehq/troupe/choreography",
}

var forbidden = []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"}

func TestCoreDoesNotDependOnTheAWSSDK(t *testing.T) {
	args := append([]string{"list", "-f", `{{.ImportPath}}:{{join .Deps " "}}`}, core...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < len(core) {
		t.Fatalf("go list found %d packages, want at least %d:\n%s", len(lines), len(core), out)
	}
	for _, line := range lines {
		pkg, deps, _ := strings.Cut(line, ":")
		for _, dep := range strings.Fields(deps) {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s: keep AWS in the adapters under aws/", pkg, dep)
				}
			}
		}
	}
}
