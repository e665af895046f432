// Package schemas holds one JSON Schema (draft 2020-12) per event type and
// version, validates event data against them, and checks that the schemas,
// the registry and sample events agree.
//
// # Layout
//
// The schema of version N of type "<domain>.<Name>" is the file
// <domain>/<Name>/v<N>.json of a schema tree: "orders.OrderPlaced" v2 is
// orders/OrderPlaced/v2.json. The sample domain's schemas sit beside this
// package and are embedded in the binary ([Sample]); [Load] and [LoadDir]
// read another tree. A schema is self-contained: it may use local references
// ("#/$defs/Money"), never another file or a URL (nothing is ever fetched).
// Its $id is an identifier only. The "format" keyword is asserted, so a
// "date-time" that is not RFC 3339 is a violation.
//
// # Validation
//
// [Set.Validate] checks an envelope's data against the schema of its type and
// version. A [Set] is immutable once loaded: Validate compiles nothing, decodes
// the data once, and is safe for concurrent use. A violation is a
// *[ValidationError] listing each wrong spot as a JSON pointer into the data.
//
// # Check
//
// [Check] reports every [Problem] it finds between a schema set, a registry
// and a tree of sample events:
//   - every registered type and version has a schema, and every schema is
//     registered;
//   - every schema's $id, if any, ends with its own path (a copied file whose
//     $id was not updated is caught);
//   - every sample event (<type>/v<N>/<name>.json, a full envelope) decodes,
//     sits under its own type and version, and validates against its schema;
//   - a sample of an older version, brought to each newer version (through the
//     registry's upcasters, or as is when the newer version is compatible and
//     has no upcaster), validates against that version's schema: this proves
//     the upcasters and the compatibility claims with real data;
//   - every version N>1 is backward compatible with the previous version
//     ([Compare]), or is declared breaking (events.Breaking) AND has an
//     upcaster from the previous version.
//
// # Compatibility
//
// [Compare] says where a new schema would reject or lose data that the old
// schema accepted. "Backward compatible" means: data valid under the old
// version stays valid under the new one, and nothing the old data carried is
// dropped. Compare walks both schemas together through properties, items,
// prefixItems, additionalProperties and local $ref/$defs, and reports, with a
// JSON pointer into the new schema:
//   - a property that became required;
//   - a property removed (its data would be lost);
//   - additionalProperties closed (false, or a schema where anything was allowed);
//   - a type changed or narrowed ("number" -> "integer", a type dropped from
//     a list, a type added where none was);
//   - enum narrowed or added, const changed or added;
//   - minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
//     minLength, maxLength, minItems, maxItems, minProperties, maxProperties
//     tightened or added; uniqueItems turned on;
//   - pattern or format changed or added;
//   - a schema that became false.
//
// Keywords whose effect Compare cannot reason about (allOf, anyOf, oneOf, not,
// if/then/else, patternProperties, propertyNames, dependentRequired,
// dependentSchemas, contains, unevaluated*) are reported when they are added
// or changed, so that a human looks; removing them only loosens and is
// accepted. Loosening anything is compatible. A new optional property is
// compatible. Compare is conservative: when it reports nothing, old data
// validates under the new schema for the keywords above; the sample check
// (a real old event, upcast, validated) is the second proof.
package schemas
