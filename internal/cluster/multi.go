package cluster

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// MultiTrace sums what a pipeline's commands did, for the command hooks: commands
// tried again (redirected, retried or resent) and the redirects they followed.
type MultiTrace struct {
	Retried, Redirects, Asks atomic.Int32
}

// add records one command's trace (mt may be nil: no hooks).
func (mt *MultiTrace) add(tr *Trace) {
	if mt == nil {
		return
	}
	if tr.Attempts > 1 {
		mt.Retried.Add(int32(tr.Attempts - 1))
	}
	mt.Redirects.Add(int32(tr.Redirects))
	mt.Asks.Add(int32(tr.Asks))
}

// part is what one node's pipeline carries of a command: the whole command, one slot's
// part of a split command, or a fan-out command's copy for one node.
type part struct {
	n     Node
	info  *command.Info
	slot  int  // -1: keyless
	fan   bool // a fan-out copy: retried on its node, never redirected
	args  []any
	out   *Reply      // where its result goes: the command's, or its place in plan.rs
	redo  bool        // to be redone on its own after the pipeline
	moves int         // MOVED answers followed by sending it again in a pipeline
	why   *resp.Error // what the pipelined try met, if a reply
}

// plan is one command of a DoMulti: its parts, and how their results merge.
type plan struct {
	parts  []*part
	one    part          // the part of a command sent whole (no allocation of its own)
	ptr    [1]*part      // parts' backing array then
	groups []*splitGroup // a split command's slots
	rs     []Reply       // a split or fan-out command's parts' results, to merge
	fan    bool
}

// DoMulti runs cmds (see redline.Client.DoMulti for the rules: per-node pipelines in
// the caller's order, barriers, redirects, transactions) and returns one Reply per
// command. mt, when not nil, records what they did.
func (c *Engine) DoMulti(ctx context.Context, cmds [][]any, mt *MultiTrace) []Reply {
	results := make([]Reply, len(cmds))
	if c.closed.Load() {
		for i := range results {
			results[i] = Reply{err: rerr.ErrClosed}
		}
		return results
	}
	m := multiRun{c: c, caller: ctx, cmds: cmds, results: results, mt: mt, plans: make([]plan, len(cmds))}
	m.start = time.Now()
	m.deadline = m.start.Add(c.cfg.CommandTimeout)
	m.ctx, m.cancel = context.WithDeadline(ctx, m.deadline)
	defer func() { m.cancel() }()
	m.run()
	return results
}

// multiRun is the state of one DoMulti.
type multiRun struct {
	c        *Engine
	caller   context.Context    // the caller's context: blocking commands' own bound
	ctx      context.Context    // the caller's, ending at deadline: the other commands'
	cancel   context.CancelFunc // ctx's
	start    time.Time          // the call's start: errors count their elapsed time from it
	deadline time.Time          // CommandTimeout from the start, plus blocking commands' time
	cmds     [][]any
	results  []Reply
	mt       *MultiTrace
	plans    []plan
	seg      []int        // the commands of the current segment (between barriers)
	keyless  Node         // the node of keyless commands, picked once
	written  map[int]bool // slots some command of the DoMulti writes (see planWrites)
	writeAll bool         // some command may write any slot (FLUSHALL, an unknown command…)
}

