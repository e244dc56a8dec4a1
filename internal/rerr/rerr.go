// Package rerr defines the errors every layer of redline returns. The root package
// re-exports them (redline.NodeError, redline.DeadlineError, …); they live here so the
// lower layers, which cannot import the root, produce the same types.
package rerr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redline-go/redline/resp"
)

// Phase names the step of talking to a node in which a failure happened.
type Phase string

// The phases, in the order a connection goes through them.
const (
	PhaseDial      Phase = "dial"      // TCP connect
	PhaseTLS       Phase = "tls"       // TLS handshake
	PhaseHandshake Phase = "handshake" // HELLO / AUTH / CLIENT SETNAME / READONLY
	PhaseWrite     Phase = "write"     // sending a command
	PhaseRead      Phase = "read"      // waiting for or reading a reply
	PhaseRedirect  Phase = "redirect"  // a MOVED / ASK not followed before the deadline
)

// NodeError is a failure talking to one node: which node, in which phase, and the
// underlying cause (for a TLS failure, the x509 error). errors.Is and errors.As see the
// cause through it.
type NodeError struct {
	Addr  string // the node's address, host:port
	Phase Phase
	Err   error // the cause; never nil
	// Written is true when the command may have reached the server (it was written,
	// or partly written), so it may have executed: not safe to send again blindly.
	Written bool
	// Down is true for a fast failure: the node is known to be down (its last
	// connection attempt failed), so this call was not attempted and Err is the cause
	// of that last failure.
	Down bool
	// Since is when the node went down (with Down); RetryAt is when the next
	// connection attempt is due (zero: not scheduled).
	Since, RetryAt time.Time
	// DownFor and RetryIn are the same, measured when the error was made (see
	// MarkDown): Error renders them, so an error logged later still says how long the
	// node had been down when the call failed. RetryIn ≤ 0 means an attempt was due.
	DownFor, RetryIn time.Duration
}

// MarkDown makes e a fast failure on a node down since since, whose next connection
// attempt is due at retryAt (zero: not scheduled), as seen at now: Down is set, Written
// cleared, and what Error renders is measured now, once.
func (e *NodeError) MarkDown(since, retryAt, now time.Time) {
	e.Down, e.Written = true, false
	e.Since, e.RetryAt = since, retryAt
	e.DownFor, e.RetryIn = now.Sub(since), 0
	if !retryAt.IsZero() {
		e.RetryIn = retryAt.Sub(now)
	}
}

// Error returns e.g. "redline: 10.0.0.3:6380 tls: x509: certificate signed by unknown
// authority (node down for 1.2s, next attempt in 400ms)"; the durations are those
// measured when the error was made (DownFor, RetryIn), not when it is printed.
func (e *NodeError) Error() string {
	var b strings.Builder
	b.WriteString("redline: ")
	e.writeTo(&b)
	return b.String()
}

// writeTo writes the error without the "redline: " prefix.
func (e *NodeError) writeTo(b *strings.Builder) {
	b.WriteString(e.Addr)
	b.WriteByte(' ')
	b.WriteString(string(e.Phase))
	b.WriteString(": ")
	text := causeText(e.Err, e.Addr)
	if e.Phase == PhaseTLS {
		// crypto/tls prefixes its errors with "tls: ", which the phase already says.
		text = strings.TrimPrefix(text, "tls: ")
	}
	b.WriteString(text)
	if e.Down {
		fmt.Fprintf(b, " (node down for %v", e.DownFor.Round(time.Millisecond))
		if !e.RetryAt.IsZero() {
			if d := e.RetryIn; d > 0 {
				fmt.Fprintf(b, ", next attempt in %v", d.Round(time.Millisecond))
			} else {
				b.WriteString(", reconnecting")
			}
		}
		b.WriteByte(')')
	}
}

// Unwrap returns the cause.
func (e *NodeError) Unwrap() error { return e.Err }

// Timeout reports whether the cause is a timeout.
func (e *NodeError) Timeout() bool { return IsTimeout(e.Err) }

// SafeToRetry reports whether the command certainly did not reach the server, so
// sending it again cannot execute it twice.
func (e *NodeError) SafeToRetry() bool { return !e.Written }

