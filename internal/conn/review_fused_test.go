//go:build unix

package conn

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// Review of the lone caller's fused write-and-read (commit 1dc27ac: solo.go trySolo →
// connReader.Read → directWriter.writeRead). The connection is dialed through
// fusedConn, whose raw descriptor (the direct writer's) runs test hooks around the
// raw read that writes the request and waits for its reply: before it (wmu held, the
// descriptor not tried yet), and before and after each call of its callback (the
// first call writes; the later ones read). The hooks force the orders the runtime
// allows but rarely shows: a reply in the socket before the wait, a wake-up that
// finds nothing, a write that fails, a close before the write or during the wait, a
// second caller while the first waits.

// fusedHooks are the hooks of one raw read that writes and reads (writeRead).
type fusedHooks struct {
	before     func()                                                          // before the raw read: wmu held
	beforePeek func()                                                          // before a look at the parked socket (parkedCheck's peek): wmu held
	pre        func(call int, fd uintptr)                                      // before the callback's call (1: the write)
	after      func(call int, fd uintptr, ret bool, f func(uintptr) bool) bool // after it: its return, which it may change
}

// fusedRaw is a raw connection that runs the hooks stored around writeRead's raw
// reads (and nothing around the others: peek's).
type fusedRaw struct {
	syscall.RawConn
	hooks atomic.Pointer[fusedHooks]
}

// writeReadPC is the code of directWriter.writeReadFn's method value: writeRead's
// callback (every method value of it shares its code).
var writeReadPC = reflect.ValueOf((&directWriter{}).writeReadFn).Pointer()

// peekPC is the code of directWriter.peekFn's method value: peek's callback.
var peekPC = reflect.ValueOf((&directWriter{}).peekFn).Pointer()

func (r *fusedRaw) Read(f func(uintptr) bool) error {
	h := r.hooks.Load()
	if h != nil && h.beforePeek != nil && reflect.ValueOf(f).Pointer() == peekPC {
		h.beforePeek()
	}
	if h == nil || reflect.ValueOf(f).Pointer() != writeReadPC {
		return r.RawConn.Read(f)
	}
	if h.before != nil {
		h.before()
	}
	call := 0
	return r.RawConn.Read(func(fd uintptr) bool {
		call++
		if h.pre != nil {
			h.pre(call, fd)
		}
		ret := f(fd)
		if h.after != nil {
			ret = h.after(call, fd, ret, f)
		}
		return ret
	})
}

// fusedConn is a TCP connection whose raw descriptor is a fusedRaw.
type fusedConn struct {
	*net.TCPConn
	raw *fusedRaw
}

func (c *fusedConn) SyscallConn() (syscall.RawConn, error) { return c.raw, nil }

// fusedDialer returns a DialContext that dials TCP through a fusedConn, whose raw
// descriptor it stores in *raw.
func fusedDialer(raw **fusedRaw) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := nc.(*net.TCPConn)
		rc, err := tc.SyscallConn()
		if err != nil {
			tc.Close()
			return nil, err
		}
		*raw = &fusedRaw{RawConn: rc}
		return &fusedConn{TCPConn: tc, raw: *raw}, nil
	}
}

// fusedServe is serve with the connection dialed through a fusedConn.
func fusedServe(t *testing.T, h fakeserver.Handler, o Options) (*fakeserver.Server, *Conn, *fusedRaw) {
	t.Helper()
	var raw *fusedRaw
	o.DialContext = fusedDialer(&raw)
	s, c := serve(t, h, o)
	if c.direct == nil {
		t.Fatal("no direct writer on the hooked TCP connection")
	}
	return s, c, raw
}

// awaitBytes waits (bounded) until the socket fd holds at least one byte to read,
// without consuming it; it reports whether it did.
func awaitBytes(fd uintptr, d time.Duration) bool {
	return awaitPeek(fd, d, func(n int, err error) bool { return n > 0 })
}

// awaitEOF waits (at most d) until the end of the stream is what fd holds: a peek
// that finds neither bytes nor EAGAIN. It reports whether it got there.
func awaitEOF(fd uintptr, d time.Duration) bool {
	return awaitPeek(fd, d, func(n int, err error) bool { return n == 0 && err == nil })
}

// awaitPeek peeks at fd every 100µs, without waiting or consuming anything, until
// found accepts what a peek answers or d has passed; it reports whether found did.
func awaitPeek(fd uintptr, d time.Duration, found func(n int, err error) bool) bool {
	var b [1]byte
	for end := time.Now().Add(d); time.Now().Before(end); {
		if n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT); found(n, err) {
			return true
		}
		time.Sleep(100 * time.Microsecond)
	}
	return false
}

