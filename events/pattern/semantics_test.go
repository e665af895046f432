package pattern

import (
	"strings"
	"testing"
)

// matchCases are matching semantics taken from the EventBridge user guide and
// event-ruler's README and tests (RulerTest, ACMachineTest, ByteMachineTest,
// CIDRTest, ComparableNumberTest), written as (pattern, event, want).
var matchCases = []struct {
	name, pattern, event string
	want                 bool
}{
	// Exact values and types.
	{"string", `{"a":["x"]}`, `{"a":"x"}`, true},
	{"string other", `{"a":["x"]}`, `{"a":"y"}`, false},
	{"string is not number", `{"a":["5"]}`, `{"a":5}`, false},
	{"number is not string", `{"a":[5]}`, `{"a":"5"}`, false},
	{"300 equals 300.0", `{"a":[300]}`, `{"a":300.0}`, true},
	{"300 equals 3e2", `{"a":[300]}`, `{"a":3e2}`, true},
	{"3.0e2 equals 300", `{"a":[3.0e2]}`, `{"a":300}`, true},
	{"0.1 exact", `{"a":[0.1]}`, `{"a":0.10}`, true},
	{"big account number as text", `{"a":[123456789012345678901]}`, `{"a":123456789012345678901}`, true},
	{"big number other text", `{"a":[123456789012345678901]}`, `{"a":123456789012345678902}`, false},
	{"minus zero is not zero", `{"a":[0]}`, `{"a":-0}`, false},
	{"true", `{"a":[true]}`, `{"a":true}`, true},
	{"true not string", `{"a":[true]}`, `{"a":"true"}`, false},
	{"false", `{"a":[false]}`, `{"a":true}`, false},
	{"null matches null", `{"a":[null]}`, `{"a":null}`, true},
	{"null not missing", `{"a":[null]}`, `{"b":1}`, false},
	{"empty string", `{"a":[""]}`, `{"a":""}`, true},
	{"empty string not null", `{"a":[""]}`, `{"a":null}`, false},
	{"escaped event string", `{"a":["é\"x"]}`, `{"a":"\u00e9\"x"}`, true},
	{"surrogate pair", `{"a":["😀"]}`, `{"a":"\ud83d\ude00"}`, true},
	{"key case matters", `{"A":["x"]}`, `{"a":"x"}`, false},
	{"fields are ANDed", `{"a":["x"],"b":["y"]}`, `{"a":"x","b":"z"}`, false},
	{"values are ORed", `{"a":["x","y"]}`, `{"a":"y"}`, true},
	{"object value is not a leaf", `{"a":["x"]}`, `{"a":{"b":"x"}}`, false},
	{"nested", `{"d":{"s":["on"]}}`, `{"d":{"s":"on","t":1}}`, true},
	{"dotted pattern key", `{"d.s":["on"]}`, `{"d":{"s":"on"}}`, true},
	{"dotted event key", `{"d":{"s":["on"]}}`, `{"d.s":"on"}`, true},
	{"repeated key: last wins", `{"a":["x"],"a":["y"]}`, `{"a":"y"}`, true},
	{"repeated key: first dropped", `{"a":["x"],"a":["y"]}`, `{"a":"x"}`, false},

	// Arrays in events.
	{"array any element", `{"r":["b"]}`, `{"r":["a","b"]}`, true},
	{"array none", `{"r":["c"]}`, `{"r":["a","b"]}`, false},
	{"nested arrays", `{"r":["c"]}`, `{"r":[["a"],["b",["c"]]]}`, true},
	{"empty array has no value", `{"r":[null]}`, `{"r":[]}`, false},
	{"array of objects", `{"e":{"f":["Anna"]}}`, `{"e":[{"f":"John"},{"f":"Anna"}]}`, true},
	{"array consistency same element", `{"e":{"f":["Anna"],"l":["Smith"]}}`, `{"e":[{"f":"John","l":"Doe"},{"f":"Anna","l":"Smith"}]}`, true},
	{"array consistency across elements", `{"e":{"f":["Anna"],"l":["Jones"]}}`, `{"e":[{"f":"Anna","l":"Smith"},{"f":"Peter","l":"Jones"}]}`, false},
	{"array consistency nested arrays", `{"e":{"f":["Anna"],"l":["Jones"]}}`, `{"e":[[{"f":"John"},{"f":"Anna","l":"Smith"}],[{"f":"Peter","l":"Jones"}]]}`, false},
	{"array consistency different arrays", `{"a":{"x":[1]},"b":{"y":[2]}}`, `{"a":[{"x":0},{"x":1}],"b":[{"y":2}]}`, true},
	{"array consistency inner arrays", `{"e":{"a":[1],"b":[2]}}`, `{"e":[{"a":[0,1],"b":[2,3]}]}`, true},
	{"array consistency outer differs", `{"e":{"a":[1],"b":[2]}}`, `{"e":[{"a":[1]},{"b":[2]}]}`, false},
	{"exists false in other element", `{"d":{"a":[{"exists":true}],"b":[{"exists":false}]}}`, `{"d":[{"a":1},{"b":2}]}`, true},
	{"exists false same element", `{"d":{"a":[{"exists":true}],"b":[{"exists":false}]}}`, `{"d":[{"a":1,"b":2}]}`, false},

	// prefix, suffix, equals-ignore-case, wildcard.
	{"prefix", `{"t":[{"prefix":"2017-10"}]}`, `{"t":"2017-10-02"}`, true},
	{"prefix no", `{"t":[{"prefix":"2018"}]}`, `{"t":"2017-10-02"}`, false},
	{"prefix not number", `{"t":[{"prefix":"1"}]}`, `{"t":12}`, false},
	{"empty prefix any string", `{"t":[{"prefix":""}]}`, `{"t":"x"}`, true},
	{"empty prefix not null", `{"t":[{"prefix":""}]}`, `{"t":null}`, false},
	{"suffix", `{"f":[{"suffix":".png"}]}`, `{"f":"a.png"}`, true},
	{"suffix no", `{"f":[{"suffix":".png"}]}`, `{"f":"a.PNG"}`, false},
	{"prefix ignore case", `{"s":[{"prefix":{"equals-ignore-case":"EvEnTb"}}]}`, `{"s":"eventbridge"}`, true},
	{"suffix ignore case", `{"f":[{"suffix":{"equals-ignore-case":".PNG"}}]}`, `{"f":"a.png"}`, true},
	{"suffix ignore case no", `{"f":[{"suffix":{"equals-ignore-case":".PNG"}}]}`, `{"f":"a.jpg"}`, false},
	{"equals ignore case", `{"s":[{"equals-ignore-case":"aWs.Ec2"}]}`, `{"s":"AWS.ec2"}`, true},
	{"equals ignore case longer", `{"s":[{"equals-ignore-case":"aws"}]}`, `{"s":"awss"}`, false},
	{"equals ignore case unicode", `{"s":[{"equals-ignore-case":"ÉTÉ"}]}`, `{"s":"été"}`, true},
	{"equals ignore case sharp s to SS", `{"s":[{"equals-ignore-case":"straße"}]}`, `{"s":"STRASSE"}`, true},
	{"equals ignore case sharp s kept", `{"s":[{"equals-ignore-case":"STRASSE"}]}`, `{"s":"straße"}`, false},
	{"equals ignore case greek", `{"s":[{"equals-ignore-case":"ΣΊΣΥΦΟΣ"}]}`, `{"s":"σίσυφοσ"}`, true},
	{"equals ignore case not number", `{"s":[{"equals-ignore-case":"5"}]}`, `{"s":5}`, false},
	{"wildcard", `{"f":[{"wildcard":"Simple*Service"}]}`, `{"f":"Simple Notification Service"}`, true},
	{"wildcard no", `{"f":[{"wildcard":"Simple*Service"}]}`, `{"f":"Simple Notification"}`, false},
	{"wildcard two stars", `{"f":[{"wildcard":"*/lib/*.jar"}]}`, `{"f":"/opt/lib/x.jar"}`, true},
	{"wildcard escaped star", `{"f":[{"wildcard":"a\\*b"}]}`, `{"f":"a*b"}`, true},
	{"wildcard escaped star literal", `{"f":[{"wildcard":"a\\*b"}]}`, `{"f":"axxb"}`, false},
	{"wildcard escaped backslash", `{"f":[{"wildcard":"a\\\\*"}]}`, `{"f":"a\\zz"}`, true},
	{"wildcard only star", `{"f":[{"wildcard":"*"}]}`, `{"f":""}`, true},
	{"wildcard not number", `{"f":[{"wildcard":"*"}]}`, `{"f":1}`, false},
	{"exactly", `{"f":[{"exactly":"10.0.0.1"}]}`, `{"f":"10.0.0.1"}`, true},

	// anything-but.
	{"anything-but string", `{"s":[{"anything-but":"init"}]}`, `{"s":"run"}`, true},
	{"anything-but string hit", `{"s":[{"anything-but":"init"}]}`, `{"s":"init"}`, false},
	{"anything-but string vs number", `{"s":[{"anything-but":"5"}]}`, `{"s":5}`, true},
	{"anything-but string vs null", `{"s":[{"anything-but":"x"}]}`, `{"s":null}`, true},
	{"anything-but missing", `{"s":[{"anything-but":"x"}]}`, `{"t":1}`, false},
	{"anything-but list", `{"s":[{"anything-but":["a","b"]}]}`, `{"s":"b"}`, false},
	{"anything-but number", `{"n":[{"anything-but":[100,200]}]}`, `{"n":200.0}`, false},
	{"anything-but number other", `{"n":[{"anything-but":[100,200]}]}`, `{"n":300}`, true},
	{"anything-but number vs string", `{"n":[{"anything-but":100}]}`, `{"n":"100"}`, true},
	{"anything-but array all excluded", `{"s":[{"anything-but":["a","b"]}]}`, `{"s":["a","b"]}`, false},
	{"anything-but array one other", `{"s":[{"anything-but":["a","b"]}]}`, `{"s":["a","c"]}`, true},
	{"anything-but prefix", `{"s":[{"anything-but":{"prefix":"us-"}}]}`, `{"s":"eu-west-1"}`, true},
	{"anything-but prefix hit", `{"s":[{"anything-but":{"prefix":"us-"}}]}`, `{"s":"us-east-1"}`, false},
	{"anything-but suffix", `{"s":[{"anything-but":{"suffix":[".png",".jpg"]}}]}`, `{"s":"a.jpg"}`, false},
	{"anything-but ignore case", `{"s":[{"anything-but":{"equals-ignore-case":["Stopped"]}}]}`, `{"s":"STOPPED"}`, false},
	{"anything-but ignore case other", `{"s":[{"anything-but":{"equals-ignore-case":"Stopped"}}]}`, `{"s":"running"}`, true},
	{"anything-but wildcard", `{"s":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"s":"/usr/lib/x"}`, false},
	{"anything-but wildcard other", `{"s":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"s":"/usr/bin/x"}`, true},

	// numeric.
	{"numeric range", `{"c":[{"numeric":[">",0,"<=",5]}]}`, `{"c":5}`, true},
	{"numeric range open", `{"c":[{"numeric":[">",0,"<=",5]}]}`, `{"c":0}`, false},
	{"numeric range above", `{"c":[{"numeric":[">",0,"<=",5]}]}`, `{"c":5.000001}`, false},
	{"numeric lt", `{"c":[{"numeric":["<",10]}]}`, `{"c":-1e9}`, true},
	{"numeric ge", `{"c":[{"numeric":[">=",1.5]}]}`, `{"c":1.5}`, true},
	{"numeric eq", `{"c":[{"numeric":["=",3.018e2]}]}`, `{"c":301.8}`, true},
	{"numeric not string", `{"c":[{"numeric":[">",0]}]}`, `{"c":"5"}`, false},
	{"numeric large", `{"c":[{"numeric":[">",5e9]}]}`, `{"c":6e9}`, true},
	{"numeric negative", `{"c":[{"numeric":[">=",-10,"<",-5]}]}`, `{"c":-7.25}`, true},
	{"numeric not comparable event", `{"c":[{"numeric":[">",0]}]}`, `{"c":1e400}`, false},
	{"numeric in array", `{"c":[{"numeric":[">",10]}]}`, `{"c":[1,20]}`, true},

	// cidr and IP strings.
	{"cidr v4", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, `{"ip":"10.0.0.255"}`, true},
	{"cidr v4 out", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, `{"ip":"10.0.1.0"}`, false},
	{"cidr host bits", `{"ip":[{"cidr":"10.0.0.77/24"}]}`, `{"ip":"10.0.0.1"}`, true},
	{"cidr v6", `{"ip":[{"cidr":"2001:db8:1234:1a00::/64"}]}`, `{"ip":"2001:0db8:1234:1a00:0000:0000:0000:0001"}`, true},
	{"cidr v6 out", `{"ip":[{"cidr":"2001:db8:1234:1a00::/64"}]}`, `{"ip":"2001:db8:1234:1a01::"}`, false},
	{"cidr v4 not v6", `{"ip":[{"cidr":"0.0.0.0/1"}]}`, `{"ip":"::1"}`, false},
	{"cidr not number", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":10}`, false},
	{"ip string canonical v6", `{"ip":["2001:db8::1"]}`, `{"ip":"2001:0DB8:0:0:0:0:0:1"}`, true},
	{"ip string v4", `{"ip":["10.0.0.1"]}`, `{"ip":"10.0.0.1"}`, true},

	// exists.
	{"exists true", `{"c":[{"exists":true}]}`, `{"c":0}`, true},
	{"exists true null", `{"c":[{"exists":true}]}`, `{"c":null}`, true},
	{"exists true missing", `{"c":[{"exists":true}]}`, `{"d":0}`, false},
	{"exists true object is not leaf", `{"c":[{"exists":true}]}`, `{"c":{"x":1}}`, false},
	{"exists true empty array", `{"c":[{"exists":true}]}`, `{"c":[]}`, false},
	{"exists false missing", `{"c":[{"exists":false}]}`, `{"d":0}`, true},
	{"exists false present", `{"c":[{"exists":false}]}`, `{"c":0}`, false},
	{"exists false object", `{"c":[{"exists":false}]}`, `{"c":{"x":1}}`, true},
	{"exists false or value", `{"c":["x",{"exists":false}]}`, `{"c":"x"}`, true},
	{"only absent field", `{"a":{"b":[{"exists":false}]}}`, `{}`, true},

	// $or.
	{"or first", `{"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"a":"x"}`, true},
	{"or second", `{"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"b":"y"}`, true},
	{"or none", `{"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"a":"y","b":"x"}`, false},
	{"or with and", `{"s":["cw"],"$or":[{"m":["cpu"]},{"n":["ec2"]}]}`, `{"s":"cw","n":"ec2"}`, true},
	{"or with and missing", `{"s":["cw"],"$or":[{"m":["cpu"]},{"n":["ec2"]}]}`, `{"s":"other","n":"ec2"}`, false},
	{"or nested", `{"$or":[{"a":["1"]},{"b":["2"],"$or":[{"c":["3"]},{"d":["4"]}]}]}`, `{"b":"2","d":"4"}`, true},
	{"or nested fails", `{"$or":[{"a":["1"]},{"b":["2"],"$or":[{"c":["3"]},{"d":["4"]}]}]}`, `{"b":"2"}`, false},
	{"or in object", `{"detail":{"$or":[{"x":[1]},{"y":[2]}]}}`, `{"detail":{"y":2}}`, true},
	{"or parallel", `{"$or":[{"a":[1]},{"b":[2]}],"d":{"$or":[{"c":[3]},{"e":[4]}]}}`, `{"b":2,"d":{"c":3}}`, true},
	{"or parallel one side", `{"$or":[{"a":[1]},{"b":[2]}],"d":{"$or":[{"c":[3]},{"e":[4]}]}}`, `{"b":2,"d":{"c":4}}`, false},
	{"or branch overrides", `{"x":[1],"$or":[{"x":[2]},{"y":[3]}]}`, `{"x":2}`, true},
	{"or exists", `{"$or":[{"a":[{"exists":true}]},{"b":[{"exists":false}]}]}`, `{"c":1}`, true},
}

func TestMatchSemantics(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			checkMatch(t, tc.pattern, tc.event, tc.want)
		})
	}
}

