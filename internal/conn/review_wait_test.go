package conn

// Adversarial review of the single-channel wait (branch h-tp): storms of callers on a
// connection that dies at a random moment, with and without deadlines, checking that
// every caller returns in time with its own reply or an error, and that no request
// goes back to the pool with a token in its channel, or twice.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/rerr"
)

// waitHandler: "DECHO us v" answers v after us microseconds (the server's loop
// sleeps: replies stay in order), "NOREPLY" answers nothing (for Send), "BOOM" writes
// a malformed frame (the reader dies), "HANG" never answers.
func waitHandler(c *fakeserver.Conn, args []string) bool {
	switch args[0] {
	case "DECHO":
		us, _ := strconv.Atoi(args[1])
		if us > 0 {
			time.Sleep(time.Duration(us) * time.Microsecond)
		}
		c.Reply(fakeserver.Bulk(args[2]))
		return true
	case "NOREPLY", "HANG":
		return true
	case "BOOM":
		c.WriteRaw([]byte("%%%bad\r\n"))
		return true
	}
	return false
}

// waitMode is how a storm caller bounds its calls.
type waitMode int

const (
	modeNone  waitMode = iota // context.Background, no waiter deadline: only the end wakes it
	modeDL                    // the waiter's own deadline (request timer)
	modeCtx                   // a context deadline
	modeArmed                 // the waiter's deadline with its timer armed by an earlier wait
	modeMixed                 // any of the above, per call
)

// poolCheck drains the request pool (what a sync.Pool hands out from here: its
// shared and victim caches and this P's) and reports any request with a token left
// in its channel, any request found twice (double put).
func poolCheck(t *testing.T) {
	t.Helper()
	seen := map[*request]bool{}
	for range 1 << 20 {
		r, _ := requests.Get().(*request)
		if r == nil {
			break
		}
		if seen[r] {
			t.Errorf("request %p in the pool twice (double put)", r)
			continue
		}
		seen[r] = true
		if n := len(r.done); n != 0 {
			t.Errorf("pooled request %p has %d token(s) in done (state %d, wake %#x)", r, n, r.state.Load(), r.wake.Load())
		}
	}
	for r := range seen { // give them back
		requests.Put(r)
	}
}

type stormResult struct {
	wrong, errs, ok, late, stuck int
	maxLate                      time.Duration
	lastErr                      error
}

// storm runs callers on c, each making calls until stop is closed, and kills the
// connection with kill after killAfter. Every caller must return within bound of the
// kill (no deadline) or of its deadline.
func storm(t *testing.T, c *Conn, callers int, mode waitMode, dl time.Duration, maxDelayUS int, killAfter time.Duration, kill func()) stormResult {
	t.Helper()
	var mu sync.Mutex
	var res stormResult
	var killedAt atomic.Int64
	var wg sync.WaitGroup
	var seq atomic.Int64
	done := make(chan struct{})
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ { // bounded: the connection ends well before
				m := mode
				if m == modeMixed {
					m = waitMode(rand.IntN(4))
				}
				ctx := context.Background()
				var cancel context.CancelFunc = func() {}
				var w Waiter
				var dlAt time.Time
				switch m {
				case modeNone:
					w = NewWaiter(ctx, time.Time{})
				case modeDL, modeArmed:
					w = NewWaiterTimeout(ctx, dl)
					dlAt = w.dl
					if m == modeArmed {
						w.Expired() // arms the waiter's timer: the reply wait selects on it
					}
				case modeCtx:
					ctx, cancel = context.WithTimeout(ctx, dl)
					w = NewWaiter(ctx, time.Time{})
					dlAt, _ = ctx.Deadline()
				}
				id := strconv.FormatInt(seq.Add(1), 36)
				delay := strconv.Itoa(rand.IntN(maxDelayUS + 1))
				var err error
				var got string
				kind := rand.IntN(10)
				switch {
				case kind < 6:
					var v = c
					r, e := v.Exec(&w, 0, []any{"DECHO", delay, id})
					got, err = string(r.Str), e
				case kind < 9:
					vs, e := c.ExecMulti(&w, [][]any{{"DECHO", delay, id + "a"}, {"DECHO", "0", id + "b"}, {"ECHO", id + "c"}})
					err = e
					if e == nil {
						if len(vs) != 3 || string(vs[0].Str) != id+"a" || string(vs[1].Str) != id+"b" || string(vs[2].Str) != id+"c" {
							got = fmt.Sprintf("multi %q %q %q", vs[0].Str, vs[1].Str, vs[2].Str)
						} else {
							got = id
						}
					}
				default:
					err = c.Send(&w, [][]any{{"NOREPLY"}})
					got = id
				}
				end := time.Now()
				w.Release()
				cancel()
				mu.Lock()
				switch {
				case err == nil && got != id:
					res.wrong++
					t.Errorf("call %s got another's reply: %q", id, got)
				case err != nil:
					res.errs++
					res.lastErr = err
				default:
					res.ok++
				}
				if !dlAt.IsZero() && err != nil && errors.Is(err, context.DeadlineExceeded) {
					if late := end.Sub(dlAt); late > res.maxLate {
						res.maxLate = late
					}
					if end.Sub(dlAt) > 50*time.Millisecond {
						res.late++
					}
				}
				mu.Unlock()
				if err != nil && c.Err() != nil {
					return // the connection is dead: every further call fails at once
				}
				select {
				case <-done:
					return
				default:
				}
			}
		}()
	}
	time.Sleep(killAfter)
	killedAt.Store(time.Now().UnixNano())
	kill()
	close(done) // callers stop after their current call
	fin := make(chan struct{})
	go func() { wg.Wait(); close(fin) }()
	select {
	case <-fin:
	case <-time.After(2*time.Second + dl):
		t.Errorf("callers still waiting 2s after the connection was killed (%v)", c.Err())
		res.stuck++
		select {
		case <-fin:
		case <-time.After(5 * time.Second):
			t.Fatalf("callers never returned")
		}
		return res
	}
	return res
}

