package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// Trace is what a call did, for the command hooks. The router fills it in always (a
// few stores on the caller's stack); only the hooks read it.
type Trace struct {
	Slot      int // the command's slot; -1 keyless
	Attempts  int
	Redirects int
	Asks      int // of Redirects
	info      *command.Info
	node      Node // the last node tried
	primary   bool // set by the caller: a read goes to the primary (DoMulti: the slot is written)
}

// NodeAddr is the address of the last node tried ("" if none).
func (t *Trace) NodeAddr() string {
	if t.node == nil {
		return ""
	}
	return t.node.Addr()
}

// addParts sums the traces of a split or fanned-out command's parts into t: every
// try beyond each part's first counts, as DoMulti counts its commands'.
func (t *Trace) addParts(parts []Trace) {
	for _, p := range parts {
		t.Attempts += max(p.Attempts-1, 0)
		t.Redirects += p.Redirects
		t.Asks += p.Asks
	}
}

// Do runs one command (args not empty) and returns its reply: routed by its keys'
// slot, split or fanned out, redirected and retried within the call's deadline (the
// earlier of ctx's and CommandTimeout; a blocking command's is ctx's). tr records what
// it did.
func (c *Engine) Do(ctx context.Context, args []any, tr *Trace) Reply {
	if c.closed.Load() {
		return Reply{err: rerr.ErrClosed}
	}
	w := c.Waiter(ctx)
	defer w.Release()
	info, err := c.lookup(&w, args)
	if err != nil {
		return Reply{err: err}
	}
	tr.info, tr.Slot, tr.Attempts = info, -1, 1
	if c.cfg.Cache != nil && info != nil && !info.ReadOnly() {
		defer c.cacheWrote(info, args) // read-your-writes (cache.go)
	}
	if info != nil {
		switch {
		case info.ConnState != command.ConnNone:
			return Reply{err: ConnStateErr(info)}
		case info.FansOut():
			return c.fanout(ctx, info, args, tr)
		case info.Splittable() && c.splits(info): // else: one slot, or *CrossSlotError
			if r, split := c.split(ctx, info, args, tr); split {
				return r
			}
		}
	}
	slot, err := c.routeSlot(info, args)
	if err != nil {
		return Reply{err: err}
	}
	tr.Slot = slot
	if bw, ok := blockingWait(info, args); ok {
		// The server's own wait is the caller's to bound: CommandTimeout bounds the rest.
		w.Release()
		w = conn.NewWaiter(ctx, bw.deadline(time.Now(), c.cfg.CommandTimeout))
		return c.doSlot(&w, info, slot, args, tr)
	}
	// The first attempt here, the rest (redirects, retries, failures) in doSlotFrom:
	// most calls end with their first attempt, and the frames of a caller waiting for
	// its reply are what a garbage collection scans, for every waiting caller.
	n, err := c.pick(slot, info != nil && info.ReadOnly() && !tr.primary, nil)
	if err != nil {
		return c.doSlot(&w, info, slot, args, tr) // which says why, as for every attempt
	}
	tr.node = n
	v, err := execOn(n, &w, args)
	if err == nil && v.Err == nil {
		return Reply{val: v}
	}
	return c.doSlotFrom(&w, info, slot, args, tr, resume{ran: &ran{n: n, v: v, err: err}})
}

// ran is an attempt already made (Engine.Do's first) that doSlotFrom judges as its own.
type ran struct {
	n   Node
	v   resp.Value
	err error
}

// SlotOf returns the slot of the command's keys, -1 for a keyless command, or an
// error when the keys are in different slots.
func (c *Engine) SlotOf(info *command.Info, args []any) (int, error) {
	if info == nil {
		return -1, nil
	}
	var buf [16]int
	idx, _ := info.SlotIndexes(args, buf[:0]) // keys, and shard channels (SPUBLISH)
	if len(idx) == 0 {
		return -1, nil
	}
	if c.single { // one server: every key routes alike
		return 0, nil
	}
	slot := ArgSlot(args[idx[0]])
	for _, i := range idx[1:] {
		if s := ArgSlot(args[i]); s != slot {
			return 0, &CrossSlotError{Command: info.Name, Keys: [2]string{strings.Clone(ArgString(args[idx[0]])), strings.Clone(ArgString(args[i]))}, Slots: [2]int{slot, s}}
		}
	}
	return slot, nil
}

// publishInfo is PUBLISH's entry in the command table, found once.
var publishInfo = command.LookupName("publish")