// awaitWmuFree fails the test unless c's write lock can be taken within d: nobody
// holds it once every call has returned.
func awaitWmuFree(t *testing.T, c *Conn, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); ; {
		if c.wmu.TryLock() {
			c.wmu.Unlock()
			return
		}
		if time.Now().After(end) {
			t.Fatalf("wmu still held %v after the calls returned", d)
		}
		time.Sleep(time.Millisecond)
	}
}

// closeWithin closes c and fails the test unless Close returns within d (its
// goroutines ended: none is stuck on wmu or in a write).
func closeWithin(t *testing.T, c *Conn, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		c.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("Close did not return within %v: a connection goroutine is stuck", d)
	}
}

// execWithin runs one call with its own deadline dl (no cancelable context: the
// caller reads until dl) and returns its reply, error and duration.
func execWithin(c *Conn, dl time.Duration, args ...any) (resp.Value, error, time.Duration) {
	w := NewWaiterTimeout(context.Background(), dl)
	defer w.Release()
	start := time.Now()
	v, err := c.Exec(&w, 0, args)
	return v, err, time.Since(start)
}

// The reply is in the socket before the fused read waits for it (a server faster than
// the runtime's path from the write to the park): the runtime's readiness, reset
// before the write, records its arrival, and the wait ends at once with the reply,
// read by its caller. A missed wake-up would hold the caller until its deadline (2s).
func TestReviewFusedReplyBeforeWait(t *testing.T) {
	_, c, raw := fusedServe(t, nil, Options{})
	warmSolo(t, c)
	for i := range 20 {
		var inSocket atomic.Bool
		raw.hooks.Store(&fusedHooks{after: func(call int, fd uintptr, ret bool, _ func(uintptr) bool) bool {
			if call == 1 && !ret { // the request left whole: let the reply arrive first
				inSocket.Store(awaitBytes(fd, time.Second))
			}
			return ret
		}})
		before := c.cr.solos
		want := "r" + string(rune('a'+i))
		v, err, el := execWithin(c, 2*time.Second, "ECHO", want)
		raw.hooks.Store(nil)
		if err != nil || string(v.Str) != want {
			t.Fatalf("call %d: %q, %v", i, v.Str, err)
		}
		if !inSocket.Load() {
			t.Fatalf("call %d: the reply never reached the socket before the wait", i)
		}
		if el > 500*time.Millisecond {
			t.Fatalf("call %d took %v: the reply that arrived before the wait was not seen", i, el)
		}
		if c.cr.solos != before+1 {
			t.Fatalf("call %d: the reply was not read by its caller", i)
		}
		awaitParked(t, c)
	}
}

// A wake-up of the fused read that finds nothing (a readiness from before, or the
// runtime's spurious one: the callback's read gets EAGAIN) waits again: the reply,
// 5ms later, still goes to its caller at once, not at its deadline.
func TestReviewFusedSpuriousWake(t *testing.T) {
	_, c, raw := fusedServe(t, slowHandler, Options{})
	warmSolo(t, c)
	for i := range 10 {
		var again atomic.Int32
		raw.hooks.Store(&fusedHooks{after: func(call int, fd uintptr, ret bool, f func(uintptr) bool) bool {
			if call == 1 && !ret {
				// As the runtime would on a wake-up with nothing to read.
				for range 3 {
					if f(fd) {
						return true // the reply came already: a read that found it
					}
					again.Add(1)
				}
			}
			return ret
		}})
		before := c.cr.solos
		want := "s" + string(rune('a'+i))
		v, err, el := execWithin(c, 2*time.Second, "SLOW", "5", want)
		raw.hooks.Store(nil)
		if err != nil || string(v.Str) != want {
			t.Fatalf("call %d: %q, %v", i, v.Str, err)
		}
		if el > 500*time.Millisecond {
			t.Fatalf("call %d took %v after %d empty wake-ups: the reply was missed", i, el, again.Load())
		}
		if c.cr.solos != before+1 {
			t.Fatalf("call %d: the reply was not read by its caller", i)
		}
		awaitParked(t, c)
	}
}

