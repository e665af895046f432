package pattern

import "testing"

// seedCorpus seeds the fuzzers with our own table cases: every pattern and
// event in matchCases and awsCases, and every pattern Compile must reject.
func seedCorpus(f *testing.F, add func(pattern, event string)) {
	for _, tc := range matchCases {
		add(tc.pattern, tc.event)
	}
	for _, tc := range rejectCases {
		add(tc.pattern, `{}`)
	}
	for _, tc := range awsCases {
		add(tc.pattern, tc.event)
	}
	for _, tc := range awsRejectCases {
		add(tc.pattern, `{}`)
	}
}

// FuzzCompile checks that Compile never panics or hangs, that an accepted
// pattern's String compiles again, and that a compiled pattern can match.
func FuzzCompile(f *testing.F) {
	seedCorpus(f, func(p, _ string) { f.Add([]byte(p)) })
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Compile(src)
		if err != nil {
			if p != nil {
				t.Fatal("Compile returned a pattern and an error")
			}
			return
		}
		if _, err := Compile([]byte(p.String())); err != nil {
			t.Fatalf("String() %s does not compile: %v", p.String(), err)
		}
		if _, err := p.Match([]byte(`{"source":"x","detail":{"a":[1,"b",null,{"c":true}]}}`)); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzMatch checks that matching never panics or hangs, that Pattern and
// Matcher agree, and that the index agrees with checking every rule.
func FuzzMatch(f *testing.F) {
	seedCorpus(f, func(p, e string) { f.Add([]byte(p), []byte(e)) })
	f.Fuzz(func(t *testing.T, src, event []byte) {
		p, err := Compile(src)
		if err != nil {
			return
		}
		got, err := p.Match(event)
		m := NewMatcher()
		m.AddPattern("p", p)
		names, err2 := m.Match(event)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Pattern.Match error %v, Matcher.Match error %v", err, err2)
		}
		if err != nil {
			return
		}
		if got != (len(names) == 1) {
			t.Fatalf("Pattern.Match = %v, Matcher.Match = %q", got, names)
		}
		brute := buildIndexed([]entry{{name: "p", p: p}}, 0, false)
		_, want, err := brute.match(event, nil, true)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("indexed match %v, unindexed %v", got, want)
		}
	})
}
