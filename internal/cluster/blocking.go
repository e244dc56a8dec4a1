package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// A blocking command runs on a dedicated connection, so it holds up nobody else, for
// as long as the caller's context allows (see blockwait.go for its deadline). While it
// waits, three things can end it early, each watched by one goroutine per call:
//
//   - The deadline. Blocking commands that take what they return (a list or sorted-set
//     element, stream entries for a consumer group) would lose it if the server handed
//     it over after the caller had left. So when such a command is still waiting
//     shortly before the deadline, the client ends the wait on the server (CLIENT
//     UNBLOCK, from the node's shared connection): the server then answers at once,
//     either with what it took just before, or with nothing. Either answer reaches the
//     client before the deadline; with nothing, the call then ends at its deadline with
//     a deadline error whose cause says nothing was taken (SafeToRetry). An UNBLOCK that
//     finds nothing to end while no answer has come (it overtook the command on its way
//     to the server) is sent again, so the command cannot start waiting after it.
//   - A cancellation. The same, at once: the call returns within a round trip or two,
//     with what was taken (the caller's, even though it canceled) or with a
//     cancellation error saying nothing was taken.
//   - The node's health. The command's own connection cannot be asked while the server
//     holds it, so the node's shared connection is checked every ReplyTimeout (a PING
//     unless it carried a reply meanwhile); a node that does not answer within
//     ReplyTimeout (stopped, hung, unreachable) ends the call, two to three
//     ReplyTimeouts after it stopped, with an error that says so. A connection that
//     breaks (a killed server) ends it at once. Close ends it at once too.

// unblockable are the blocking commands ended this way; the others (WAIT…) take
// nothing, and leaving them is harmless: their connection is closed instead.
var unblockable = map[string]bool{
	"blpop": true, "brpop": true, "brpoplpush": true, "blmove": true, "blmpop": true,
	"bzpopmin": true, "bzpopmax": true, "bzmpop": true, "xread": true, "xreadgroup": true,
}

// unblockLead is how long before the deadline a waiting command is ended on the server,
// at least: the node's round-trip floor is added four times over, up to maxRTTLead.
// Bounded: a slow network path must not cut every wait short by seconds.
const (
	unblockLead = 20 * time.Millisecond
	maxRTTLead  = 200 * time.Millisecond
)

// unblockRetry is the first pause before an UNBLOCK that found nothing to end is sent
// again (doubling up to 8 times that).
const unblockRetry = 500 * time.Microsecond

var (
	// errUnblocked is the cause of a deadline error for a blocking command that the
	// client ended on the server before the deadline: nothing was taken.
	errUnblocked = errors.New("still waiting at the deadline; ended on the server first (CLIENT UNBLOCK), nothing was taken")
	// errUnblockedCancel is the same for a call whose context was canceled.
	errUnblockedCancel = errors.New("canceled while waiting; ended on the server (CLIENT UNBLOCK), nothing was taken")
)

// execBlocking runs a blocking command (BLPOP, XREAD BLOCK, WAIT, …) on a dedicated
// connection of n; with asking, ASKING goes first on that same connection (an ASK
// redirect: the slot is being imported there). Getting the connection (and, on a
// RESP2 connection's first use, its client ID) is bounded by CommandTimeout as well as
// by the caller's deadline; the wait itself only by the caller's deadline.
func (c *Engine) execBlocking(w *conn.Waiter, n Node, args []any, bw blockWait, asking bool) (resp.Value, error) {
	ctx := w.Ctx()
	dl, hasDL := w.Deadline()
	setup := time.Now().Add(c.cfg.CommandTimeout)
	if hasDL && dl.Before(setup) {
		setup = dl
	}
	sctx, cancel := context.WithDeadline(ctx, setup)
	defer cancel()
	own, err := resp.CloneArgs(args) // the watch's goroutine sees them: the caller's stay on its stack
	if err != nil {
		return resp.Value{}, err
	}
	cn, err := n.Dedicated(sctx)
	if err != nil {
		return resp.Value{}, err
	}
	b := blockCall{c: c, n: n, cn: cn, ctx: ctx, dl: dl, hasDL: hasDL, bw: bw, asking: asking, args: own}
	if bw.unblock && hasDL && time.Until(dl) < b.lead() {
		// Too short a wait to be ended safely on the server: an UNBLOCK sent now could
		// overtake the command and find nothing to end.
		v, reuse, err := b.poll()
		n.Release(cn, reuse)
		return v, err
	}
	if bw.unblock && (hasDL || ctx.Done() != nil) {
		sw := conn.NewWaiter(sctx, time.Time{})
		b.id, err = connClientID(cn, &sw) // RESP3: from HELLO; RESP2: asked once per connection
		sw.Release()
		if err != nil && (cn.Err() != nil || sctx.Err() != nil) {
			n.Release(cn, false)
			return resp.Value{}, err
		} // else the server refused CLIENT ID (ACL): the call leaves at its deadline unprotected
	}
	v, reuse, err := b.run()
	n.Release(cn, reuse)
	return v, err
}