// A server that closes the connection once it has read the request: the caller learns
// at once (not at its deadline) that the connection died in the read phase after its
// request was written (it may have executed), and nothing is left holding wmu.
func TestReviewFusedEOFAfterWrite(t *testing.T) {
	h := func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "KILLME" {
			return false
		}
		c.Close()
		return true
	}
	_, c, _ := fusedServe(t, h, Options{})
	warmSolo(t, c)
	directs := c.directs
	_, err, el := execWithin(c, 2*time.Second, "KILLME")
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Phase != rerr.PhaseRead || !ne.Written {
		t.Fatalf("KILLME: %v; want a read-phase NodeError, written", err)
	}
	if el > 500*time.Millisecond {
		t.Fatalf("KILLME returned after %v: the EOF was not seen at once", el)
	}
	if c.directs != directs+1 {
		t.Fatal("KILLME was not written by its caller")
	}
	awaitWmuFree(t, c, time.Second)
	closeWithin(t, c, 2*time.Second)
}

// A write that fails outright (the socket refuses it: EPIPE here, as after a reset
// the client has not read yet) left not a byte of the request: the caller's error
// should say so (write phase, not written: safe to retry elsewhere), at once, and the
// connection ends with nothing left holding wmu.
func TestReviewFusedWriteErrorNotWritten(t *testing.T) {
	_, c, raw := fusedServe(t, nil, Options{})
	warmSolo(t, c)
	raw.hooks.Store(&fusedHooks{pre: func(call int, fd uintptr) {
		if call == 1 {
			syscall.Shutdown(int(fd), syscall.SHUT_WR) // the write that follows fails: EPIPE
		}
	}})
	_, err, el := execWithin(c, 2*time.Second, "ECHO", "x")
	raw.hooks.Store(nil)
	if err == nil {
		t.Fatal("ECHO answered through a socket that cannot write")
	}
	if el > 500*time.Millisecond {
		t.Fatalf("ECHO returned after %v", el)
	}
	if !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("ECHO: %v; want the write's EPIPE", err)
	}
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Phase != rerr.PhaseWrite || ne.Written {
		t.Errorf("ECHO whose write failed with nothing written: %v (phase %v, written %v); want write phase, not written", err, phaseOf(ne), ne != nil && ne.Written)
	}
	if c.Err() == nil {
		t.Error("the connection lives on after its write failed")
	}
	awaitWmuFree(t, c, time.Second)
	closeWithin(t, c, 2*time.Second)
}

func phaseOf(ne *rerr.NodeError) any {
	if ne == nil {
		return nil
	}
	return ne.Phase
}

// Close just before the fused read tries the descriptor (wmu held by the caller):
// the read does not try it (closed), the request never left. The caller returns at
// once, Close returns, and the error should say the request was not written.
func TestReviewFusedClosedBeforeWrite(t *testing.T) {
	_, c, raw := fusedServe(t, nil, Options{})
	warmSolo(t, c)
	closed := make(chan struct{})
	raw.hooks.Store(&fusedHooks{before: func() {
		go func() {
			c.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(2 * time.Second):
			// Close waits for the connection's goroutines: one is stuck (on wmu?).
		}
	}})
	_, err, el := execWithin(c, 2*time.Second, "ECHO", "x")
	raw.hooks.Store(nil)
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not return")
	}
	if err == nil {
		t.Fatal("ECHO answered on a closed connection")
	}
	if el > 500*time.Millisecond+2*time.Second {
		t.Fatalf("ECHO returned after %v", el)
	}
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Written {
		t.Errorf("ECHO never written (Close came before the write): %v (phase %v, written %v); want not written", err, phaseOf(ne), ne != nil && ne.Written)
	}
	awaitWmuFree(t, c, time.Second)
}

// Close while the fused read waits for the reply (after the write; wmu released): the
// caller leaves at once (read phase, written) and Close returns.
func TestReviewFusedCloseDuringWait(t *testing.T) {
	_, c, raw := fusedServe(t, slowHandler, Options{})
	warmSolo(t, c)
	closed := make(chan struct{})
	raw.hooks.Store(&fusedHooks{after: func(call int, fd uintptr, ret bool, _ func(uintptr) bool) bool {
		if call == 1 && !ret {
			go func() {
				c.Close() // returns once the raw read lets go of the descriptor
				close(closed)
			}()
			select {
			case <-c.Done():
			case <-time.After(2 * time.Second):
			}
		}
		return ret
	}})
	_, err, el := execWithin(c, 2*time.Second, "HANG")
	raw.hooks.Store(nil)
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not return")
	}
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || !ne.Written {
		t.Fatalf("HANG closed while waiting: %v; want a NodeError, written", err)
	}
	if el > 500*time.Millisecond {
		t.Fatalf("HANG returned %v after its call: Close did not end the wait", el)
	}
	awaitWmuFree(t, c, time.Second)
}

