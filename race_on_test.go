//go:build race

package redline

// raceEnabled: the race detector slows everything several times over, so timing
// bounds are scaled in tests built with it; `make test` also runs the timing-critical
// tests without it, with the strict bounds.
const raceEnabled = true
