package conn

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/rerr"
)

// A reply read in time but held behind a slow command (from review2): A is given up at
// 20ms; B (a quick ECHO) and C (a 600ms command) were written before, so the sync
// marker goes behind C, and B's reply, read at ~50ms, is held until the marker's reply
// after C's. B cannot be released earlier (a skipped or doubled reply of A's would have
// made its reply another's), but its error must say what happened: its reply was read
// and held (the command executed), not "no reply yet". C and later callers are served.
func TestHeldReplyErrorSaysHeld(t *testing.T) {
	_, c := serve(t, slowHandler, Options{ReplyTimeout: 5 * time.Second})
	aCtx, aCancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer aCancel()
	go c.Do(aCtx, "SLOW", 50, "a") // A: answered at 50ms, given up at 20ms
	time.Sleep(5 * time.Millisecond)
	type res struct {
		v   string
		err error
		el  time.Duration
	}
	bDone, cDone := make(chan res, 1), make(chan res, 1)
	go func() {
		start := time.Now()
		v, err := c.Do(ctxWithTimeout(t, 300*time.Millisecond), "ECHO", "b") // B: answered at ~50ms
		bDone <- res{string(v.Str), err, time.Since(start)}
	}()
	time.Sleep(5 * time.Millisecond)
	go func() {
		start := time.Now()
		v, err := c.Do(ctxWithTimeout(t, 5*time.Second), "SLOW", 600, "c") // C: written before A is given up
		cDone <- res{string(v.Str), err, time.Since(start)}
	}()
	b := <-bDone
	var ne *rerr.NodeError
	if b.err == nil {
		if b.v != "b" {
			t.Fatalf("B got %q, want its own reply or an error", b.v)
		}
		t.Logf("B released in time (%v): the stream was verified early", b.el) // a fast machine never gets here: C takes 600ms
	} else if !errors.Is(b.err, context.DeadlineExceeded) || !IsHeld(b.err) || errors.Is(b.err, rerr.ErrNoReply) ||
		!errors.As(b.err, &ne) || !ne.Written || ne.Phase != rerr.PhaseRead {
		t.Fatalf("B (answered ~50ms in, held, deadline 300ms): %v after %v; want a deadline error saying its reply was read and held (written, phase read)", b.err, b.el.Round(time.Millisecond))
	} else if b.el > 350*time.Millisecond {
		t.Fatalf("B left after %v, deadline 300ms", b.el)
	}
	if cr := <-cDone; cr.err != nil || cr.v != "c" {
		t.Fatalf("C: %q, %v after %v", cr.v, cr.err, cr.el)
	}
	if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", "next"); err != nil || string(v.Str) != "next" {
		t.Fatalf("next caller: %q, %v", v.Str, err)
	}
}