// secondCall is the call a second caller makes while the first is inside its fused
// read: a Do or a DoMulti tagged tag, checked.
func secondCall(c *Conn, multi bool, tag string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if multi {
		vs, err := c.DoMulti(ctx, []any{"ECHO", tag}, []any{"ECHO", tag + "/2"})
		if err != nil {
			return err
		}
		if len(vs) != 2 || string(vs[0].Str) != tag || string(vs[1].Str) != tag+"/2" {
			return errors.New("second DoMulti " + tag + " got another's replies")
		}
		return nil
	}
	v, err := c.Do(ctx, "ECHO", tag)
	if err != nil {
		return err
	}
	if string(v.Str) != tag {
		return errors.New("second call " + tag + " got " + string(v.Str))
	}
	return nil
}

// firstCall is the lone caller's call: SLOW ms tag, with a cancelable context (read
// for soloSlice, then handed to the reader goroutine) or its own deadline (read
// until the reply).
func firstCall(c *Conn, cancelable bool, ms string, tag string) error {
	var w Waiter
	if cancelable {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		w = NewWaiter(ctx, time.Time{})
	} else {
		w = NewWaiterTimeout(context.Background(), 2*time.Second)
	}
	defer w.Release()
	v, err := c.Exec(&w, 0, []any{"SLOW", ms, tag})
	if err != nil {
		return err
	}
	if string(v.Str) != tag {
		return errors.New("first call " + tag + " got " + string(v.Str))
	}
	return nil
}

// awaitSecond waits (bounded) for the second caller's result, if the hook started it
// (it does not when the lone call did not take the fused read: the reader goroutine
// had taken the socket back, or wmu was briefly the writer's, taking a stale resume
// token); it reports whether it had.
func awaitSecond(t *testing.T, ch chan error, started *atomic.Bool) bool {
	t.Helper()
	if !started.Load() {
		return false
	}
	select {
	case err := <-ch:
		if err != nil {
			t.Fatal(err)
		}
		return true
	case <-time.After(3 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("the second caller did not return (its deadline: 2s)\n%s", buf[:runtime.Stack(buf, true)])
	}
	return false
}

// A second caller arrives while the first waits in its fused read (after the write:
// wmu released, the reader goroutine parked with the socket the first caller's): it
// queues, the writer writes it, and its reply, read by the first caller along with
// its own or after the first handed the socket back, is its own. Its write is
// complete before the first caller's wait begins. The first reads until its reply, or
// for soloSlice only (cancelable), with a reply 1ms or 3ms away.
func TestReviewFusedSecondCallerDuringWait(t *testing.T) {
	for _, tc := range []struct {
		name              string
		multi, cancelable bool
		ms                string
	}{
		{"do", false, false, "1"},
		{"domulti", true, false, "1"},
		{"do-slice", false, true, "3"},
		{"domulti-slice", true, true, "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c, raw := fusedServe(t, slowHandler, Options{})
			warmSolo(t, c)
			joinRounds(t, c, raw, tc.name+"-", func(int) bool { return tc.multi },
				func(tag string, join func()) (*fusedHooks, func() error) {
					return &fusedHooks{after: func(call int, fd uintptr, ret bool, _ func(uintptr) bool) bool {
						if call == 1 && !ret {
							w0 := c.written.Load()
							join()
							for end := time.Now().Add(time.Second); c.written.Load() <= w0 && time.Now().Before(end); {
								time.Sleep(50 * time.Microsecond)
							}
						}
						return ret
					}}, func() error { return firstCall(c, tc.cancelable, tc.ms, tag) }
				})
		})
	}
}

// The socket takes part of the lone caller's request (d.limit), and a second caller
// arrives before the first has handed the rest to the writer (wmu still held by the
// first): the writer writes the rest first, then the second's request; both get their
// own replies, and wmu is free after.
func TestReviewFusedPartialWithQueued(t *testing.T) {
	for _, multi := range []bool{false, true} {
		_, c, raw := fusedServe(t, slowHandler, Options{})
		warmSolo(t, c)
		c.wmu.Lock()
		c.direct.limit = 3
		c.wmu.Unlock()
		joinRounds(t, c, raw, "p-", func(int) bool { return multi },
			func(tag string, join func()) (*fusedHooks, func() error) {
				return &fusedHooks{after: func(call int, fd uintptr, ret bool, _ func(uintptr) bool) bool {
					if call == 1 && ret { // a part left, wmu held
						join()
						// Best effort: let it queue (the writer then blocks on wmu).
						for end := time.Now().Add(20 * time.Millisecond); len(c.queue) == 0 && time.Now().Before(end); {
							time.Sleep(50 * time.Microsecond)
						}
						time.Sleep(time.Millisecond)
					}
					return ret
				}}, func() error { return firstCall(c, false, "0", tag) }
			})
	}
}

