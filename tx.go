package redline

import (
	"context"
	"errors"

	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// ErrTxFailed is returned by Tx.Exec (and TxPipelined) when EXEC was aborted because
// a watched key changed: nothing of the transaction ran. Retry the whole Watch
// function. Test for it with errors.Is.
var ErrTxFailed = rerr.ErrTxFailed

// TxFailed is ErrTxFailed under its first name.
//
// Deprecated: use ErrTxFailed, named as the other errors are.
var TxFailed = ErrTxFailed

// errTxDone is returned by a Tx used after its Watch function returned.
var errTxDone = errors.New("redline: Tx used after its Watch function returned")

// Tx is a transaction on a dedicated connection to the node that owns its keys' slot.
// Commands run with Do (or several, typed, with Pipelined) execute at once (reads under
// WATCH); Exec (or TxPipelined, typed) runs MULTI … EXEC.
// A Tx is used by one goroutine, inside the function given to Client.Watch; used after
// that function returned, it fails with an error and sends nothing.
type Tx struct {
	c       *Client
	n       cluster.Node
	cn      cluster.Conn // nil until the first command needs it (Watch without keys)
	slot    int          // -1 until a key fixes it
	slotKey string       // the key that fixed slot (for a CrossSlotError)
	keyless bool         // cn was taken for a keyless command, before a key fixed the slot
	dead    bool
	done    bool
}

// Watch runs fn in a transaction: it WATCHes keys (all in one slot) on a dedicated
// connection to their slot's owner, then calls fn, in which tx.Do reads and tx.Exec
// runs the transaction (and fails with ErrTxFailed if a watched key changed meanwhile).
// Without keys, the transaction's slot is that of the first command with a key, and the
// connection is taken then. The connection is UNWATCHed and returned to the pool
// afterwards (or closed, if the context ended mid-way), also when fn panics (the panic
// goes on); the UNWATCH is bounded by ctx and CommandTimeout, and when they end first
// the connection is closed instead. A MOVED answer to WATCH — the slot moved — is
// followed once; every wait is bounded by the context and CommandTimeout.
//
// Commands: WATCH key [key ...] when keys are given, those fn sends, UNWATCH as the
// connection goes back to the pool, on a dedicated connection to the slot's primary.
func (c *Client) Watch(ctx context.Context, fn func(tx *Tx) error, keys ...string) error {
	if c.e.Closed() {
		return ErrClosed
	}
	caller := ctx
	ctx, cancel := c.e.DeriveCtx(ctx)
	defer cancel()
	slot := -1
	for i, k := range keys {
		s := c.e.KeySlot(k) // 0 for every key on a standalone server
		if i > 0 && s != slot {
			return &CrossSlotError{Command: "watch", Keys: [2]string{keys[0], k}, Slots: [2]int{slot, s}}
		}
		slot = s
	}
	tx := &Tx{c: c, slot: slot}
	if len(keys) > 0 {
		tx.slotKey = keys[0]
	}
	defer tx.release(caller) // also when fn panics: the connection goes back
	if len(keys) > 0 {
		args := make([]any, 0, len(keys)+1)
		args = append(args, "WATCH")
		for _, k := range keys {
			args = append(args, k)
		}
		if err := tx.watch(ctx, args); err != nil {
			return err
		}
	}
	return fn(tx)
}

// watch takes the connection of the slot's owner and sends WATCH; a MOVED answer is
// followed once: the second node's answer, a second MOVED included, is returned as is.
func (tx *Tx) watch(ctx context.Context, args []any) error {
	err := tx.watchOn(ctx, nil, args)
	e, ok := err.(*resp.Error)
	if !ok || !e.IsMoved() || tx.c.e.Single() { // a standalone server's MOVED is not followed
		return err
	}
	addr := cluster.ResolveAddr(e.Addr, tx.n.Addr())
	tx.c.e.ApplyMoved(e.Slot, addr)
	tx.giveBack(ctx)
	return tx.watchOn(ctx, tx.c.e.NodeAt(addr), args)
}

// watchOn takes a connection to target (nil: the slot's owner) and sends WATCH; its
// error is a failure to do so or the server's error reply.
func (tx *Tx) watchOn(ctx context.Context, target cluster.Node, args []any) error {
	if err := tx.connect(ctx, target); err != nil {
		return err
	}
	v, err := tx.exec(ctx, args)
	if err != nil {
		return err
	}
	if v.Err != nil {
		return v.Err
	}
	return nil
}

// connect takes a dedicated connection to target, or to the owner of tx.slot (a random
// primary while no key has fixed it), unless tx has one.
func (tx *Tx) connect(ctx context.Context, target cluster.Node) error {
	if tx.cn != nil {
		return nil
	}
	n := target
	if n == nil {
		var err error
		if n, err = tx.c.e.Pick(tx.slot, false); err != nil {
			return err
		}
	}
	dctx, cancel := tx.c.e.DeriveCtx(ctx) // the call's deadline: CommandTimeout too
	defer cancel()
	cn, err := n.Dedicated(dctx)
	if err != nil {
		return err
	}
	tx.n, tx.cn, tx.keyless = n, cn, tx.slot < 0
	return nil
}

// ready checks that tx is still usable and that its connection is the one of its slot:
// a connection taken for a keyless command before the slot was known is exchanged for
// one to the slot's owner (nothing on it depends on a key).
func (tx *Tx) ready(ctx context.Context) error {
	if tx.done {
		return errTxDone
	}
	if tx.cn != nil && tx.keyless && tx.slot >= 0 {
		if n, err := tx.c.e.Pick(tx.slot, false); err == nil && n != tx.n {
			tx.giveBack(ctx)
		}
		tx.keyless = false
	}
	return tx.connect(ctx, nil)
}

// Do runs one command at once on the transaction's connection (typically a read of a
// watched key, or WATCH of more keys). Its keys must be in the transaction's slot.
// MULTI, EXEC and DISCARD are refused (use Exec), as are the other commands that change
// the connection's state.
//
// Command: the one in args, on the transaction's dedicated connection.
func (tx *Tx) Do(ctx context.Context, args ...any) Result {
	if tx.done {
		return Result{err: errTxDone}
	}
	args, err := resp.FlattenArgs(args)
	if err != nil {
		return Result{err: err}
	}
	if err := tx.checkNow(args); err != nil {
		return Result{err: err}
	}
	if err := tx.ready(ctx); err != nil {
		return Result{err: err}
	}
	v, err := tx.exec(ctx, args)
	return Result{val: v, err: err}
}

// checkNow checks a command run at once on the transaction's connection (Do,
// Pipelined): not empty, not one that changes the connection's state (WATCH and
// UNWATCH excepted), its keys in the transaction's slot.
func (tx *Tx) checkNow(args []any) error {
	if len(args) == 0 {
		return errors.New("redline: Tx.Do: empty command")
	}
	if info := command.Lookup(args); info != nil && info.ConnState != command.ConnNone &&
		info.Name != "watch" && info.Name != "unwatch" {
		if info.ConnState == command.ConnTransaction {
			return &cluster.ConnStateError{Command: cluster.CommandUpper(info.Name), Use: "use Tx.Exec"}
		}
		return cluster.ConnStateErr(info)
	}
	return tx.checkSlot(args)
}

// Exec runs cmds between MULTI and EXEC, written together in one go, and returns one
// Result per command. If a watched key changed, it returns ErrTxFailed and nothing ran.
// A command the server rejected when queuing aborts the whole transaction (EXECABORT),
// returned as the error with the rejected command's Result set to its rejection, the
// others' to that error. Arguments are as for Cmd; one that cannot be converted (its
// MarshalBinary fails) fails the transaction, and nothing is sent. EXEC ends the WATCH:
// a second Exec in the same Watch function is not guarded by it.
//
// Commands: MULTI, cmds, EXEC, written together on the transaction's dedicated
// connection.
func (tx *Tx) Exec(ctx context.Context, cmds ...Command) ([]Result, error) {
	c := tx.c
	if !c.hooked {
		return tx.exec1(ctx, cmds)
	}
	var results []Result
	var err error
	c.aroundCommand(ctx, CommandStart{Name: "multi", Commands: len(cmds)}, func(end *CommandEnd) {
		results, err = tx.exec1(ctx, cmds)
		end.Slot, end.Err = tx.slot, err
		if tx.n != nil {
			end.Node = tx.n.Addr()
		}
	})
	return results, err
}

// exec1 is Exec without the hooks.
func (tx *Tx) exec1(ctx context.Context, cmds []Command) ([]Result, error) {
	if tx.done {
		return nil, errTxDone
	}
	cmds, argErrs := expandCmds(cmds)
	for i := range cmds {
		if err := argErrs[i]; err != nil {
			return nil, err // nothing sent
		}
	}
	batch := make([][]any, 0, len(cmds)+2)
	batch = append(batch, []any{"MULTI"})
	for _, cmd := range cmds {
		if len(cmd.args) == 0 {
			return nil, errors.New("redline: Tx.Exec: empty command")
		}
		if info := command.Lookup(cmd.args); info != nil && info.ConnState != command.ConnNone {
			return nil, cluster.ConnStateErr(info)
		} else if info != nil && info.FansOut() && info.Name != "ping" {
			return nil, cluster.ErrTxFanout(info)
		}
		if err := tx.checkSlot(cmd.args); err != nil {
			return nil, err
		}
		batch = append(batch, cmd.args)
	}
	batch = append(batch, []any{"EXEC"})
	if err := tx.ready(ctx); err != nil {
		return nil, err
	}
	w := tx.c.e.Waiter(ctx)
	defer w.Release()
	vs, err := cluster.ConnExecMulti(tx.cn, &w, 0, batch)
	if err != nil {
		tx.dead = true
		return nil, err
	}
	rs, bad, err := cluster.TxResults(vs, len(cmds))
	results := resultsOf(rs)
	if bad {
		tx.dead = true
	}
	return results, err
}

// checkSlot makes sure a command's keys are in the transaction's slot (the first key
// fixes it when WATCH had none).
func (tx *Tx) checkSlot(args []any) error {
	info := command.Lookup(args)
	s, err := tx.c.e.SlotOf(info, args)
	if err != nil || s < 0 {
		return err
	}
	if tx.slot < 0 {
		tx.slot, tx.slotKey = s, cluster.FirstKey(info, args)
		return nil
	}
	if s != tx.slot {
		return &CrossSlotError{Command: info.Name, Keys: [2]string{tx.slotKey, cluster.FirstKey(info, args)}, Slots: [2]int{tx.slot, s}}
	}
	return nil
}

func (tx *Tx) exec(ctx context.Context, args []any) (resp.Value, error) {
	w := tx.c.e.Waiter(ctx)
	defer w.Release()
	v, err := cluster.ConnExec(tx.cn, &w, 0, args)
	if err != nil {
		tx.dead = true // a reply may still come: the connection is not reused
	}
	return v, err
}

// giveBack returns the connection: UNWATCHed when it is healthy, closed otherwise. The
// UNWATCH is bounded by the call's deadline (ctx's, and CommandTimeout): when the
// context has ended, or the UNWATCH does not come back by then, the connection is
// closed instead, and the caller is not held.
func (tx *Tx) giveBack(ctx context.Context) {
	if tx.cn == nil {
		return
	}
	if !tx.dead && ctx.Err() != nil {
		tx.dead = true
	}
	if !tx.dead {
		if _, err := tx.exec(ctx, []any{"UNWATCH"}); err != nil {
			tx.dead = true
		}
	}
	tx.n.Release(tx.cn, !tx.dead)
	tx.n, tx.cn, tx.dead = nil, nil, false
}

// release ends the transaction: the connection goes back (see giveBack) and tx is
// unusable.
func (tx *Tx) release(ctx context.Context) {
	tx.giveBack(ctx)
	tx.done = true
}
