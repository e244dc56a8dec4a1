package conn

// Adversarial review of the merged connection layer: the lone-caller path (solo.go,
// direct.go) together with the single-channel wait (request.go, settle) and the glue
// written at the merge (roundTrip's unwake, push1 on a dead queue, the writer waking
// what it took when it finds the connection failing). Death storms with one to three
// callers (so that calls go through the lone path, the direct write and the pipeline
// in turn), partial direct writes, every way to die, every wait mode.

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/resp"
)

// TestReviewFinalLoneDeathStorm: few callers (lone reads, direct writes, a joined
// pipeline), the connection killed at a random moment every way, direct writes that
// the socket takes in part (the writer writes the rest) or whole: everyone returns
// within 2 s of the kill (no deadline) or by its deadline, nobody gets another's
// reply, the pool stays clean.
func TestReviewFinalLoneDeathStorm(t *testing.T) {
	s := fakeserver.New(waitHandler)
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	iters := 120
	if testing.Short() {
		iters = 20
	}
	kills := []string{"close", "server", "boom", "closeconns-then-close"}
	modes := []waitMode{modeNone, modeDL, modeCtx, modeArmed, modeMixed}
	deadline := time.Now().Add(90 * time.Second)
	var total stormResult
	var solos, directs uint64
	for i := 0; i < iters && time.Now().Before(deadline); i++ {
		kind := kills[i%len(kills)]
		mode := modes[(i/len(kills))%len(modes)]
		callers := 1 + i%3
		limit := 0
		if i%2 == 1 {
			limit = 1 + rand.IntN(8) // the socket takes a few bytes of each direct write
		}
		c := reviewDial(t, addr, Options{ReplyTimeout: 5 * time.Second, Protocol: 2 + i%2})
		c.wmu.Lock()
		if c.direct != nil {
			c.direct.limit = limit
		}
		c.wmu.Unlock()
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
		r := storm(t, c, callers, mode, time.Duration(1+rand.IntN(3))*time.Millisecond, 300, time.Duration(rand.IntN(15000))*time.Microsecond, kill)
		c.Close()
		solos += c.cr.solos
		directs += c.directs
		total.wrong += r.wrong
		total.errs += r.errs
		total.ok += r.ok
		total.late += r.late
		total.stuck += r.stuck
		total.maxLate = max(total.maxLate, r.maxLate)
		if r.stuck > 0 || r.wrong > 0 {
			t.Errorf("iteration %d (kill %s, mode %d, callers %d, limit %d): %+v", i, kind, mode, callers, limit, r)
		}
		poolCheck(t)
		if t.Failed() {
			break
		}
	}
	t.Logf("%d replies read by lone callers, %d direct writes", solos, directs)
	t.Logf("total: %d ok, %d errors, %d wrong, %d stuck, %d late >50ms, max lateness %v", total.ok, total.errs, total.wrong, total.stuck, total.late, total.maxLate)
}