// checkMatch compiles pattern, matches event, and checks the answer is want,
// from Pattern.Match and from a Matcher holding the pattern.
func checkMatch(t *testing.T, pattern, event string, want bool) {
	t.Helper()
	p, err := Compile([]byte(pattern))
	if err != nil {
		t.Fatalf("Compile(%s): %v", pattern, err)
	}
	got, err := p.Match([]byte(event))
	if err != nil {
		t.Fatalf("Match(%s): %v", event, err)
	}
	if got != want {
		t.Fatalf("pattern %s\nevent %s\nmatch = %v, want %v", pattern, event, got, want)
	}
	m := NewMatcher()
	if err := m.Add("p", []byte(pattern)); err != nil {
		t.Fatal(err)
	}
	names, err := m.Match([]byte(event))
	if err != nil {
		t.Fatal(err)
	}
	if (len(names) == 1) != want {
		t.Fatalf("pattern %s\nevent %s\nMatcher.Match = %v, want match %v", pattern, event, names, want)
	}
}

// rejectCases are patterns EventBridge rejects, with a fragment of our reason.
var rejectCases = []struct {
	name, pattern, reason string
}{
	{"not json", `{"a":`, "unexpected end"},
	{"trailing data", `{"a":["x"]} {}`, "after the pattern"},
	{"not object", `["a"]`, "must be a JSON object"},
	{"empty pattern", `{}`, "empty objects"},
	{"empty nested object", `{"a":{}}`, "a: empty objects"},
	{"leaf not array", `{"a":"x"}`, `a: must be an array`},
	{"leaf number", `{"a":{"b":5}}`, `a.b: must be an array`},
	{"empty array", `{"a":[]}`, "empty arrays"},
	{"nested array", `{"a":[["x"]]}`, "nested arrays"},
	{"empty operator", `{"a":[{}]}`, "empty operator"},
	{"unknown operator", `{"a":[{"regex":"x"}]}`, `unknown operator "regex"`},
	{"operator case", `{"a":[{"Prefix":"x"}]}`, `unknown operator "Prefix"`},
	{"two keys", `{"a":[{"prefix":"x","suffix":"y"}]}`, "exactly one key"},
	{"prefix number", `{"a":[{"prefix":1}]}`, "prefix: operand must be a string"},
	{"prefix nested unknown", `{"a":[{"prefix":{"wildcard":"x"}}]}`, "equals-ignore-case"},
	{"suffix null", `{"a":[{"suffix":null}]}`, "suffix: operand must be a string"},
	{"eic number", `{"a":[{"equals-ignore-case":1}]}`, "equals-ignore-case: operand must be a string"},
	{"exists string", `{"a":[{"exists":"true"}]}`, "exists: operand must be true or false"},
	{"numeric not array", `{"a":[{"numeric":5}]}`, "numeric: operand must be an array"},
	{"numeric empty", `{"a":[{"numeric":[]}]}`, "numeric: the first element"},
	{"numeric bad op", `{"a":[{"numeric":["!=",5]}]}`, `numeric: unknown operator "!="`},
	{"numeric value string", `{"a":[{"numeric":[">","5"]}]}`, "must be a number"},
	{"numeric inverted", `{"detail":{"amount":[{"numeric":[">",10,"<",5]}]}}`, "detail.amount: numeric: range lower bound 10 is above upper bound 5"},
	{"numeric empty range", `{"a":[{"numeric":[">=",5,"<=",5]}]}`, "is equal to upper bound"},
	{"numeric too many", `{"a":[{"numeric":["<",5,">",1]}]}`, "too many elements"},
	{"numeric too many eq", `{"a":[{"numeric":["=",5,"<",1]}]}`, "too many elements"},
	{"numeric bad second op", `{"a":[{"numeric":[">",1,">",5]}]}`, `bad range operator ">"`},
	{"numeric overflow", `{"a":[{"numeric":[">",1e400]}]}`, "cannot be compared"},
	{"numeric too precise", `{"a":[{"numeric":["=",0.30000000000000001]}]}`, "cannot be compared"},
	{"cidr no slash", `{"a":[{"cidr":"10.0.0.0"}]}`, "exactly one '/'"},
	{"cidr bad mask", `{"a":[{"cidr":"10.0.0.0/x"}]}`, "must be an integer"},
	{"cidr negative mask", `{"a":[{"cidr":"10.0.0.0/-1"}]}`, "must not be negative"},
	{"cidr v4 32", `{"a":[{"cidr":"10.0.0.1/32"}]}`, "below 32"},
	{"cidr v6 128", `{"a":[{"cidr":"::1/128"}]}`, "below 128"},
	{"cidr bad ip", `{"a":[{"cidr":"300.0.0.0/8"}]}`, "not a valid IP"},
	{"cidr not ip", `{"a":[{"cidr":"host/8"}]}`, "not an IPv4 or IPv6"},
	{"cidr number", `{"a":[{"cidr":10}]}`, "cidr: operand must be a string"},
	{"wildcard stars", `{"a":[{"wildcard":"a**b"}]}`, "consecutive '*' at position 2"},
	{"wildcard bad escape", `{"a":[{"wildcard":"a\\b"}]}`, "invalid escape"},
	{"wildcard too complex", `{"a":[{"wildcard":"*:*:*:*:*:event-bus/*"}]}`, "too complex"},
	{"anything-but mixed", `{"a":[{"anything-but":["a",1]}]}`, "mixes strings and numbers"},
	{"anything-but empty list", `{"a":[{"anything-but":[]}]}`, "the list is empty"},
	{"anything-but bool", `{"a":[{"anything-but":true}]}`, "anything-but: operand must be"},
	{"anything-but null in list", `{"a":[{"anything-but":["a",null]}]}`, "not null"},
	{"anything-but nested unknown", `{"a":[{"anything-but":{"exists":true}}]}`, `unsupported nested operator "exists"`},
	{"anything-but prefix empty", `{"a":[{"anything-but":{"prefix":""}}]}`, "empty prefix"},
	{"anything-but eic number", `{"a":[{"anything-but":{"equals-ignore-case":1}}]}`, "operand must be a string"},
	{"anything-but two keys", `{"a":[{"anything-but":{"prefix":"a","suffix":"b"}}]}`, "exactly one key"},
	{"anything-but number overflow", `{"a":[{"anything-but":1e999}]}`, "cannot be compared"},
	{"or not array", `{"$or":{"a":["x"]}}`, "$or: must be an array"},
	{"or one branch", `{"$or":[{"a":["x"]}]}`, "at least two"},
	{"or non object", `{"$or":[{"a":["x"]},"b"]}`, "every element must be an object"},
	{"or empty branch", `{"$or":[{"a":["x"]},{}]}`, "empty objects"},
	{"or reserved name", `{"$or":[{"a":["x"]},{"prefix":["y"]}]}`, `"prefix" is an operator name`},
	{"or reserved nested", `{"$or":[{"a":["x"]},{"b":{"numeric":["y"]}}]}`, `"numeric" is an operator name`},
}

