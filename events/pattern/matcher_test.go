package pattern

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// TestFoldKey checks the property the equals-ignore-case index relies on:
// both spellings a pattern character accepts have the same fold key.
func TestFoldKey(t *testing.T) {
	for r := rune(0); r < 0x10000; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		lo := string(appendFoldKey(nil, javaLower(r)))
		up := string(appendFoldKey(nil, javaUpper(r)))
		if lo != up {
			t.Errorf("U+%04X %q: fold key of lower %q is %q, of upper %q is %q", r, string(r), javaLower(r), lo, javaUpper(r), up)
		}
	}
}

func TestMatcherNamesAndRemove(t *testing.T) {
	m := NewMatcher()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(m.Add("zeta", []byte(`{"source":["a"]}`)))
	must(m.Add("alpha", []byte(`{"source":[{"prefix":"a"}]}`)))
	must(m.Add("mid", []byte(`{"source":["b"]}`)))
	must(m.Add("mid", []byte(`{"detail":{"n":[{"numeric":[">",1]}]}}`))) // a second pattern: OR
	if err := m.Add("bad", []byte(`{"source":[]}`)); err == nil || !strings.Contains(err.Error(), `pattern "bad"`) {
		t.Fatalf("Add(bad) = %v", err)
	}
	check := func(event string, want ...string) {
		t.Helper()
		got, err := m.Match([]byte(event))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Match(%s) = %q, want %q", event, got, want)
		}
	}
	check(`{"source":"a"}`, "alpha", "zeta")
	check(`{"source":"b","detail":{"n":5}}`, "mid")
	check(`{"source":"x","detail":{"n":5}}`, "mid")
	check(`{"source":"x"}`)
	m.Remove("zeta")
	m.Remove("unknown")
	check(`{"source":"a"}`, "alpha")
	m.Remove("mid")
	check(`{"source":"b","detail":{"n":5}}`)
	if _, err := m.Match([]byte(`{"source":`)); err == nil {
		t.Fatal("Match(invalid) succeeded")
	}
	got, err := m.AppendMatches([]string{"keep"}, []byte(`{"source":"a"}`))
	if err != nil || !slices.Equal(got, []string{"keep", "alpha"}) {
		t.Fatalf("AppendMatches = %q, %v", got, err)
	}
}

// TestMatcherDifferential compares the indexed Matcher with verifying every
// pattern against every event, on random patterns and events.
func TestMatcherDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var entries []entry
	for i := 0; i < 400; i++ {
		src := randomPattern(rng)
		p, err := Compile([]byte(src))
		if err != nil {
			continue // random patterns may be invalid
		}
		entries = append(entries, entry{name: fmt.Sprintf("p%03d", i), p: p})
	}
	if len(entries) < 300 {
		t.Fatalf("only %d of 400 random patterns compiled", len(entries))
	}
	indexed := buildIndexed(entries, 0, true)
	brute := buildIndexed(entries, 0, false)
	if len(indexed.always) >= len(indexed.rules)/2 {
		t.Fatalf("%d of %d rules unindexed", len(indexed.always), len(indexed.rules))
	}
	total := 0
	for i := 0; i < 3000; i++ {
		ev := randomEvent(rng)
		a, _, err1 := indexed.match([]byte(ev), nil, false)
		b, _, err2 := brute.match([]byte(ev), nil, false)
		if err1 != nil || err2 != nil {
			t.Fatalf("event %s: %v, %v", ev, err1, err2)
		}
		if !slices.Equal(a, b) {
			t.Fatalf("event %s\nindexed %q\nbrute   %q", ev, a, b)
		}
		total += len(a)
	}
	if total < 1000 {
		t.Fatalf("only %d matches in 3000 events; the generators do not overlap enough", total)
	}
}

var (
	vocabStrings = []string{"a", "ab", "abc", "B", "Ab", "x.y", "10.0.0.1", "10.1.2.3", "2001:db8::1", "", "é", "ÉX", "straße"}
	vocabNumbers = []string{"0", "1", "1.5", "-3", "100", "1e2", "5000000000"}
	vocabPaths   = []string{"s", "t", "d.u", "d.v", "d.w.x"}
)

func randomOperand(rng *rand.Rand) string {
	str := func() string { return fmt.Sprintf("%q", vocabStrings[rng.IntN(len(vocabStrings))]) }
	num := func() string { return vocabNumbers[rng.IntN(len(vocabNumbers))] }
	switch rng.IntN(16) {
	case 0, 1, 2:
		return str()
	case 3:
		return num()
	case 4:
		return []string{"true", "false", "null"}[rng.IntN(3)]
	case 5:
		return `{"prefix":` + str() + `}`
	case 6:
		return `{"suffix":` + str() + `}`
	case 7:
		return `{"equals-ignore-case":` + str() + `}`
	case 8:
		return `{"prefix":{"equals-ignore-case":` + str() + `}}`
	case 9:
		return `{"wildcard":"` + []string{"a*", "*b", "a*c", "*", "x*y", "*.*"}[rng.IntN(6)] + `"}`
	case 10:
		return `{"numeric":[">",` + num() + `,"<=",` + num() + `]}`
	case 11:
		return `{"numeric":["` + []string{"<", "<=", "=", ">", ">="}[rng.IntN(5)] + `",` + num() + `]}`
	case 12:
		return `{"cidr":"` + []string{"10.0.0.0/8", "10.0.0.0/24", "2001:db8::/32"}[rng.IntN(3)] + `"}`
	case 13:
		return `{"anything-but":` + []string{str(), num(), `{"prefix":"a"}`, `{"suffix":"b"}`}[rng.IntN(4)] + `}`
	case 14:
		return `{"exists":` + []string{"true", "false"}[rng.IntN(2)] + `}`
	default:
		return `{"suffix":{"equals-ignore-case":` + str() + `}}`
	}
}

