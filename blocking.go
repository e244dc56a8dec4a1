package redline

import (
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/node"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// Blocking commands that take what they return (a list or sorted-set element, stream
// entries for a consumer group) lose it if the server hands it over after the caller
// has left at its deadline. So when such a command is still waiting shortly before the
// deadline, the client ends the wait on the server (CLIENT UNBLOCK, from the node's
// shared connection): the server then answers at once, either with what it took just
// before, or with nothing. Either answer reaches the client before the deadline; with
// nothing, the call then ends at its deadline with a deadline error whose cause says
// nothing was taken (SafeToRetry).

// unblockable are the blocking commands ended this way; the others (WAIT, XREAD without
// a group…) take nothing, and leaving them is harmless.
var unblockable = map[string]bool{
	"blpop": true, "brpop": true, "brpoplpush": true, "blmove": true, "blmpop": true,
	"bzpopmin": true, "bzpopmax": true, "bzmpop": true, "xread": true, "xreadgroup": true,
}

// unblockLead is how long before the deadline a waiting command is ended on the server,
// at least: the node's measured round trip is added four times over.
const unblockLead = 20 * time.Millisecond

// errUnblocked is the cause of a deadline error for a blocking command that the client
// ended on the server before the deadline: nothing was taken.
var errUnblocked = errors.New("still waiting at the deadline; ended on the server first (CLIENT UNBLOCK), nothing was taken")

// execUnblocking runs a blocking command on the dedicated connection cn of node n and,
// for the commands that take what they return, ends its wait on the server before the
// caller's deadline. reuse reports whether cn is clean (its reply was read) and may go
// back to the pool.
func (c *Client) execUnblocking(w *conn.Waiter, n *node.Node, cn *conn.Conn, block time.Duration, args []any) (v resp.Value, reuse bool, err error) {
	dl, ok := w.Deadline()
	id, hasID := helloInt(cn.Hello(), "id") // RESP3 only; RESP2 connections leave at the deadline
	if !ok || !hasID || !unblockable[strings.ToLower(argString(args[0]))] {
		v, err = cn.Exec(w, block, args)
		return v, err == nil, err
	}
	start := time.Now()
	var ended atomic.Bool
	done := make(chan struct{})
	wctx := w.Ctx() // the closure must not capture w: the caller's waiter stays on its stack
	timer := time.AfterFunc(max(0, time.Until(dl)-unblockLead-4*n.Latency()), func() {
		defer close(done)
		uw := conn.NewWaiter(wctx, dl)
		defer uw.Release()
		r, err := n.Exec(&uw, []any{"CLIENT", "UNBLOCK", id})
		ended.Store(err == nil && r.Err == nil && r.Int == 1)
	})
	v, err = cn.Exec(w, block, args)
	if !timer.Stop() {
		<-done // the UNBLOCK was sent: its answer says whether the reply is ours to explain
	}
	if err == nil && ended.Load() && v.IsNull() {
		// Nothing was taken; the call still ends at its deadline, as documented. (A timer
		// of its own: the waiter's may already have fired and been consumed.)
		if d := time.Until(dl); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-w.Ctx().Done():
			}
			t.Stop()
		}
		return resp.Value{}, true, rerr.Deadline(w.Ctx(), time.Since(start),
			&rerr.NodeError{Addr: n.Addr(), Phase: rerr.PhaseRead, Err: errUnblocked})
	}
	return v, err == nil, err
}

// helloInt returns the integer field key of a HELLO reply (a map), if present.
func helloInt(hello resp.Value, key string) (int64, bool) {
	for i := 0; i+1 < len(hello.Elems); i += 2 {
		if string(hello.Elems[i].Str) == key && hello.Elems[i+1].Type == resp.TypeInteger {
			return hello.Elems[i+1].Int, true
		}
	}
	return 0, false
}