// blockCall is one blocking command waiting on a dedicated connection. It holds the
// caller's context and deadline, never its Waiter (which stays on the caller's stack).
type blockCall struct {
	c      *Engine
	n      Node
	cn     Conn
	ctx    context.Context
	dl     time.Time
	hasDL  bool
	bw     blockWait
	id     int64 // the connection's client ID for CLIENT UNBLOCK; 0: none
	asking bool  // ASKING goes first
	args   []any
}

// watchEnd is what the watch did, reported when the command's answer came or the
// watch gave it up.
type watchEnd struct {
	ended    bool  // an UNBLOCK ended the wait on the server: a nil answer means nothing was taken
	canceled bool  // the UNBLOCK was for a cancellation, not the deadline
	left     error // the watch abandoned the command: why (the caller's end, or the node's health)
	health   bool  // left because the node stopped answering
	closed   bool  // left because the client was closed
	stale    bool  // an UNBLOCK was given up in flight: it may still end a later command on the connection
}

// run sends the command and waits for its answer while the watch looks after the
// deadline, cancellation and the node's health. reuse reports whether the connection
// is clean (its answer was read) and may go back to the pool.
func (b *blockCall) run() (v resp.Value, reuse bool, err error) {
	start := time.Now()
	// The command waits under a context that only the watch ends: the caller's end is
	// handled there, so that a command still waiting on the server is ended there first.
	ictx, icancel := context.WithCancel(context.WithoutCancel(b.ctx))
	defer icancel()
	done := make(chan struct{})
	ends := make(chan watchEnd, 1)
	go func() { ends <- b.watch(done, icancel) }()
	iw := conn.NewWaiter(ictx, time.Time{})
	v, err = b.send(&iw, b.bw.block(), b.args)
	iw.Release()
	close(done)
	we := <-ends

	switch {
	case err == nil && !(we.ended && v.IsNull()):
		// The command's own answer (what it took, nil at the server's timeout, WAIT's
		// count): the caller's, even if its context ended meanwhile.
		return v, !we.stale, nil
	case err == nil && we.canceled:
		return resp.Value{}, !we.stale, rerr.Deadline(b.ctx, time.Since(start),
			&rerr.NodeError{Addr: b.n.Addr(), Phase: rerr.PhaseRead, Err: errUnblockedCancel})
	case err == nil:
		// Nothing was taken; the call still ends at its deadline, as documented.
		if d := time.Until(b.dl); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-b.ctx.Done():
			}
			t.Stop()
		}
		return resp.Value{}, !we.stale, rerr.Deadline(b.ctx, time.Since(start),
			&rerr.NodeError{Addr: b.n.Addr(), Phase: rerr.PhaseRead, Err: errUnblocked})
	case we.closed:
		return resp.Value{}, false, &rerr.NodeError{Addr: b.n.Addr(), Phase: rerr.PhaseRead, Written: true,
			Err: fmt.Errorf("client closed while %s waited; the command was abandoned and may have taken what it waited for: %w", b.name(), rerr.ErrClosed)}
	case we.health:
		return resp.Value{}, false, &rerr.NodeError{Addr: b.n.Addr(), Phase: rerr.PhaseRead, Written: true,
			Err: fmt.Errorf("%s waited on a node that stopped answering (health check on its shared connection: %w); the command was abandoned and may have taken what it waited for", b.name(), we.left)}
	case we.left != nil:
		return resp.Value{}, false, rerr.Deadline(b.ctx, time.Since(start),
			&rerr.NodeError{Addr: b.n.Addr(), Phase: rerr.PhaseRead, Written: we.left != errUnblocked && we.left != errLeftWaiting, Err: we.left})
	}
	var ne *rerr.NodeError
	if errors.As(err, &ne) { // the connection broke while the server held the command
		cp := *ne
		cp.Err = fmt.Errorf("connection lost while %s waited: %w", b.name(), ne.Err)
		return resp.Value{}, false, &cp
	}
	return resp.Value{}, false, err
}