// routeSlot is slotOf, and for PUBLISH the slot of its channel: any node delivers a
// message to every subscriber of the cluster, and one channel's messages from one
// client, all sent to one node, arrive in the order they were published.
func (c *Engine) routeSlot(info *command.Info, args []any) (int, error) {
	if info == publishInfo && info != nil && len(args) >= 2 {
		return ArgSlot(args[1]), nil
	}
	return c.SlotOf(info, args)
}

// CrossSlotError is returned, without contacting the cluster, for a command whose
// keys hash to different slots and that redline cannot split (or, per Config.Split,
// does not).
type CrossSlotError struct {
	Command string
	Keys    [2]string // two keys in different slots
	Slots   [2]int
}

// Error names the keys, their slots and the fix.
func (e *CrossSlotError) Error() string {
	return fmt.Sprintf("redline: %s: keys %q (slot %d) and %q (slot %d) are in different slots; use a {hash tag} to keep them together",
		e.Command, e.Keys[0], e.Slots[0], e.Keys[1], e.Slots[1])
}

// ArgSlot returns the slot of a key argument.
func ArgSlot(a any) int {
	switch k := a.(type) {
	case string:
		return hashslot.Key(k)
	case []byte:
		return hashslot.KeyBytes(k)
	}
	var buf [32]byte
	return hashslot.KeyBytes(resp.AppendArg(buf[:0], a))
}

// ArgString returns an argument as Redis receives it, as a string.
func ArgString(a any) string {
	switch k := a.(type) {
	case string:
		return k
	case []byte:
		return string(k)
	}
	return string(resp.AppendArg(nil, a))
}

// doSlot runs a single-slot (or keyless, slot -1) command with redirects and retries.
func (c *Engine) doSlot(w *conn.Waiter, info *command.Info, slot int, args []any, tr *Trace) Reply {
	return c.doSlotFrom(w, info, slot, args, tr, resume{})
}

// resume is where a command that DoMulti redoes after its pipelined tries starts: the
// attempts those took (they count against MaxAttempts), their last reply, and the
// redirect it answered (followed first).
type resume struct {
	tried  int
	last   Reply
	to     Node
	asking bool
	ran    *ran // the first attempt, made: judged before any other is made
}

// doSlotFrom is doSlot resuming at r.
func (c *Engine) doSlotFrom(w *conn.Waiter, info *command.Info, slot int, args []any, tr *Trace, r resume) Reply {
	readonly := info != nil && info.ReadOnly()
	bw, blocking := blockingWait(info, args)
	var (
		target  = r.to // set by a redirect
		asking  = r.asking
		ex      excluded // the nodes that failed a read
		first   error    // the first transport failure: the most telling cause
		last    = r.last
		backoff = c.cfg.RetryBackoff
	)
	var prev Node // the node of the previous attempt
	if r.tried >= c.cfg.MaxAttempts {
		return last
	}
	for attempt := 1 + r.tried; attempt <= c.cfg.MaxAttempts; attempt++ {
		if attempt > 1 && w.Done() { // no new attempt once the deadline has passed
			return Reply{err: w.DeadlineErr(unfinished(prev, target, first, last))}
		}
		n := target
		if r.ran != nil {
			n = r.ran.n
		} else if n == nil {
			var err error
			if n, err = c.pick(slot, readonly && !tr.primary, &ex); err != nil {
				if first != nil {
					return Reply{err: first}
				}
				return Reply{err: err}
			}
		} else { // following a redirect
			if c.single {
				return Reply{err: redirectOnSingle(prev, last)}
			}
			tr.Redirects++
			if asking {
				tr.Asks++
			}
		}
		tr.node, tr.Attempts, prev = n, attempt, n
		var v resp.Value
		var err error
		switch {
		case r.ran != nil:
			v, err, r.ran = r.ran.v, r.ran.err, nil
		case blocking: // never on the shared connection, redirected by ASK or not
			v, err = c.execBlocking(w, n, args, bw, asking)
		case asking:
			v, err = c.execAsking(w, n, args)
		default:
			v, err = execOn(n, w, args)
		}
		target, asking = nil, false

		if err != nil {
			var de *rerr.DeadlineError
			if errors.As(err, &de) {
				// The node did not answer in time: it may have been replaced. Not so a
				// blocking command that ended at its caller's deadline, as asked: the
				// server answered (nothing taken) or held it while answering health checks.
				if de.Node != nil && !(blocking && waitedAsAsked(de)) {
					c.timedOut.Store(de.Node.Addr)
					c.TriggerRefresh()
				}
				return Reply{err: err}
			}
			var ne *rerr.NodeError
			isNE := errors.As(err, &ne)
			if !isNE { // an encoding error: not the node's fault
				return Reply{err: err}
			}
			c.TriggerRefresh() // the slot's owner failed: the topology may have changed
			if first == nil {
				first = err
			}
			last = Reply{err: first}
			if ne.Written && !readonly {
				return Reply{err: err} // may have executed: reported, never re-sent
			}
			if ne.Down && !readonly {
				return last // known down: fail fast with the cause
			}
			ex.add(n) // reads may go to another node of the shard
			continue
		}

		if e := v.Err; e != nil {
			switch {
			case c.single && (e.IsMoved() || e.IsAsk()):
				return Reply{err: redirectOnSingle(n, Reply{val: v})}
			case e.IsMoved():
				addr := ResolveAddr(e.Addr, n.Addr())
				c.ApplyMoved(e.Slot, addr)
				target = c.NodeAt(addr)
				last = Reply{val: v}
				continue
			case e.IsAsk():
				c.ask.Add(1)
				target, asking = c.NodeAt(ResolveAddr(e.Addr, n.Addr())), true
				last = Reply{val: v}
				continue
			case e.Code == "LOADING" && readonly && !tr.primary && c.cfg.ReadFrom != ReadPrimary && attempt < c.cfg.MaxAttempts:
				ex.add(n) // a replica still loading its data: read elsewhere now
				last = Reply{val: v}
				continue
			case e.IsRetryable() || c.demoted(e):
				// READONLY from a Sentinel's primary: demoted by a failover, the
				// command refused (nothing ran): ask the Sentinels, retry.
				if e.Code == "CLUSTERDOWN" || e.Code == "MASTERDOWN" || e.Code == "READONLY" {
					c.TriggerRefresh()
				}
				last = Reply{val: v}
				if attempt == c.cfg.MaxAttempts || !Sleep(w, Jitter(backoff)) {
					return last // no time or attempts left: the server's answer is the cause
				}
				backoff = min(2*backoff, c.cfg.RetryBackoffMax)
				continue
			}
		}
		return Reply{val: v}
	}
	return last
}