// The fused read finds its deadline passed before it tries the descriptor (the real
// path: the runtime refuses the read; the deadline armed is made to have passed just
// then), with a second caller queued meanwhile: the writer writes the first request,
// then the second; both get their own replies.
func TestReviewFusedUntriedWithQueued(t *testing.T) {
	_, c, raw := fusedServe(t, slowHandler, Options{})
	warmSolo(t, c)
	joinRounds(t, c, raw, "u-", func(i int) bool { return i%2 == 1 },
		func(tag string, join func()) (*fusedHooks, func() error) {
			var tried atomic.Bool
			return &fusedHooks{
					before: func() {
						past := time.Now().Add(-time.Millisecond)
						c.nc.SetReadDeadline(past) // on the caller's goroutine, as armSolo does
						c.cr.deadline = past
						join()
						for end := time.Now().Add(20 * time.Millisecond); len(c.queue) == 0 && time.Now().Before(end); {
							time.Sleep(50 * time.Microsecond)
						}
					},
					pre: func(int, uintptr) { tried.Store(true) },
				}, func() error {
					err := firstCall(c, false, "0", tag)
					if tried.Load() {
						t.Fatal("the raw read tried the descriptor past its deadline")
					}
					return err
				}
		})
}

// joinRounds runs 10 rounds in which a second caller joins a lone call on c. round
// returns, for the round's tag, the hooks that call join (which starts the second
// caller, multi(i): a DoMulti) at the moment under test, and the first call. Each
// round checks the first call's outcome, the second's reply (awaitSecond), wmu free
// and the connection alive, then parks the socket again; the hooks must have started
// the second caller in 3 rounds at least.
func joinRounds(t *testing.T, c *Conn, raw *fusedRaw, prefix string, multi func(i int) bool,
	round func(tag string, join func()) (*fusedHooks, func() error)) {
	t.Helper()
	fired := 0
	for i := range 10 {
		second := make(chan error, 1)
		var started atomic.Bool
		tag := prefix + string(rune('a'+i))
		join := func() {
			started.Store(true)
			go func() { second <- secondCall(c, multi(i), tag+"/b") }()
		}
		hooks, first := round(tag, join)
		raw.hooks.Store(hooks)
		err := first()
		raw.hooks.Store(nil)
		if err != nil {
			t.Fatal(err)
		}
		if awaitSecond(t, second, &started) {
			fired++
		}
		awaitWmuFree(t, c, time.Second)
		if c.Err() != nil {
			t.Fatalf("connection died: %v", c.Err())
		}
		warmSolo(t, c)
	}
	if fired < 3 {
		t.Fatalf("the hook started the second caller in %d of 10 rounds", fired)
	}
	t.Logf("the second caller joined %d of 10 lone calls", fired)
}

