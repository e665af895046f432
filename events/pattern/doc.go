// Package pattern decides, offline, whether an event matches an Amazon
// EventBridge event pattern, with EventBridge's semantics. It is what the
// local bus, consumer filters and DLQ replay filters use.
//
// Compile turns a pattern into a *Pattern; Pattern.Match tests one event.
// Matcher holds many named patterns and returns the names of all those an
// event matches, at a cost that depends on the event and on how many patterns
// nearly match it, not on how many patterns there are.
//
// # Semantics
//
// The reference is aws/event-ruler (the library behind EventBridge's
// matching, Machine.rulesForJSONEvent). The behaviour was also checked
// against the event-pattern templates localstack recorded against AWS's
// TestEventPattern; the tests here pin each behaviour they showed. In short:
//
//   - A pattern is a JSON object. Its fields are ANDed; the values in a
//     field's array are ORed. Nested objects name nested fields, and a dotted
//     key is the same as nesting ({"a.b": ...} equals {"a": {"b": ...}}, in
//     patterns and in events). A repeated key keeps its last value.
//   - Only leaves are values: a field whose event value is an object has no
//     value (so [{"exists": true}] does not match it and [{"exists": false}]
//     does). When the event value is an array, the field matches if any
//     element does, at any depth; an empty array has no values.
//   - Exact values compare type and value: "5" does not match 5. Numbers
//     compare as float64 (300, 300.0 and 3e2 are equal) when both spell a
//     float64 exactly; numbers that do not (digits beyond what float64's
//     shortest spelling keeps, typically past 15 to 17, or magnitudes beyond
//     ±1.8e308) compare by their text, so a 20-digit
//     account number still matches itself. As in event-ruler, -0 differs from
//     0. null matches null, not a missing field; "" matches the empty string.
//     A string that is an IPv4 or IPv6 address matches the same address in any
//     spelling ("2001:db8::1" matches "2001:0DB8:0:0:0:0:0:1").
//   - prefix, suffix and wildcard match strings only. wildcard treats only '*'
//     as special; "\*" and "\\" escape; "**" is rejected, and so are wildcards
//     too complex to match quickly (see maxWildcardComplexity).
//   - equals-ignore-case, alone or inside prefix and suffix, compares each
//     pattern character with its Java lower- and upper-case forms, full case
//     mappings included: "straße" matches "STRASSE", "STRASSE" does not match
//     "straße".
//   - numeric takes "=", or a lower bound (">", ">="), an upper bound ("<",
//     "<="), or both, on float64 values; it never matches strings.
//   - cidr takes an IPv4 or IPv6 block; host bits may be set; as in
//     event-ruler the mask must be below 32 (IPv4) or 128 (IPv6).
//   - anything-but matches any value present except the ones listed: a
//     string, a number, a list of strings or of numbers, or a prefix, suffix,
//     equals-ignore-case or wildcard (each with one string or a list). Values
//     of another type always match ({"anything-but": "x"} matches 5 and null);
//     a missing field never does.
//   - exists: true matches any leaf value, null included; exists: false
//     matches when the field has no leaf value.
//   - $or takes an array of at least two objects, each an alternative; it may
//     nest, and inside it operator names cannot be field names. The
//     alternatives of all $or in a pattern may expand to at most 1000.
//
// Arrays of objects are matched "array-consistently", as EventBridge and
// event-ruler's rulesForJSONEvent do (and Quamina): the values a pattern uses
// for its fields must not come from different elements of one array. With
// {"employees": [{"first": "Anna", "last": "Smith"}, {"first": "Peter",
// "last": "Jones"}]}, the pattern {"employees": {"first": ["Anna"], "last":
// ["Jones"]}} does not match. exists: false on a field is checked, like
// event-ruler does, against the array elements chosen for the fields before
// it in path order.
//
// Compile rejects what EventBridge rejects: empty objects and arrays, leaf
// values that are not arrays, unknown or misspelled operators (names are
// case-sensitive), operands of the wrong type, inverted or empty numeric
// ranges, numbers that cannot be compared, bad CIDR blocks, bad wildcards,
// malformed $or. Errors are *Error values naming the field.
//
// # Known differences
//
// Compile also rejects trailing data after the pattern object, which
// event-ruler ignores. The wildcard complexity limit is calibrated on AWS's
// answers, not published by AWS. event-ruler's own quirks are not copied:
// Java's handling of characters outside the Basic Multilingual Plane in
// equals-ignore-case (they match themselves here), and a CIDR match of an
// IPv6 address against an IPv4 block by its first 32 bits. Events nested
// deeper than 1000 levels are rejected (Jackson's default limit).
//
// Numbers follow current event-ruler (1.8 and later), which compares any
// float64. Older EventBridge documentation limits numeric matching to
// -5.0e9..5.0e9 with six decimal places; if the service still applied that
// limit, it would reject numeric operands outside it that Compile accepts.
package pattern
