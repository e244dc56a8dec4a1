package node

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/redistest"
)

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLazyDialAndReuse(t *testing.T) {
	s := fakeserver.New(nil)
	addr, _ := s.Listen()
	defer s.Close()
	n := New(addr, Options{})
	defer n.Close()
	if n.State() != StateIdle || s.Accepted() != 0 {
		t.Fatal("node dialed before first use")
	}
	for range 10 {
		if v, err := n.Do(ctxT(t, time.Second), "PING"); err != nil || string(v.Str) != "PONG" {
			t.Fatalf("PING: %v %v", v, err)
		}
	}
	if s.Accepted() != 1 || n.State() != StateUp {
		t.Errorf("accepted %d connections, state %v; want 1, up", s.Accepted(), n.State())
	}
}

func TestRefusedFailsFastThenRecovers(t *testing.T) {
	// A port with nothing listening: refused at once.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	logs := &syncBuffer{}
	var events []Event
	var evMu sync.Mutex
	n := New(addr, Options{
		BackoffBase: 20 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(logs, nil)),
		OnStateChange: func(e Event) { evMu.Lock(); events = append(events, e); evMu.Unlock() },
	})
	defer n.Close()
	_, err := n.Do(ctxT(t, time.Second), "PING")
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Phase != rerr.PhaseDial || !errors.Is(err, syscall.ECONNREFUSED) || ne.Down {
		t.Fatalf("first call: %v", err)
	}
	start := time.Now()
	_, err = n.Do(ctxT(t, time.Second), "PING")
	if el := time.Since(start); el > 5*time.Millisecond {
		t.Errorf("fast failure took %v", el)
	}
	if !errors.As(err, &ne) || !ne.Down || !errors.Is(err, syscall.ECONNREFUSED) || !ne.SafeToRetry() {
		t.Fatalf("second call: %v, want a fast failure with the cause", err)
	}
	if !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), addr) {
		t.Errorf("error text %q", err)
	}
	// The server comes up on that port: the node recovers by itself.
	s := fakeserver.New(nil)
	if _, err := s.ListenAddr(addr); err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	defer s.Close()
	redistest.Eventually(t, 3*time.Second, func() bool { return n.State() == StateUp }, "node did not recover")
	if _, err := n.Do(ctxT(t, time.Second), "PING"); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Count(out, "node down") != 1 || !strings.Contains(out, "node recovered") || !strings.Contains(out, "connection refused") {
		t.Errorf("log:\n%s", out)
	}
	evMu.Lock()
	defer evMu.Unlock()
	if len(events) < 3 || events[len(events)-1].To != StateUp {
		t.Errorf("events %+v", events)
	}
}

func TestSingleFlightDial(t *testing.T) {
	// A listener that accepts but never answers: the handshake hangs.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	var accepted sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			defer c.Close()
		}
	}()
	// The attempt outlives the test's callers by far (on a loaded machine, with the race
	// detector, goroutines may start hundreds of milliseconds late: each must still find
	// the attempt in flight and leave at its own deadline, not at the attempt's end).
	n := New(ln.Addr().String(), Options{DialTimeout: 2 * time.Second})
	defer n.Close()
	var wg sync.WaitGroup
	start := time.Now()
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := n.Do(ctx, "PING")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v", err)
			}
		}()
	}
	for n.DialsInFlight() == 0 && time.Since(start) < time.Second {
		runtime.Gosched()
	}
	wg.Wait()
	if el := time.Since(start); el > 1800*time.Millisecond { // not the attempt's 2s
		t.Errorf("1000 callers with 100ms deadlines took %v", el)
	}
	if st := n.Stats(); st.Dials > 1 {
		t.Errorf("%d dials for 1000 callers, want 1", st.Dials)
	}
	// After DialTimeout the attempt fails; the node is down and fails fast.
	redistest.Eventually(t, 5*time.Second, func() bool { return n.State() == StateDown }, "not down after the attempt timed out")
	start = time.Now()
	_, err := n.Do(ctxT(t, time.Second), "PING")
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || !ne.Down || ne.Phase != rerr.PhaseHandshake || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("after the attempt timed out: %v", err)
	}
}

