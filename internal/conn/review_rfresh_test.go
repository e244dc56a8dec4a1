//go:build unix

package conn

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/rerr"
)

// Review of commit f88c351: a lone caller skipped its look at the socket within a
// millisecond of the connection's last read, and a lone request whose read found the
// end of the stream with the socket's error EPIPE was reported not written. Both were
// withdrawn after this review (TestReviewSoloFreshStrayBeforeWrite and
// TestReviewSoloFreshHalfClosedWait show why); the tests stay, holding the lone path
// to what they checked: no request that ran is reported not written, no stray is taken
// for a reply, a peer's FIN fails the next call at once.

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

// abortServer is a loopback server for RESP2 connections without a handshake: it
// answers each request (one read) with +OK, except RUN, which it counts and then
// ends the connection the way a proxy relaying its node's end does when it closes
// without lingering (HAProxy's nolinger, a Go proxy's CloseWrite then SetLinger(0)):
// a FIN, then a reset. RUN had been read, and ran, before either.
type abortServer struct {
	ln   net.Listener
	runs atomic.Int64
}

// halfClosedConn dials s, leaves the socket to lone callers (warmSolo), and has the
// server half-close it after a reply (HALF): what the next lone call meets. It
// returns once the FIN is in the socket: the reply and the FIN leave the server in two
// writes, and a call made between their arrivals would meet a socket still open (its
// write then finds the end after it, a case the other tests take).
func halfClosedConn(t *testing.T, s *abortServer) *Conn {
	t.Helper()
	o := Options{Protocol: 2, Addr: s.ln.Addr().String()}
	c, err := Dial(ctxWithTimeout(t, 2*time.Second), &o)
	if err != nil {
		t.Fatal(err)
	}
	warmSolo(t, c)
	if _, err, _ := execWithin(c, 2*time.Second, "HALF"); err != nil {
		t.Fatalf("HALF: %v", err)
	}
	fin := false
	withFD(t, c.nc.(syscall.Conn), func(fd uintptr) { fin = awaitEOF(fd, 2*time.Second) })
	if !fin {
		t.Fatal("the peer's FIN did not arrive within 2s")
	}
	return c
}

func newAbortServer(t *testing.T) *abortServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &abortServer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(nc.(*net.TCPConn))
		}
	}()
	return s
}

func (s *abortServer) serve(tc *net.TCPConn) {
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 4096)
	for {
		n, err := tc.Read(b)
		if err != nil {
			return
		}
		if strings.Contains(string(b[:n]), "HALF") { // answer, then stop sending (keep reading)
			tc.Write([]byte("+OK\r\n"))
			tc.CloseWrite()
			continue
		}
		if strings.Contains(string(b[:n]), "RUN") {
			s.runs.Add(1)
			tc.CloseWrite()
			tc.SetLinger(0)
			return
		}
		if _, err := tc.Write([]byte("+OK\r\n")); err != nil {
			return
		}
	}
}

