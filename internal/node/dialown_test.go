package node

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/rerr"
)

// A caller whose context has already ended gets no connection attempt: DialOwn used
// to start one anyway (thousands piled up while a client closed), and Dedicated did
// whenever its select picked the free pool slot over the ended context.
func TestNoDialForEndedContext(t *testing.T) {
	s := fakeserver.New(nil)
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := New(addr, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 {
		if _, err := n.DialOwn(ctx, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("DialOwn: %v, want a cancellation error", err)
		}
		if _, err := n.Dedicated(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Dedicated: %v, want a cancellation error", err)
		}
	}
	n.Close() // waits for every attempt started
	if a := s.Accepted(); a != 0 {
		t.Errorf("%d connection attempts for callers whose context had ended", a)
	}
}

// hangListener accepts connections and never answers; closed receives a value when
// the client closes one.
func hangListener(t *testing.T) (addr string, closed <-chan struct{}) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(io.Discard, c) // until the client closes it
				ch <- struct{}{}
			}()
		}
	}()
	return ln.Addr().String(), ch
}

// An attempt that served one caller alone ends when that caller leaves: it used to
// go on for DialTimeout, holding a pool slot (Dedicated) or a socket (DialOwn).
func TestAbandonedOwnDialEnds(t *testing.T) {
	addr, closed := hangListener(t)
	n := New(addr, Options{DialTimeout: 5 * time.Second, MaxDedicated: 1})
	defer n.Close()

	// DialOwn: the server sees the half-made connection closed soon after the caller left.
	if _, err := n.DialOwn(ctxT(t, 50*time.Millisecond), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("DialOwn: %v", err)
	}
	select {
	case <-closed:
	case <-time.After(time.Second):
		t.Error("DialOwn's attempt went on after its caller left")
	}

	// Dedicated: the next caller finds the pool's only slot free, not held by the
	// abandoned attempt.
	if _, err := n.Dedicated(ctxT(t, 50*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first Dedicated: %v", err)
	}
	_, err := n.Dedicated(ctxT(t, 500*time.Millisecond))
	if errors.Is(err, errTooManyDedicated) || !errors.Is(err, rerr.ErrConnecting) {
		t.Errorf("second Dedicated: %v; want its own attempt, not a slot held by the abandoned one", err)
	}
}

// A caller that leaves its own attempt (Dedicated, DialOwn) is told that attempt's
// phase and age, not the shared connection's (here there is none: before, the error
// said "dial" with no age while the attempt hung in the handshake).
func TestAbandonedOwnDialSaysItsPhase(t *testing.T) {
	addr, _ := hangListener(t)
	n := New(addr, Options{DialTimeout: 5 * time.Second, MaxDedicated: 2})
	defer n.Close()
	check := func(what string, err error) {
		t.Helper()
		var ne *rerr.NodeError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) {
			t.Fatalf("%s: %v; want a deadline NodeError", what, err)
		}
		if ne.Phase != rerr.PhaseHandshake || !strings.Contains(err.Error(), "no answer for") {
			t.Errorf("%s: %v (phase %s); want the handshake phase and the attempt's age", what, err, ne.Phase)
		}
	}
	_, err := n.Dedicated(ctxT(t, 100*time.Millisecond))
	check("Dedicated", err)
	_, err = n.DialOwn(ctxT(t, 100*time.Millisecond), nil)
	check("DialOwn", err)
}