// unfinished is what a call whose deadline passed between attempts was doing: following
// a redirect from prev to target, or retrying after a failure of prev (first, or the
// server's answer in last).
func unfinished(prev, target Node, first error, last Reply) *rerr.NodeError {
	var ne *rerr.NodeError
	if first != nil && errors.As(first, &ne) {
		return ne
	}
	e := last.val.Err
	if e == nil {
		e = &resp.Error{Msg: "no answer", Slot: -1}
	}
	if target != nil && (e.IsMoved() || e.IsAsk()) {
		return &rerr.NodeError{Addr: target.Addr(), Phase: rerr.PhaseRedirect, Err: fmt.Errorf("not followed (%w)", e)}
	}
	addr := ""
	if prev != nil {
		addr = prev.Addr()
	}
	return &rerr.NodeError{Addr: addr, Phase: rerr.PhaseRead, Err: fmt.Errorf("not retried (%w)", e)}
}

// execAsking sends ASKING and the command together on the target's connection.
func (c *Engine) execAsking(w *conn.Waiter, n Node, args []any) (resp.Value, error) {
	vs, err := ExecMultiOn(n, w, [][]any{{"ASKING"}, args})
	if err != nil {
		return resp.Value{}, err
	}
	if e := vs[1].Err; vs[0].Err != nil && e != nil && (e.IsAsk() || e.IsMoved()) {
		return vs[0], nil // ASKING refused (an ACL without +asking): that is the cause
	}
	return vs[1], nil
}

// ResolveAddr completes a redirect address without a host (":6381", Redis 7's
// "unknown endpoint") with the host of the node that sent it.
func ResolveAddr(addr, from string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "" {
		return addr
	}
	fromHost, _, _ := net.SplitHostPort(from)
	return net.JoinHostPort(fromHost, port)
}

// Sleep waits d or until the waiter ends; false when the waiter ended (or would end
// before d: a backoff never outlasts the deadline).
func Sleep(w *conn.Waiter, d time.Duration) bool {
	if dl, ok := w.Deadline(); ok && time.Until(dl) <= d {
		return false
	}
	if w.Done() {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return !w.Done()
	case <-w.Ctx().Done():
	case <-w.Expired():
	}
	return false
}

