package redistest

import (
	"runtime"
	"testing"
	"time"
)

// pollEvery is how often Poll and Eventually ask their condition.
const pollEvery = 5 * time.Millisecond

// Poll calls cond every few milliseconds until it returns true or within has passed,
// and reports whether it returned true. cond is called at least once, and once more at
// the end of the bound.
func Poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(pollEvery, left))
	}
}

// Eventually polls cond (see Poll) until it returns true, and fails tb with the
// message format, args when it has not within the bound. It is the bounded wait for an
// event that cannot be awaited directly (a server-side state, a node's role, a count).
func Eventually(tb testing.TB, within time.Duration, cond func() bool, format string, args ...any) {
	tb.Helper()
	if !Poll(within, cond) {
		tb.Fatalf("after %v: "+format, append([]any{within}, args...)...)
	}
}

// goroutineSettle bounds NoGoroutineLeak's wait for goroutines to end.
const goroutineSettle = 5 * time.Second

// SettleGoroutines waits up to within for the process to run at most n goroutines,
// and returns the count it saw last.
func SettleGoroutines(n int, within time.Duration) int {
	g := runtime.NumGoroutine()
	Poll(within, func() bool { g = runtime.NumGoroutine(); return g <= n })
	return g
}

// NoGoroutineLeak counts the goroutines now and, when tb ends, waits (up to 5 s) for
// the count to fall back to it, failing tb with every goroutine's stack if it does
// not. Call it before creating what must not leak: cleanups run in reverse order, so
// a client closed by a cleanup registered later is closed before the check. A count
// is only meaningful when no other test runs in parallel with tb.
func NoGoroutineLeak(tb testing.TB) {
	tb.Helper()
	before := runtime.NumGoroutine()
	tb.Cleanup(func() {
		if n := SettleGoroutines(before, goroutineSettle); n > before {
			buf := make([]byte, 1<<20)
			tb.Errorf("redistest: %d goroutines %v after the test, %d before:\n%s",
				n, goroutineSettle, before, buf[:runtime.Stack(buf, true)])
		}
	})
}