// reviewDial dials a connection to s.
func reviewDial(t *testing.T, addr string, o Options) *Conn {
	t.Helper()
	o.Addr = addr
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, &o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReviewWaitDeathStorm kills a busy connection at a random moment, every way it
// can die (Close, the server closing it, a malformed reply, a write to a closed
// socket), with callers in every wait mode and a small or large queue, and checks that
// everyone returns, nobody gets another's reply, and the pool stays clean.
func TestReviewWaitDeathStorm(t *testing.T) {
	s := fakeserver.New(waitHandler)
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	iters := 40
	if testing.Short() {
		iters = 8
	}
	kills := []string{"close", "server", "boom", "closeconns-then-close"}
	modes := []waitMode{modeNone, modeDL, modeCtx, modeArmed, modeMixed}
	deadline := time.Now().Add(60 * time.Second)
	var total stormResult
	for i := 0; i < iters && time.Now().Before(deadline); i++ {
		kind := kills[i%len(kills)]
		mode := modes[(i/len(kills))%len(modes)]
		queue := 1024
		if i%3 == 0 {
			queue = 2 // the full-queue path
		}
		c := reviewDial(t, addr, Options{QueueSize: queue, ReplyTimeout: 5 * time.Second, Protocol: 2})
		kill := func() {
			switch kind {
			case "close":
				c.Close()
			case "server":
				s.CloseConns()
			case "boom":
				w := NewWaiter(context.Background(), time.Time{})
				c.Exec(&w, 0, []any{"BOOM"})
			case "closeconns-then-close":
				s.CloseConns()
				c.Close()
			}
		}
		r := storm(t, c, 64, mode, time.Duration(1+rand.IntN(3))*time.Millisecond, 200, time.Duration(rand.IntN(20000))*time.Microsecond, kill)
		c.Close()
		total.wrong += r.wrong
		total.errs += r.errs
		total.ok += r.ok
		total.late += r.late
		total.stuck += r.stuck
		total.maxLate = max(total.maxLate, r.maxLate)
		if r.stuck > 0 || r.wrong > 0 {
			t.Errorf("iteration %d (kill %s, mode %d, queue %d): %+v", i, kind, mode, queue, r)
		}
		poolCheck(t)
		if t.Failed() {
			break
		}
	}
	t.Logf("total: %d ok, %d errors, %d wrong, %d stuck, %d late >50ms, max lateness %v", total.ok, total.errs, total.wrong, total.stuck, total.late, total.maxLate)
}

// TestReviewWaitTimerRace: calls whose deadline (1–3 ms, the request's timer) races
// their replies (0–3 ms late) on a live connection, in every wait mode: the timer's
// wake-up and the completion arrive together. Every call gets its own reply or a
// deadline error; the pool stays clean.
func TestReviewWaitTimerRace(t *testing.T) {
	s := fakeserver.New(waitHandler)
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, mode := range []waitMode{modeDL, modeCtx, modeArmed, modeMixed} {
		c := reviewDial(t, addr, Options{ReplyTimeout: 5 * time.Second, Protocol: 2})
		r := storm(t, c, 32, mode, 2*time.Millisecond, 400, 1500*time.Millisecond, func() {})
		c.Close()
		t.Logf("mode %d: %d ok, %d errors (last %v), %d wrong, %d late >50ms, max lateness %v", mode, r.ok, r.errs, r.lastErr, r.wrong, r.late, r.maxLate)
		if r.wrong > 0 || r.stuck > 0 {
			t.Errorf("mode %d: %+v", mode, r)
		}
		poolCheck(t)
	}
}

// TestReviewWaitHeldThenDeath: a request given up after it was written makes later
// replies held (sync.go); the connection is then closed while callers without any
// deadline wait for held replies: readerDie must wake them.
func TestReviewWaitHeldThenDeath(t *testing.T) {
	for i := range 20 {
		s := fakeserver.New(waitHandler)
		addr, err := s.Listen()
		if err != nil {
			t.Fatal(err)
		}
		c := reviewDial(t, addr, Options{ReplyTimeout: 5 * time.Second, Protocol: 2})
		// A: given up at 5 ms, answered at 30 ms.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
			defer cancel()
			c.Do(ctx, "DECHO", "30000", "a")
		}()
		time.Sleep(time.Millisecond)
		// B…: no deadline; written before A is given up, so their replies are held until
		// the marker, which goes behind a 300 ms command (C).
		errs := make(chan error, 8)
		for j := range 4 {
			go func() {
				v, err := c.Do(context.Background(), "DECHO", "0", "b"+strconv.Itoa(j))
				if err == nil && string(v.Str) != "b"+strconv.Itoa(j) {
					err = fmt.Errorf("wrong reply %q", v.Str)
					t.Error(err)
				}
				errs <- err
			}()
		}
		go func() {
			_, err := c.Do(context.Background(), "DECHO", "300000", "c")
			errs <- err
		}()
		time.Sleep(time.Duration(35+rand.IntN(10)) * time.Millisecond) // A's reply read; B's held
		start := time.Now()
		switch i % 3 {
		case 0:
			c.Close()
		case 1:
			s.CloseConns()
		case 2:
			go c.Close()
			s.CloseConns()
		}
		for range 5 {
			select {
			case <-errs:
			case <-time.After(2 * time.Second):
				t.Fatalf("iteration %d: a caller waiting for a held reply never returned after the connection died (%v)", i, c.Err())
			}
		}
		if el := time.Since(start); el > 500*time.Millisecond {
			t.Errorf("iteration %d: callers returned %v after the death", i, el)
		}
		c.Close()
		s.Close()
	}
	poolCheck(t)
}

