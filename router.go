package redline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/node"
	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// Do runs one command on the cluster and returns its result. Arguments are strings,
// []byte, integers, floats or bools (any other type is an error). The command goes to the node that
// owns its keys' slot (keyless commands to a random primary; commands the server's
// tips mark for all shards or all nodes to every one of them, their replies merged;
// MGET, MSET, DEL, UNLINK, EXISTS and TOUCH split by slot). A command that would
// change the state of the connection it is sent on (MULTI, SUBSCRIBE, HELLO, SELECT,
// CLIENT REPLY, …: see the package documentation) is not sent: it fails with a
// *ConnStateError naming the API to use instead. MOVED and ASK are
// followed, TRYAGAIN, CLUSTERDOWN, LOADING and MASTERDOWN retried with backoff, all
// within the call's deadline and Options.MaxAttempts.
//
// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX,
// BZMPOP, XREAD and XREADGROUP with BLOCK, WAIT, WAITAOF) run on a dedicated connection
// of the node (redirected by ASK too), and their deadline is the context's: the
// server's own wait is what the caller asked for, so Options.CommandTimeout bounds only
// the rest. BLPOP q 0 with a context without deadline waits for its element however
// long that takes; BLPOP q 5 waits at most about 5s (plus the 100ms by which a server
// may be late) plus CommandTimeout. A node that stops answering meanwhile is noticed
// within two to three times Options.ReplyTimeout (its shared connection is checked
// while the command waits) and a broken connection at once; the error says so, and
// that the command may have taken what it waited for. When the context ends first, a
// command
// that takes what it returns (the pops, BLMOVE, XREADGROUP…) is ended on the server
// before the call returns (CLIENT UNBLOCK): what it took is returned, or nothing was
// taken and the error says so (SafeToRetry). WAIT and WAITAOF count the
// acknowledgements of every write the node executed before them, the caller's included
// (a PING goes first on their connection to record that offset).
func (c *Client) Do(ctx context.Context, args ...any) Result {
	if len(args) == 0 {
		return Result{err: errors.New("redline: Do: empty command")}
	}
	if c.closed.Load() {
		return Result{err: ErrClosed}
	}
	if c.hooked {
		return c.doHooked(ctx, args)
	}
	var tr callTrace
	return c.do(ctx, args, &tr)
}

// callTrace is what a call did, for the command hooks. The router fills it in
// always (a few stores on the caller's stack); only the hooks read it.
type callTrace struct {
	info      *command.Info
	node      *node.Node // the last node tried
	slot      int
	attempts  int
	redirects int
	asks      int  // of redirects
	primary   bool // set by the caller: a read goes to the primary (DoMulti: the slot is written)
}

// do is Do without the hooks.
func (c *Client) do(ctx context.Context, args []any, tr *callTrace) Result {
	w := c.waiter(ctx)
	defer w.Release()
	info, err := c.lookup(&w, args)
	if err != nil {
		return Result{err: err}
	}
	tr.info, tr.slot, tr.attempts = info, -1, 1
	if info != nil {
		switch {
		case info.ConnState != command.ConnNone:
			return Result{err: connStateErr(info)}
		case fansOut(info):
			return c.fanout(ctx, info, args)
		case info.Request == command.PolicyMultiShard && splittable[info.Name]:
			if r, split := c.split(ctx, info, args); split {
				return r
			}
		}
	}
	slot, err := c.routeSlot(info, args)
	if err != nil {
		return Result{err: err}
	}
	tr.slot = slot
	if bw, ok := blockingWait(info, args); ok {
		// The server's own wait is the caller's to bound: CommandTimeout bounds the rest.
		w.Release()
		w = conn.NewWaiter(ctx, bw.deadline(time.Now(), c.opts.CommandTimeout))
	}
	return c.doSlot(&w, info, slot, args, tr)
}

// doHooked is Do with the command hooks around it.
func (c *Client) doHooked(ctx context.Context, args []any) (r Result) {
	c.aroundCommand(ctx, CommandStart{Name: commandName(args), Commands: 1}, func(end *CommandEnd) {
		var tr callTrace
		r = c.do(ctx, args, &tr)
		end.Slot, end.Attempts, end.Redirects, end.Asks, end.Err = tr.slot, tr.attempts, tr.redirects, tr.asks, r.Err()
		if tr.node != nil {
			end.Node = tr.node.Addr()
		}
	})
	return r
}

// commandName returns the command's name for the hooks: the command table's
// ("get", "cluster|shards"), or the first argument in lower case for a command
// the table does not know.
func commandName(args []any) string {
	if info := command.Lookup(args); info != nil {
		return info.Name
	}
	return strings.Clone(strings.ToLower(argString(args[0]))) // the hook may keep it: never alias the caller's
}

