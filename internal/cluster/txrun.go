package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// TxPipelined runs body as one MULTI … EXEC transaction without WATCH on a dedicated
// connection to the node of its keys' slot (see redline.Client.TxPipelined) and
// returns one Reply per command.
func (c *Engine) TxPipelined(ctx context.Context, body [][]any) ([]Reply, error) {
	if c.closed.Load() {
		return nil, rerr.ErrClosed
	}
	ctx, cancel := c.DeriveCtx(ctx)
	defer cancel()
	vs, err := c.runTx(ctx, nil, body, []any{"EXEC"})
	if err != nil {
		return nil, err
	}
	rs, _, err := TxResults(vs, len(body))
	return rs, err
}

// txSlot checks the commands of a transaction before anything is sent: none empty,
// none with an argument of an unsupported type, none changing the connection's state
// (but the WATCHes of pre), none running on every node (KEYS, FLUSHALL…: the
// transaction runs on one), all keys in one slot (returned; -1 when keyless).
func (c *Engine) txSlot(pre, body [][]any) (int, error) {
	slot, key := -1, ""
	for i, args := range append(pre[:len(pre):len(pre)], body...) {
		if len(args) == 0 {
			return 0, errors.New("redline: transaction: empty command")
		}
		if err := resp.CheckArgs(args); err != nil {
			return 0, err
		}
		info := command.Lookup(args)
		switch {
		case info == nil:
		case info.ConnState != command.ConnNone:
			if !(i < len(pre) && info.Name == "watch") {
				return 0, ConnStateErr(info)
			}
		case info.FansOut() && info.Name != "ping":
			return 0, ErrTxFanout(info)
		}
		s, err := c.SlotOf(info, args)
		if err != nil {
			return 0, err
		}
		if s < 0 {
			continue
		}
		k := FirstKey(info, args)
		if slot >= 0 && s != slot {
			return 0, &CrossSlotError{Command: "multi", Keys: [2]string{key, k}, Slots: [2]int{slot, s}}
		}
		slot, key = s, k
	}
	return slot, nil
}

// ErrTxFanout is the error for a command that runs on every node (KEYS, DBSIZE,
// FLUSHALL…) inside a transaction, which runs on one node.
func ErrTxFanout(info *command.Info) error {
	return fmt.Errorf("redline: transaction: %s runs on every node, its replies merged; a transaction runs on one node: send it outside MULTI … EXEC", CommandUpper(info.Name))
}

// FirstKey returns a copy of the command's first key (or shard channel).
func FirstKey(info *command.Info, args []any) string {
	var buf [16]int
	idx, _ := info.SlotIndexes(args, buf[:0])
	if len(idx) == 0 {
		return ""
	}
	return strings.Clone(ArgString(args[idx[0]]))
}

// runTx runs pre (WATCH and other commands before MULTI, or nothing), MULTI, body and
// end (EXEC or DISCARD) on a dedicated connection to the node of their slot and returns
// every reply, in order. When pre is not empty it goes first, alone (one round trip
// more): if a WATCH of it was not answered OK, the transaction is not sent, and runTx
// returns pre's replies with a *TxNotRunError. A MOVED answer to WATCH, or to a queued
// command with EXEC aborted, when nothing but WATCH came before MULTI (so nothing ran),
// is followed once.
func (c *Engine) runTx(ctx context.Context, pre, body [][]any, end []any) ([]resp.Value, error) {
	slot, err := c.txSlot(pre, body)
	if err != nil {
		return nil, err
	}
	watchOnly := true
	for _, args := range pre {
		if in := command.Lookup(args); in == nil || in.Name != "watch" {
			watchOnly = false
		}
	}
	batch := make([][]any, 0, len(body)+2)
	batch = append(batch, []any{"MULTI"})
	batch = append(batch, body...)
	batch = append(batch, end)
	var target Node
	backoff := c.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		n := target
		if n == nil {
			if n, err = c.Pick(slot, false); err != nil {
				return nil, err
			}
		}
		vs, err := c.execDedicated(ctx, n, pre, batch)
		var nr *TxNotRunError
		if errors.As(err, &nr) && attempt == 1 && watchOnly && nr.Watch.IsMoved() && !c.single {
			addr := ResolveAddr(nr.Watch.Addr, n.Addr())
			c.ApplyMoved(nr.Watch.Slot, addr)
			target = c.NodeAt(addr)
			continue
		}
		if err != nil {
			return vs, err
		}
		last := vs[len(vs)-1].Err
		if attempt == 1 && watchOnly && last != nil && last.Code == "EXECABORT" && !c.single {
			for _, v := range vs[len(pre) : len(vs)-1] {
				if e := v.Err; e != nil && e.IsMoved() {
					addr := ResolveAddr(e.Addr, n.Addr())
					c.ApplyMoved(e.Slot, addr)
					target = c.NodeAt(addr)
					break
				}
			}
			if target != nil {
				continue
			}
		}
		if watchOnly && last != nil && last.Code == "EXECABORT" && c.refusedAsDemoted(vs[len(pre):len(vs)-1]) &&
			attempt < c.cfg.MaxAttempts && sleepCtx(ctx, Jitter(backoff)) {
			// The primary was demoted by a failover (READONLY): nothing ran; sent
			// again once the Sentinels are asked, as Do would.
			backoff = min(2*backoff, c.cfg.RetryBackoffMax)
			target = nil
			continue
		}
		return vs, nil
	}
}