// Random hooks under the review's stress load (reviewCall: split, error, push,
// delayed and large replies, DoMulti, deadlines that give calls up mid-read; a lone
// caller back to back, one joining at random moments, one now and then): the fused
// read sees replies arrive before its wait, empty wake-ups, a slow start of its
// write and yields after it, and, toggled under wmu, partial writes (d.limit) and
// untried reads (d.untried). Every caller gets its own reply or its deadline, in time;
// the connection stays healthy and wmu free. Also with the lone caller alone. Runs
// for REVIEW_STRESS (default 2s) each.
func TestReviewFusedStressHooks(t *testing.T) {
	dur := 2 * time.Second
	if s, err := time.ParseDuration(os.Getenv("REVIEW_STRESS")); err == nil {
		dur = s
	}
	hooks := []*fusedHooks{
		nil,
		{after: func(call int, fd uintptr, ret bool, _ func(uintptr) bool) bool {
			if call == 1 && !ret {
				awaitBytes(fd, 2*time.Millisecond) // the reply (if quick) before the wait
			}
			return ret
		}},
		{after: func(call int, fd uintptr, ret bool, f func(uintptr) bool) bool {
			if call == 1 && !ret {
				return f(fd) // an immediate wake-up: usually EAGAIN
			}
			return ret
		}},
		{pre: func(call int, _ uintptr) {
			if call == 1 {
				time.Sleep(time.Duration(mrand.IntN(300)) * time.Microsecond)
			}
		}},
		{after: func(call int, _ uintptr, ret bool, _ func(uintptr) bool) bool {
			runtime.Gosched()
			return ret
		}},
	}
	for _, tc := range []struct {
		proto int
		lone  bool
	}{{2, false}, {3, false}, {2, true}, {3, true}} {
		name := "RESP" + strconv.Itoa(tc.proto)
		if tc.lone {
			name += "-lone"
		}
		proto := tc.proto
		t.Run(name, func(t *testing.T) {
			_, c, raw := fusedServe(t, reviewHandler, Options{Protocol: proto, ReplyTimeout: 5 * time.Second})
			end := time.Now().Add(dur)
			var calls, late atomic.Int64
			errs := make(chan error, 8)
			var wg sync.WaitGroup
			run := func(id int, pause func(*mrand.Rand)) {
				defer wg.Done()
				rng := mrand.New(mrand.NewPCG(uint64(id), uint64(time.Now().UnixNano())))
				for i := 0; time.Now().Before(end) && i < 1_000_000; i++ {
					if err := reviewCall(c, rng, fmt.Sprintf("g%d-%d", id, i), &late); err != nil {
						errs <- err
						return
					}
					calls.Add(1)
					pause(rng)
				}
			}
			stop := make(chan struct{})
			chooser := make(chan struct{})
			go func() { // the hooks, changed every 0-2ms
				defer close(chooser)
				rng := mrand.New(mrand.NewPCG(99, uint64(time.Now().UnixNano())))
				for {
					select {
					case <-stop:
						raw.hooks.Store(nil)
						c.wmu.Lock()
						c.direct.limit, c.direct.untried = 0, false
						c.wmu.Unlock()
						return
					case <-time.After(time.Duration(rng.IntN(2000)) * time.Microsecond):
					}
					raw.hooks.Store(hooks[rng.IntN(len(hooks))])
					c.wmu.Lock()
					c.direct.limit, c.direct.untried = 0, false
					switch rng.IntN(6) {
					case 0:
						c.direct.limit = 1 + rng.IntN(8)
					case 1:
						c.direct.untried = true
					}
					c.wmu.Unlock()
				}
			}()
			if tc.lone { // the lone caller only: most calls take the fused read
				wg.Add(1)
				go run(0, func(*mrand.Rand) {})
			} else {
				wg.Add(3)
				go run(0, func(*mrand.Rand) {})
				go run(1, func(rng *mrand.Rand) { time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond) })
				go run(2, func(rng *mrand.Rand) { time.Sleep(time.Duration(rng.IntN(15)) * time.Millisecond) })
			}
			wg.Wait()
			close(stop)
			<-chooser
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if err := c.Err(); err != nil {
				t.Errorf("the connection died: %v", err)
			}
			awaitWmuFree(t, c, time.Second)
			t.Logf("%d calls, %d read by their callers, %d direct, %d more than 50ms late", calls.Load(), c.cr.solos, c.directs, late.Load())
		})
	}
}

// parkSolo makes lone calls until the reader goroutine leaves the socket to lone
// callers (bounded): after a call given up, the next is queued behind the sync marker
// (sync.go) and does not park it; the one after, written directly, does.
func parkSolo(t *testing.T, c *Conn) {
	t.Helper()
	for end := time.Now().Add(2 * time.Second); ; {
		if _, err := c.Do(ctxWithTimeout(t, 2*time.Second), "PING"); err != nil {
			t.Fatal(err)
		}
		if c.readState.Load() == readParked {
			return
		}
		if time.Now().After(end) {
			t.Fatal("the reader goroutine did not park")
		}
		time.Sleep(time.Millisecond)
	}
}