func TestCompileRejects(t *testing.T) {
	for _, tc := range rejectCases {
		t.Run(tc.name, func(t *testing.T) {
			checkReject(t, tc.pattern, tc.reason)
		})
	}
}

// checkReject checks that Compile rejects pattern with an error mentioning
// reason.
func checkReject(t *testing.T, pattern, reason string) {
	t.Helper()
	_, err := Compile([]byte(pattern))
	if err == nil {
		t.Fatalf("Compile(%s) succeeded, want an error", pattern)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("Compile(%s) = %q, want it to mention %q", pattern, err, reason)
	}
}

func TestCompileAccepts(t *testing.T) {
	for _, p := range []string{
		`{"prefix":["x"]}`, // operator names are fine as field names outside $or
		`{"$or":[{"a":["x"]},{"b":["y"]}],"c":[{"wildcard":"/Users/*/dir/dir/dir/dir/dir/doc.txt"}]}`,
		`{"a":[{"anything-but":{"prefix":[]}}]}`,
		`{"a":[{"numeric":[">",-1.7976931348623157e308]}]}`,
		`{"a":[{"cidr":"::/0"}]}`,
		`{"a":[{"wildcard":""}]}`,
	} {
		if _, err := Compile([]byte(p)); err != nil {
			t.Errorf("Compile(%s): %v", p, err)
		}
	}
}