// run plans the commands in order, running each segment when a barrier comes.
func (m *multiRun) run() {
	c := m.c
	if c.cfg.ReadFrom != ReadPrimary {
		m.planWrites()
	}
	w := conn.NewWaiterSince(m.ctx, time.Time{}, m.start)
	defer w.Release()
	for i := 0; i < len(m.cmds); i++ {
		args := m.cmds[i]
		if len(args) == 0 {
			m.results[i] = Reply{err: errors.New("redline: DoMulti: empty command")}
			continue
		}
		argErr := resp.CheckArgs(args)
		if argErr != nil && !opensTx(args) { // this command fails, not its pipeline
			m.results[i] = Reply{err: argErr}
			continue
		}
		info, err := c.lookup(&w, args)
		if err != nil { // the call's deadline passed while asking a server about the command
			m.results[i] = Reply{err: err}
			continue
		}
		switch {
		case isBlocking(info, args): // first: WAITAOF is unknown to the 7.0 table
			m.flush()
			m.blocking(i, args)
			w.Release()
			w = conn.NewWaiterSince(m.ctx, time.Time{}, m.start) // the new deadline
			continue
		case info == nil:
		case info.ConnState != command.ConnNone && info.Name == "multi":
			end := m.txEnd(i)
			m.flush()
			if end < 0 {
				err := errors.New("redline: DoMulti: MULTI without EXEC or DISCARD; it and the commands after it are not sent")
				for k := i; k < len(m.cmds); k++ {
					m.results[k] = Reply{err: err}
				}
				return
			}
			if argErr != nil { // its body must not run outside it: none of it is sent
				m.failTx(i, end, argErr)
			} else {
				m.runTx(i, i, end)
			}
			i = end
			continue
		case info.ConnState != command.ConnNone && info.Name == "watch":
			multi := m.nextMulti(i)
			end := -1
			if multi > 0 {
				end = m.txEnd(multi)
			}
			if end < 0 {
				if argErr == nil {
					argErr = ConnStateErr(info) // nothing to watch for
				}
				m.results[i] = Reply{err: argErr}
				continue
			}
			m.flush()
			m.runTx(i, multi, end) // a bad WATCH fails it all, unsent (txSlot)
			i = end
			continue
		case info.ConnState != command.ConnNone:
			m.results[i] = Reply{err: ConnStateErr(info)}
			continue
		case info.FansOut():
			own, err := resp.CloneArgs(args)
			if err != nil {
				m.results[i] = Reply{err: err}
				continue
			}
			p := &m.plans[i]
			p.fan = true
			targets := c.fanTargets(info)
			p.rs = make([]Reply, len(targets))
			for k, n := range targets {
				p.parts = append(p.parts, &part{n: n, info: info, slot: -1, fan: true, args: own, out: &p.rs[k]})
			}
			if len(p.parts) == 0 {
				m.results[i] = merge(info.Response, nil)
				continue
			}
			m.seg = append(m.seg, i)
			continue
		case info.Splittable() && c.splits(info): // else: one slot, or *CrossSlotError
			groups, ok, err := splitPlan(info, args)
			if err != nil {
				m.results[i] = Reply{err: err}
				continue
			}
			if ok {
				m.plans[i].groups = groups
				m.plans[i].rs = make([]Reply, len(groups))
				placed := true
				for _, g := range groups {
					if m.add(i, info, g.slot, g.args, false) != nil {
						placed = false
						break
					}
				}
				if placed {
					m.seg = append(m.seg, i)
				}
				continue
			}
		}
		slot, err := c.routeSlot(info, args)
		if err != nil {
			m.results[i] = Reply{err: err}
			continue
		}
		if m.add(i, info, slot, args, true) == nil {
			m.seg = append(m.seg, i)
		}
	}
	m.flush()
}

// add places one part of command i (the whole command, or one of its parts) in the
// node of its slot; an error (no node serves the slot) is the command's result.
func (m *multiRun) add(i int, info *command.Info, slot int, args []any, whole bool) error {
	readonly := info != nil && info.ReadOnly()
	var n Node
	var err error
	switch {
	case slot < 0:
		if m.keyless == nil {
			m.keyless = m.c.anyPrimary(nil)
		}
		n = m.keyless
	default:
		readonly = readonly && m.replicaRead(slot) // the primary orders it among the writes
		n, err = m.c.Pick(slot, readonly)
	}
	if err != nil {
		m.results[i] = Reply{err: err}
		m.plans[i].parts = nil
		return err
	}
	pl := &m.plans[i]
	if whole {
		pl.one = part{n: n, info: info, slot: slot, args: args, out: &m.results[i]}
		pl.ptr[0] = &pl.one
		pl.parts = pl.ptr[:]
		return nil
	}
	pl.parts = append(pl.parts, &part{n: n, info: info, slot: slot, args: args, out: &pl.rs[len(pl.parts)]})
	return nil
}

