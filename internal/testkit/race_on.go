//go:build race

package testkit

// Race reports whether the race detector is on: it slows everything several times
// over, so timing bounds are scaled in tests built with it; `make test` also runs the
// timing-critical tests without it, with the strict bounds.
const Race = true