// A peer that ran the lone caller's request ends the connection with a FIN and then a
// reset (a proxy whose node died after running the command, relaying the end and
// closing without lingering): the socket's error is EPIPE, as when the request
// reached a socket closed before it — but this one was read, and ran. It must be
// reported written (it may have executed), never not written (retried: run twice).
// The FIN acknowledged the request: the server's end had it.
func TestReviewRefusedFinThenReset(t *testing.T) {
	s := newAbortServer(t)
	const rounds = 10
	bad := 0
	for i := range rounds {
		o := Options{Protocol: 2, Addr: s.ln.Addr().String()}
		c, err := Dial(ctxWithTimeout(t, 2*time.Second), &o)
		if err != nil {
			t.Fatal(err)
		}
		if c.direct == nil {
			t.Fatal("no direct writer")
		}
		warmSolo(t, c)
		before := s.runs.Load()
		_, err, _ = execWithin(c, 2*time.Second, "RUN")
		if s.runs.Load() != before+1 {
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
		closeWithin(t, c, 2*time.Second)
	}
	if bad > 0 {
		t.Errorf("%d/%d RUNs that ran were reported not written (retriable)", bad, rounds)
	}
}

// The residue of TestReviewRefusedFinThenReset: a peer that half-closed first (its
// FIN came before the request was written), then read the request, ran it and reset
// before its delayed acknowledgement of the request left. At f88c351, which skipped
// the look within 1ms of the last read and took such an ending for a request that
// never reached the server, the request that ran was reported not written (20/20
// rounds on loopback). With the look on every call (the skip withdrawn), the FIN is
// found before the request is written: it never runs, and nothing is misreported.
func TestReviewRefusedHalfClosedPeer(t *testing.T) {
	s := newAbortServer(t)
	const rounds = 20
	bad, ran := 0, 0
	for i := range rounds {
		c := halfClosedConn(t, s)
		before := s.runs.Load()
		_, err, _ := execWithin(c, 2*time.Second, "RUN")
		var ne *rerr.NodeError
		if !errors.As(err, &ne) {
			t.Fatalf("round %d: RUN: %v, want a NodeError", i, err)
		}
		if s.runs.Load() != before {
			ran++
			if !ne.Written {
				bad++
				t.Logf("round %d: RUN ran, reported not written: %v", i, err)
			}
		}
		closeWithin(t, c, 2*time.Second)
	}
	t.Logf("%d/%d RUNs ran; %d of them reported not written", ran, rounds, bad)
	if bad > 0 {
		t.Errorf("%d RUNs that ran were reported not written (retriable)", bad)
	}
}

// A RESP3 push right behind a lone call's reply, in the same read (an invalidation or
// a message the connection has no handler for: nobody takes pushes on a solo
// connection, solo.go). The reply is the call's own — a push is never a reply — so the
// call must get it: the check for more than one reply in a solo read must not count
// a push. (Before f88c351, the reply was delivered and the push handed to the reader
// goroutine, which drops it.)
func TestReviewSoloPushAfterReply(t *testing.T) {
	const push = ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n"
	h := func(c *fakeserver.Conn, args []string) bool {
		switch args[0] {
		case "PUSHAFTER":
			c.WriteRaw([]byte("$4\r\nmine\r\n" + push))
		case "PUSHSPLIT": // the push's rest in a later segment
			c.WriteRaw([]byte("$4\r\nmine\r\n" + push[:12]))
			time.Sleep(time.Millisecond)
			c.WriteRaw([]byte(push[12:]))
		default:
			return false
		}
		return true
	}
	_, c := serve(t, h, Options{})
	if c.Protocol() != 3 {
		t.Fatalf("protocol %d, want 3", c.Protocol())
	}
	for i := range 10 {
		warmSolo(t, c)
		before := c.cr.solos
		cmd := []string{"PUSHAFTER", "PUSHSPLIT"}[i%2]
		v, err, _ := execWithin(c, 2*time.Second, cmd)
		if err != nil || string(v.Str) != "mine" {
			t.Fatalf("round %d: %s: %q, %v; want mine (solo reads %d)", i, cmd, v.Str, err, c.cr.solos-before)
		}
		if c.Err() != nil {
			t.Fatalf("round %d: the connection ended: %v", i, c.Err())
		}
	}
}

// A stray reply already in the parked socket when a lone call writes (the server sent
// it after the previous reply; at f88c351, within 1ms of it: no look). f88c351 counts on the
// fused read to wait for new bytes (the runtime's readiness reset before the write),
// so that it gets the stray and the reply together and fails the call. But the wait
// ends on any wake-up of the descriptor after the reset — an epoll event for the
// stray harvested late, or (likely the main one) the request's acknowledgement freeing
// send space, which epoll reports with the socket readable — and the read returns the
// stray alone, taken for the call's reply: a reply not its own, which the look caught
// before f88c351. More often the longer the server takes (2-12 of 200 for ECHO, 34 of
// 200 for SLOWECHO, answered after 2ms; 0 with the look on every call — the skip was
// withdrawn: this test now holds the look to it).
func TestReviewSoloFreshStrayBeforeWrite(t *testing.T) {
	strays := make(chan *fakeserver.Conn, 1)
	h := func(c *fakeserver.Conn, args []string) bool {
		switch args[0] {
		case "STRAYNEXT":
			c.Reply(fakeserver.Bulk("held"))
			strays <- c
		case "SLOWECHO":
			time.Sleep(2 * time.Millisecond)
			c.Reply(fakeserver.Bulk(args[1]))
		default:
			return false
		}
		return true
	}
	const rounds = 200
	wrong := map[string]int{}
	for round := range rounds {
		cmd := []string{"ECHO", "SLOWECHO"}[round%2]
		_, c, raw := fusedServe(t, h, Options{})
		warmSolo(t, c)
		if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "STRAYNEXT"); err != nil || string(v.Str) != "held" {
			t.Fatalf("STRAYNEXT: %q, %v", v.Str, err)
		}
		(<-strays).Reply(fakeserver.Bulk("stray"))
		arrived := false
		raw.Control(func(fd uintptr) { arrived = awaitBytes(fd, 2*time.Second) })
		if !arrived {
			t.Fatal("the stray did not arrive")
		}
		v, err, _ := execWithin(c, 2*time.Second, cmd, "mine")
		if err == nil && string(v.Str) != "mine" {
			wrong[cmd]++
		}
		closeWithin(t, c, 2*time.Second)
	}
	if len(wrong) > 0 {
		t.Errorf("calls that took a stray in the socket before their write for their reply: ECHO %d/%d, SLOWECHO %d/%d",
			wrong["ECHO"], rounds/2, wrong["SLOWECHO"], rounds/2)
	}
}