// A death found by a lone caller is carried out by the writer goroutine (teardown),
// which may be blocked in a write: here a large request another caller queued while
// the lone caller read, to a server that stopped reading. The lone caller finds a
// malformed reply (":abc", whole in the buffer, so it decodes it itself) and hands
// the death over; nothing kills the connection until the writer's blocked write gives
// up after ReplyTimeout. Meanwhile the connection looks alive (Done open, Err nil),
// the lone caller itself — which found the cause — waits without a deadline until the
// write stall, and gets the stall's error, not the malformed reply. When the reader
// goroutine finds the same reply (readerDie), kill closes the socket, the blocked write
// fails at once and everyone learns the cause at once.
func TestReviewFinalLoneFoundDeathWaitsForStuckWriter(t *testing.T) {
	for _, lone := range []bool{true, false} {
		name := "reader-goroutine"
		if lone {
			name = "lone-caller"
		}
		t.Run(name, func(t *testing.T) {
			const rt = 2 * time.Second
			release := make(chan struct{})
			garbled := make(chan time.Time, 1)
			send := make(chan struct{})
			h := func(c *fakeserver.Conn, args []string) bool {
				if args[0] != "GARBLE" {
					return false
				}
				<-send                         // not reading: the large write fills the buffers
				c.WriteRaw([]byte(":abc\r\n")) // Ready (an integer line), fails to decode
				garbled <- time.Now()
				<-release // still not reading
				return true
			}
			o := Options{ReplyTimeout: rt, Protocol: 2}
			if !lone {
				o.OnUnsolicited = func(resp.Value) bool { return false } // no parking: the reader goroutine reads
			}
			_, c := serve(t, h, o)
			defer close(release)
			if lone {
				warmSolo(t, c)
			}
			aDone := make(chan error, 1)
			go func() {
				w := NewWaiter(context.Background(), time.Time{})
				_, err := c.Exec(&w, 0, []any{"GARBLE"})
				aDone <- err
			}()
			if lone {
				for end := time.Now().Add(200 * time.Millisecond); c.readState.Load() != readCaller; {
					if time.Now().After(end) {
						close(send)
						t.Skip("the caller did not read alone this time (the reader goroutine took the socket back)")
					}
					time.Sleep(100 * time.Microsecond)
				}
			} else {
				time.Sleep(20 * time.Millisecond)
			}
			big := make([]byte, 32<<20)
			go func() {
				w := NewWaiter(context.Background(), time.Time{})
				c.Exec(&w, 0, []any{"SET", "k", big})
			}()
			// The writer is blocked in the large write (the server reads nothing): then
			// the server sends the malformed reply.
			var since time.Time
			for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				if time.Now().After(end) {
					t.Fatal("the writer never blocked in the large write")
				}
				if c.writing.Load() < 1<<20 {
					since = time.Time{}
				} else if since.IsZero() {
					since = time.Now()
				} else if time.Since(since) > 50*time.Millisecond {
					break
				}
			}
			close(send)
			var at time.Time
			select {
			case at = <-garbled:
			case <-time.After(5 * time.Second):
				t.Fatal("the server did not send the malformed reply")
			}
			select {
			case <-c.Done():
				if el := time.Since(at); el > 300*time.Millisecond {
					t.Errorf("the connection died %v after the malformed reply (the writer's stall: %v)", el.Round(time.Millisecond), c.Err())
				}
			case <-time.After(rt + 3*time.Second):
				t.Fatal("the connection never died")
			}
			select {
			case err := <-aDone:
				if el := time.Since(at); el > 300*time.Millisecond {
					t.Errorf("the caller that got the malformed reply returned %v after it: %v", el.Round(time.Millisecond), err)
				}
				if !errors.Is(err, resp.ErrProtocol) {
					t.Errorf("the caller that got the malformed reply: %v; want the protocol error", err)
				}
			case <-time.After(time.Second):
				t.Fatal("the caller never returned")
			}
		})
	}
}

// TestReviewFinalLoneLateness measures how late a lone caller returns past its
// deadline (1 ms; the reply takes 3 ms) — its own read up to the deadline, then the
// hand-back and the re-armed timer — beside a caller on a connection that never
// parks (the reader goroutine reads). Reports the distribution; fails only past 50 ms.
func TestReviewFinalLoneLateness(t *testing.T) {
	for _, kind := range []string{"lone-waiter", "lone-ctx", "pipeline-waiter", "pipeline-ctx"} {
		t.Run(kind, func(t *testing.T) {
			o := Options{ReplyTimeout: 5 * time.Second, Protocol: 2}
			lone := kind[:4] == "lone"
			if !lone {
				o.OnUnsolicited = func(resp.Value) bool { return false }
			}
			_, c := serve(t, waitHandler, o)
			var lates []time.Duration
			won := 0
			for i := 0; i < 60; i++ {
				// Lone again: a PING written directly while nothing is in flight parks the
				// reader goroutine (one queued behind the last call's late reply does not).
				for end := time.Now().Add(2 * time.Second); ; {
					if _, err := c.Do(ctxWithTimeout(t, 2*time.Second), "PING"); err != nil {
						t.Fatal(err)
					}
					if !lone || c.readState.Load() == readParked {
						break
					}
					if time.Now().After(end) {
						t.Fatal("the reader goroutine did not park")
					}
					time.Sleep(time.Millisecond)
				}
				const d = time.Millisecond
				var w Waiter
				var dl time.Time
				var cancel context.CancelFunc = func() {}
				if kind[len(kind)-3:] == "ctx" {
					var ctx context.Context
					ctx, cancel = context.WithTimeout(context.Background(), d)
					w = NewWaiter(ctx, time.Time{})
					dl, _ = ctx.Deadline()
				} else {
					w = NewWaiterTimeout(context.Background(), d)
					dl = w.dl
				}
				want := "x" + strconv.Itoa(i)
				v, err := c.Exec(&w, 0, []any{"DECHO", "3000", want})
				end := time.Now()
				w.Release()
				cancel()
				if err == nil { // the reply won: it came before the caller looked (a stalled machine)
					if string(v.Str) != want {
						t.Errorf("call %d got %q, want %q", i, v.Str, want)
					}
					won++
					continue
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("call %d: %v; want a deadline error", i, err)
				}
				lates = append(lates, end.Sub(dl))
				time.Sleep(4 * time.Millisecond) // the late reply arrives and is discarded
			}
			slices.Sort(lates)
			n := len(lates)
			over := 0
			for _, l := range lates {
				if l > 2*time.Millisecond {
					over++
				}
			}
			t.Logf("past deadline: p50 %v p90 %v max %v; %d/%d past 2ms; %d replies won", lates[n/2], lates[n*9/10], lates[n-1], over, n, won)
			if lates[n-1] > 50*time.Millisecond {
				t.Errorf("a call returned %v past its deadline", lates[n-1])
			}
		})
	}
}