// flush runs the current segment: one pipeline per node, in parallel; then the parts
// answered MOVED, sent again as pipelines to their slots' new owners (in order per
// node, as long as attempts are left); then the parts still to redo, one by one in the
// caller's order; then the merged results.
func (m *multiRun) flush() {
	if len(m.seg) == 0 {
		return
	}
	var all []*part
	for _, i := range m.seg {
		all = append(all, m.plans[i].parts...)
	}
	m.runBatches(all)
	for attempt := 2; attempt < m.c.cfg.MaxAttempts && m.ctx.Err() == nil; attempt++ {
		var moved []*part
		for _, p := range all {
			if !p.redo || p.fan || p.why == nil || !p.why.IsMoved() {
				continue
			}
			readonly := p.info != nil && p.info.ReadOnly() && m.replicaRead(p.slot)
			n, err := m.c.Pick(p.slot, readonly)
			if err != nil {
				break // redone one by one, which reports it
			}
			p.n, p.redo, p.why = n, false, nil
			p.moves++
			moved = append(moved, p)
		}
		if len(moved) == 0 {
			break
		}
		m.runBatches(moved)
	}

	w := conn.NewWaiterSince(m.ctx, time.Time{}, m.start)
	defer w.Release()
	for _, i := range m.seg { // the caller's order
		for _, p := range m.plans[i].parts {
			m.account(&w, p)
		}
		pl := &m.plans[i]
		switch {
		case pl.fan:
			m.results[i] = merge(pl.parts[0].info.Response, pl.rs)
		case pl.groups != nil:
			m.results[i] = mergeSplit(pl.parts[0].info, pl.groups, pl.rs)
		}
		*pl = plan{}
	}
	m.seg = m.seg[:0]
}

// runBatches sends parts as one pipeline per node, in their order, the nodes in
// parallel.
func (m *multiRun) runBatches(parts []*part) {
	type batch struct {
		n     Node
		parts []*part
	}
	var batches []*batch
	byNode := map[Node]*batch{}
	for _, p := range parts {
		b := byNode[p.n]
		if b == nil {
			b = &batch{n: p.n}
			byNode[p.n] = b
			batches = append(batches, b)
		}
		b.parts = append(b.parts, p)
	}
	if len(batches) == 1 { // one node: no goroutine needed
		m.c.runBatch(m.ctx, m.start, batches[0].n, batches[0].parts)
		return
	}
	var wg sync.WaitGroup
	for _, b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.c.runBatch(m.ctx, m.start, b.n, b.parts)
		}()
	}
	wg.Wait()
}

// account redoes a part on its own if it is still to be redone, as Do would, and adds
// what it took to the hooks' trace.
func (m *multiRun) account(w *conn.Waiter, p *part) {
	if p.fan {
		if p.redo {
			var tr Trace
			*p.out = m.c.doNode(m.ctx, p.n, p.args, &tr)
			if m.mt != nil {
				m.mt.Retried.Add(int32(tr.Attempts)) // every try of the redo is one more
			}
		}
		return
	}
	tr := Trace{Attempts: 1 + p.moves, Redirects: p.moves} // the pipelined tries
	if p.redo {
		// Redone as Do would, resuming where the pipeline left it: its tries count
		// against MaxAttempts, and a redirect it answered is followed first.
		r := resume{tried: 1 + p.moves, last: *p.out}
		if e := p.why; e != nil && (e.IsMoved() || e.IsAsk()) {
			r.to, r.asking = m.c.NodeAt(ResolveAddr(e.Addr, p.n.Addr())), e.IsAsk()
		}
		one := Trace{primary: p.slot >= 0 && !m.replicaRead(p.slot), Attempts: tr.Attempts}
		*p.out = m.c.doSlotFrom(w, p.info, p.slot, p.args, &one, r)
		tr.Attempts = one.Attempts
		tr.Redirects += one.Redirects
		tr.Asks += one.Asks
	}
	m.mt.add(&tr)
}

