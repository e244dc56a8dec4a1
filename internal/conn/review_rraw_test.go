//go:build unix

package conn

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// spinUntil burns CPU without system calls, allocations or blocking until end: a
// goroutine the runtime can take its P from only by preempting it (sysmon).
//
//go:noinline
func spinUntil(end time.Time) int {
	n := 0
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			n += i
		}
	}
	return n
}

// A lone caller at GOMAXPROCS=1 beside a goroutine that turns CPU-bound while the
// caller waits for its reply (a worker it hands each reply to). The reply comes from
// a real redis-server in microseconds; the caller gets it once the runtime preempts
// the busy goroutine, which only sysmon does (and only sysmon polls the network while
// the one P is busy). The raw calls (nbsys_linux.go) no longer wake a sleeping sysmon
// when the call begins. The test logs the call's time; the bound is generous: it
// fails only if the caller waits for the spin to end.
func TestReviewRawLoneCallBesideBusyGoroutine(t *testing.T) {
	s := redistest.RunStandalone(t, redistest.StandaloneConfig{NoProxy: true})
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c, err := Dial(ctxWithTimeout(t, 5*time.Second), &Options{Addr: s.Addr(), Protocol: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	warmSolo(t, c)
	const spin = 400 * time.Millisecond
	const d = time.Second
	start := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		for end := range start {
			spinUntil(end)
			done <- struct{}{}
		}
	}()
	defer close(start)
	var took []time.Duration
	for round := range 8 {
		// Back-to-back lone calls: every P idles during each wait, and sysmon settles
		// into its deep sleep, as in a lone caller's steady state.
		for range 300 {
			if _, err, _ := execWithin(c, d, "PING"); err != nil {
				t.Fatal(err)
			}
		}
		start <- time.Now().Add(spin) // runnable now; runs once the caller parks
		v, err, el := execWithin(c, d, "ECHO", "x")
		if err != nil || string(v.Str) != "x" {
			t.Fatalf("round %d: %q %v after %v", round, v.Str, err, el)
		}
		took = append(took, el)
		<-done
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("GOMAXPROCS=1, a %v spin beside: the call took %v (sorted)", spin, took)
	if took[len(took)/2] > 100*time.Millisecond {
		t.Errorf("median %v: the lone caller waited for the busy goroutine", took[len(took)/2])
	}
}

// A raw write to a socket whose peer reset it: the error (ECONNRESET, then EPIPE),
// n = -1, and the SIGPIPE the kernel raises for EPIPE kills nothing (the runtime
// ignores it on descriptors other than 1 and 2, whether or not the write entered the
// runtime's system-call state). A zero-length read says 0 and no error; a zero-length write, 0 and no error (raw) or
// the broken pipe (the wrapper, under the race detector).
func TestReviewRawWriteAfterReset(t *testing.T) {
	a, b := tcpPair(t)
	if err := b.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	b.Close() // RST
	raw, err := a.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for end := time.Now().Add(2 * time.Second); len(errs) < 3 && time.Now().Before(end); {
		var n int
		var werr error
		raw.Control(func(fd uintptr) { n, werr = nbWrite(fd, []byte("PING\r\n")) })
		switch {
		case werr == nil && n == 6:
			time.Sleep(time.Millisecond) // the RST is not there yet
		case werr == nil:
			t.Fatalf("write: %d, nil", n)
		default:
			if n >= 0 {
				t.Errorf("write error %v with n = %d; want -1", werr, n)
			}
			errs = append(errs, werr)
		}
	}
	if len(errs) < 3 {
		t.Fatalf("no write error within 2s after the peer's reset: %v", errs)
	}
	for _, e := range errs {
		if e != syscall.ECONNRESET && e != syscall.EPIPE {
			t.Errorf("write after reset: %v; want ECONNRESET or EPIPE", e)
		}
	}
	if errs[len(errs)-1] != syscall.EPIPE {
		t.Errorf("last write: %v; want EPIPE (and the SIGPIPE with it)", errs[len(errs)-1])
	}
	raw.Control(func(fd uintptr) {
		// The raw call returns at once; the wrapper asks the kernel, which reports
		// the broken pipe: never a positive count.
		if n, err := nbWrite(fd, nil); !(n == 0 && err == nil) && !(n == -1 && err == syscall.EPIPE) {
			t.Errorf("empty write: %d, %v", n, err)
		}
		if n, err := nbRead(fd, nil); n != 0 || err != nil {
			t.Errorf("empty read: %d, %v", n, err)
		}
	})
	t.Logf("write errors after the reset: %v (process alive)", errs)
}

// Lone calls to a real redis-server with no proxy in front (no goroutine of the test
// process makes a system call while the caller waits: every P idles and sysmon may
// sleep) whose reply comes after the caller's deadline (BLPOP held by the server),
// at GOMAXPROCS 1 and 2: by the waiter's deadline (the solo read's socket deadline),
// by a context's (the solo slice, then the queued wait), and by a cancellation from a
// timer. Each returns within a few ms of its time (the bound is generous; the log
// has the worst).
func TestReviewRawLoneDeadlineIdleProcess(t *testing.T) {
	s := redistest.RunStandalone(t, redistest.StandaloneConfig{NoProxy: true})
	for _, procs := range []int{1, 2} {
		for _, mode := range []string{"waiter", "ctx", "cancel"} {
			t.Run(fmt.Sprintf("procs=%d/%s", procs, mode), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				c, err := Dial(ctxWithTimeout(t, 5*time.Second), &Options{Addr: s.Addr(), Protocol: 2, ReplyTimeout: 2 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				const d = 30 * time.Millisecond
				var worst time.Duration
				for i := range 8 {
					// The last call's BLPOP is answered 100ms after it (the reader
					// goroutine reads it): then the next lone call may be made.
					for end := time.Now().Add(2 * time.Second); c.inflight.len() != 0; time.Sleep(time.Millisecond) {
						if time.Now().After(end) {
							t.Fatal("the BLPOP's reply did not come within 2s")
						}
					}
					warmSolo(t, c)
					for range 50 { // lone calls first: sysmon's steady state
						if _, err, _ := execWithin(c, time.Second, "PING"); err != nil {
							t.Fatal(err)
						}
					}
					var w Waiter
					switch mode {
					case "waiter":
						w = NewWaiterTimeout(context.Background(), d)
					case "ctx":
						ctx, cancel := context.WithTimeout(context.Background(), d)
						defer cancel()
						w = NewWaiter(ctx, time.Time{})
					case "cancel":
						ctx, cancel := context.WithCancel(context.Background())
						time.AfterFunc(d, cancel)
						w = NewWaiter(ctx, time.Time{})
					}
					start := time.Now()
					_, err := c.Exec(&w, 100*time.Millisecond, []any{"BLPOP", "rraw:none", "0.1"})
					el := time.Since(start)
					w.Release()
					if err == nil {
						t.Fatalf("call %d: a reply after %v", i, el)
					}
					worst = max(worst, el-d)
					if el > d+20*time.Millisecond {
						t.Errorf("call %d: returned after %v, its time %v: %v", i, el, d, err)
					}
					if c.Err() != nil {
						t.Fatalf("call %d: the connection died: %v", i, c.Err())
					}
				}
				t.Logf("worst overshoot %v", worst)
			})
		}
	}
}