// When a lone caller has handed a death to the writer (failing) and the writer takes
// a request from the queue before the resume token, it kills the connection, wakes
// that request and runs OnClose (announce) before it returns and its deferred
// wakeQueued wakes the callers still queued: they wait for OnClose (the node's hooks,
// the user's), though the merge's own rule is that the end wakes every caller before
// OnClose runs (die, readerDie, the writer's write error all do). Here the writer is
// blocked in a large write while callers queue behind it; the lone caller reads a
// malformed reply; the server then reads again, the write ends, and the writer picks
// the queue or the token (at random): in the first case OnClose sees the callers
// still queued and unwoken.
func TestReviewFinalFailingWakesQueuedAfterOnClose(t *testing.T) {
	bad := 0
	runs := 0
	for i := 0; i < 12 && (bad == 0 || runs < 4); i++ {
		runs++
		send := make(chan struct{})
		h := func(c *fakeserver.Conn, args []string) bool {
			if args[0] != "GARBLE" {
				return false
			}
			<-send
			c.WriteRaw([]byte(":abc\r\n"))
			return true // reads again: the large write ends
		}
		queuedAtOnClose := make(chan int, 1)
		var c *Conn
		_, c = serve(t, h, Options{ReplyTimeout: 5 * time.Second, QueueSize: 64, Protocol: 2, OnClose: func(cc *Conn, _ error) {
			queuedAtOnClose <- len(cc.queue)
			time.Sleep(200 * time.Millisecond) // a slow hook
		}})
		warmSolo(t, c)
		go func() {
			w := NewWaiter(context.Background(), time.Time{})
			c.Exec(&w, 0, []any{"GARBLE"})
		}()
		solo := false
		for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); time.Sleep(100 * time.Microsecond) {
			if c.readState.Load() == readCaller {
				solo = true
				break
			}
		}
		if !solo {
			close(send)
			continue
		}
		go func() {
			w := NewWaiter(context.Background(), time.Time{})
			c.Exec(&w, 0, []any{"SET", "k", make([]byte, 32<<20)})
		}()
		for end := time.Now().Add(5 * time.Second); c.writing.Load() < 1<<20; time.Sleep(time.Millisecond) {
			if time.Now().After(end) {
				t.Fatal("the writer never started the large write")
			}
		}
		var wg sync.WaitGroup
		var lateMu sync.Mutex
		var slowest time.Duration
		start := time.Now()
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := NewWaiter(context.Background(), time.Time{})
				c.Exec(&w, 0, []any{"PING"})
				lateMu.Lock()
				slowest = max(slowest, time.Since(start))
				lateMu.Unlock()
			}()
		}
		for end := time.Now().Add(2 * time.Second); len(c.queue) < 8 && time.Now().Before(end); {
			time.Sleep(time.Millisecond)
		}
		close(send)
		var n int
		select {
		case n = <-queuedAtOnClose:
		case <-time.After(10 * time.Second):
			t.Fatal("OnClose never ran")
		}
		wg.Wait()
		if n != 0 {
			bad++
			t.Logf("run %d: OnClose ran with %d callers queued and unwoken; the slowest returned %v after its call", i, n, slowest.Round(time.Millisecond))
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d runs: OnClose ran before the queued callers were woken (they waited for it)", bad, runs)
	}
}
