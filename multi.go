package redline

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/node"
	"github.com/redline-go/redline/resp"
)

// timeZero is the zero deadline: the waiter's context alone decides.
var timeZero time.Time

// Command is one command for DoMulti; build it with Cmd.
type Command struct {
	args []any
}

// Cmd builds a command for DoMulti from its name and arguments (strings, []byte or
// integers).
func Cmd(args ...any) Command { return Command{args: args} }

// DoMulti runs several commands under one deadline and returns one Result per command,
// in the caller's order. Commands are grouped by the node that owns their slot; each
// group is sent as one pipeline, the groups in parallel. A command redirected (MOVED,
// ASK) or asked to retry is handled on its own, like Do. The commands are not a
// transaction: each succeeds or fails by itself.
func (c *Client) DoMulti(ctx context.Context, cmds ...Command) []Result {
	if !c.hooked {
		return c.doMulti(ctx, cmds, nil)
	}
	var results []Result
	c.aroundCommand(ctx, CommandStart{Name: "pipeline", Commands: len(cmds)}, func(end *CommandEnd) {
		var mt multiTrace
		results = c.doMulti(ctx, cmds, &mt)
		end.Attempts += int(mt.retried.Load())
		end.Redirects, end.Asks = int(mt.redirects.Load()), int(mt.asks.Load())
		for _, r := range results {
			if err := r.Err(); err != nil {
				end.Err = err
				break
			}
		}
	})
	return results
}

// multiTrace sums what a pipeline's commands did, for the command hooks: commands
// tried again (redirected, retried or resent) and the redirects they followed.
type multiTrace struct {
	retried, redirects, asks atomic.Int32
}

// add records one command's trace (mt may be nil: no hooks).
func (mt *multiTrace) add(tr *callTrace) {
	if mt == nil {
		return
	}
	if tr.attempts > 1 {
		mt.retried.Add(int32(tr.attempts - 1))
	}
	mt.redirects.Add(int32(tr.redirects))
	mt.asks.Add(int32(tr.asks))
}

func (c *Client) doMulti(ctx context.Context, cmds []Command, mt *multiTrace) []Result {
	results := make([]Result, len(cmds))
	if c.closed.Load() {
		for i := range results {
			results[i] = Result{err: ErrClosed}
		}
		return results
	}
	ctx, cancel := c.deriveCtx(ctx)
	defer cancel()

	type batch struct {
		n     *node.Node
		index []int
		args  [][]any
		infos []*command.Info
	}
	batches := map[*node.Node]*batch{}
	var single []int // commands that need Do's full path (fan-out, splits, errors)
	w := conn.NewWaiter(ctx, timeZero)
	for i, cmd := range cmds {
		if len(cmd.args) == 0 {
			single = append(single, i)
			continue
		}
		info, err := c.lookup(&w, cmd.args)
		if err != nil {
			results[i] = Result{err: err}
			continue
		}
		if info != nil && (fansOut(info) || info.Request == command.PolicyMultiShard && splittable[info.Name]) {
			single = append(single, i)
			continue
		}
		slot, err := c.slotOf(info, cmd.args)
		if err != nil {
			results[i] = Result{err: err}
			continue
		}
		n, err := c.pick(slot, info != nil && info.ReadOnly(), nil)
		if err != nil {
			results[i] = Result{err: err}
			continue
		}
		b := batches[n]
		if b == nil {
			b = &batch{n: n}
			batches[n] = b
		}
		b.index = append(b.index, i)
		b.args = append(b.args, cmd.args)
		b.infos = append(b.infos, info)
	}
	w.Release()

	var wg sync.WaitGroup
	for _, b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.runBatch(ctx, b.n, b.index, b.args, b.infos, results, mt)
		}()
	}
	for _, i := range single {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if len(cmds[i].args) == 0 {
				results[i] = Result{err: errors.New("redline: DoMulti: empty command")}
				return
			}
			var tr callTrace
			results[i] = c.do(ctx, cmds[i].args, &tr)
			mt.add(&tr)
		}()
	}
	wg.Wait()
	return results
}

// runBatch sends one node's commands as a pipeline; what comes back redirected, asked
// to retry or failed before it was written goes through the single-command path.
func (c *Client) runBatch(ctx context.Context, n *node.Node, index []int, args [][]any, infos []*command.Info, results []Result, mt *multiTrace) {
	w := conn.NewWaiter(ctx, timeZero)
	defer w.Release()
	// redo sends command k again on its own; first says what the pipelined try met.
	redo := func(k int, first *resp.Error) {
		slot, _ := c.slotOf(infos[k], args[k])
		var tr callTrace
		results[index[k]] = c.doSlot(&w, infos[k], slot, args[k], &tr)
		tr.attempts++ // the pipelined try
		if first != nil && (first.IsMoved() || first.IsAsk()) {
			tr.redirects++
			if first.IsAsk() {
				tr.asks++
			}
		}
		mt.add(&tr)
	}
	cn, err := n.Conn(&w)
	if err != nil {
		for k := range index {
			results[index[k]] = Result{err: err}
		}
		return
	}
	vs, err := cn.ExecMulti(&w, args)
	if err != nil {
		for k := range index {
			if (SafeToRetry(err) || infos[k] != nil && infos[k].ReadOnly()) && ctx.Err() == nil {
				redo(k, nil)
			} else {
				results[index[k]] = Result{err: err}
			}
		}
		return
	}
	for k, v := range vs {
		if e := v.Err; e != nil && (e.IsMoved() || e.IsAsk() || e.IsRetryable()) {
			if e.IsMoved() {
				c.applyMoved(e.Slot, resolveAddr(e.Addr, n.Addr()))
			}
			redo(k, e)
			continue
		}
		results[index[k]] = Result{val: v}
	}
}
