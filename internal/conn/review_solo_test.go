package conn

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/rerr"
)

// Review of the lone-caller path (solo.go, direct.go): reproducers for what it breaks.
// Each test states what held before the change (h-solo's parent, main) and fails on
// h-solo.

// warmSolo makes one call and waits for the reader goroutine to leave the socket to
// lone callers (as it does after every lone call).
func warmSolo(t *testing.T, c *Conn) {
	t.Helper()
	if _, err := c.Do(ctxWithTimeout(t, 2*time.Second), "PING"); err != nil {
		t.Fatal(err)
	}
	awaitParked(t, c)
}

// A connection that dies under a lone caller's read is killed on the caller's
// goroutine (trySolo → die), which runs OnClose there — in the node layer that is
// Node.connClosed, which takes the node's lock and calls the user's OnNodeState hook
// ("on redline's background goroutines", hooks.go). Before, the reader goroutine
// killed it, closed c.closed first, and the caller left at once; now the caller
// returns only after OnClose, past its deadline when OnClose is slow.
func TestReviewSoloOnCloseRunsOnCaller(t *testing.T) {
	const hook = 300 * time.Millisecond
	const d = 100 * time.Millisecond
	h := func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "KILLME" {
			return false
		}
		c.Close() // the server drops the connection after reading the command
		return true
	}
	_, c := serve(t, h, Options{OnClose: func(*Conn, error) { time.Sleep(hook) }})
	warmSolo(t, c)
	w := NewWaiterTimeout(context.Background(), d)
	defer w.Release()
	start := time.Now()
	_, err := c.Exec(&w, 0, []any{"KILLME"})
	el := time.Since(start)
	if err == nil {
		t.Fatal("KILLME answered")
	}
	if el > d+50*time.Millisecond {
		t.Fatalf("the caller returned %v after its call, deadline %v: it ran OnClose (%v) itself (err: %v)", el.Round(time.Millisecond), d, hook, err)
	}
}

// A server that closes the connection between two calls of a lone caller (a restart,
// CLIENT KILL, a proxy dropping it): before, the reader goroutine read EOF at once and
// the connection was dead before the next call, which then failed without being
// written (Written false: the cluster layer may retry it on a new connection, even a
// write). Now the reader goroutine is parked for up to soloIdle (10 ms) after every
// lone call, nobody reads, the next call is written into the dead socket and fails
// as "may have executed" (Written true): a write is then reported, never retried
// (router.go), though the server never saw it.
func TestReviewSoloPeerCloseWhileParked(t *testing.T) {
	s, c := serve(t, nil, Options{})
	warmSolo(t, c)
	s.CloseConns()
	for end := time.Now().Add(2 * time.Second); s.Open() != 0 && time.Now().Before(end); {
		time.Sleep(100 * time.Microsecond)
	}
	// Give the connection 5 ms to notice (the reader goroutine needs microseconds).
	select {
	case <-c.Done():
	case <-time.After(5 * time.Millisecond):
	}
	_, err := c.Do(ctxWithTimeout(t, 2*time.Second), "SET", "k", "v")
	var ne *rerr.NodeError
	if !errors.As(err, &ne) {
		t.Fatalf("SET on a connection the server closed: %v; want a NodeError", err)
	}
	if ne.Written {
		t.Fatalf("SET after the server closed the connection reports it may have executed (%v, phase %s), "+
			"though the close came before the call: the parked reader did not notice it", err, ne.Phase)
	}
}

// A reply nobody asked for (a server fault the connection means to catch: see
// TestUnsolicitedReplyKillsConnection) arriving after a lone call: before, the
// reader goroutine read it at once, found no request waiting and killed the
// connection. Now, with the reader parked, it sits in the socket, and the next lone
// caller takes it as its own reply.
func TestReviewSoloStrayReplyWhileParked(t *testing.T) {
	extra := make(chan struct{})
	var once sync.Once
	h := func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "TWICE" {
			return false
		}
		c.Reply(fakeserver.Bulk(args[1]))
		go func() { // the second, stray copy comes a moment later
			time.Sleep(time.Millisecond)
			c.Reply(fakeserver.Bulk(args[1]))
			once.Do(func() { close(extra) })
		}()
		return true
	}
	_, c := serve(t, h, Options{})
	warmSolo(t, c)
	if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "TWICE", "stray"); err != nil || string(v.Str) != "stray" {
		t.Fatalf("TWICE: %q, %v", v.Str, err)
	}
	select {
	case <-extra:
	case <-time.After(2 * time.Second):
		t.Fatal("the stray reply was not sent")
	}
	select { // a moment for the connection to notice (the reader goroutine needs microseconds)
	case <-c.Done():
	case <-time.After(3 * time.Millisecond):
	}
	v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", "mine")
	if err == nil && string(v.Str) != "mine" {
		t.Fatalf("ECHO mine got %q: another request's reply", v.Str)
	}
}
