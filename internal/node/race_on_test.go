//go:build race

package node

// raceEnabled: the race detector slows everything several times over, so scheduling
// bounds are loosened in tests built with it; `make test` runs the fault tests again
// without it, with the strict bounds.
const raceEnabled = true
