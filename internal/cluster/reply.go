package cluster

import (
	"github.com/redline-go/redline/resp"
)

// Reply is the outcome of one command: the server's reply, or the call's error. The
// root package's Result has the same layout (see redline.resultsOf).
type Reply struct {
	val  resp.Value
	err  error
	elem bool // val is an element of a larger reply: its string may share that reply's array
}

// Value returns the reply as read (its Err set for a server's error reply).
func (r Reply) Value() resp.Value { return r.val }

// CallErr returns the call's own error (transport, deadline, refusal), not the server's.
func (r Reply) CallErr() error { return r.err }

// Elem reports whether the reply is an element of a larger reply.
func (r Reply) Elem() bool { return r.elem }

// Err returns the call's error, else the server's error reply, else nil.
func (r Reply) Err() error {
	if r.err != nil {
		return r.err
	}
	if r.val.Err != nil {
		return r.val.Err
	}
	return nil
}

// ErrorReply returns the Reply of a call that failed with err.
func ErrorReply(err error) Reply { return Reply{err: err} }