// causeText shortens the texts of causes that repeat the address the NodeError
// already names: net errors ("dial tcp 127.0.0.1:1->127.0.0.1:2: connect: connection
// refused" becomes "connect: connection refused") and the error reply of the node
// itself (its message, without "(from addr)").
func causeText(err error, addr string) string {
	switch e := err.(type) {
	case nil:
		return "<nil>"
	case *net.OpError:
		if e.Err != nil {
			return e.Err.Error()
		}
	case *resp.Error:
		if e.From == addr {
			return e.Msg
		}
	}
	return err.Error()
}

// DeadlineError is returned when a call's deadline (or cancellation) ends it. It
// satisfies errors.Is(err, context.DeadlineExceeded) (or context.Canceled), and when
// the call was waiting on a node, errors.As(err, **NodeError) yields what it was
// waiting for and the node's last cause.
type DeadlineError struct {
	Cause   error         // context.DeadlineExceeded or context.Canceled (or the context's cause)
	Elapsed time.Duration // how long the call ran
	Node    *NodeError    // the node the call was waiting on, or nil
}

// Error returns e.g. "redline: deadline exceeded after 100ms; 10.0.0.3:6380 read: no
// reply yet (request written 100ms ago)".
func (e *DeadlineError) Error() string {
	var b strings.Builder
	b.WriteString("redline: ")
	switch {
	case errors.Is(e.Cause, context.DeadlineExceeded):
		b.WriteString("deadline exceeded")
	case errors.Is(e.Cause, context.Canceled):
		b.WriteString("canceled")
	default:
		b.WriteString(e.Cause.Error())
	}
	fmt.Fprintf(&b, " after %v", e.Elapsed.Round(100*time.Microsecond))
	if e.Node != nil {
		b.WriteString("; ")
		e.Node.writeTo(&b)
	}
	return b.String()
}

// Unwrap returns the context's error and, when set, the node error.
func (e *DeadlineError) Unwrap() []error {
	if e.Node == nil {
		return []error{e.Cause}
	}
	return []error{e.Cause, e.Node}
}

// Timeout reports whether the deadline (not a cancellation) ended the call.
func (e *DeadlineError) Timeout() bool { return errors.Is(e.Cause, context.DeadlineExceeded) }

// SafeToRetry reports whether the command certainly did not reach the server.
func (e *DeadlineError) SafeToRetry() bool { return e.Node == nil || e.Node.SafeToRetry() }

// Deadline builds the error for a call whose context ended after elapsed, while it
// was waiting on node (nil when it was not waiting on a node).
func Deadline(ctx context.Context, elapsed time.Duration, node *NodeError) *DeadlineError {
	cause := context.Cause(ctx)
	if cause == nil {
		cause = context.DeadlineExceeded
	}
	return &DeadlineError{Cause: cause, Elapsed: elapsed, Node: node}
}

// ErrClosed is returned for calls on a closed client, node or connection.
var ErrClosed = errors.New("redline: closed")

// ErrTxFailed is a transaction's error when a watched key changed: EXEC answered nil.
var ErrTxFailed = errors.New("redline: transaction aborted: a watched key changed")

// SafeToRetry reports whether err means the command certainly did not reach any
// server (see redline.SafeToRetry).
func SafeToRetry(err error) bool {
	var s interface{ SafeToRetry() bool }
	if errors.As(err, &s) {
		return s.SafeToRetry()
	}
	return false
}

// ErrNoReply is the cause in a NodeError when a reply did not come in time: the
// request was written, and the connection is waiting for its reply.
var ErrNoReply = errors.New("no reply yet")

// ErrConnecting is the cause in a NodeError when a call ended while the node's first
// connection attempt was still in progress.
var ErrConnecting = errors.New("connection attempt in progress")

// IsTimeout reports whether err is (or wraps) a timeout: a net.Error with Timeout(),
// context.DeadlineExceeded, or an error with a Timeout() bool method returning true.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// MayHaveExecuted reports whether a failed command may have run on a server (see
// redline.MayHaveExecuted): an error that answers it itself (a split command's
// *SplitError, part by part) decides; otherwise it is a NodeError whose request was
// written.
func MayHaveExecuted(err error) bool {
	var m interface{ MayHaveExecuted() bool }
	if errors.As(err, &m) {
		return m.MayHaveExecuted()
	}
	var ne *NodeError
	return errors.As(err, &ne) && ne.Written
}
