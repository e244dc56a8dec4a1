package redline

import (
	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// NodeError is a failure talking to one node: its address, the phase and the
// underlying cause — for a rejected certificate, the x509 error itself. Get it with
// errors.As(err, &nodeErr); errors.Is and errors.As see the cause through it.
//
// Its fields (NodeError is an alias of an internal type; they are listed here):
//
//	Addr    string    // the node's address, host:port
//	Phase   Phase     // where it failed: PhaseDial … PhaseRedirect (see Phase)
//	Err     error     // the cause, never nil: a net, TLS or context error, the
//	                  // node's error reply (*RedisError) during the handshake, or
//	                  // "no reply yet" for a written request still unanswered
//	Written bool      // the command may have reached the server (written, or
//	                  // partly): it may have executed, see MayHaveExecuted
//	Down    bool      // a fast failure: the node is known to be down (its last
//	                  // connection attempt failed), the call was not attempted
//	                  // and Err is the cause of that last failure
//	Since, RetryAt    time.Time     // with Down: when the node went down, and when
//	                                // its next connection attempt is due (zero:
//	                                // not scheduled)
//	DownFor, RetryIn  time.Duration // the same, measured when the error was made
//	                                // (RetryIn ≤ 0: an attempt was due)
//
// Its methods: Error, e.g. "redline: 10.0.0.3:6380 tls: x509: certificate signed by
// unknown authority (node down for 1.2s, next attempt in 400ms)" — the durations are
// those measured when the error was made, not when it is printed; Unwrap, the cause;
// Timeout, whether the cause is a timeout; SafeToRetry, !Written; and MarkDown, used
// by the client to make a fast failure (not meant for callers).
type NodeError = rerr.NodeError

// DeadlineError ends a call whose context deadline passed (or that was canceled), or
// whose Options.CommandTimeout passed. It satisfies errors.Is(err,
// context.DeadlineExceeded) — or context.Canceled — and, when the call was waiting on a
// node, errors.As(err, &nodeErr) yields the node, what the call was waiting for and the
// node's last cause. Its message says all of it, e.g.
// "redline: deadline exceeded after 100ms; 10.0.0.3:6380 read: no reply yet".
//
// Its fields (DeadlineError is an alias of an internal type; they are listed here):
//
//	Cause   error         // context.DeadlineExceeded or context.Canceled (or the
//	                      // context's cause, see context.WithDeadlineCause)
//	Elapsed time.Duration // how long the call ran
//	Node    *NodeError    // what the call was waiting on, or nil when it was not
//	                      // waiting on a node
//
// Its methods: Error; Unwrap, which returns Cause and, when set, Node; Timeout, true
// for a deadline (not a cancellation); SafeToRetry, true when Node is nil or was not
// written to.
type DeadlineError = rerr.DeadlineError

// Phase names the step of talking to a node in which a failure happened (a string:
// "dial", "tls", "handshake", "write", "read", "redirect").
type Phase = rerr.Phase

// The phases a NodeError can name, in the order a call goes through them. A call
// that ends while the node's connection attempt is in progress names the attempt's
// phase (dial, tls or handshake), with the cause "connection attempt in progress".
const (
	// PhaseDial: the TCP connection (refused, unreachable, timed out).
	PhaseDial Phase = rerr.PhaseDial
	// PhaseTLS: the TLS handshake (Err is the crypto/tls or x509 error).
	PhaseTLS Phase = rerr.PhaseTLS
	// PhaseHandshake: HELLO, AUTH, CLIENT SETNAME or READONLY on a new connection
	// (Err is often the server's *RedisError: WRONGPASS, NOPERM…).
	PhaseHandshake Phase = rerr.PhaseHandshake
	// PhaseWrite: sending the command (Written says whether any of it left).
	PhaseWrite Phase = rerr.PhaseWrite
	// PhaseRead: waiting for or reading the reply (the connection broke, or the
	// reply is overdue), or a retry not made because the deadline came first (Err
	// then says "not retried" and wraps the server's last answer).
	PhaseRead Phase = rerr.PhaseRead
	// PhaseRedirect: the deadline passed after a node answered MOVED or ASK and before
	// the redirection was followed; Addr is the node it pointed to and Err says "not
	// followed" and wraps the redirection. (A redirection the attempts ran out on is
	// returned as the *RedisError itself.)
	PhaseRedirect Phase = rerr.PhaseRedirect
)

// RedisError is an error reply from a server (WRONGTYPE, NOSCRIPT, …), parsed once.
// Get it with errors.As. Its fields: Code, the message's first word when it is an
// upper-case identifier ("WRONGTYPE"); Msg, the message as sent; Slot and Addr, the
// slot and target of a MOVED or ASK redirection (-1 and "" otherwise); From, the
// address of the node that sent the reply. Its text is Msg followed by
// "(from host:port)" when From is known.
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
// again. For a split command (*SplitError) it is true when any part succeeded or may
// have run; each part answers for itself too (SplitPart.MayHaveExecuted).
func MayHaveExecuted(err error) bool { return rerr.MayHaveExecuted(err) }

// CrossSlotError is returned, without contacting the cluster, for a command whose keys
// hash to different slots and that redline cannot split (MGET, MSET, DEL, UNLINK,
// EXISTS and TOUCH are split, unless Options.Split says not to), and for a transaction
// whose keys are in different slots. Command is the command's name in lower case
// (watch or multi for a transaction), Keys two keys in different slots and Slots their
// slots. Keep keys that must go together in one slot with a {hash tag}.
type CrossSlotError = cluster.CrossSlotError

// SplitError is the error of a command split by slot — MGET, MSET, DEL, UNLINK, EXISTS
// or TOUCH whose keys span several slots, sent as one command per slot in parallel —
// when one or more of its parts failed. Each part is atomic on its own and the others
// ran as if alone: a failed MSET may have set some of its keys. The error says which:
// part by part, the keys that were applied, the keys that were not, and those whose
// reply was lost (they may have been applied). errors.Is and errors.As reach the
// failed parts' errors (a *RedisError such as NOPERM, a *NodeError, a
// *DeadlineError…), also when every part failed. Options.Split keeps such commands
// whole (atomic, or *CrossSlotError) for callers that rely on their atomicity.
//
// Its fields (SplitError is an alias of an internal type; they are listed here):
//
//	Command string      // the command's name in lower case ("mset")
//	Parts   []SplitPart // every part, failed or not, in the order their slots
//	                    // first appear in the command
//
// Its methods: Error, e.g. `redline: mset split by slot into 3 parts, 1 failed; not
// applied: "other:z" (slot 1859): NOPERM … (from 127.0.0.1:7001); applied: "app:a"
// (slot 16169), "app:b" (slot 3914)` (at most 4 parts of each outcome and 4 keys of
// each part are named); Unwrap, the failed parts' errors; AppliedKeys and FailedKeys,
// the keys of the parts that succeeded and failed; MayHaveExecuted, true when any
// part succeeded or may have run (what redline.MayHaveExecuted answers); SafeToRetry,
// true only when every part failed without reaching a server.
type SplitError = cluster.SplitError

// SplitPart is one slot's part of a split command and its outcome (see SplitError).
//
// Its fields (SplitPart is an alias of an internal type; they are listed here):
//
//	Slot  int
//	Keys  []string   // the part's keys, in the command's order
//	Err   error      // nil: the part succeeded (for a write: it was applied)
//	Reply resp.Value // the part's reply when it succeeded: DEL's count of the
//	                 // part's keys deleted, MGET's values of the part's keys…
//
// Its methods: MayHaveExecuted, true when the part succeeded or its reply was lost
// after it was written; SafeToRetry, true when it failed without reaching a server.
type SplitPart = cluster.SplitPart

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

// FanoutError is the error of a command sent to several nodes (FLUSHALL, SCRIPT LOAD,
// WAIT…) that failed on one node — it refused connections, timed out… — while others
// ran it, or may have: Err is that node's failure (errors.As reaches its *NodeError),
// Ran of Nodes the nodes that ran the command. SafeToRetry is false and
// MayHaveExecuted true, whatever the failed node's own error says.
type FanoutError = cluster.FanoutError
