package testkit

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// Soak is set by `make soak` (REDLINE_SOAK=1): longer load phases, more keys, more
// rounds.
var Soak = os.Getenv("REDLINE_SOAK") != ""

// SoakOr returns long under `make soak`, short otherwise.
func SoakOr[T any](short, long T) T {
	if Soak {
		return long
	}
	return short
}

// DeadlineSlack is how far past its deadline a call may return before a test fails.
// The contract is 2ms; tests report how many calls went past that, but fail only
// beyond this slack, which absorbs the scheduling delays of a loaded 2-core machine
// (and the race detector's several-fold slowdown).
var DeadlineSlack = func() time.Duration {
	if Race {
		return 100 * time.Millisecond
	}
	return 25 * time.Millisecond
}()

// Slack is how much longer than a timeout a bounded operation may take: 50ms, or far
// more under the race detector (the strict run is `make test`'s second, race-free
// pass).
func Slack() time.Duration {
	if Race {
		return 500 * time.Millisecond
	}
	return 50 * time.Millisecond
}

// heavy lets one heavy test of a test binary run at a time.
var heavy = make(chan struct{}, 1)

// Heavy marks t parallel and waits for its turn among the heavy tests of this test
// binary and of the module's other test binaries running beside it (a lock on the
// module's go.mod): each loads the 2-core machine by itself (clusters, hundreds of
// clients, the race detector) or measures timing that the others' load would blur.
// They still run in parallel with the packages' other tests. The turn ends after
// every other cleanup of t (its cluster is gone by then).
func Heavy(t *testing.T) {
	t.Parallel()
	heavy <- struct{}{}
	unlock := lockHeavy()
	t.Cleanup(func() {
		unlock()
		<-heavy
	})
}

// Figure logs one measured figure in the form docs/RELIABILITY.md quotes
// ("FIGURE TestName: …").
func Figure(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURE %s: %s", t.Name(), fmt.Sprintf(format, args...))
}

// Seed returns REDLINE_SEED, or a new seed, and logs it with how to replay it.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("REDLINE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("REDLINE_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (REDLINE_SEED=%d replays the random choices; the timing is the machine's)", seed, seed)
	return seed
}