// How late a lone caller in its fused read returns past its end (its own deadline,
// its context's, or its context's cancellation, blind for soloSlice at most) when the
// reply comes 20ms after that end: the distribution is logged; the test fails only
// past 50ms (the machine is shared), or when more than a tenth of the calls are over
// 2ms late (deadlines) or soloSlice + 2ms (cancellation).
func TestReviewFusedLateness(t *testing.T) {
	const d = 20 * time.Millisecond
	for _, kind := range []string{"waiter", "ctx", "cancel"} {
		t.Run(kind, func(t *testing.T) {
			_, c := serve(t, slowHandler, Options{ReplyTimeout: 5 * time.Second})
			var lates []time.Duration
			for i := range 40 {
				parkSolo(t, c)
				var w Waiter
				var end time.Time
				cancel := func() {}
				switch kind {
				case "waiter":
					w = NewWaiterTimeout(context.Background(), d)
					end = w.dl
				case "ctx":
					ctx, cf := context.WithTimeout(context.Background(), d)
					w, cancel = NewWaiter(ctx, time.Time{}), cf
					end, _ = ctx.Deadline()
				case "cancel":
					ctx, cf := context.WithCancel(context.Background())
					w, cancel = NewWaiter(ctx, time.Time{}), cf
					end = time.Now().Add(d)
					time.AfterFunc(d, cf)
				}
				v, err := c.Exec(&w, 0, []any{"SLOW", "40", strconv.Itoa(i)})
				ret := time.Now()
				w.Release()
				cancel()
				if err == nil && (string(v.Str) != strconv.Itoa(i) || ret.Before(end)) {
					t.Fatalf("call %d answered %q %v after its end", i, v.Str, ret.Sub(end))
				}
				// (Its own reply, 40ms after the write, wins over an end the caller
				// saw late: a loaded machine; counted as that late.)
				lates = append(lates, ret.Sub(end))
				time.Sleep(25 * time.Millisecond) // the late reply is discarded
			}
			slices.Sort(lates)
			n := len(lates)
			bound := 2 * time.Millisecond
			if kind == "cancel" {
				bound += soloSlice
			}
			over := 0
			for _, l := range lates {
				if l > bound {
					over++
				}
			}
			t.Logf("%s: past the end: p50 %v p90 %v max %v; %d/%d over %v", kind, lates[n/2], lates[n*9/10], lates[n-1], over, n, bound)
			if lates[n-1] > 50*time.Millisecond || over > n/10 {
				t.Errorf("%s: %d/%d calls over %v past their end, max %v", kind, over, n, bound, lates[n-1])
			}
		})
	}
}

// rstServer is a loopback server for RESP2 connections without a handshake: it
// answers each request (one write from the client) with +OK, and resets the
// connection (SO_LINGER 0) when told to (rst), or once it has read a request whose
// text contains "RST".
type rstServer struct {
	ln  net.Listener
	rst chan struct{}
}

func newRSTServer(t *testing.T) *rstServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rstServer{ln: ln, rst: make(chan struct{}, 1)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		tc := nc.(*net.TCPConn)
		defer tc.Close()
		reqs := make(chan []byte)
		go func() {
			defer close(reqs)
			for {
				b := make([]byte, 4096)
				n, err := tc.Read(b)
				if err != nil {
					return
				}
				reqs <- b[:n]
			}
		}()
		for {
			select {
			case b, ok := <-reqs:
				if !ok {
					return
				}
				if strings.Contains(string(b), "RST") {
					tc.SetLinger(0)
					return
				}
				if _, err := tc.Write([]byte("+OK\r\n")); err != nil {
					return
				}
			case <-s.rst:
				tc.SetLinger(0)
				return
			case <-time.After(10 * time.Second):
				return
			}
		}
	}()
	return s
}

// A server that resets the connection once it has read the request: the caller
// learns at once, read phase, written (it may have executed).
func TestReviewFusedResetAfterWrite(t *testing.T) {
	s := newRSTServer(t)
	var raw *fusedRaw
	o := Options{Protocol: 2, DialContext: fusedDialer(&raw), Addr: s.ln.Addr().String()}
	c, err := Dial(ctxWithTimeout(t, 2*time.Second), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	warmSolo(t, c)
	var wrote atomic.Bool
	raw.hooks.Store(&fusedHooks{after: func(call int, _ uintptr, ret bool, _ func(uintptr) bool) bool {
		if call == 1 && !ret {
			wrote.Store(true)
		}
		return ret
	}})
	_, err, el := execWithin(c, 2*time.Second, "RST")
	var ne *rerr.NodeError
	if !wrote.Load() {
		t.Fatal("RST was not written by the fused read")
	}
	if !errors.As(err, &ne) || ne.Phase != rerr.PhaseRead || !ne.Written || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("RST: %v; want a read-phase NodeError, written, connection reset", err)
	}
	if el > 500*time.Millisecond {
		t.Fatalf("RST returned after %v", el)
	}
	awaitWmuFree(t, c, time.Second)
	closeWithin(t, c, 2*time.Second)
}