// fansOut reports whether a command goes to every primary or node: its request tip
// says so, and its replies can be merged (a "special" response, like INFO's, is
// answered by one node instead).
func fansOut(info *command.Info) bool {
	return (info.Request == command.PolicyAllShards || info.Request == command.PolicyAllNodes) &&
		info.Response != command.ResponseSpecial
}

// splittable are the multi-key commands split by slot: those whose parts are
// independent (MSETNX, say, is all-or-nothing and is not split).
var splittable = map[string]bool{"mget": true, "mset": true, "del": true, "unlink": true, "exists": true, "touch": true}

// slotOf returns the slot of the command's keys, -1 for a keyless command, or an
// error when the keys are in different slots.
func (c *Client) slotOf(info *command.Info, args []any) (int, error) {
	if info == nil {
		return -1, nil
	}
	var buf [16]int
	idx, _ := info.SlotIndexes(args, buf[:0]) // keys, and shard channels (SPUBLISH)
	if len(idx) == 0 {
		return -1, nil
	}
	slot := argSlot(args[idx[0]])
	for _, i := range idx[1:] {
		if s := argSlot(args[i]); s != slot {
			return 0, &CrossSlotError{Command: info.Name, Keys: [2]string{strings.Clone(argString(args[idx[0]])), strings.Clone(argString(args[i]))}, Slots: [2]int{slot, s}}
		}
	}
	return slot, nil
}

// publishInfo is PUBLISH's entry in the command table, found once.
var publishInfo = command.LookupName("publish")

// routeSlot is slotOf, and for PUBLISH the slot of its channel: any node delivers a
// message to every subscriber of the cluster, and one channel's messages from one
// client, all sent to one node, arrive in the order they were published.
func (c *Client) routeSlot(info *command.Info, args []any) (int, error) {
	if info == publishInfo && info != nil && len(args) >= 2 {
		return argSlot(args[1]), nil
	}
	return c.slotOf(info, args)
}

// argSlot returns the slot of a key argument.
func argSlot(a any) int {
	switch k := a.(type) {
	case string:
		return hashslot.Key(k)
	case []byte:
		return hashslot.KeyBytes(k)
	}
	var buf [32]byte
	return hashslot.KeyBytes(appendArg(buf[:0], a))
}

func argString(a any) string {
	switch k := a.(type) {
	case string:
		return k
	case []byte:
		return string(k)
	}
	return string(appendArg(nil, a))
}

// appendArg formats a non-string argument as Redis receives it (as resp.AppendCommand
// encodes it).
func appendArg(dst []byte, a any) []byte {
	switch v := a.(type) {
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case int8:
		return strconv.AppendInt(dst, int64(v), 10)
	case int16:
		return strconv.AppendInt(dst, int64(v), 10)
	case int32:
		return strconv.AppendInt(dst, int64(v), 10)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10)
	case uint8:
		return strconv.AppendUint(dst, uint64(v), 10)
	case uint16:
		return strconv.AppendUint(dst, uint64(v), 10)
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(dst, v, 10)
	case float32:
		return strconv.AppendFloat(dst, float64(v), 'f', -1, 32)
	case float64:
		return strconv.AppendFloat(dst, v, 'f', -1, 64)
	case bool:
		if v {
			return append(dst, '1')
		}
		return append(dst, '0')
	}
	return dst // other types are refused when the command is encoded
}

// cloneArgs copies args for work that outlives the caller's frame (other goroutines,
// errors): strings and byte slices are copied too, and numbers re-boxed, so the caller's
// arguments never escape to the heap on the common path (the compiler sees no path that
// keeps them). An argument of a type the codec does not encode is an error here already.
func cloneArgs(args []any) ([]any, error) {
	out := make([]any, len(args))
	for i, a := range args {
		c, ok := cloneArg(a)
		if !ok {
			return nil, fmt.Errorf("redline: argument %d has unsupported type %s", i, reflect.TypeOf(a))
		}
		out[i] = c
	}
	return out, nil
}

// cloneArg copies one argument; false for a type the codec does not encode.
func cloneArg(a any) (any, bool) {
	switch v := a.(type) {
	case string:
		return strings.Clone(v), true
	case []byte:
		return bytes.Clone(v), true
	case int:
		return v, true
	case int8:
		return v, true
	case int16:
		return v, true
	case int32:
		return v, true
	case int64:
		return v, true
	case uint:
		return v, true
	case uint8:
		return v, true
	case uint16:
		return v, true
	case uint32:
		return v, true
	case uint64:
		return v, true
	case float32:
		return v, true
	case float64:
		return v, true
	case bool:
		return v, true
	}
	return nil, false
}

