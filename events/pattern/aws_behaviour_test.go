package pattern

import "testing"

// awsCases pin behaviours AWS showed when localstack recorded event-pattern
// templates against TestEventPattern, where matchCases did not already pin
// them. Each event and pattern is our own minimal example of the behaviour,
// not a copy of a template.
var awsCases = []struct {
	name, pattern, event string
	want                 bool
}{
	// Exact values.
	{"false matches false", `{"ok":[false]}`, `{"ok":false}`, true},
	{"null not the string null", `{"v":[null]}`, `{"v":"null"}`, false},
	{"exact keeps spaces and emoji", `{"v":["Hé 🎉 "]}`, `{"v":"Hé 🎉 "}`, true},
	{"exact trailing space matters", `{"v":["ab "]}`, `{"v":"ab"}`, false},
	{"star is literal outside wildcard", `{"v":["a*"]}`, `{"v":"a*"}`, true},
	{"star outside wildcard matches nothing else", `{"v":["a*"]}`, `{"v":"abc"}`, false},
	{"lone star exact", `{"v":["*"]}`, `{"v":"*"}`, true},
	{"backslash exact", `{"v":["\\"]}`, `{"v":"\\"}`, true},
	{"JSON inside a string is not parsed", `{"d":{"k":["v"]}}`, `{"d":"{\"k\":\"v\"}"}`, false},
	{"pattern list meets event array", `{"ids":["p","q"]}`, `{"ids":["x","q"]}`, true},
	{"pattern list misses event array", `{"ids":["p","q"]}`, `{"ids":["x"]}`, false},
	{"repeated nested key: last wins", `{"d":{"r":[{"prefix":"us-"}],"r":[{"anything-but":"us-east"}]}}`, `{"d":{"r":"eu-west"}}`, true},
	{"repeated nested key: first ignored", `{"d":{"r":[{"anything-but":"x"}],"r":[{"prefix":"us-"}]}}`, `{"d":{"r":"eu-west"}}`, false},

	// Dotted keys combined with nesting.
	{"dotted event key with object value", `{"a":{"b":["x"]}}`, `{"a.b":{"b":"x"}}`, false},
	{"dotted pattern key then nesting", `{"a.b":{"b":["x"]}}`, `{"a":{"b":"x"}}`, false},
	{"dotted pattern key then nesting deeper", `{"a.b":{"c":["x"]}}`, `{"a":{"b":{"c":"x"}}}`, true},

	// Several values and operators in one list are ORed.
	{"exact value or prefix in one list", `{"role":["root",{"prefix":"adm"}]}`, `{"role":"admin"}`, true},
	{"exact value or prefix in one list: neither", `{"role":["root",{"prefix":"adm"}]}`, `{"role":"user"}`, false},
	{"operators in one list are ORed", `{"k":[{"exists":true},{"prefix":"zz"}]}`, `{"k":"a"}`, true},
	{"operators in one list: none holds", `{"k":[{"prefix":"zz"},{"suffix":"yy"}]}`, `{"k":"a"}`, false},

	// prefix, suffix, equals-ignore-case on metadata and arrays.
	{"prefix on top-level field", `{"time":[{"prefix":"2030-01"}]}`, `{"time":"2030-01-02T03:04:05Z"}`, true},
	{"empty suffix any string", `{"f":[{"suffix":""}]}`, `{"f":"abc"}`, true},
	{"empty suffix not number", `{"f":[{"suffix":""}]}`, `{"f":1}`, false},
	{"equals ignore case in array", `{"t":[{"equals-ignore-case":"abc"}]}`, `{"t":["x","ABC"]}`, true},
	{"equals ignore case empty", `{"t":[{"equals-ignore-case":""}]}`, `{"t":""}`, true},
	{"equals ignore case empty not other", `{"t":[{"equals-ignore-case":""}]}`, `{"t":"a"}`, false},

	// wildcard.
	{"wildcard empty matches empty", `{"w":[{"wildcard":""}]}`, `{"w":""}`, true},
	{"wildcard empty matches nothing else", `{"w":[{"wildcard":""}]}`, `{"w":"a"}`, false},
	{"wildcard star spans slashes", `{"p":[{"wildcard":"/home/*/x.txt"}]}`, `{"p":"/home/a/b/c/x.txt"}`, true},
	{"wildcard literal tail must match", `{"p":[{"wildcard":"/home/*/x.txt"}]}`, `{"p":"/home/a/b/yx.txt"}`, false},
	{"wildcard repeated segments", `{"p":[{"wildcard":"/h/*/d/d/d/f"}]}`, `{"p":"/h/u/d/d/d/f"}`, true},
	{"wildcard repeated segments star absorbs one", `{"p":[{"wildcard":"/h/*/d/d/d/f"}]}`, `{"p":"/h/u/d/d/d/d/f"}`, true},
	{"wildcard repeated segments one differs", `{"p":[{"wildcard":"/h/*/d/d/d/f"}]}`, `{"p":"/h/u/d/d/e/f"}`, false},

	// numeric bounds.
	{"numeric lt excludes bound", `{"n":[{"numeric":["<",10]}]}`, `{"n":10}`, false},
	{"numeric le includes bound", `{"n":[{"numeric":["<=",10]}]}`, `{"n":10}`, true},
	{"numeric gt excludes bound", `{"n":[{"numeric":[">",10]}]}`, `{"n":10}`, false},
	{"numeric half-open range includes lower", `{"n":[{"numeric":[">=",10,"<",20]}]}`, `{"n":10}`, true},
	{"numeric half-open range excludes upper", `{"n":[{"numeric":[">=",10,"<",20]}]}`, `{"n":20}`, false},
	{"numeric open range", `{"n":[{"numeric":[">",10,"<",20]}]}`, `{"n":15}`, true},
	{"numeric integer bound, float event", `{"n":[{"numeric":[">",7]}]}`, `{"n":8.0}`, true},
	{"numeric missing field", `{"n":[{"numeric":[">",0]}]}`, `{"m":1}`, false},
	{"numeric null", `{"n":[{"numeric":[">",0]}]}`, `{"n":null}`, false},
	{"numeric fields are ANDed", `{"a":[{"numeric":[">",0]}],"b":[{"numeric":["<",0]}]}`, `{"a":1,"b":1}`, false},
	{"numeric or anything-but: other string", `{"n":[{"numeric":[">",10]},{"anything-but":"7"}]}`, `{"n":"3"}`, true},
	{"numeric or anything-but: excluded string", `{"n":[{"numeric":[">",10]},{"anything-but":"7"}]}`, `{"n":"7"}`, false},
	{"numeric or anything-but: small number", `{"n":[{"numeric":[">",10]},{"anything-but":"7"}]}`, `{"n":3}`, true},

	// cidr.
	{"cidr invalid event address", `{"ip":[{"cidr":"192.168.0.0/16"}]}`, `{"ip":"192.168.1.300"}`, false},

	// anything-but: a value present of another type (null included) matches,
	// a missing field does not, for every form of the operand.
	{"anything-but single number hit", `{"n":[{"anything-but":7}]}`, `{"n":7}`, false},
	{"anything-but single number other", `{"n":[{"anything-but":7}]}`, `{"n":8}`, true},
	{"anything-but zero hit", `{"n":[{"anything-but":0}]}`, `{"n":0}`, false},
	{"anything-but zero other", `{"n":[{"anything-but":0}]}`, `{"n":1}`, true},
	{"anything-but number vs null", `{"n":[{"anything-but":7}]}`, `{"n":null}`, true},
	{"anything-but list vs null", `{"s":[{"anything-but":["a","b"]}]}`, `{"s":null}`, true},
	{"anything-but list missing", `{"s":[{"anything-but":["a","b"]}]}`, `{"t":"c"}`, false},
	{"anything-but ignore case vs null", `{"s":[{"anything-but":{"equals-ignore-case":"up"}}]}`, `{"s":null}`, true},
	{"anything-but ignore case missing", `{"s":[{"anything-but":{"equals-ignore-case":"up"}}]}`, `{"t":"x"}`, false},
	{"anything-but ignore case list hit", `{"s":[{"anything-but":{"equals-ignore-case":["Up","Down"]}}]}`, `{"s":"DOWN"}`, false},
	{"anything-but ignore case list other", `{"s":[{"anything-but":{"equals-ignore-case":["Up","Down"]}}]}`, `{"s":"left"}`, true},
	{"anything-but ignore case list vs null", `{"s":[{"anything-but":{"equals-ignore-case":["Up","Down"]}}]}`, `{"s":null}`, true},
	{"anything-but ignore case list missing", `{"s":[{"anything-but":{"equals-ignore-case":["Up","Down"]}}]}`, `{}`, false},
	{"anything-but prefix vs number", `{"s":[{"anything-but":{"prefix":"v"}}]}`, `{"s":5}`, true},
	{"anything-but prefix vs null", `{"s":[{"anything-but":{"prefix":"v"}}]}`, `{"s":null}`, true},
	{"anything-but prefix missing", `{"s":[{"anything-but":{"prefix":"v"}}]}`, `{}`, false},
	{"anything-but prefix list hit", `{"s":[{"anything-but":{"prefix":["a","b"]}}]}`, `{"s":"bc"}`, false},
	{"anything-but prefix list other", `{"s":[{"anything-but":{"prefix":["a","b"]}}]}`, `{"s":"cb"}`, true},
	{"anything-but prefix list vs number", `{"s":[{"anything-but":{"prefix":["a","b"]}}]}`, `{"s":5}`, true},
	{"anything-but prefix list vs null", `{"s":[{"anything-but":{"prefix":["a","b"]}}]}`, `{"s":null}`, true},
	{"anything-but prefix list missing", `{"s":[{"anything-but":{"prefix":["a","b"]}}]}`, `{}`, false},
	{"anything-but suffix not at end", `{"f":[{"anything-but":{"suffix":".gz"}}]}`, `{"f":"x.gz.bak"}`, true},
	{"anything-but suffix hit", `{"f":[{"anything-but":{"suffix":".gz"}}]}`, `{"f":"x.gz"}`, false},
	{"anything-but suffix vs null", `{"f":[{"anything-but":{"suffix":".gz"}}]}`, `{"f":null}`, true},
	{"anything-but suffix missing", `{"f":[{"anything-but":{"suffix":".gz"}}]}`, `{}`, false},
	{"anything-but suffix list hit", `{"f":[{"anything-but":{"suffix":[".gz",".zip"]}}]}`, `{"f":"a.zip"}`, false},
	{"anything-but suffix list other", `{"f":[{"anything-but":{"suffix":[".gz",".zip"]}}]}`, `{"f":"a.tar"}`, true},
	{"anything-but suffix list vs null", `{"f":[{"anything-but":{"suffix":[".gz",".zip"]}}]}`, `{"f":null}`, true},
	{"anything-but suffix list missing", `{"f":[{"anything-but":{"suffix":[".gz",".zip"]}}]}`, `{}`, false},
	{"anything-but wildcard empty: non-empty string", `{"p":[{"anything-but":{"wildcard":""}}]}`, `{"p":"x"}`, true},
	{"anything-but wildcard empty: empty string", `{"p":[{"anything-but":{"wildcard":""}}]}`, `{"p":""}`, false},
	{"anything-but wildcard vs number", `{"p":[{"anything-but":{"wildcard":"a*"}}]}`, `{"p":5}`, true},
	{"anything-but wildcard vs null", `{"p":[{"anything-but":{"wildcard":"a*"}}]}`, `{"p":null}`, true},
	{"anything-but wildcard missing", `{"p":[{"anything-but":{"wildcard":"a*"}}]}`, `{}`, false},
	{"anything-but wildcard list first", `{"p":[{"anything-but":{"wildcard":["a/*","*/b"]}}]}`, `{"p":"a/x"}`, false},
	{"anything-but wildcard list second", `{"p":[{"anything-but":{"wildcard":["a/*","*/b"]}}]}`, `{"p":"x/b"}`, false},
	{"anything-but wildcard list other", `{"p":[{"anything-but":{"wildcard":["a/*","*/b"]}}]}`, `{"p":"x/y"}`, true},

	// exists.
	{"exists false below a leaf", `{"a":{"b":[{"exists":false}]}}`, `{"a":"x"}`, true},
	{"exists false deep present", `{"a":{"b":{"c":[{"exists":false}]}}}`, `{"a":{"b":{"c":1}}}`, false},
	{"exists in array of objects", `{"l":{"id":[{"exists":true}]}}`, `{"l":[{"x":1},{"id":2}]}`, true},
	{"exists in array of objects: none", `{"l":{"id":[{"exists":true}]}}`, `{"l":[{"x":1},{"y":2}]}`, false},
	{"anything-but or absent: other value", `{"a":{"s":[{"anything-but":["no"]},{"exists":false}]}}`, `{"a":{"s":"yes"}}`, true},
	{"anything-but or absent: sibling only", `{"a":{"s":[{"anything-but":["no"]},{"exists":false}]}}`, `{"a":{"t":1}}`, true},
	{"anything-but or absent: no parent", `{"a":{"s":[{"anything-but":["no"]},{"exists":false}]}}`, `{"b":1}`, true},
	{"anything-but or absent: excluded value", `{"a":{"s":[{"anything-but":["no"]},{"exists":false}]}}`, `{"a":{"s":"no"}}`, false},
}