// runBatch sends one node's parts as a pipeline and sets their results; what comes back
// redirected, asked to retry or failed before it was written is marked to be redone.
// start is the DoMulti's start (errors count their elapsed time from it).
func (c *Engine) runBatch(ctx context.Context, start time.Time, n Node, parts []*part) {
	w := conn.NewWaiterSince(ctx, time.Time{}, start)
	defer w.Release()
	args := make([][]any, len(parts))
	for k, p := range parts {
		args[k] = p.args
	}
	vs, err := ExecMultiOn(n, &w, args)
	if err != nil {
		for _, p := range parts {
			*p.out = Reply{err: err}
			p.redo = (rerr.SafeToRetry(err) || p.info != nil && p.info.ReadOnly()) && ctx.Err() == nil
		}
		return
	}
	for k, v := range vs {
		p := parts[k]
		*p.out = Reply{val: v}
		e := v.Err
		switch {
		case e == nil:
		case p.fan:
			p.redo = e.IsRetryable()
		case e.IsMoved() || e.IsAsk() || e.IsRetryable() || c.demoted(e):
			if e.IsMoved() {
				c.ApplyMoved(e.Slot, ResolveAddr(e.Addr, n.Addr()))
			}
			if c.demoted(e) {
				c.TriggerRefresh() // redone as Do would: after the Sentinels are asked
			}
			p.redo, p.why = true, e
		}
	}
}

// txEnd returns the index of the EXEC or DISCARD that ends the transaction MULTI at
// i begins, or -1.
func (m *multiRun) txEnd(i int) int {
	for k := i + 1; k < len(m.cmds); k++ {
		if a := m.cmds[k]; len(a) == 1 {
			if in := command.Lookup(a); in != nil && (in.Name == "exec" || in.Name == "discard") {
				return k
			}
		}
	}
	return -1
}

// nextMulti returns the index of the first MULTI after the WATCH at i, or -1 when
// another command changing the connection's state comes first.
func (m *multiRun) nextMulti(i int) int {
	for k := i + 1; k < len(m.cmds); k++ {
		in := command.Lookup(m.cmds[k])
		switch {
		case in == nil || in.ConnState == command.ConnNone || in.Name == "watch":
		case in.Name == "multi":
			return k
		default:
			return -1
		}
	}
	return -1
}

// opensTx reports whether args are a WATCH or a MULTI: commands that bind those after
// them to a transaction, so that an argument of theirs that cannot be sent fails the
// whole transaction, unsent, not them alone (the transaction would run unwatched, or
// its body outside any transaction).
func opensTx(args []any) bool {
	in := command.Lookup(args)
	return in != nil && (in.Name == "watch" || in.Name == "multi")
}

// failTx gives the commands cmds[i..end] of a transaction, not sent, err.
func (m *multiRun) failTx(i, end int, err error) {
	for k := i; k <= end; k++ {
		m.results[k] = Reply{err: err}
	}
}

// runTx runs the transaction cmds[i..end] as a barrier: the commands from i (WATCH, or
// the MULTI itself) to the MULTI at multi, the MULTI, its commands, and EXEC or DISCARD.
func (m *multiRun) runTx(i, multi, end int) {
	batch := make([][]any, 0, end-i+1)
	for k := i; k <= end; k++ {
		batch = append(batch, m.cmds[k])
	}
	pre := batch[:multi-i]
	vs, err := m.c.runTx(m.ctx, pre, batch[multi-i+1:len(batch)-1], batch[len(batch)-1])
	for k := i; k <= end; k++ {
		if err != nil && k-i >= len(vs) { // vs: pre's replies when the WATCH failed
			m.results[k] = Reply{err: err}
		} else {
			m.results[k] = Reply{val: vs[k-i], elem: true} // EXEC's elements
		}
	}
}
