package redistest

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// The reply-fault modes (Stall, Dribble, ResetMidReply, CloseAfterRequest) act on a
// replica's proxy: a replica answers ECHO and counts it in INFO commandstats, which the
// tests read on the node's own port to see that the request was executed.

// echoCalls returns how many ECHO commands n has executed.
func echoCalls(t *testing.T, n *Node) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := n.Do(ctx, "INFO", "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(v.Str), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_echo:calls="); ok {
			num, _, _ := strings.Cut(rest, ",")
			k, _ := strconv.Atoi(num)
			return k
		}
	}
	return 0
}

// sendEcho writes ECHO payload on c.
func sendEcho(t *testing.T, c *rawConn, payload string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(resp.AppendCommandStrings(nil, "ECHO", payload)); err != nil {
		t.Fatal(err)
	}
}

// readAll reads c until an error or timeout, returning the bytes and the error.
func readAll(c *rawConn, timeout time.Duration) ([]byte, int, error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	var got []byte
	buf := make([]byte, 4096)
	reads := 0
	for {
		n, err := c.Conn.Read(buf)
		if n > 0 {
			reads++
			got = append(got, buf[:n]...)
		}
		if err != nil {
			return got, reads, err
		}
	}
}

func TestFaultStall(t *testing.T) {
	t.Parallel()
	n, c := lockedConn(t, 5)
	const hold = 400 * time.Millisecond
	setFault(t, n, Stall(hold))
	before := echoCalls(t, n)
	start := time.Now()
	sendEcho(t, c, "stalled")
	// The node executes the request at once ...
	for i := 0; echoCalls(t, n) == before; i++ {
		if i == 100 {
			t.Fatal("ECHO not executed by the node within 1s while its reply is stalled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// ... but the reply is held: nothing arrives before half the hold has passed (the
	// check above may itself take long on a loaded machine: then there is nothing left
	// of that half to check) ...
	if quiet := start.Add(hold / 2); time.Until(quiet) > 20*time.Millisecond {
		c.SetReadDeadline(quiet)
		if _, err := c.rd.ReadValue(); !isTimeout(err) {
			t.Fatalf("read during the stall (%v after the request): got %v, want a timeout", time.Since(start), err)
		}
	} else {
		t.Logf("the node was seen executing the request only %v after it: the stall's quiet half is not checked", time.Since(start))
	}
	// ... and it arrives, whole, after the hold.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	v, err := c.rd.ReadValue()
	if err != nil || string(v.Str) != "stalled" {
		t.Fatalf("reply after the stall: %v %v", v, err)
	}
	if el := time.Since(start); el < hold || el > hold+time.Second {
		t.Errorf("stalled reply came after %v, want about %v", el, hold)
	}
}

func TestFaultDribble(t *testing.T) {
	t.Parallel()
	n, c := lockedConn(t, 3)
	const gap = 5 * time.Millisecond
	setFault(t, n, Dribble(1, gap))
	payload := "dribbled-reply-0123456789"
	want := "$" + strconv.Itoa(len(payload)) + "\r\n" + payload + "\r\n"
	start := time.Now()
	sendEcho(t, c, payload)
	var got []byte
	reads := 0
	buf := make([]byte, 64)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < len(want) {
		k, err := c.Conn.Read(buf)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		reads++
		got = append(got, buf[:k]...)
	}
	if string(got) != want {
		t.Fatalf("dribbled reply %q, want %q", got, want)
	}
	// One byte per piece, gap apart: the reply takes (len-1) gaps and comes in many
	// reads (a reader delayed by the machine's load may find two pieces at once).
	if el := time.Since(start); el < time.Duration(len(want)-1)*gap {
		t.Errorf("a %d-byte reply dribbled in %v, want at least %v", len(want), el, time.Duration(len(want)-1)*gap)
	}
	if reads < len(want)/2 {
		t.Errorf("the reply came in %d reads, want about %d (one per byte)", reads, len(want))
	}
	// Pass delivers whole replies again.
	if err := n.SetFault(Pass); err != nil {
		t.Fatal(err)
	}
	if err := c.ping(time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestFaultResetMidReply(t *testing.T) {
	t.Parallel()
	n, c := lockedConn(t, 4)
	setFault(t, n, ResetMidReply(7))
	before := echoCalls(t, n)
	sendEcho(t, c, "0123456789abcdef") // reply: "$16\r\n0123456789abcdef\r\n"
	got, _, err := readAll(c, 2*time.Second)
	if string(got) != "$16\r\n01" {
		t.Errorf("before the reset the client got %q, want the reply's first 7 bytes", got)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("after the partial reply: got %v, want connection reset", err)
	}
	if echoCalls(t, n) == before {
		t.Error("the node did not execute the request whose reply was cut")
	}
	// A reply shorter than n is still cut: at most all but its last byte arrives.
	c2, err := dialRaw(n.Addr(), nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	sendEcho(t, c2, "")
	if got, _, err := readAll(c2, 2*time.Second); string(got) != "$0\r\n\r" || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("short reply: got %q %v, want \"$0\\r\\n\\r\" and a reset", got, err)
	}
}

func TestFaultCloseAfterRequest(t *testing.T) {
	t.Parallel()
	n, c := lockedConn(t, 5)
	setFault(t, n, CloseAfterRequest)
	before := echoCalls(t, n)
	sendEcho(t, c, "lost")
	got, _, err := readAll(c, 2*time.Second)
	if len(got) != 0 || err != io.EOF {
		t.Errorf("got %q then %v, want no byte and the connection closed (EOF)", got, err)
	}
	if echoCalls(t, n) == before {
		t.Error("the node did not execute the request whose reply was dropped")
	}
	// Pass: a new connection is answered again.
	if err := n.SetFault(Pass); err != nil {
		t.Fatal(err)
	}
	if err := pingNew(n.Addr(), nil, 2*time.Second); err != nil {
		t.Fatal(err)
	}
}