func TestDedicatedPool(t *testing.T) {
	s := fakeserver.New(nil)
	addr, _ := s.Listen()
	defer s.Close()
	n := New(addr, Options{MaxDedicated: 2})
	defer n.Close()
	a, err := n.Dedicated(ctxT(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.Dedicated(ctxT(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// A third waits for a slot until its deadline.
	start := time.Now()
	_, err = n.Dedicated(ctxT(t, 50*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 150*time.Millisecond {
		t.Fatalf("third dedicated: %v after %v", err, time.Since(start))
	}
	n.Release(a, true)
	c, err := n.Dedicated(ctxT(t, time.Second))
	if err != nil || c != a {
		t.Fatalf("released connection not reused: %v", err)
	}
	n.Release(b, false)
	n.Release(c, true)
	if b.Err() == nil {
		t.Error("a connection released with reuse=false was not closed")
	}
}

func TestCloseStopsEverything(t *testing.T) {
	redistest.NoGoroutineLeak(t)
	s := fakeserver.New(nil)
	addr, _ := s.Listen()
	n := New(addr, Options{})
	n.Do(ctxT(t, time.Second), "PING")
	d, _ := n.Dedicated(ctxT(t, time.Second))
	n.Release(d, true)
	n.Close()
	if _, err := n.Do(ctxT(t, time.Second), "PING"); !errors.Is(err, rerr.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	s.Close()
}

func TestBackoff(t *testing.T) {
	n := New("127.0.0.1:1", Options{BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second})
	defer n.Close()
	for k, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 50: time.Second} {
		for range 20 {
			if d := n.backoff(k); d < want/2 || d > want {
				t.Errorf("backoff(%d) = %v, want in [%v, %v]", k, d, want/2, want)
			}
		}
	}
}

func TestDeadlineWhileReconnectingNamesLastFailure(t *testing.T) {
	var hang atomic.Bool
	s := fakeserver.New(func(c *fakeserver.Conn, args []string) bool {
		return args[0] == "HELLO" && hang.Load() // swallow HELLO: the handshake hangs
	})
	addr, _ := s.Listen()
	defer s.Close()
	n := New(addr, Options{})
	defer n.Close()
	if _, err := n.Do(ctxT(t, time.Second), "PING"); err != nil {
		t.Fatal(err)
	}
	hang.Store(true)
	s.CloseConns() // the connection ends; the node redials, and that attempt hangs
	redistest.Eventually(t, 2*time.Second, func() bool { return n.State() == StateConnecting }, "not reconnecting after the connection ended")
	_, err := n.Do(ctxT(t, 50*time.Millisecond), "PING")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, rerr.ErrConnecting) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "last failure: read: EOF") {
		t.Errorf("message %q does not name the last failure", err)
	}
}

// TestDownErrorTextFrozen: a fast failure's text says how long the node had been down
// when the call failed, not when the error is printed: printed again later, it is the
// same.
func TestDownErrorTextFrozen(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	n := New(addr, Options{BackoffBase: 10 * time.Second, BackoffMax: 10 * time.Second})
	defer n.Close()
	if _, err := n.Do(ctxT(t, time.Second), "PING"); err == nil {
		t.Fatal("PING to a closed port succeeded")
	}
	_, err := n.Do(ctxT(t, time.Second), "PING")
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || !ne.Down {
		t.Fatalf("second call: %v, want a fast failure", err)
	}
	first := err.Error()
	if !strings.Contains(first, "node down for") || !strings.Contains(first, "next attempt in") {
		t.Fatalf("error text %q", first)
	}
	time.Sleep(20 * time.Millisecond) // the passage of time is what is tested
	if again := err.Error(); again != first {
		t.Fatalf("the text changed as time passed: %q, then %q", first, again)
	}
}