// TestReviewWaitStuckWriteDeath: the server never reads, so the writer blocks in the
// middle of a batch, the queue (size 4) fills, and callers without deadlines wait in
// every place: written, being written, queued, waiting for room. Then the connection
// is closed from outside: all must return.
func TestReviewWaitStuckWriteDeath(t *testing.T) {
	for i := range 6 {
		c := stuckServerOpts(t, Options{QueueSize: 4, ReplyTimeout: 10 * time.Second})
		big := make([]byte, 1<<20)
		var wg sync.WaitGroup
		var returned atomic.Int32
		for j := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer returned.Add(1)
				if j%5 == 0 {
					c.Do(context.Background(), "SET", "k", big)
				} else {
					w := NewWaiter(context.Background(), time.Time{})
					c.Send(&w, [][]any{{"SET", "k", big}})
				}
			}()
		}
		time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond)
		if i%2 == 0 {
			c.Close()
		} else {
			c.die(c.nodeErr(rerr.PhaseRead, errors.New("review: killed"), true))
		}
		fin := make(chan struct{})
		go func() { wg.Wait(); close(fin) }()
		select {
		case <-fin:
		case <-time.After(3 * time.Second):
			t.Fatalf("iteration %d: %d of 40 callers returned 3s after the connection died", i, returned.Load())
		}
	}
}

// stuckServerOpts is stuckServer with options.
func stuckServerOpts(t *testing.T, o Options) *Conn {
	c0 := stuckServer(t) // a listener that never reads; reuse its address
	addr := c0.Addr()
	c0.Close()
	o.Addr, o.Protocol = addr, 2
	c, err := Dial(ctxWithTimeout(t, 5*time.Second), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestReviewWaitOnCloseAfterWakes checks the commit's claim that the connection's end
// wakes every caller "before OnClose runs": Close() kills the connection and runs
// OnClose on its own goroutine at once (announce), while the callers still queued are
// woken only when the writer, blocked in a write, sees its error and ends
// (wakeQueued). OnClose can thus run while callers are still queued and unwoken.
// Nothing in the node or cache layer depends on that order (connClosed and
// Tracker.Lost do not look at callers), so this is a documentation finding.
func TestReviewWaitOnCloseAfterWakes(t *testing.T) {
	var queuedAtOnClose atomic.Int64
	queuedAtOnClose.Store(-1)
	var c *Conn
	ready := make(chan struct{})
	c = stuckServerOpts(t, Options{QueueSize: 64, ReplyTimeout: 10 * time.Second, OnClose: func(cc *Conn, _ error) {
		<-ready
		queuedAtOnClose.Store(int64(len(cc.queue)))
	}})
	close(ready)
	big := make([]byte, 8<<20) // fills the socket buffers: the writer blocks in its write
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.Do(context.Background(), "SET", "k", big) }()
	for end := time.Now().Add(2 * time.Second); c.writing.Load() == 0 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Do(context.Background(), "PING") }()
	}
	for end := time.Now().Add(2 * time.Second); len(c.queue) < 10 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	c.Close()
	wg.Wait()
	if n := queuedAtOnClose.Load(); n != 0 {
		t.Errorf("OnClose ran with %d requests still queued, their callers not yet woken (the commit says the end wakes every caller before OnClose runs)", n)
	}
}
