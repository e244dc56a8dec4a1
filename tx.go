package redline

import (
	"context"
	"errors"
	"fmt"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/node"
	"github.com/redline-go/redline/resp"
)

// TxFailed is returned by Tx.Exec when EXEC was aborted because a watched key changed:
// nothing of the transaction ran. Retry the whole Watch function.
var TxFailed = errors.New("redline: transaction aborted: a watched key changed")

// Tx is a transaction on a dedicated connection to the node that owns its keys' slot.
// Commands run with Do execute at once (reads under WATCH); Exec runs MULTI … EXEC.
// A Tx is used by one goroutine, inside the function given to Client.Watch.
type Tx struct {
	c    *Client
	n    *node.Node
	cn   *conn.Conn
	slot int // -1 until a key fixes it
	dead bool
}

// Watch runs fn in a transaction: it WATCHes keys (all in one slot) on a dedicated
// connection to their slot's owner, then calls fn, in which tx.Do reads and tx.Exec
// runs the transaction (and fails with TxFailed if a watched key changed meanwhile).
// The connection is UNWATCHed and returned to the pool afterwards (or closed, if the
// context ended mid-way). A MOVED answer to WATCH — the slot moved — is followed once;
// everything is bounded by the context and CommandTimeout.
func (c *Client) Watch(ctx context.Context, fn func(tx *Tx) error, keys ...string) error {
	if c.closed.Load() {
		return ErrClosed
	}
	ctx, cancel := c.deriveCtx(ctx)
	defer cancel()
	slot := -1
	for i, k := range keys {
		s := argSlot(k)
		if i > 0 && s != slot {
			return &CrossSlotError{Command: "watch", Keys: [2]string{keys[0], k}, Slots: [2]int{slot, s}}
		}
		slot = s
	}
	var target *node.Node
	for attempt := 1; attempt <= 2; attempt++ {
		n := target
		if n == nil {
			var err error
			if n, err = c.pick(slot, false, nil); err != nil {
				return err
			}
		}
		cn, err := n.Dedicated(ctx)
		if err != nil {
			return err
		}
		tx := &Tx{c: c, n: n, cn: cn, slot: slot}
		if len(keys) > 0 {
			args := make([]any, 0, len(keys)+1)
			args = append(args, "WATCH")
			for _, k := range keys {
				args = append(args, k)
			}
			v, err := tx.exec(ctx, args)
			if err == nil && v.Err != nil && v.Err.IsMoved() && attempt == 1 {
				n.Release(cn, true)
				addr := resolveAddr(v.Err.Addr, n.Addr())
				c.applyMoved(v.Err.Slot, addr)
				target = c.node(addr)
				continue
			}
			if err == nil && v.Err != nil {
				err = v.Err
			}
			if err != nil {
				tx.release()
				return err
			}
		}
		err = fn(tx)
		tx.release()
		return err
	}
	return errors.New("redline: Watch: the keys' slot moved twice")
}

// Do runs one command at once on the transaction's connection (typically a read of a
// watched key). Its keys must be in the transaction's slot.
func (tx *Tx) Do(ctx context.Context, args ...any) Result {
	if err := tx.checkSlot(args); err != nil {
		return Result{err: err}
	}
	v, err := tx.exec(ctx, args)
	return Result{val: v, err: err}
}

// Exec runs cmds between MULTI and EXEC, written together in one go, and returns one
// Result per command. If a watched key changed, it returns TxFailed and nothing ran.
// A command the server rejected when queuing aborts the whole transaction
// (EXECABORT), returned as the error with the rejected command's Result set.
func (tx *Tx) Exec(ctx context.Context, cmds ...Command) ([]Result, error) {
	c := tx.c
	if !c.hooked {
		return tx.exec1(ctx, cmds)
	}
	var results []Result
	var err error
	c.aroundCommand(ctx, CommandStart{Name: "multi", Commands: len(cmds)}, func(end *CommandEnd) {
		results, err = tx.exec1(ctx, cmds)
		end.Node, end.Slot, end.Err = tx.n.Addr(), tx.slot, err
	})
	return results, err
}

// exec1 is Exec without the hooks.
func (tx *Tx) exec1(ctx context.Context, cmds []Command) ([]Result, error) {
	batch := make([][]any, 0, len(cmds)+2)
	batch = append(batch, []any{"MULTI"})
	for _, cmd := range cmds {
		if len(cmd.args) == 0 {
			return nil, errors.New("redline: Tx.Exec: empty command")
		}
		if err := tx.checkSlot(cmd.args); err != nil {
			return nil, err
		}
		batch = append(batch, cmd.args)
	}
	batch = append(batch, []any{"EXEC"})
	w := tx.c.waiter(ctx)
	defer w.Release()
	vs, err := tx.cn.ExecMulti(&w, batch)
	if err != nil {
		tx.dead = true
		return nil, err
	}
	results := make([]Result, len(cmds))
	for i := range cmds { // QUEUED, or the error the command was rejected with
		if e := vs[i+1].Err; e != nil {
			results[i] = Result{val: vs[i+1]}
		}
	}
	execReply := vs[len(vs)-1]
	switch {
	case execReply.Err != nil:
		return results, execReply.Err // EXECABORT, or MOVED if the slot moved under us
	case execReply.IsNull():
		return nil, TxFailed
	case !isList(execReply) || len(execReply.Elems) != len(cmds):
		tx.dead = true
		return nil, fmt.Errorf("%w: EXEC returned %s for %d commands", resp.ErrProtocol, execReply.Type, len(cmds))
	}
	for i, v := range execReply.Elems {
		results[i] = Result{val: v}
	}
	return results, nil
}

// checkSlot makes sure a command's keys are in the transaction's slot (the first key
// fixes it when WATCH had none).
func (tx *Tx) checkSlot(args []any) error {
	info := command.Lookup(args)
	s, err := tx.c.slotOf(info, args)
	if err != nil || s < 0 {
		return err
	}
	if tx.slot < 0 {
		tx.slot = s
		return nil
	}
	if s != tx.slot {
		return fmt.Errorf("redline: transaction command %s: key in slot %d, the transaction is on slot %d", argString(args[0]), s, tx.slot)
	}
	return nil
}

func (tx *Tx) exec(ctx context.Context, args []any) (resp.Value, error) {
	w := tx.c.waiter(ctx)
	defer w.Release()
	v, err := tx.cn.Exec(&w, 0, args)
	if err != nil {
		tx.dead = true // a reply may still come: the connection is not reused
	}
	return v, err
}

// release gives the connection back: UNWATCHed when it is healthy, closed otherwise.
func (tx *Tx) release() {
	if !tx.dead {
		ctx, cancel := context.WithTimeout(context.Background(), tx.c.opts.CommandTimeout)
		if _, err := tx.exec(ctx, []any{"UNWATCH"}); err != nil {
			tx.dead = true
		}
		cancel()
	}
	tx.n.Release(tx.cn, !tx.dead)
}