// demoted reports whether e is a Sentinel primary's READONLY: the server was demoted
// by a failover and refused the command (nothing ran); the Sentinels are asked again
// and the command retried.
func (c *Engine) demoted(e *resp.Error) bool {
	return e != nil && e.Code == "READONLY" && c.cfg.Sentinel != nil
}

// refusedAsDemoted reports whether one of a transaction's queued replies is a
// demoted primary's READONLY (then EXEC aborted: nothing ran), and triggers the
// Sentinels' asking if so.
func (c *Engine) refusedAsDemoted(queued []resp.Value) bool {
	for _, v := range queued {
		if c.demoted(v.Err) {
			c.TriggerRefresh()
			return true
		}
	}
	return false
}

// sleepCtx waits d unless ctx ends first or has less than d left (false then).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	w := conn.NewWaiter(ctx, time.Time{})
	defer w.Release()
	return Sleep(&w, d)
}

// TxNotRunError is the result of the commands of a transaction in DoMulti (MULTI, its
// commands, EXEC) when a WATCH before it failed: the transaction was not sent, nothing
// of it ran. Watch is the WATCH's error reply (ASK during a migration, MOVED, …).
type TxNotRunError struct {
	Watch *resp.Error
}

// Error says that the transaction was not sent, and why.
func (e *TxNotRunError) Error() string {
	return "redline: transaction not sent: its WATCH failed: " + e.Watch.Error()
}

// Unwrap returns the WATCH's error.
func (e *TxNotRunError) Unwrap() error { return e.Watch }

// SafeToRetry is true: nothing of the transaction ran.
func (e *TxNotRunError) SafeToRetry() bool { return true }

// execDedicated sends pre (if any) then batch, each as one pipeline, on a dedicated
// connection of n, and gives the connection back (closed if its replies were not all
// read, or if the transaction was not sent: a WATCH may be in force). A WATCH of pre
// answered with an error stops it before batch: pre's replies and a *TxNotRunError.
func (c *Engine) execDedicated(ctx context.Context, n Node, pre, batch [][]any) ([]resp.Value, error) {
	cn, err := n.Dedicated(ctx)
	if err != nil {
		return nil, err
	}
	w := conn.NewWaiter(ctx, time.Time{})
	defer w.Release()
	var pv []resp.Value
	if len(pre) > 0 {
		if pv, err = ConnExecMulti(cn, &w, 0, pre); err != nil {
			n.Release(cn, false)
			return nil, err
		}
		for k, v := range pv {
			if in := command.Lookup(pre[k]); v.Err != nil && in != nil && in.Name == "watch" {
				n.Release(cn, false)
				return pv, &TxNotRunError{Watch: v.Err}
			}
		}
	}
	vs, err := ConnExecMulti(cn, &w, 0, batch)
	n.Release(cn, err == nil)
	if err != nil {
		return nil, err
	}
	if pv != nil {
		vs = append(pv, vs...)
	}
	return vs, nil
}

// TxResults reads the replies of MULTI, n queued commands and EXEC: one Result per
// command, rerr.ErrTxFailed when a watched key changed, EXEC's error (EXECABORT…) with the
// rejected commands' Results set to their rejection and the others' to EXEC's error
// (none ran). bad reports a reply that does not fit a transaction
// (the connection is then not reused).
func TxResults(vs []resp.Value, n int) (results []Reply, bad bool, err error) {
	if len(vs) != n+2 {
		return nil, true, fmt.Errorf("%w: %d replies for a transaction of %d commands", resp.ErrProtocol, len(vs), n)
	}
	if e := vs[0].Err; e != nil {
		return nil, false, e // MULTI itself refused
	}
	results = make([]Reply, n)
	for i := 0; i < n; i++ { // QUEUED, or the error the command was rejected with
		if vs[i+1].Err != nil {
			results[i] = Reply{val: vs[i+1]}
		}
	}
	execReply := vs[len(vs)-1]
	switch {
	case execReply.Err != nil: // EXECABORT, or MOVED if the slot moved under us: nothing ran
		for i := range results {
			if results[i].val.Err == nil {
				results[i] = Reply{val: execReply} // queued fine, not run: EXEC's error
			}
		}
		return results, false, execReply.Err
	case execReply.IsNull():
		return nil, false, rerr.ErrTxFailed
	case !execReply.IsList() || len(execReply.Elems) != n:
		return nil, true, fmt.Errorf("%w: EXEC returned %s for %d commands", resp.ErrProtocol, execReply.Type, n)
	}
	for i, v := range execReply.Elems {
		results[i] = Reply{val: v, elem: true}
	}
	return results, false, nil
}
