package topology

import "strings"

// StackID is the consumer's name in PascalCase ("order-audit" ->
// "OrderAudit"): the CDK app names the consumer's constructs
// ("Consumer<ID>/...") and its stack outputs ("<ID>DlqUrl",
// "<ID>FunctionName") with it, and whoever reads those outputs (the DLQ
// replay) finds them by it. Two names may have the same StackID ("a-1"
// and "a1", "a--b" and "a-b"); the CDK app refuses such a pair.
func (c *Consumer) StackID() string {
	var b strings.Builder
	up := true
	for _, r := range c.Name {
		if r == '-' {
			up = true
			continue
		}
		if up && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}
