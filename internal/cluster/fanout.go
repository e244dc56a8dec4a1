package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// fanout sends a command to every primary (request policy all_shards) or every node
// (all_nodes) at once and merges the replies per the command's response policy.
func (c *Engine) fanout(ctx context.Context, info *command.Info, args []any, tr *Trace) Reply {
	targets := c.fanTargets(info)
	bw, blocking := blockingWait(info, args) // WAIT: on dedicated connections, for as long as it asks
	var cancel context.CancelFunc
	if dl := bw.deadline(time.Now(), c.cfg.CommandTimeout); !blocking {
		ctx, cancel = c.DeriveCtx(ctx)
	} else if !dl.IsZero() {
		ctx, cancel = context.WithDeadline(ctx, dl)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	own, err := resp.CloneArgs(args) // a copy for the goroutines: the caller's args stay on its stack
	if err != nil {
		return Reply{err: err}
	}
	results := make([]Reply, len(targets))
	traces := make([]Trace, len(targets))
	var wg sync.WaitGroup
	for i, tn := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.onNode(ctx, tn, own, bw, blocking, &traces[i])
		}()
	}
	wg.Wait()
	tr.addParts(traces)
	return merge(info.Response, results)
}

// fanTargets returns the nodes a fan-out command goes to: every node (request policy
// all_nodes) or the primary of every shard that serves slots (all_shards). A primary
// serving no slot holds no keys of the cluster: counting or flushing it would count a
// shard twice when it is a demoted master that the server's own CLUSTER SHARDS still
// lists as a master of an empty shard after a failover (Redis 7.0 does, seen by
// TestRouterDifferential: DBSIZE 10 with 9 keys).
func (c *Engine) fanTargets(info *command.Info) []Node {
	t := c.topo.Load()
	var out []Node
	if info.Request == command.PolicyAllNodes {
		for _, tn := range t.Nodes() {
			out = append(out, c.NodeAt(tn.Addr))
		}
		return out
	}
	for _, s := range t.Shards() {
		if len(s.Ranges) > 0 {
			out = append(out, c.NodeAt(s.Primary.Addr))
		}
	}
	return out
}

// onNode runs one node's part of a command sent to several nodes (a fan-out, a
// per-node call): a blocking one (WAIT) on a dedicated connection for as long as it
// asks, any other with doNode.
func (c *Engine) onNode(ctx context.Context, n Node, args []any, bw blockWait, blocking bool, tr *Trace) Reply {
	if blocking {
		w := conn.NewWaiter(ctx, time.Time{})
		v, err := c.execBlocking(&w, n, args, bw, false)
		w.Release()
		return Reply{val: v, err: err}
	}
	return c.doNode(ctx, n, args, tr)
}

// doNode runs a command on one given node, retrying what the server asks to retry.
func (c *Engine) doNode(ctx context.Context, n Node, args []any, tr *Trace) Reply {
	w := conn.NewWaiter(ctx, time.Time{})
	defer w.Release()
	backoff := c.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		tr.Attempts, tr.node = attempt, n
		v, err := execOn(n, &w, args)
		if err != nil {
			return Reply{err: err}
		}
		if v.Err != nil && v.Err.IsRetryable() && attempt < c.cfg.MaxAttempts && Sleep(&w, Jitter(backoff)) {
			backoff = min(2*backoff, c.cfg.RetryBackoffMax)
			continue
		}
		return Reply{val: v}
	}
}

// merge combines the replies of a fan-out. A transport error or an error reply fails
// the merge, except with one_succeeded, which needs a single success.
func merge(policy command.ResponsePolicy, rs []Reply) Reply {
	if len(rs) == 0 {
		return Reply{err: errors.New("redline: the topology has no node to send the command to")}
	}
	if policy == command.ResponseOneSucceeded {
		for _, r := range rs {
			if r.Err() == nil {
				return r
			}
		}
		// All failed: the telling failure, not a node's "nothing to do here" (SCRIPT KILL
		// and FUNCTION KILL answer NOTBUSY where no script runs, UNKILLABLE where one
		// that wrote does).
		for _, r := range rs {
			if e := r.val.Err; r.err != nil || e == nil || e.Code != "NOTBUSY" {
				return r
			}
		}
		return rs[0]
	}
	for _, r := range rs {
		if r.Err() != nil {
			return partialFanout(r, rs)
		}
	}
	switch policy {
	case command.ResponseAggSum, command.ResponseAggMin, command.ResponseAggMax:
		return aggregateInts(policy, rs)
	case command.ResponseAggLogicalAnd, command.ResponseAggLogicalOr:
		return aggregateLogical(policy == command.ResponseAggLogicalAnd, rs)
	case command.ResponseAllSucceeded:
		return rs[0]
	}
	// Default and special: lists are concatenated (KEYS), maps merged; otherwise a
	// non-null answer, chosen at random (RANDOMKEY: a random key of a random shard that
	// has keys; nodes that answered alike give the same answer whichever is chosen).
	first := rs[0].val
	switch {
	case first.IsList():
		out := resp.Value{Type: first.Type}
		for _, r := range rs {
			out.Elems = append(out.Elems, r.val.Elems...)
		}
		return Reply{val: out}
	case first.Type == resp.TypeMap:
		out := resp.Value{Type: resp.TypeMap}
		for _, r := range rs {
			out.Elems = append(out.Elems, r.val.Elems...)
		}
		return Reply{val: out}
	}
	return anyNonNull(rs)
}

