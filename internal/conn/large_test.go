package conn

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// stuckServer accepts connections and never reads from them: a client's writes stop
// once the socket buffers are full. With Protocol 2 and no credentials, Dial sends
// no handshake, so the connection is up at once.
func stuckServer(t *testing.T) *Conn {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	c, err := Dial(ctxWithTimeout(t, 5*time.Second), &Options{Addr: ln.Addr().String(), Protocol: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A call whose large command cannot be written in time, and a call queued behind it,
// end at their deadlines with errors that say what they were waiting for, timed from
// the call's start: a 50 MB SET under a 500 ms timeout used to report "deadline
// exceeded after 0s … request queue full" after 520 ms.
func TestLargeWriteDeadlineSaysWhatItWaitedFor(t *testing.T) {
	c := stuckServer(t)
	big := bytes.Repeat([]byte("x"), 16<<20)
	var bigErr error
	var bigTook time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := NewWaiter(context.Background(), time.Now().Add(3*time.Second))
		defer w.Release()
		start := time.Now()
		_, bigErr = c.Exec(&w, 0, []any{"SET", "k", big})
		bigTook = time.Since(start)
	}()
	// The small call is queued once the large one is being written.
	deadline := time.Now().Add(10 * time.Second)
	for c.writing.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if c.writing.Load() == 0 {
		t.Fatal("the large command was never being written")
	}
	w := NewWaiter(context.Background(), time.Now().Add(200*time.Millisecond))
	start := time.Now()
	_, err := c.Exec(&w, 0, []any{"GET", "k"})
	took := time.Since(start)
	w.Release()
	var de *rerr.DeadlineError
	if !errors.As(err, &de) || de.Node == nil || de.Node.Phase != rerr.PhaseWrite || de.Node.Written ||
		!strings.Contains(err.Error(), "not written yet") || !strings.Contains(err.Error(), "16.0 MiB write in progress") {
		t.Errorf("queued call: %v; want write phase, not written, behind the 16 MiB write in progress", err)
	}
	if took > 250*time.Millisecond || de != nil && de.Elapsed < 200*time.Millisecond {
		t.Errorf("queued call took %v (reported %v), deadline 200ms", took, de.Elapsed)
	}
	<-done
	if !errors.As(bigErr, &de) || de.Node == nil || de.Node.Phase != rerr.PhaseWrite || !de.Node.Written ||
		!strings.Contains(bigErr.Error(), "being written") {
		t.Errorf("large call: %v; want write phase, being written, may have executed", bigErr)
	}
	if bigTook > 3050*time.Millisecond || de != nil && de.Elapsed < 3*time.Second {
		t.Errorf("large call took %v (reported %v), deadline 3s", bigTook, de.Elapsed)
	}
}

// A large command is encoded in chunks with the deadline checked between them: a call
// whose deadline passes while its 64 MiB argument is copied ends then, sending
// nothing, instead of finishing the copy and only then finding its time gone.
func TestLargeEncodeHonorsDeadline(t *testing.T) {
	c := stuckServer(t)
	big := strings.Repeat("x", 64<<20)
	for range 3 {
		w := NewWaiter(context.Background(), time.Now().Add(2*time.Millisecond))
		start := time.Now()
		_, err := c.Exec(&w, 0, []any{"SET", "k", big})
		took := time.Since(start)
		w.Release()
		var de *rerr.DeadlineError
		if !errors.As(err, &de) || de.Node == nil || de.Node.Written || !strings.Contains(err.Error(), "being encoded (64.0 MiB)") {
			t.Fatalf("got %v; want a deadline error saying the command was being encoded, not sent", err)
		}
		if took > 300*time.Millisecond { // a chunk at most, even under -race on a busy machine
			t.Errorf("returned after %v, deadline 2ms", took)
		}
	}
	if n := c.written.Load(); n != 0 {
		t.Errorf("%d batches written for calls that ended while encoding", n)
	}
}

// A large command's encoding is the same as resp.AppendCommand's.
func TestAppendLargeMatchesAppendCommand(t *testing.T) {
	big := strings.Repeat("ab", encodeChunk+7)
	args := []any{"SET", big, []byte(big), 42, -7, uint8(3), 1.5, true, false}
	want, err := appendCommandSmall(args)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendLarge([]byte("prefix"), argBytes(args)+64*len(args)+16, nil, args)
	if err != nil || !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("appendLarge differs from resp.AppendCommand (err %v)", err)
	}
	if _, err := appendLarge(nil, 1<<20, nil, []any{"SET", big, struct{}{}}); err == nil {
		t.Error("an unsupported argument type was accepted")
	}
}

func appendCommandSmall(args []any) ([]byte, error) { return resp.AppendCommand(nil, args...) }
