package conn

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/internal/secret"
	"github.com/redline-go/redline/redistest"
	"github.com/redline-go/redline/resp"
)

// serve starts a fake server on loopback and dials one connection to it.
func serve(t *testing.T, h fakeserver.Handler, o Options) (*fakeserver.Server, *Conn) {
	t.Helper()
	s := fakeserver.New(h)
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	o.Addr = addr
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c
}

func ctxWithTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestOrderingUnderConcurrency(t *testing.T) {
	_, c := serve(t, nil, Options{})
	if c.Protocol() != 3 {
		t.Fatalf("protocol %d, want 3", c.Protocol())
	}
	ctx := ctxWithTimeout(t, 30*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				want := fmt.Sprintf("g%d-%d", g, i)
				v, err := c.Do(ctx, "ECHO", want)
				if err != nil {
					errs <- err
					return
				}
				if string(v.Str) != want {
					errs <- fmt.Errorf("got %q, want %q", v.Str, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if c.Completed() < 64*300 {
		t.Errorf("completed %d", c.Completed())
	}
}

func TestDoMultiStaysTogether(t *testing.T) {
	_, c := serve(t, nil, Options{})
	ctx := ctxWithTimeout(t, 10*time.Second)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				a, b := fmt.Sprintf("a%d-%d", g, i), fmt.Sprintf("b%d-%d", g, i)
				vs, err := c.DoMulti(ctx, []any{"ECHO", a}, []any{"ECHO", b})
				if err != nil || len(vs) != 2 || string(vs[0].Str) != a || string(vs[1].Str) != b {
					t.Errorf("DoMulti: %v %v", vs, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestDoMultiSizes checks that DoMulti returns one reply per command for batches of
// one, two and many commands (a batch of one once came back empty).
func TestDoMultiSizes(t *testing.T) {
	_, c := serve(t, nil, Options{})
	ctx := ctxWithTimeout(t, 10*time.Second)
	for _, n := range []int{1, 2, 3, 100} {
		cmds := make([][]any, n)
		for i := range cmds {
			cmds[i] = []any{"ECHO", fmt.Sprint("m", i)}
		}
		vs, err := c.DoMulti(ctx, cmds...)
		if err != nil || len(vs) != n {
			t.Fatalf("DoMulti of %d: %d replies, %v", n, len(vs), err)
		}
		for i, v := range vs {
			if want := fmt.Sprint("m", i); string(v.Str) != want {
				t.Fatalf("DoMulti of %d: reply %d is %q, want %q", n, i, v.Str, want)
			}
		}
	}
}

// slowHandler answers "SLOW ms value" after ms milliseconds, and "HANG" never.
func slowHandler(c *fakeserver.Conn, args []string) bool {
	switch args[0] {
	case "SLOW":
		ms, _ := strconv.Atoi(args[1])
		time.Sleep(time.Duration(ms) * time.Millisecond)
		c.Reply(fakeserver.Bulk(args[2]))
		return true
	case "HANG":
		return true
	}
	return false
}

func TestAbandonedReplyIsDiscarded(t *testing.T) {
	_, c := serve(t, slowHandler, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, "SLOW", 200, "late")
	el := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Phase != rerr.PhaseRead || !ne.Written || ne.SafeToRetry() {
		t.Fatalf("node error %+v: want phase read, written", ne)
	}
	if el < 50*time.Millisecond || el > 100*time.Millisecond {
		t.Errorf("returned after %v, want ~50ms", el)
	}
	// The next caller gets its own reply, not the abandoned one.
	v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", "mine")
	if err != nil || string(v.Str) != "mine" {
		t.Fatalf("next call: %v %v", v, err)
	}
	if c.Err() != nil {
		t.Fatalf("connection died: %v", c.Err())
	}
}

func TestOverdueReplyKillsConnectionAndReleasesEveryone(t *testing.T) {
	var closedWith error
	closed := make(chan struct{})
	_, c := serve(t, slowHandler, Options{ReplyTimeout: 200 * time.Millisecond, OnClose: func(_ *Conn, err error) {
		closedWith = err
		close(closed)
	}})
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// No deadline at all: only the health limit can end this.
			_, errs[i] = c.Do(context.Background(), "HANG")
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if el < 200*time.Millisecond || el > 600*time.Millisecond {
		t.Errorf("callers released after %v, want ~200ms", el)
	}
	for _, err := range errs {
		var ne *rerr.NodeError
		if !errors.As(err, &ne) || !errors.Is(err, errReplyOverdue) || ne.Addr != c.Addr() {
			t.Fatalf("caller error %v: want overdue NodeError naming the node", err)
		}
	}
	<-closed
	if !errors.Is(closedWith, errReplyOverdue) {
		t.Errorf("OnClose cause %v", closedWith)
	}
	if _, err := c.Do(context.Background(), "PING"); !errors.Is(err, errReplyOverdue) {
		t.Errorf("call on dead connection: %v", err)
	}
}

func TestServerCloseFailsPendingAtOnce(t *testing.T) {
	s, c := serve(t, slowHandler, Options{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), "HANG")
		done <- err
	}()
	for c.InFlight() == 0 {
		runtime.Gosched()
	}
	start := time.Now()
	s.CloseConns()
	err := <-done
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("pending caller released %v after the server closed", el)
	}
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Phase != rerr.PhaseRead || !ne.Written {
		t.Fatalf("got %v, want a read-phase NodeError, written", err)
	}
}

func TestPushFramesRoutedAway(t *testing.T) {
	pushes := make(chan resp.Value, 4)
	h := func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "PUSHME" {
			return false
		}
		c.Reply(resp.Value{Type: resp.TypePush, Elems: []resp.Value{fakeserver.Bulk("message"), fakeserver.Bulk("ch"), fakeserver.Bulk("hi")}})
		c.Reply(fakeserver.Simple("OK"))
		return true
	}
	_, c := serve(t, h, Options{OnPush: func(v resp.Value) { pushes <- v }})
	v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "PUSHME")
	if err != nil || string(v.Str) != "OK" {
		t.Fatalf("reply %v %v", v, err)
	}
	select {
	case p := <-pushes:
		if len(p.Elems) != 3 || string(p.Elems[2].Str) != "hi" {
			t.Errorf("push %v", p)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no push delivered")
	}
}

func TestRESP2Fallback(t *testing.T) {
	s := fakeserver.New(nil)
	s.Proto2Only = true
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := ctxWithTimeout(t, 5*time.Second)
	c, err := Dial(ctx, &Options{Addr: addr, Password: secret.New("secret"), ClientName: "t", ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Protocol() != 2 {
		t.Errorf("protocol %d, want 2", c.Protocol())
	}
	if v, err := c.Do(ctx, "PING"); err != nil || string(v.Str) != "PONG" {
		t.Fatalf("PING: %v %v", v, err)
	}
	_, err = Dial(ctx, &Options{Addr: addr, Password: secret.New("wrong")})
	var ne *rerr.NodeError
	var se *resp.Error
	if !errors.As(err, &ne) || ne.Phase != rerr.PhaseHandshake || !errors.As(err, &se) || se.Code != "WRONGPASS" {
		t.Fatalf("wrong password: %v, want handshake WRONGPASS", err)
	}
	// RESP3 server, wrong password in HELLO.
	s3 := fakeserver.New(nil)
	addr3, _ := s3.Listen()
	defer s3.Close()
	_, err = Dial(ctx, &Options{Addr: addr3, Password: secret.New("wrong")})
	if !errors.As(err, &ne) || ne.Phase != rerr.PhaseHandshake || !errors.As(err, &se) || se.Code != "WRONGPASS" {
		t.Fatalf("wrong password (HELLO): %v", err)
	}
}

func TestUnsolicitedReplyKillsConnection(t *testing.T) {
	h := func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "TWICE" {
			return false
		}
		c.Reply(fakeserver.Simple("one"))
		c.Reply(fakeserver.Simple("two"))
		return true
	}
	_, c := serve(t, h, Options{})
	ctx := ctxWithTimeout(t, 2*time.Second)
	if v, err := c.Do(ctx, "TWICE"); err != nil || string(v.Str) != "one" {
		t.Fatalf("first reply: %v %v", v, err)
	}
	<-c.Done()
	if !errors.Is(c.Err(), resp.ErrProtocol) {
		t.Fatalf("cause %v, want a protocol error", c.Err())
	}
	if _, err := c.Do(ctx, "PING"); err == nil {
		t.Fatal("a desynchronized connection answered")
	}
}

func TestHostileLengthKillsConnection(t *testing.T) {
	h := func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "EVIL" {
			return false
		}
		c.WriteRaw([]byte("$2147483647\r\n"))
		return true
	}
	_, c := serve(t, h, Options{})
	start := time.Now()
	_, err := c.Do(ctxWithTimeout(t, 2*time.Second), "EVIL")
	if !errors.Is(err, resp.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Errorf("took %v", el)
	}
}

// A reply dripping in byte by byte is no progress: its caller leaves at its deadline,
// and the connection is declared dead once ReplyTimeout passes without minProgress
// bytes (a trickle would otherwise keep a broken stream alive).
func TestDrippedReplyHonorsDeadline(t *testing.T) {
	h := func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "DRIP" {
			return false
		}
		for _, b := range []byte("$10\r\n0123456789\r\n") {
			if c.WriteRaw([]byte{b}) != nil {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
		return true
	}
	_, c := serve(t, h, Options{ReplyTimeout: 250 * time.Millisecond})
	start := time.Now()
	_, err := c.Do(ctxWithTimeout(t, 60*time.Millisecond), "DRIP")
	if el := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || el > 110*time.Millisecond {
		t.Fatalf("after %v: %v, want deadline exceeded at ~60ms", el, err)
	}
	select {
	case <-c.Done():
		if !errors.Is(c.Err(), errReplyOverdue) {
			t.Errorf("cause %v", c.Err())
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a connection dripping one reply for 2s was not declared dead")
	}
}

// A reply that stops mid-way for ReplyTimeout kills the connection: no progress.
func TestStalledReplyKillsConnection(t *testing.T) {
	h := func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "STALL" {
			return false
		}
		c.WriteRaw([]byte("$10\r\n01234"))
		return true
	}
	_, c := serve(t, h, Options{ReplyTimeout: 150 * time.Millisecond})
	start := time.Now()
	_, err := c.Do(context.Background(), "STALL")
	el := time.Since(start)
	if !errors.Is(err, errReplyOverdue) || el > time.Second {
		t.Fatalf("after %v: %v, want the connection dead at ~150ms", el, err)
	}
}

func TestIdleCheck(t *testing.T) {
	var pings sync.WaitGroup
	pings.Add(1)
	var once sync.Once
	h := func(c *fakeserver.Conn, args []string) bool {
		if args[0] == "PING" {
			once.Do(pings.Done)
			return true // never answer
		}
		return false
	}
	_, c := serve(t, h, Options{IdleCheck: 50 * time.Millisecond, ReplyTimeout: 100 * time.Millisecond})
	pings.Wait()
	select {
	case <-c.Done():
		if !errors.Is(c.Err(), errReplyOverdue) {
			t.Errorf("cause %v", c.Err())
		}
	case <-time.After(2 * time.Second):
		t.Fatal("idle connection with an unanswered PING not declared dead")
	}
}

func TestCloseLeavesNoGoroutine(t *testing.T) {
	redistest.NoGoroutineLeak(t)
	s := fakeserver.New(nil)
	addr, _ := s.Listen()
	for range 20 {
		c, err := Dial(ctxWithTimeout(t, 2*time.Second), &Options{Addr: addr})
		if err != nil {
			t.Fatal(err)
		}
		c.Do(context.Background(), "PING")
		c.Close()
	}
	s.Close()
}

func TestDialErrorsNamePhase(t *testing.T) {
	_, err := Dial(ctxWithTimeout(t, time.Second), &Options{Addr: "127.0.0.1:1"})
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Phase != rerr.PhaseDial {
		t.Fatalf("got %v, want a dial-phase NodeError", err)
	}
	for _, o := range []Options{{}, {Addr: "nohostport"}, {Addr: "127.0.0.1:1", Protocol: 4}} {
		if _, err := Dial(context.Background(), &o); err == nil {
			t.Errorf("Dial(%+v) accepted", o)
		}
	}
}