// doSlot runs a single-slot (or keyless, slot -1) command with redirects and retries.
func (c *Client) doSlot(w *conn.Waiter, info *command.Info, slot int, args []any, tr *callTrace) Result {
	readonly := info != nil && info.ReadOnly()
	bw, blocking := blockingWait(info, args)
	var (
		target  *node.Node // set by a redirect
		asking  bool
		exclude *node.Node // a node that just failed a read
		first   error      // the first transport failure: the most telling cause
		last    Result
		backoff = c.opts.RetryBackoff
	)
	var prev *node.Node // the node of the previous attempt
	for attempt := 1; attempt <= c.opts.MaxAttempts; attempt++ {
		if attempt > 1 && w.Done() { // no new attempt once the deadline has passed
			return Result{err: w.DeadlineErr(unfinished(prev, target, first, last))}
		}
		n := target
		if n == nil {
			var err error
			if n, err = c.pick(slot, readonly && !tr.primary, exclude); err != nil {
				if first != nil {
					return Result{err: first}
				}
				return Result{err: err}
			}
		}
		tr.node, tr.attempts, prev = n, attempt, n
		var v resp.Value
		var err error
		switch {
		case blocking: // never on the shared connection, redirected by ASK or not
			v, err = c.execBlocking(w, n, args, bw, asking)
		case asking:
			v, err = c.execAsking(w, n, args)
		default:
			v, err = n.Exec(w, args)
		}
		target, asking = nil, false

		if err != nil {
			var de *DeadlineError
			if errors.As(err, &de) {
				// The node did not answer in time: it may have been replaced. Not so a
				// blocking command that ended at its caller's deadline, as asked: the
				// server answered (nothing taken) or held it while answering health checks.
				if de.Node != nil && !(blocking && waitedAsAsked(de)) {
					c.timedOut.Store(de.Node.Addr)
					c.triggerRefresh()
				}
				return Result{err: err}
			}
			var ne *NodeError
			isNE := errors.As(err, &ne)
			if !isNE { // an encoding error: not the node's fault
				return Result{err: err}
			}
			c.triggerRefresh() // the slot's owner failed: the topology may have changed
			if first == nil {
				first = err
			}
			last = Result{err: first}
			if ne.Written && !readonly {
				return Result{err: err} // may have executed: reported, never re-sent
			}
			if ne.Down && !readonly {
				return last // known down: fail fast with the cause
			}
			exclude = n // reads may go to another node of the shard
			continue
		}

		if e := v.Err; e != nil {
			switch {
			case e.IsMoved():
				addr := resolveAddr(e.Addr, n.Addr())
				c.applyMoved(e.Slot, addr)
				tr.redirects++
				target = c.node(addr)
				last = Result{val: v}
				continue
			case e.IsAsk():
				c.ask.Add(1)
				tr.redirects++
				tr.asks++
				target, asking = c.node(resolveAddr(e.Addr, n.Addr())), true
				last = Result{val: v}
				continue
			case e.Code == "LOADING" && readonly && c.opts.ReadFrom != ReadPrimary && attempt < c.opts.MaxAttempts:
				exclude = n // a replica still loading its data: read elsewhere now
				last = Result{val: v}
				continue
			case e.IsRetryable():
				if e.Code == "CLUSTERDOWN" || e.Code == "MASTERDOWN" {
					c.triggerRefresh()
				}
				last = Result{val: v}
				if attempt == c.opts.MaxAttempts || !sleep(w, jitter(backoff)) {
					return last // no time or attempts left: the server's answer is the cause
				}
				backoff = min(2*backoff, c.opts.RetryBackoffMax)
				continue
			}
		}
		return Result{val: v}
	}
	return last
}

// unfinished is what a call whose deadline passed between attempts was doing: following
// a redirect from prev to target, or retrying after a failure of prev (first, or the
// server's answer in last).
func unfinished(prev, target *node.Node, first error, last Result) *NodeError {
	var ne *NodeError
	if first != nil && errors.As(first, &ne) {
		return ne
	}
	e := last.val.Err
	if e == nil {
		e = &resp.Error{Msg: "no answer", Slot: -1}
	}
	if target != nil && (e.IsMoved() || e.IsAsk()) {
		return &NodeError{Addr: target.Addr(), Phase: PhaseRedirect, Err: fmt.Errorf("not followed (%w)", e)}
	}
	addr := ""
	if prev != nil {
		addr = prev.Addr()
	}
	return &NodeError{Addr: addr, Phase: PhaseRead, Err: fmt.Errorf("not retried (%w)", e)}
}

