module github.com/troupehq/troupe/bench

go 1.26.8

replace github.com/troupehq/troupe => ../

replace quamina.net/go/quamina => github.com/timbray/quamina v1.5.1

require (
	github.com/troupehq/troupe v0.0.0
	quamina.net/go/quamina v1.5.1
)
