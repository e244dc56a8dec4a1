package redline

import (
	"errors"

	"github.com/redline-go/redline/internal/cluster"
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
// Get it with errors.As.
type RedisError = resp.Error

// ErrClosed is returned by calls on a closed client.
var ErrClosed = rerr.ErrClosed

// SafeToRetry reports whether err means the command certainly did not reach any
// server, so sending it again cannot execute it twice. Server error replies other
// than redirects and "try again later" answers are not retryable at all; this is
// about transport failures.
func SafeToRetry(err error) bool { return rerr.SafeToRetry(err) }

// MayHaveExecuted reports whether a failed command may have run on the server: its
// reply was lost after it was written. Such a write is reported, never silently sent
// again.
func MayHaveExecuted(err error) bool {
	var ne *NodeError
	return errors.As(err, &ne) && ne.Written
}

// CrossSlotError is returned, without contacting the cluster, for a command whose keys
// hash to different slots and that redline cannot split (MGET, MSET, DEL, UNLINK,
// EXISTS and TOUCH are split), and for a transaction whose keys are in different
// slots. Command is the command's name, Keys two keys in different slots and Slots
// their slots. Keep keys that must go together in one slot with a {hash tag}.
type CrossSlotError = cluster.CrossSlotError

// ConnStateError is returned, without sending anything, for a command that would
// change the state of the connection it is sent on (MULTI, SUBSCRIBE, HELLO, SELECT,
// CLIENT REPLY, …; the package documentation has the table). redline shares one
// connection per node between all callers, so such a command would change what other
// callers' replies mean. Command is the command (upper case, with its subcommand:
// "CLIENT REPLY"); Use names the API that does what the command is for.
type ConnStateError = cluster.ConnStateError

// TxNotRunError is returned for the commands of a transaction sent in DoMulti after a
// WATCH that was not answered OK (during a migration, say): nothing of the transaction
// ran. Watch is the WATCH's error; errors.Is/As reach it through Unwrap. SafeToRetry
// is true.
type TxNotRunError = cluster.TxNotRunError