func randomFields(rng *rand.Rand, n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		var ops []string
		for j := rng.IntN(3); j >= 0; j-- {
			ops = append(ops, randomOperand(rng))
		}
		parts = append(parts, fmt.Sprintf("%q:[%s]", vocabPaths[rng.IntN(len(vocabPaths))], strings.Join(ops, ",")))
	}
	return strings.Join(parts, ",")
}

func randomPattern(rng *rand.Rand) string {
	body := randomFields(rng, 1+rng.IntN(3))
	if rng.IntN(5) == 0 {
		body += `,"$or":[{` + randomFields(rng, 1) + `},{` + randomFields(rng, 1+rng.IntN(2)) + `}]`
	}
	return "{" + body + "}"
}

func randomValue(rng *rand.Rand) string {
	switch rng.IntN(5) {
	case 0:
		return vocabNumbers[rng.IntN(len(vocabNumbers))]
	case 1:
		return []string{"true", "false", "null"}[rng.IntN(3)]
	default:
		s := vocabStrings[rng.IntN(len(vocabStrings))]
		if rng.IntN(3) == 0 {
			s += vocabStrings[rng.IntN(len(vocabStrings))]
		}
		return fmt.Sprintf("%q", s)
	}
}

func randomEvent(rng *rand.Rand) string {
	leaf := func() string {
		if rng.IntN(4) == 0 {
			return "[" + randomValue(rng) + "," + randomValue(rng) + "]"
		}
		return randomValue(rng)
	}
	var top []string
	for _, k := range []string{"s", "t"} {
		if rng.IntN(4) != 0 {
			top = append(top, fmt.Sprintf("%q:%s", k, leaf()))
		}
	}
	obj := func() string {
		var f []string
		for _, k := range []string{"u", "v"} {
			if rng.IntN(3) != 0 {
				f = append(f, fmt.Sprintf("%q:%s", k, leaf()))
			}
		}
		if rng.IntN(2) == 0 {
			f = append(f, `"w":{"x":`+leaf()+`}`)
		}
		return "{" + strings.Join(f, ",") + "}"
	}
	switch rng.IntN(3) {
	case 0:
		top = append(top, `"d":`+obj())
	case 1:
		top = append(top, `"d":[`+obj()+`,`+obj()+`]`)
	}
	return "{" + strings.Join(top, ",") + "}"
}

// TestMatcherConcurrent runs Match calls while patterns are added and removed
// (run with -race).
func TestMatcherConcurrent(t *testing.T) {
	m := NewMatcher()
	if err := m.Add("always", []byte(`{"source":["s"]}`)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				names, err := m.Match([]byte(`{"source":"s","detail":{"n":7}}`))
				if err != nil || !slices.Contains(names, "always") {
					t.Errorf("Match = %q, %v", names, err)
					return
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("n%d", i%10)
		if err := m.Add(name, []byte(fmt.Sprintf(`{"detail":{"n":[{"numeric":[">",%d]}]}}`, i%10))); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			m.Remove(name)
		}
	}
	close(stop)
	wg.Wait()
	// After the writers stop, a Match sees every change.
	names, err := m.Match([]byte(`{"source":"s","detail":{"n":7}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"always"}
	for i := 0; i < 10; i++ {
		name := fmt.Sprintf("n%d", i)
		removedLast := false
		for j := 0; j < 200; j++ {
			if j%10 == i {
				removedLast = j%3 == 0
			}
		}
		if !removedLast && i < 7 {
			want = append(want, name)
		}
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("Match = %q, want %q", names, want)
	}
}

func TestMatchAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	m := NewMatcher()
	for i := 0; i < 50; i++ {
		if err := m.Add(fmt.Sprint(i), []byte(fmt.Sprintf(`{"source":["s%d"],"detail":{"k":[{"prefix":"v"}]}}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	ev := []byte(`{"source":"s7","detail":{"k":"value","other":[1,2,{"x":"y"}]},"resources":["a","b"]}`)
	dst := make([]string, 0, 4)
	if _, err := m.AppendMatches(dst, ev); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		got, _ := m.AppendMatches(dst[:0], ev)
		if len(got) != 1 {
			t.Fatalf("got %q", got)
		}
	})
	if allocs > 0 {
		t.Fatalf("AppendMatches allocates %v times per call, want 0", allocs)
	}
}

func TestEventKeysWithEscapesAndInvalidUTF8(t *testing.T) {
	p := MustCompile(`{"dé":{"k":["v\u0000"]}}`)
	ok, err := p.Match([]byte(`{"d\u00e9":{"k":"v\u0000"}}`))
	if err != nil || !ok {
		t.Fatalf("Match = %v, %v", ok, err)
	}
	if !utf8.ValidString("dé") {
		t.Fatal("bad test")
	}
}