// anyNonNull returns one of rs that is not a null, chosen at random, or rs[0] when all
// are.
func anyNonNull(rs []Reply) Reply {
	n, pick := 0, 0
	for i, r := range rs {
		if !r.val.IsNull() {
			n++
			if randN(n) == 0 { // reservoir sampling: each non-null one with chance 1/n
				pick = i
			}
		}
	}
	return rs[pick]
}

func aggregateInts(policy command.ResponsePolicy, rs []Reply) Reply {
	var acc int64
	for i, r := range rs {
		n, err := r.val.AsInt()
		if err != nil {
			return Reply{err: err}
		}
		switch {
		case i == 0:
			acc = n
		case policy == command.ResponseAggSum:
			acc += n
		case policy == command.ResponseAggMin:
			acc = min(acc, n)
		default:
			acc = max(acc, n)
		}
	}
	return Reply{val: resp.Value{Type: resp.TypeInteger, Int: acc}}
}

// aggregateLogical combines integer (or element-wise, array-of-integer) replies with
// AND or OR: SCRIPT EXISTS on every node says 1 only where all have the script.
func aggregateLogical(and bool, rs []Reply) Reply {
	combine := func(a, b int64) int64 {
		if and {
			return b2i(a != 0 && b != 0)
		}
		return b2i(a != 0 || b != 0)
	}
	first := rs[0].val
	if !first.IsList() {
		acc, err := first.AsInt()
		if err != nil {
			return Reply{err: err}
		}
		for _, r := range rs[1:] {
			n, err := r.val.AsInt()
			if err != nil {
				return Reply{err: err}
			}
			acc = combine(acc, n)
		}
		return Reply{val: resp.Value{Type: resp.TypeInteger, Int: acc}}
	}
	out := resp.Value{Type: resp.TypeArray, Elems: make([]resp.Value, len(first.Elems))}
	for i := range out.Elems {
		acc, err := first.Elems[i].AsInt()
		if err != nil {
			return Reply{err: err}
		}
		for _, r := range rs[1:] {
			if len(r.val.Elems) != len(first.Elems) {
				return Reply{err: errors.New("redline: nodes answered with arrays of different lengths")}
			}
			n, err := r.val.Elems[i].AsInt()
			if err != nil {
				return Reply{err: err}
			}
			acc = combine(acc, n)
		}
		out.Elems[i] = resp.Value{Type: resp.TypeInteger, Int: acc}
	}
	return Reply{val: out}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// partialFanout is the Reply of a fan-out that failed on a node (failed, one of rs).
// A server's error reply is returned as it is (it is not safe to retry, and says the
// command did not run there). A call error (the node refused, timed out…) is too when
// no node ran the command; else it is wrapped in a FanoutError saying how many did:
// neither safe to retry nor "not executed", whatever the failed node's own error says
// (FLUSHALL with one node refusing connections has emptied the others).
func partialFanout(failed Reply, rs []Reply) Reply {
	if failed.err == nil {
		return failed
	}
	ran := 0
	for _, r := range rs {
		if r.Err() == nil || rerr.MayHaveExecuted(r.err) {
			ran++
		}
	}
	if ran == 0 {
		return failed
	}
	return Reply{err: &FanoutError{Err: failed.Err(), Ran: ran, Nodes: len(rs)}}
}

// FanoutError is the error of a command sent to several nodes that failed on one while
// others ran it (or may have): Err is the failure, Ran of Nodes the nodes that ran it.
// It is never safe to retry, and the command may have executed.
type FanoutError struct {
	Err        error
	Ran, Nodes int
}

// Error says the failure and how many nodes ran the command.
func (e *FanoutError) Error() string {
	return fmt.Sprintf("%v (the command ran, or may have, on %d of its %d nodes)", e.Err, e.Ran, e.Nodes)
}

// Unwrap returns the failure.
func (e *FanoutError) Unwrap() error { return e.Err }

// SafeToRetry is false: other nodes ran the command.
func (e *FanoutError) SafeToRetry() bool { return false }

// MayHaveExecuted is true: other nodes ran the command.
func (e *FanoutError) MayHaveExecuted() bool { return true }
