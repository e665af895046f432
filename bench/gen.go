package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Vocabularies of the synthetic EventBridge-shaped events.
var (
	sources  = mk(20, "com.troupe.svc%02d")
	regions  = []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "ap-northeast-1", "sa-east-1"}
	statuses = []string{"created", "paid", "packed", "shipped", "delivered", "cancelled", "failed", "refunded"}
	tiers    = []string{"gold", "Gold", "SILVER", "silver", "bronze", "Platinum"}
	exts     = []string{"json", "csv", "png", "jpg", "tmp"}
	cats     = []string{"books", "games", "garden", "tools", "music", "toys", "food", "sports"}
)

const (
	nTypes     = 1000
	nCustomers = 10000
	nSKUs      = 50000
)

func mk(n int, format string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

func detailType(i int) string { return fmt.Sprintf("Type%03d Changed", i) }

// Events returns n deterministic events of about 1 KB each.
func Events(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([][]byte, n)
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	for i := range out {
		var b strings.Builder
		fmt.Fprintf(&b, `{"version":"0","id":"%08x-%04x-4%03x-8%03x-%012x",`, rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()&(1<<48-1))
		fmt.Fprintf(&b, `"detail-type":%q,"source":%q,"account":"123456789012","time":"2026-%02d-%02dT%02d:%02d:%02dZ","region":%q,`,
			detailType(rng.IntN(nTypes)), pick(sources), 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), pick(regions))
		b.WriteString(`"resources":[`)
		for r, nr := 0, 1+rng.IntN(3); r < nr; r++ {
			if r > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"arn:aws:%s:%s:123456789012:res/%06d"`, pick([]string{"ec2", "s3", "sqs", "lambda"}), pick(regions), rng.IntN(1000000))
		}
		b.WriteString(`],"detail":{`)
		fmt.Fprintf(&b, `"orderId":"ORD-%08d","status":%q,`, rng.IntN(100000000), pick(statuses))
		fmt.Fprintf(&b, `"customer":{"id":"C%05d","tier":%q`, rng.IntN(nCustomers), pick(tiers))
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, `,"email":"user%d@example.com"`, rng.IntN(100000))
		}
		b.WriteString(`},"items":[`)
		for it, ni := 0, 1+rng.IntN(3); it < ni; it++ {
			if it > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"sku":"SKU-%05d","qty":%d,"category":%q}`, rng.IntN(nSKUs), 1+rng.IntN(5), pick(cats))
		}
		fmt.Fprintf(&b, `],"amount":%d.%02d,"currency":%q,`, rng.IntN(10000), rng.IntN(100), pick([]string{"USD", "EUR", "GBP"}))
		fmt.Fprintf(&b, `"ip":"10.%d.%d.%d","file":"/data/%s/%05d.%s",`, rng.IntN(16), rng.IntN(16), rng.IntN(256), pick([]string{"in", "out", "tmp"}), rng.IntN(100000), pick(exts))
		b.WriteString(`"tags":[`)
		for t, nt := 0, rng.IntN(4); t < nt; t++ {
			if t > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"tag-%d"`, rng.IntN(50))
		}
		b.WriteString(`]`)
		if rng.IntN(4) == 0 {
			b.WriteString(`,"note":"gift"`)
		}
		b.WriteString(`,"description":"`)
		for b.Len() < 1000 {
			b.WriteString(pick(cats))
			b.WriteByte(' ')
		}
		b.WriteString(`"}}`)
		out[i] = []byte(b.String())
	}
	return out
}

// QuaminaPatterns returns n patterns of the kinds both matchers support
// (exact, prefix, exists, anything-but list, wildcard, equals-ignore-case,
// array fields), chosen so that the two agree on EventBridge semantics.
func QuaminaPatterns(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 11))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	out := make([]string, n)
	for i := range out {
		src := pick(sources)
		switch i % 8 {
		case 0:
			out[i] = fmt.Sprintf(`{"source":[%q],"detail-type":[%q,%q]}`, src, detailType(rng.IntN(nTypes)), detailType(rng.IntN(nTypes)))
		case 1:
			out[i] = fmt.Sprintf(`{"source":[%q],"detail":{"status":[%q],"customer":{"email":[{"exists":true}]}}}`, src, pick(statuses))
		case 2:
			out[i] = fmt.Sprintf(`{"source":[%q],"detail":{"status":[{"anything-but":[%q,%q]}]}}`, src, pick(statuses), pick(statuses))
		case 3:
			out[i] = fmt.Sprintf(`{"source":[%q],"resources":[{"prefix":"arn:aws:%s:%s"}]}`, src, pick([]string{"ec2", "s3"}), pick(regions))
		case 4:
			out[i] = fmt.Sprintf(`{"detail":{"items":{"category":[%q],"sku":[{"prefix":"SKU-%d"}]}},"source":[%q]}`, pick(cats), rng.IntN(10), src)
		case 5:
			out[i] = fmt.Sprintf(`{"source":[%q],"detail":{"customer":{"tier":[{"equals-ignore-case":%q}]}}}`, src, pick([]string{"gold", "silver"}))
		case 6:
			out[i] = fmt.Sprintf(`{"region":[%q],"detail":{"file":[{"wildcard":"/data/*.%s"}]},"source":[%q]}`, pick(regions), pick(exts), src)
		default:
			out[i] = fmt.Sprintf(`{"detail":{"tags":["tag-%d"],"currency":[%q]},"detail-type":[{"prefix":"Type%d"}]}`, rng.IntN(50), pick([]string{"USD", "EUR"}), rng.IntN(10))
		}
	}
	return out
}