// send writes the command (after ASKING, with asking) and waits for its answer; the
// connection's health limit is extended by block.
func (b *blockCall) send(w *conn.Waiter, block time.Duration, args []any) (resp.Value, error) {
	var pre []any
	switch {
	case b.asking:
		pre = []any{"ASKING"}
	case b.bw.ping: // WAIT: see blockwait.go
		pre = []any{"PING"}
	default:
		return ConnExec(b.cn, w, block, args)
	}
	vs, err := ConnExecMulti(b.cn, w, block, [][]any{pre, args})
	if err != nil {
		return resp.Value{}, err
	}
	if vs[0].Err != nil {
		return vs[0], nil
	}
	return vs[1], nil
}

// pollEvery is the pause between two polls of a wait too short to block on the server.
const pollEvery = time.Millisecond

// errPolled is the cause of the deadline error of a polled wait that found nothing.
var (
	errPolled       = errors.New("nothing to take before the deadline (a wait shorter than the client's unblock lead is polled without blocking on the server), nothing was taken")
	errPolledCancel = errors.New("canceled while polling (a wait shorter than the client's unblock lead does not block on the server), nothing was taken")
)

// poll runs the command inside MULTI/EXEC, where the server does not block it: it takes
// what is there or answers nothing at once. It polls every pollEvery until the deadline
// is too near for another answer to come back in time, then ends at the deadline with a
// deadline error that says nothing was taken. A poll in flight is waited for (up to the
// deadline), even when the context is canceled: what it takes is the caller's.
func (b *blockCall) poll() (resp.Value, bool, error) {
	start := time.Now()
	wctx := context.WithoutCancel(b.ctx)
	cmds := make([][]any, 0, 4)
	if b.asking {
		cmds = append(cmds, []any{"ASKING"})
	}
	cmds = append(cmds, []any{"MULTI"}, b.args, []any{"EXEC"})
	margin := pollEvery + 4*b.n.RTT()
	for {
		w := conn.NewWaiter(wctx, b.dl)
		vs, err := ConnExecMulti(b.cn, &w, 0, cmds)
		w.Release()
		if err != nil {
			var de *rerr.DeadlineError
			if errors.As(err, &de) { // the deadline is the caller's, not the one of wctx
				de.Cause = context.Cause(b.ctx)
				if de.Cause == nil {
					de.Cause = context.DeadlineExceeded
				}
				de.Elapsed = time.Since(start)
			}
			return resp.Value{}, false, err
		}
		if v := execReply(vs); v.Err != nil || !v.IsNull() {
			return v, true, nil
		}
		cause := errPolled
		if b.ctx.Err() == nil && time.Until(b.dl) > margin+pollEvery { // time for one more
			t := time.NewTimer(pollEvery)
			select {
			case <-t.C:
				continue
			case <-b.ctx.Done():
				t.Stop()
			}
		} else if b.ctx.Err() == nil { // end at the deadline, as a wait would
			t := time.NewTimer(time.Until(b.dl))
			select {
			case <-t.C:
			case <-b.ctx.Done():
			}
			t.Stop()
		}
		if errors.Is(b.ctx.Err(), context.Canceled) {
			cause = errPolledCancel
		}
		return resp.Value{}, true, rerr.Deadline(b.ctx, time.Since(start),
			&rerr.NodeError{Addr: b.n.Addr(), Phase: rerr.PhaseRead, Err: cause})
	}
}

// execReply is the command's answer from the replies of [ASKING,] MULTI, command,
// EXEC: the first error among them (a redirect, say, which makes EXEC fail too), or
// the command's reply in EXEC's; nil when EXEC answered nil.
func execReply(vs []resp.Value) resp.Value {
	for _, v := range vs[:len(vs)-1] {
		if v.Err != nil {
			return v
		}
	}
	exec := vs[len(vs)-1]
	if exec.Err != nil {
		return exec
	}
	if len(exec.Elems) == 1 {
		return exec.Elems[0]
	}
	return resp.Value{Type: resp.TypeNull}
}

// leftErr is the cause when the call leaves the command waiting on the server (no
// CLIENT UNBLOCK possible): one that takes what it waits for may have taken it.
func (b *blockCall) leftErr() error {
	if b.bw.unblock {
		return rerr.ErrNoReply
	}
	return errLeftWaiting
}

// name is the command's name for errors.
func (b *blockCall) name() string { return strings.ToUpper(ArgString(b.args[0])) }

// lead is how long before the deadline the wait is ended on the server.
func (b *blockCall) lead() time.Duration {
	return unblockLead + min(4*b.n.RTT(), maxRTTLead)
}

