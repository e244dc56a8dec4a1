package testkit

import "testing"

// Alone takes t's turn among the heavy tests of the module's test binaries, as Heavy
// does, but leaves t sequential: a top-level test that is not parallel runs with no
// other test of its binary beside it (the parallel ones wait until the sequential ones
// end), so a goroutine count taken in it (redistest.NoGoroutineLeak) means something,
// and its turn keeps the heavy tests of the binary beside it (make test runs the root
// package and systest side by side) from blurring its timing. Call it first: the turn
// ends after every other cleanup of t.
func Alone(t *testing.T) {
	unlock := lockHeavy()
	t.Cleanup(unlock)
}