func TestErrorPath(t *testing.T) {
	_, err := Compile([]byte(`{"detail":{"amount":[{"numeric":[">",10,"<",5]}]}}`))
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T, want *Error", err)
	}
	if e.Path != "detail.amount" || e.Offset == 0 || !strings.HasPrefix(e.Reason, "numeric:") {
		t.Fatalf("error = %+v", e)
	}
}

func TestInvalidEvents(t *testing.T) {
	p := MustCompile(`{"a":["x"]}`)
	for _, ev := range []string{
		``, `   `, `[]`, `"a"`, `{`, `{"a":"x"`, `{"a":"x",}`, `{"a" "x"}`, `{"a":x}`,
		`{"a":"x"} {}`, `{"b":01}`, `{"b":1.}`, `{"b":-}`, `{"b":1e}`, `{"b":"\q"}`,
		`{"b":"\u12"}`, "{\"b\":\"\x01\"}", `{"b":[1,]}`, `{"b":tru}`, `{"a":"x","b":{"c":[}}`,
		strings.Repeat("[", 2000),
		`{"b":` + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + `}`,
	} {
		if ok, err := p.Match([]byte(ev)); err == nil {
			t.Errorf("Match(%q) = %v, nil; want an error", ev, ok)
		}
	}
}

func TestString(t *testing.T) {
	src := "{ \"source\" : [ \"a\" ],\n \"detail\": { \"n\": [ { \"numeric\": [ \">\", 1e2 ] } ] } }"
	p := MustCompile(src)
	want := `{"source":["a"],"detail":{"n":[{"numeric":[">",1e2]}]}}`
	if p.String() != want {
		t.Fatalf("String() = %s, want %s", p.String(), want)
	}
	if _, err := Compile([]byte(p.String())); err != nil {
		t.Fatal(err)
	}
}