// watch looks after a waiting command until done is closed (its answer came, or the
// connection broke) or it abandons the command (icancel).
func (b *blockCall) watch(done <-chan struct{}, icancel context.CancelFunc) watchEnd {
	wctx, wcancel := context.WithCancel(context.Background()) // the watch's own requests
	defer wcancel()
	var unblockAt, leaveAt <-chan time.Time
	if b.hasDL {
		if b.id != 0 {
			t := time.NewTimer(max(0, time.Until(b.dl)-b.lead()))
			defer t.Stop()
			unblockAt = t.C
		} else {
			t := time.NewTimer(time.Until(b.dl))
			defer t.Stop()
			leaveAt = t.C
		}
	}
	every := b.c.cfg.ReplyTimeout
	tick := time.NewTicker(every)
	defer tick.Stop()
	checked := make(chan error, 1)
	checking := false
	for {
		select {
		case <-done:
			return watchEnd{}
		case <-unblockAt:
			return b.unblock(wctx, done, icancel, b.dl, false)
		case <-b.ctx.Done():
			if b.id != 0 {
				cutoff := time.Now().Add(b.lead())
				if b.hasDL && b.dl.Before(cutoff) {
					cutoff = b.dl
				}
				return b.unblock(wctx, done, icancel, cutoff, true)
			}
			icancel()
			return watchEnd{left: b.leftErr()}
		case <-leaveAt:
			icancel()
			return watchEnd{left: b.leftErr()}
		case <-b.c.ctx.Done(): // Close: its nodes' connections are going
			icancel()
			return watchEnd{left: rerr.ErrClosed, closed: true}
		case <-tick.C:
			if !checking {
				checking = true
				go func() {
					w := conn.NewWaiter(wctx, time.Now().Add(every))
					defer w.Release()
					checked <- checkOn(b.n, &w, every)
				}()
			}
		case err := <-checked:
			checking = false
			if err != nil && wctx.Err() == nil {
				icancel()
				return watchEnd{left: err, health: true}
			}
		}
	}
}

// unblock ends the command's wait on the server and waits for its answer until
// cutoff; past it, the command is abandoned (it may have taken what it waited for:
// the server did not confirm the end in time).
func (b *blockCall) unblock(ctx context.Context, done <-chan struct{}, icancel context.CancelFunc, cutoff time.Time, canceled bool) watchEnd {
	end := watchEnd{canceled: canceled}
	give := time.NewTimer(time.Until(cutoff))
	defer give.Stop()
	pause := unblockRetry
	for {
		uw := conn.NewWaiter(ctx, cutoff)
		r, err := execOn(b.n, &uw, []any{"CLIENT", "UNBLOCK", b.id})
		uw.Release()
		if err == nil && r.Err == nil && r.Int == 1 {
			end.ended = true
			break
		}
		if err != nil || r.Err != nil {
			// The node cannot be asked: the answer may still come by the cutoff. An
			// UNBLOCK given up may still arrive: the connection is not to be reused.
			end.stale = err != nil
			break
		}
		// 0: nothing to end. Either the answer is on its way, or the command has not
		// reached the server yet (it would then start waiting after this UNBLOCK):
		// ask again, until the answer comes.
		t := time.NewTimer(pause)
		select {
		case <-done:
			t.Stop()
			return end
		case <-give.C:
			t.Stop()
			icancel()
			end.left = errNotEnded
			return end
		case <-t.C:
		}
		pause = min(2*pause, 8*unblockRetry)
	}
	select {
	case <-done:
	case <-give.C:
		icancel()
		end.left = errNotEnded
		if end.ended { // the server ended the wait; only its empty answer is late
			end.left = errUnblocked
		}
	}
	return end
}

// errLeftWaiting is the cause when a blocking command that takes nothing (WAIT,
// WAITAOF) is left waiting at its caller's deadline: its connection is closed, and
// running it again is harmless.
var errLeftWaiting = fmt.Errorf("%w: still waiting at the deadline; the command takes nothing and was left waiting (its connection is closed)", rerr.ErrNoReply)

// waitedAsAsked reports whether de ends a blocking command that waited until its
// caller's deadline (or cancellation) on a node that kept answering: ended on the
// server with nothing taken, polled without finding anything, or a command that takes
// nothing left waiting. Not a sign that the node is slow or gone (see doSlot).
func waitedAsAsked(de *rerr.DeadlineError) bool {
	if de.Node == nil {
		return false
	}
	switch de.Node.Err {
	case errUnblocked, errUnblockedCancel, errPolled, errPolledCancel, errLeftWaiting:
		return true
	}
	return false
}

// errNotEnded is the cause when the client could not end a blocking command's wait on
// the server in time: the command was abandoned and may have taken what it waited for.
var errNotEnded = errors.New("still waiting; the server did not confirm the end of the wait (CLIENT UNBLOCK) in time, the command was abandoned and may have taken what it waited for")