// MixedPatterns returns n patterns using the whole operator mix: numeric
// ranges, cidr, suffix, $or, anything-but variants, exists false, ... Each
// has one selective field, as real rules do (a detail-type, a customer, a
// SKU, a /24 network, an amount band).
func MixedPatterns(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 13))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	typ := func() string { return detailType(rng.IntN(nTypes)) }
	cust := func() string { return fmt.Sprintf("C%05d", rng.IntN(nCustomers)) }
	out := make([]string, n)
	for i := range out {
		switch i % 14 {
		case 0:
			out[i] = fmt.Sprintf(`{"source":[%q],"detail-type":[%q]}`, pick(sources), typ())
		case 1:
			out[i] = fmt.Sprintf(`{"source":[%q],"detail":{"customer":{"id":[%q]}}}`, pick(sources), cust())
		case 2:
			lo := rng.IntN(9900)
			out[i] = fmt.Sprintf(`{"detail-type":[%q],"detail":{"amount":[{"numeric":[">",%d,"<=",%d]}]}}`, typ(), lo, lo+100)
		case 3:
			out[i] = fmt.Sprintf(`{"detail":{"ip":[{"cidr":"10.%d.%d.0/24"}]},"region":[%q]}`, rng.IntN(16), rng.IntN(16), pick(regions))
		case 4:
			out[i] = fmt.Sprintf(`{"detail":{"items":{"sku":[{"prefix":"SKU-%04d"}],"qty":[{"numeric":[">=",2]}]}}}`, rng.IntN(5000))
		case 5:
			out[i] = fmt.Sprintf(`{"detail-type":[%q],"detail":{"file":[{"suffix":".%s"}]}}`, typ(), pick(exts))
		case 6:
			out[i] = fmt.Sprintf(`{"$or":[{"detail":{"customer":{"id":[%q]}}},{"detail":{"items":{"sku":["SKU-%05d"]}}}]}`, cust(), rng.IntN(nSKUs))
		case 7:
			out[i] = fmt.Sprintf(`{"detail-type":[{"equals-ignore-case":%q}],"detail":{"status":[{"anything-but":["cancelled","failed"]}]}}`, strings.ToUpper(typ()))
		case 8:
			out[i] = fmt.Sprintf(`{"detail-type":[%q],"detail":{"file":[{"anything-but":{"suffix":".tmp"}}],"note":[{"exists":false}]}}`, typ())
		case 9:
			out[i] = fmt.Sprintf(`{"source":[%q],"detail":{"customer":{"id":[{"prefix":"C%04d"}]},"status":[{"anything-but":{"prefix":"canc"}}]}}`, pick(sources), rng.IntN(1000))
		case 10:
			t := rng.IntN(nTypes)
			out[i] = fmt.Sprintf(`{"detail-type":[{"wildcard":"Type%03d *"}],"detail":{"amount":[{"numeric":["<",%d]}]}}`, t, rng.IntN(10000))
		case 11:
			out[i] = fmt.Sprintf(`{"detail":{"customer":{"id":[%q],"tier":[{"anything-but":{"equals-ignore-case":["gold"]}}]}}}`, cust())
		case 12:
			out[i] = fmt.Sprintf(`{"detail-type":[%q],"detail":{"file":[{"anything-but":{"wildcard":"*/tmp/*"}}],"currency":[{"anything-but":"GBP"}]}}`, typ())
		default:
			out[i] = fmt.Sprintf(`{"detail-type":[%q],"$or":[{"detail":{"amount":[{"numeric":[">",5000]}]}},{"detail":{"customer":{"tier":[{"prefix":{"equals-ignore-case":"gol"}}]}}}]}`, typ())
		}
	}
	return out
}
