package conn

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/rerr"
)

// A write that stops moving (the server reads nothing) still kills the connection
// within about ReplyTimeout of its last progress, in the write phase, saying so.
func TestStalledWriteDies(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	held := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			held <- nc // never read
		}
	}()
	t.Cleanup(func() {
		select {
		case nc := <-held:
			nc.Close()
		default:
		}
	})
	const rt = 200 * time.Millisecond
	c, err := Dial(ctxWithTimeout(t, 5*time.Second), &Options{Addr: ln.Addr().String(), Protocol: 2, ReplyTimeout: rt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	big := bytes.Repeat([]byte("x"), 64<<20) // more than socket buffers hold
	start := time.Now()
	_, err = c.Do(ctxWithTimeout(t, 20*time.Second), "SET", "k", big)
	el := time.Since(start)
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Phase != rerr.PhaseWrite || !errors.Is(err, errWriteStalled) || !ne.Written {
		t.Fatalf("SET to a server that reads nothing: %v; want a write-phase stall", err)
	}
	if el > 5*time.Second || !strings.Contains(err.Error(), "then nothing for") {
		t.Fatalf("stalled write: %v after %v", err, el)
	}
	t.Logf("%v after %v", err, el.Round(time.Millisecond))
}
