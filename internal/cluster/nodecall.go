package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// Commands on chosen nodes (Client.DoOn, DoOnEveryPrimary, DoOnEveryNode): an operator's
// INFO, CONFIG GET, SLOWLOG or MEMORY USAGE on one node or on each, each node's answer
// kept apart.

// errNotANode is the error for an address the topology does not list.
type errNotANode string

func (e errNotANode) Error() string {
	return fmt.Sprintf("redline: %s is not a node of the cluster (as the client last saw its topology)", string(e))
}

// DoOnNodes runs one command on each node of addrs at once and returns one Reply per
// address, in the order of addrs. Every node's call is bounded by the call's deadline
// (the earlier of ctx's and CommandTimeout; a blocking command's, such as WAIT, is
// ctx's and its own timeout, as with Do): a node that does not answer costs its own
// Reply a DeadlineError naming it, never the others theirs. On each node the command is
// retried when the server asks (TRYAGAIN, LOADING…, within MaxAttempts) and never
// redirected: a MOVED or ASK answer is that node's reply. An address the topology does
// not list fails without being dialed. A command that would change its connection's
// state (SUBSCRIBE, MULTI, SELECT…) fails for every address, unsent.
func (c *Engine) DoOnNodes(ctx context.Context, addrs []string, args []any) []Reply {
	out := make([]Reply, len(addrs))
	fail := func(err error) []Reply {
		for i := range out {
			out[i] = Reply{err: err}
		}
		return out
	}
	if c.closed.Load() {
		return fail(rerr.ErrClosed)
	}
	if len(args) == 0 {
		return fail(fmt.Errorf("redline: empty command"))
	}
	own, err := resp.CloneArgs(args) // a copy for the goroutines
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	w := c.Waiter(ctx)
	info, err := c.lookup(&w, own) // a module's command: asked of a node, within the deadline
	w.Release()
	if err != nil {
		return fail(err)
	}
	if info != nil && info.ConnState != command.ConnNone {
		return fail(ConnStateErr(info))
	}
	bw, blocking := blockingWait(info, own)
	var cancel context.CancelFunc
	switch dl := bw.deadline(start, c.cfg.CommandTimeout); {
	case !blocking: // the call's deadline, counted from its start (the lookup included)
		ctx, cancel = context.WithDeadline(ctx, start.Add(c.cfg.CommandTimeout))
	case !dl.IsZero():
		ctx, cancel = context.WithDeadline(ctx, dl)
	default:
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	t := c.topo.Load()
	var wg sync.WaitGroup
	for i, addr := range addrs {
		if t == nil || t.NodeByAddr(addr) == nil {
			out[i] = Reply{err: errNotANode(addr)}
			continue
		}
		n := c.NodeAt(addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tr Trace
			out[i] = c.onNode(ctx, n, own, bw, blocking, &tr)
		}()
	}
	wg.Wait()
	return out
}

// PrimaryAddrs returns the addresses of the primaries that serve slots, the nodes a
// command for all shards goes to (see fanTargets: a primary serving none may be a
// demoted master its own view still lists), in the topology's order.
func (c *Engine) PrimaryAddrs() []string {
	t := c.topo.Load()
	if t == nil {
		return nil
	}
	var out []string
	for _, s := range t.Shards() {
		if len(s.Ranges) > 0 {
			out = append(out, s.Primary.Addr)
		}
	}
	return out
}

// NodeAddrs returns the address of every node of the topology, primaries first.
func (c *Engine) NodeAddrs() []string {
	t := c.topo.Load()
	if t == nil {
		return nil
	}
	out := make([]string, 0, len(t.Nodes()))
	for _, n := range t.Nodes() {
		out = append(out, n.Addr)
	}
	return out
}