// The server resets the connection after the caller's look at the parked socket
// (parkedCheck) and before its write (a crash or a kill between two commands, seen a
// moment late): the write fails (reset / broken pipe), not a byte left. The caller
// should learn that its request was not written (safe to retry elsewhere): it is told
// it may have executed.
func TestReviewFusedResetBeforeWrite(t *testing.T) {
	s := newRSTServer(t)
	var raw *fusedRaw
	o := Options{Protocol: 2, DialContext: fusedDialer(&raw), Addr: s.ln.Addr().String()}
	c, err := Dial(ctxWithTimeout(t, 2*time.Second), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	warmSolo(t, c)
	raw.hooks.Store(&fusedHooks{before: func() {
		s.rst <- struct{}{}
		time.Sleep(20 * time.Millisecond) // the reset arrives
	}})
	_, err, el := execWithin(c, 2*time.Second, "GET", "k")
	raw.hooks.Store(nil)
	if err == nil {
		t.Fatal("GET answered on a reset connection")
	}
	if el > 500*time.Millisecond {
		t.Fatalf("GET returned after %v", el)
	}
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Written {
		t.Errorf("GET refused by a reset socket before a byte left: %v (phase %v, written %v); want not written", err, phaseOf(ne), ne != nil && ne.Written)
	}
	awaitWmuFree(t, c, time.Second)
	closeWithin(t, c, 2*time.Second)
}

// A write refused outright (EPIPE) while a second caller is queued behind the lone
// caller (the writer waits for wmu, which the lone caller holds until its write's
// outcome is known): the second fails at once, not written; nothing hangs.
func TestReviewFusedWriteErrorWithQueued(t *testing.T) {
	_, c, raw := fusedServe(t, nil, Options{})
	warmSolo(t, c)
	second := make(chan error, 1)
	raw.hooks.Store(&fusedHooks{pre: func(call int, fd uintptr) {
		if call != 1 {
			return
		}
		go func() {
			_, err, _ := execWithin(c, 2*time.Second, "ECHO", "second")
			second <- err
		}()
		for end := time.Now().Add(20 * time.Millisecond); len(c.queue) == 0 && time.Now().Before(end); {
			time.Sleep(50 * time.Microsecond)
		}
		time.Sleep(time.Millisecond) // the writer takes it and waits for wmu
		syscall.Shutdown(int(fd), syscall.SHUT_WR)
	}})
	_, err, el := execWithin(c, 2*time.Second, "ECHO", "first")
	raw.hooks.Store(nil)
	if err == nil || el > 500*time.Millisecond {
		t.Fatalf("first: %v after %v; want an error at once", err, el)
	}
	select {
	case err := <-second:
		var ne *rerr.NodeError
		if err == nil || !errors.As(err, &ne) || ne.Written {
			t.Fatalf("second, queued behind a refused write: %v (phase %v, written %v); want a NodeError, not written", err, phaseOf(ne), ne != nil && ne.Written)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the queued caller did not return")
	}
	awaitWmuFree(t, c, time.Second)
	closeWithin(t, c, 2*time.Second)
}

// The server closes the idle connection while the reader goroutine is parked; a lone
// caller's look (parkedCheck) finds the end and fails its call not written, while a
// second caller is queued behind it (the writer waiting for wmu). The second's
// request is never written either — but parkedCheck's path lets wmu go before
// teardown records the death (failing), so the writer may take wmu first and write
// it on the dead socket (the peer closed: the write succeeds): it is then reported
// written (may have executed) though the server never read it. Same order as
// endDirect's write error (TestReviewFusedWriteErrorWithQueued). Counted over rounds.
func TestReviewFusedPeerCloseWithQueued(t *testing.T) {
	rounds, bad := 30, 0
	for i := 0; i < rounds; i++ {
		s, c, raw := fusedServe(t, nil, Options{})
		warmSolo(t, c)
		s.CloseConns()
		second := make(chan error, 1)
		var once atomic.Bool
		raw.hooks.Store(&fusedHooks{beforePeek: func() {
			if once.Swap(true) {
				return
			}
			go func() {
				_, err, _ := execWithin(c, 2*time.Second, "ECHO", "second")
				second <- err
			}()
			for end := time.Now().Add(20 * time.Millisecond); len(c.queue) == 0 && time.Now().Before(end); {
				time.Sleep(50 * time.Microsecond)
			}
			time.Sleep(time.Millisecond)     // the writer takes it and waits for wmu
			time.Sleep(5 * time.Millisecond) // the server's close has arrived
		}})
		_, err, _ := execWithin(c, 2*time.Second, "ECHO", "first")
		raw.hooks.Store(nil)
		var ne *rerr.NodeError
		if !errors.As(err, &ne) || ne.Written {
			t.Fatalf("first, on a connection the server closed: %v; want not written", err)
		}
		select {
		case err := <-second:
			if !errors.As(err, &ne) {
				t.Fatalf("second: %v; want a NodeError", err)
			}
			if ne.Written {
				bad++
				t.Logf("round %d: second, never read by the server: %v (phase %v, written)", i, err, ne.Phase)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("the queued caller did not return")
		}
		awaitWmuFree(t, c, time.Second)
		closeWithin(t, c, 2*time.Second)
	}
	if bad > 0 {
		t.Errorf("%d/%d queued requests the server never read were reported written", bad, rounds)
	}
}
