//go:build unix

package conn

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/rerr"
)

// Review of commit f88c351 (the lone caller's look-skip within soloFresh, and what
// makes up for it: a lone request whose read finds the end of the stream with the
// socket's error EPIPE is reported not written, directWriter.refused).

// runThenClose is a handler whose RUN command runs (counted) and then loses its
// reply: the server closes the connection after executing it (a crash or a CLIENT
// KILL between the command and its reply). The close is a FIN: the server read
// everything sent to it.
func runThenClose(runs *atomic.Int64) fakeserver.Handler {
	return func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "RUN" {
			return false
		}
		runs.Add(1)
		c.Close()
		return true
	}
}

// The lone caller's RUN ran, then the server closed the connection; its read finds the
// end of the stream with only RUN in flight. A second caller's request, queued and
// written by the writer goroutine after that check and before the look at the
// socket's error (refused), reaches the closed socket and draws the reset that makes
// the error EPIPE: RUN, which ran, is reported not written (retriable: run twice).
// The check that only RUN was in flight must hold when the error is read, not only
// before. Counted over rounds; each round forces the order with the control hook.
func TestReviewRefusedOtherCallersReset(t *testing.T) {
	var runs atomic.Int64
	const rounds = 10
	bad := 0
	for i := range rounds {
		_, c, raw := fusedServe(t, runThenClose(&runs), Options{})
		warmSolo(t, c)
		second := make(chan error, 1)
		var once atomic.Bool
		raw.hooks.Store(&fusedHooks{control: func() {
			if once.Swap(true) {
				return
			}
			w0 := c.written.Load()
			go func() {
				_, err, _ := execWithin(c, 2*time.Second, "ECHO", "second")
				second <- err
			}()
			// The writer writes the second request on the socket the server closed.
			for end := time.Now().Add(time.Second); c.written.Load() == w0 && time.Now().Before(end); {
				time.Sleep(50 * time.Microsecond)
			}
			time.Sleep(5 * time.Millisecond) // its reset comes back
		}})
		before := runs.Load()
		_, err, _ := execWithin(c, 2*time.Second, "RUN")
		raw.hooks.Store(nil)
		if runs.Load() != before+1 {
			t.Fatalf("round %d: RUN did not run", i)
		}
		var ne *rerr.NodeError
		if !errors.As(err, &ne) {
			t.Fatalf("round %d: RUN: %v, want a NodeError", i, err)
		}
		if !ne.Written {
			bad++
			t.Logf("round %d: RUN ran, reported not written: %v", i, err)
		}
		select {
		case <-second:
		case <-time.After(3 * time.Second):
			t.Fatal("the second caller did not return")
		}
		closeWithin(t, c, 2*time.Second)
	}
	if bad > 0 {
		t.Errorf("%d/%d RUNs that ran were reported not written (retriable)", bad, rounds)
	}
}
