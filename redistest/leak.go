package redistest

import (
	"runtime"
	"strings"
	"testing"
)

// module is the import path every package of redline's own code starts with.
const module = "github.com/redline-go/redline"

// harnessPkgs are the module's packages whose goroutines belong to tests, not to a
// client: this package (fault proxies, process waiters), the in-memory server, the
// timing harness, the system tests.
var harnessPkgs = []string{module + "/redistest", module + "/internal/fakeserver", module + "/internal/testkit", module + "/systest"}

// ClientGoroutines returns the stacks of the goroutines running redline's own code
// (any frame, or the function that created the goroutine, in the root package or
// another package of the module but the test harnesses'): a client's goroutines.
func ClientGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		if len(buf) >= 64<<20 {
			break // a truncated dump: the goroutines in it are still counted
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, line := range strings.Split(g, "\n") {
			if clientFrame(strings.TrimPrefix(strings.TrimSpace(line), "created by ")) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// clientFrame reports whether a stack line is a function of redline's own code.
func clientFrame(fn string) bool {
	rest, ok := strings.CutPrefix(fn, module)
	if !ok || rest == "" || rest[0] != '.' && rest[0] != '/' {
		return false // another module, or one whose path merely starts alike
	}
	for _, h := range harnessPkgs {
		if strings.HasPrefix(fn, h+".") || strings.HasPrefix(fn, h+"/") {
			return false
		}
	}
	if rest[0] == '/' { // a package under the module: not its _test functions' callers
		pkg, _, _ := strings.Cut(rest[1:], ".")
		return !strings.HasSuffix(pkg, "_test")
	}
	return true
}

// NoClientGoroutineLeak is NoGoroutineLeak counting only ClientGoroutines: what a
// client leaves running. Around a deployment whose processes restart or fail over, a
// count of every goroutine means nothing: the fault proxies carry the servers' own
// links too (replication, the Sentinels' connections), and those come and go. Call it
// before creating the clients (cleanups run in reverse order), in a test that no
// other test runs beside (their clients would be counted).
func NoClientGoroutineLeak(tb testing.TB) {
	tb.Helper()
	before := len(ClientGoroutines())
	tb.Cleanup(func() {
		var left []string
		if !Poll(goroutineSettle, func() bool { left = ClientGoroutines(); return len(left) <= before }) {
			tb.Errorf("redistest: %d client goroutines %v after the test, %d before:\n%s",
				len(left), goroutineSettle, before, strings.Join(left, "\n\n"))
		}
	})
}
