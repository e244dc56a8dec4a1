package redline

import (
	"errors"
	"fmt"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// NodeError is a failure talking to one node: its address, the phase (dial, tls,
// handshake, write, read, redirect) and the underlying cause — for a rejected
// certificate, the x509 error itself. Get it with errors.As(err, &nodeErr).
//
// Written reports whether the command may have reached the server; Down marks a fast
// failure on a node known to be down (the call was not attempted and Err is the cause
// of the node's last failure).
type NodeError = rerr.NodeError

// DeadlineError ends a call whose context deadline passed (or that was canceled). It
// satisfies errors.Is(err, context.DeadlineExceeded) — or context.Canceled — and, when
// the call was waiting on a node, errors.As(err, &nodeErr) yields the node, what the
// call was waiting for and the node's last cause. Its message says all of it, e.g.
// "redline: deadline exceeded after 100ms; 10.0.0.3:6380 read: no reply yet".
type DeadlineError = rerr.DeadlineError

// Phase names a step of talking to a node.
type Phase = rerr.Phase

// The phases a NodeError can name.
const (
	PhaseDial      = rerr.PhaseDial
	PhaseTLS       = rerr.PhaseTLS
	PhaseHandshake = rerr.PhaseHandshake
	PhaseWrite     = rerr.PhaseWrite
	PhaseRead      = rerr.PhaseRead
	PhaseRedirect  = rerr.PhaseRedirect
)

// RedisError is an error reply from a server (WRONGTYPE, NOSCRIPT, …), parsed once.
// Get it with errors.As. Its fields: Code, the message's first word when it is an
// upper-case identifier ("WRONGTYPE"); Msg, the message as sent; Slot and Addr, the
// slot and target of a MOVED or ASK redirection (-1 and "" otherwise); From, the
// address of the node that sent the reply. Its text is Msg followed by
// "(from host:port)" when From is known.
type RedisError = resp.Error

// CrossSlotError is returned, without contacting the cluster, for a command whose
// keys hash to different slots and that redline cannot split.
type CrossSlotError struct {
	Command string    // the command (lower case): its name, or watch/multi for a transaction
	Keys    [2]string // two keys in different slots
	Slots   [2]int
}

// Error names the keys, their slots and the fix.
func (e *CrossSlotError) Error() string {
	return fmt.Sprintf("redline: %s: keys %q (slot %d) and %q (slot %d) are in different slots; use a {hash tag} to keep them together",
		e.Command, e.Keys[0], e.Slots[0], e.Keys[1], e.Slots[1])
}

// ErrClosed is returned by calls on a closed client.
var ErrClosed = rerr.ErrClosed

// SafeToRetry reports whether err means the command certainly did not reach any
// server, so sending it again cannot execute it twice. Server error replies other
// than redirects and "try again later" answers are not retryable at all; this is
// about transport failures.
func SafeToRetry(err error) bool {
	var s interface{ SafeToRetry() bool }
	if errors.As(err, &s) {
		return s.SafeToRetry()
	}
	return false
}

// MayHaveExecuted reports whether a failed command may have run on the server: its
// reply was lost after it was written. Such a write is reported, never silently sent
// again.
func MayHaveExecuted(err error) bool {
	var ne *NodeError
	return errors.As(err, &ne) && ne.Written
}