// Jitter returns a random duration in [d/2, d].
func Jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + time.Duration(randN(int(d/2)+1))
}

// ErrUncovered is returned for a slot no node serves.
type ErrUncovered int

// Error says which slot is unserved.
func (e ErrUncovered) Error() string {
	return fmt.Sprintf("redline: slot %d is not served by any node (the cluster is down or resharding); the topology is being refreshed", int(e))
}

// errNoReplica is returned with ReadReplicaOnly when no replica can serve a slot.
type errNoReplica int

func (e errNoReplica) Error() string {
	return fmt.Sprintf("redline: no healthy replica serves slot %d (ReadFrom: replica-only)", int(e))
}

// Pick chooses the node for a slot (-1: keyless) per ReadFrom, preferring nodes not
// known to be down.
func (c *Engine) Pick(slot int, readonly bool) (Node, error) { return c.pick(slot, readonly, nil) }

// pick is Pick skipping the nodes in ex (nil: none).
func (c *Engine) pick(slot int, readonly bool, ex *excluded) (Node, error) {
	t := c.topo.Load()
	if slot < 0 {
		return c.anyPrimary(ex), nil
	}
	s := t.Slot(slot)
	if s == nil {
		c.TriggerRefresh()
		return nil, ErrUncovered(slot)
	}
	primary := c.NodeAt(s.Primary.Addr)
	if !readonly || c.cfg.ReadFrom == ReadPrimary || len(s.Replicas) == 0 && c.cfg.ReadFrom != ReadReplicaOnly {
		return primary, nil
	}
	// A replica reported "loading" is still used: Redis 7.0 reports every replica
	// whose replication offset is 0 that way (a fresh, idle cluster); one that really is
	// loading answers LOADING and the read moves on (see doSlot).
	switch c.cfg.ReadFrom {
	case ReadLocalZone:
		return c.pickLocal(s, primary, ex), nil
	case ReadPreferReplica, ReadReplicaOnly:
		start := randN(max(1, len(s.Replicas)))
		for i := range s.Replicas {
			r := s.Replicas[(start+i)%len(s.Replicas)]
			if n := c.NodeAt(r.Addr); usableReplica(n, r, ex) {
				return n, nil
			}
		}
		if c.cfg.ReadFrom == ReadReplicaOnly {
			// The topology may be behind (a replica resyncing after a failover is left
			// out of CLUSTER SLOTS, and Redis 7.0's SHARDS lists it as a master of its
			// own): ask again, rate-limited like every refresh.
			c.TriggerRefresh()
			return nil, errNoReplica(slot)
		}
		return primary, nil
	default: // ReadNearest
		best, bestLat := primary, time.Duration(1<<62)
		if !ex.has(primary) && primary.State() != StateDown {
			bestLat = primary.Latency()
		}
		for _, r := range s.Replicas {
			if n := c.NodeAt(r.Addr); usableReplica(n, r, ex) {
				if l := n.Latency(); l < bestLat {
					best, bestLat = n, l
				}
			}
		}
		return best, nil
	}
}

// anyPrimary returns a random primary, preferring nodes not known to be down.
func (c *Engine) anyPrimary(ex *excluded) Node {
	ps := c.topo.Load().Primaries()
	if len(ps) == 0 {
		return c.NodeAt(c.cfg.Addrs[randN(len(c.cfg.Addrs))])
	}
	start := randN(len(ps))
	for i := range ps {
		n := c.NodeAt(ps[(start+i)%len(ps)].Addr)
		if !ex.has(n) && n.State() != StateDown {
			return n
		}
	}
	return c.NodeAt(ps[start].Addr)
}

// excluded is the set of nodes a call avoids: those that failed its read (a shard's
// nodes at most, so a few; beyond its capacity the oldest is forgotten).
type excluded struct {
	ns [4]Node
	n  int // nodes added
}

// add excludes n.
func (x *excluded) add(n Node) {
	if !x.has(n) {
		x.ns[x.n%len(x.ns)] = n
		x.n++
	}
}

// has reports whether n is excluded (never, for a nil set).
func (x *excluded) has(n Node) bool {
	if x == nil {
		return false
	}
	for i := range min(x.n, len(x.ns)) {
		if x.ns[i] == n {
			return true
		}
	}
	return false
}

// DeriveCtx returns a context ending at the call's deadline, for work spread over
// several goroutines (a Waiter's timer serves one).
func (c *Engine) DeriveCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, time.Now().Add(c.cfg.CommandTimeout))
}
