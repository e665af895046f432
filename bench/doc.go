// Package bench compares troupe's event-pattern matcher
// (github.com/troupehq/troupe/events/pattern) with Quamina. It is a separate
// module so the main module does not depend on Quamina; run it from this
// directory:
//
//	go test -run Test -bench . -benchmem
package bench
