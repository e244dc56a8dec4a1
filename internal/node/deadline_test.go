package node

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
)

// lateWaker is a context whose deadline passes but whose Done channel the caller is
// not woken by: what a caller sees when it is scheduled only after a failed attempt
// has ended, with its own deadline already gone.
type lateWaker struct{ context.Context }

func (lateWaker) Done() <-chan struct{} { return nil }

// TestDialTimeoutAtCallerDeadline: a connection attempt that gives up (its own timeout)
// as its caller's deadline passes still ends the call with a deadline error (errors.Is
// context.DeadlineExceeded), the dial's cause attached — never a bare NodeError that
// hides that the caller's time ran out.
func TestDialTimeoutAtCallerDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	dial := func(context.Context, string, string) (net.Conn, error) {
		time.Sleep(time.Until(dl) + time.Millisecond) // the attempt's timeout, just after the caller's
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}
	n := New("127.0.0.1:1", Options{DialTimeout: time.Second, Conn: conn.Options{DialContext: dial}})
	defer n.Close()
	_, err := n.Do(lateWaker{ctx}, "PING")
	var ne *rerr.NodeError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || ne.Phase != rerr.PhaseDial || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v (%T), want a deadline error naming the dial and its cause", err, err)
	}
}