// execAsking sends ASKING and the command together on the target's connection.
func (c *Client) execAsking(w *conn.Waiter, n *node.Node, args []any) (resp.Value, error) {
	cn, err := n.Conn(w)
	if err != nil {
		return resp.Value{}, err
	}
	vs, err := cn.ExecMulti(w, [][]any{{"ASKING"}, args})
	if err != nil {
		return resp.Value{}, err
	}
	return vs[1], nil
}

// resolveAddr completes a redirect address without a host (":6381", Redis 7's
// "unknown endpoint") with the host of the node that sent it.
func resolveAddr(addr, from string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "" {
		return addr
	}
	fromHost, _, _ := net.SplitHostPort(from)
	return net.JoinHostPort(fromHost, port)
}

// sleep waits d or until the waiter ends; false when the waiter ended (or would end
// before d: a backoff never outlasts the deadline).
func sleep(w *conn.Waiter, d time.Duration) bool {
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

// jitter returns a random duration in [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + time.Duration(randN(int(d/2)+1))
}

// errUncovered is returned for a slot no node serves.
type errUncovered int

func (e errUncovered) Error() string {
	return fmt.Sprintf("redline: slot %d is not served by any node (the cluster is down or resharding); the topology is being refreshed", int(e))
}

// errNoReplica is returned with ReadReplicaOnly when no replica can serve a slot.
type errNoReplica int

func (e errNoReplica) Error() string {
	return fmt.Sprintf("redline: no healthy replica serves slot %d (ReadFrom: replica-only)", int(e))
}

// pick chooses the node for a slot (-1: keyless) per ReadFrom, skipping exclude.
func (c *Client) pick(slot int, readonly bool, exclude *node.Node) (*node.Node, error) {
	t := c.topo.Load()
	if slot < 0 {
		return c.anyPrimary(exclude), nil
	}
	s := t.Slot(slot)
	if s == nil {
		c.triggerRefresh()
		return nil, errUncovered(slot)
	}
	primary := c.node(s.Primary.Addr)
	if !readonly || c.opts.ReadFrom == ReadPrimary || len(s.Replicas) == 0 && c.opts.ReadFrom != ReadReplicaOnly {
		return primary, nil
	}
	// A replica reported "loading" is still used: Redis 7.0 reports every replica
	// whose replication offset is 0 that way (a fresh, idle cluster); one that really is
	// loading answers LOADING and the read moves on (see doSlot).
	usable := func(n *node.Node, r *topology.Node) bool {
		return n != exclude && n.State() != node.StateDown && !r.Failed()
	}
	switch c.opts.ReadFrom {
	case ReadPreferReplica, ReadReplicaOnly:
		start := randN(max(1, len(s.Replicas)))
		for i := range s.Replicas {
			r := s.Replicas[(start+i)%len(s.Replicas)]
			if n := c.node(r.Addr); usable(n, r) {
				return n, nil
			}
		}
		if c.opts.ReadFrom == ReadReplicaOnly {
			// The topology may be behind (a replica resyncing after a failover is left
			// out of CLUSTER SLOTS, and Redis 7.0's SHARDS lists it as a master of its
			// own): ask again, rate-limited like every refresh.
			c.triggerRefresh()
			return nil, errNoReplica(slot)
		}
		return primary, nil
	default: // ReadNearest
		best, bestLat := primary, time.Duration(1<<62)
		if primary != exclude && primary.State() != node.StateDown {
			bestLat = primary.Latency()
		}
		for _, r := range s.Replicas {
			if n := c.node(r.Addr); usable(n, r) {
				if l := n.Latency(); l < bestLat {
					best, bestLat = n, l
				}
			}
		}
		return best, nil
	}
}

// anyPrimary returns a random primary, preferring nodes not known to be down.
func (c *Client) anyPrimary(exclude *node.Node) *node.Node {
	ps := c.topo.Load().Primaries()
	if len(ps) == 0 {
		return c.node(c.opts.Addrs[randN(len(c.opts.Addrs))])
	}
	start := randN(len(ps))
	for i := range ps {
		n := c.node(ps[(start+i)%len(ps)].Addr)
		if n != exclude && n.State() != node.StateDown {
			return n
		}
	}
	return c.node(ps[start].Addr)
}

// deriveCtx returns a context ending at the call's deadline, for work spread over
// several goroutines (a Waiter's timer serves one).
func (c *Client) deriveCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, time.Now().Add(c.opts.CommandTimeout))
}