// Logged, not failed: a stray read alone in place of a call's reply (STRAYFIRST's
// server sends one, then the reply 1ms later) is not caught (documented), and while
// the server lags the calls that follow back to back each read the previous call's
// reply alone, before their own arrives: 1 to 9 calls in a row took another call's
// reply before one read two and ended the connection. Not from f88c351: the same with
// the look forced on every call (the look comes before the late reply arrives), and
// the reader goroutine shifts a pipeline the same way.
func TestReviewSoloStrayCascade(t *testing.T) {
	h := func(c *fakeserver.Conn, args []string) bool {
		if args[0] != "STRAYFIRST" {
			return false
		}
		c.Reply(fakeserver.Bulk("stray"))
		time.Sleep(time.Millisecond)
		c.Reply(fakeserver.Bulk("first"))
		return true
	}
	for round := range 10 {
		_, c, _ := fusedServe(t, h, Options{})
		warmSolo(t, c)
		if _, err, _ := execWithin(c, 2*time.Second, "STRAYFIRST"); err != nil {
			t.Logf("round %d: STRAYFIRST failed: %v", round, err)
		}
		wrong, failed := 0, 0
		for i := range 50 {
			want := "e" + strconv.Itoa(i)
			v, err, _ := execWithin(c, 2*time.Second, "ECHO", want)
			if err != nil {
				failed++
				break
			}
			if string(v.Str) != want {
				wrong++
			}
		}
		t.Logf("round %d: %d calls took another call's reply, %d failed", round, wrong, failed)
		closeWithin(t, c, 2*time.Second)
	}
}

// A peer that sent its FIN right behind a reply (HALF) and then reads the next
// request, which it cannot answer, and closes quietly (everything read: no reset).
// At f88c351 the next lone call, within 1ms (no look): its fused read waits for bytes
// after its write, and the end of the stream was there before it: how long does the
// call take? Until its deadline (300ms of 300ms, every round), no reset coming to end
// the wait; with the look (on every call since) it fails at once, not written.
func TestReviewSoloFreshHalfClosedWait(t *testing.T) {
	s := newAbortServer(t)
	for i := range 3 {
		c := halfClosedConn(t, s)
		_, err, el := execWithin(c, 300*time.Millisecond, "PING")
		var ne *rerr.NodeError
		errors.As(err, &ne)
		t.Logf("round %d: PING after the peer's FIN took %v: %v (written %v)", i, el.Round(time.Millisecond), err, ne != nil && ne.Written)
		if ne == nil || ne.Written || el > 100*time.Millisecond {
			t.Errorf("round %d: PING after the peer's FIN: %v after %v; want not written, at once", i, err, el.Round(time.Millisecond))
		}
		closeWithin(t, c, 2*time.Second)
	}
}