func TestAWSBehaviour(t *testing.T) {
	for _, tc := range awsCases {
		t.Run(tc.name, func(t *testing.T) {
			checkMatch(t, tc.pattern, tc.event, tc.want)
		})
	}
}

// awsRejectCases are patterns AWS rejected in the localstack recordings that
// rejectCases does not already pin, with a fragment of our reason.
var awsRejectCases = []struct {
	name, pattern, reason string
}{
	{"leaf number at top level", `{"n":7}`, "n: must be an array"},
	{"exists upper case", `{"a":[{"EXISTS":true}]}`, `unknown operator "EXISTS"`},
	{"numeric upper case", `{"a":[{"NUMERIC":["=",5]}]}`, `unknown operator "NUMERIC"`},
	{"prefix list", `{"a":[{"prefix":["x"]}]}`, "prefix: operand must be a string or {\"equals-ignore-case\": string}; got an array"},
	{"suffix number", `{"a":[{"suffix":1}]}`, "suffix: operand must be a string"},
	{"suffix list", `{"a":[{"suffix":["x"]}]}`, "suffix: operand must be a string or {\"equals-ignore-case\": string}; got an array"},
	{"equals-ignore-case list", `{"a":[{"equals-ignore-case":["x"]}]}`, "equals-ignore-case: operand must be a string; got an array"},
	{"equals-ignore-case nested prefix", `{"a":[{"equals-ignore-case":{"prefix":"x"}}]}`, "equals-ignore-case: operand must be a string; got an object"},
	{"wildcard number", `{"a":[{"wildcard":1}]}`, "wildcard: operand must be a string"},
	{"wildcard list", `{"a":[{"wildcard":["x*"]}]}`, "wildcard: operand must be a string; got an array"},
	{"cidr list", `{"a":[{"cidr":["10.0.0.0/8"]}]}`, "cidr: operand must be a string; got an array"},
	{"cidr bad v6", `{"a":[{"cidr":"zz::1/64"}]}`, "is not an IPv4 or IPv6 address"},
	{"cidr junk around slash", `{"a":[{"cidr":"ab-/8cd"}]}`, "must be an integer"},
	{"numeric missing bound", `{"a":[{"numeric":[">",0,"<"]}]}`, "the value of < must be a number"},
	{"anything-but null", `{"a":[{"anything-but":null}]}`, "anything-but: operand must be a string, a number"},
	{"anything-but ignore case numbers", `{"a":[{"anything-but":{"equals-ignore-case":[1,2]}}]}`, "anything-but/equals-ignore-case: operand must be a string"},
	{"anything-but prefix ignore case", `{"a":[{"anything-but":{"prefix":{"equals-ignore-case":"x"}}}]}`, "anything-but/prefix: operand must be a string or a list of strings; got an object"},
	{"anything-but suffix ignore case", `{"a":[{"anything-but":{"suffix":{"equals-ignore-case":"x"}}}]}`, "anything-but/suffix: operand must be a string or a list of strings; got an object"},
	{"anything-but prefix number", `{"a":[{"anything-but":{"prefix":1}}]}`, "anything-but/prefix: operand must be a string or a list of strings"},
	{"anything-but prefix list number", `{"a":[{"anything-but":{"prefix":[1,"x"]}}]}`, "anything-but/prefix: operand must be a string or a list of strings"},
	{"anything-but suffix empty", `{"a":[{"anything-but":{"suffix":""}}]}`, "anything-but/suffix: empty suffix"},
	{"anything-but suffix number", `{"a":[{"anything-but":{"suffix":1}}]}`, "anything-but/suffix: operand must be a string or a list of strings"},
	{"anything-but suffix list null", `{"a":[{"anything-but":{"suffix":[null,"x"]}}]}`, "anything-but/suffix: operand must be a string or a list of strings"},
	{"anything-but suffix list number", `{"a":[{"anything-but":{"suffix":[1,"x"]}}]}`, "anything-but/suffix: operand must be a string or a list of strings"},
	{"anything-but wildcard number", `{"a":[{"anything-but":{"wildcard":1}}]}`, "anything-but/wildcard: operand must be a string or a list of strings"},
	{"anything-but wildcard list number", `{"a":[{"anything-but":{"wildcard":[1,"x*"]}}]}`, "anything-but/wildcard: operand must be a string or a list of strings"},
}

func TestAWSRejects(t *testing.T) {
	for _, tc := range awsRejectCases {
		t.Run(tc.name, func(t *testing.T) {
			checkReject(t, tc.pattern, tc.reason)
		})
	}
}
