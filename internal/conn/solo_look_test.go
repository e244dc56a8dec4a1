package conn

import (
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/rerr"
)

// Every lone call looks at the parked socket before its write, however soon after the
// last reply it comes (a look skipped within a millisecond of the last read was tried
// and withdrawn: TestReviewSoloFreshStrayBeforeWrite, TestReviewSoloFreshHalfClosedWait).
func TestSoloEveryCallLooks(t *testing.T) {
	_, c, raw := fusedServe(t, nil, Options{})
	warmSolo(t, c)
	var peeks atomic.Int64
	raw.hooks.Store(&fusedHooks{beforePeek: func() { peeks.Add(1) }})
	const calls = 50
	for i := range calls {
		if _, err, _ := execWithin(c, 2*time.Second, "PING"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := peeks.Load(); n != calls {
		t.Fatalf("%d back-to-back lone calls looked %d times, want every one", calls, n)
	}
}

// A reply nobody asked for that arrives after a lone call's look and before its reply
// is read with it: the call cannot tell which is its own, so it must not take the
// first; it fails, reported as may have executed (it was written), and the connection
// ends. (One read alone, before the reply, cannot be told from it: see parkedCheck.)
func TestSoloStrayWithReplyNotTaken(t *testing.T) {
	conns := make(chan *fakeserver.Conn, 1)
	h := func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "HOLD" {
			return false
		}
		c.Reply(fakeserver.Bulk("held"))
		conns <- c
		return true
	}
	const stray = "$5\r\nstray\r\n"
	for i := range 20 {
		_, c, raw := fusedServe(t, h, Options{})
		warmSolo(t, c)
		v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "HOLD")
		if err != nil || string(v.Str) != "held" {
			t.Fatalf("HOLD: %q, %v", v.Str, err)
		}
		fc := <-conns
		raw.hooks.Store(&fusedHooks{
			// After the look, before the write: the stray comes and is in the socket.
			before: func() {
				fc.Reply(fakeserver.Bulk("stray"))
				arrived := false
				raw.Control(func(fd uintptr) { arrived = awaitBytes(fd, 2*time.Second) })
				if !arrived {
					t.Error("the stray reply did not arrive")
				}
			},
			// After the write, the read waits until the call's reply is there too.
			after: func(call int, fd uintptr, ret bool, f func(uintptr) bool) bool {
				if call == 1 {
					awaitMore(fd, len(stray), 2*time.Second)
				}
				return ret
			},
		})
		v, err = c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", "mine")
		raw.hooks.Store(nil)
		if err == nil {
			t.Fatalf("round %d: ECHO mine got %q", i, v.Str)
		}
		var ne *rerr.NodeError
		if !errors.As(err, &ne) || !ne.Written {
			t.Fatalf("round %d: ECHO with a stray read beside its reply: %v, want a NodeError, written", i, err)
		}
		select {
		case <-c.Done():
		case <-time.After(2 * time.Second):
			t.Fatalf("round %d: the connection outlived a stray reply", i)
		}
	}
}

// awaitMore waits (bounded) until the socket fd holds more than n bytes to read.
func awaitMore(fd uintptr, n int, d time.Duration) {
	b := make([]byte, n+1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		if m, _, _ := syscall.Recvfrom(int(fd), b, syscall.MSG_PEEK|syscall.MSG_DONTWAIT); m > n {
			return
		}
		time.Sleep(20 * time.Microsecond)
	}
}
