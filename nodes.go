package redline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/redline-go/redline/resp"
)

// Commands on chosen nodes: what an operator runs per node (INFO, CONFIG GET, SLOWLOG
// GET, MEMORY STATS, CLIENT LIST, LATENCY LATEST…), on one node or on each, every
// node's answer and error kept apart. Do merges the replies of a command the server
// marks for all shards (DBSIZE, KEYS…); these do not merge anything.

// NodeResults is the outcome of a command run on several nodes: one Result per node,
// keyed by the node's address (host:port, as the cluster's topology names it). A
// node that failed has its error in its own Result; the others are not affected.
type NodeResults map[string]Result

// Err returns nil when every node's Result succeeded, else an error naming each node
// that failed and its error (errors.Is and errors.As see each one). SafeToRetry and
// MayHaveExecuted answer for the whole call, every node: SafeToRetry(err) only when
// every node failed without the command reaching it, MayHaveExecuted(err) when any
// node succeeded (it ran the command) or may have run it.
func (r NodeResults) Err() error {
	var e nodesError
	for _, addr := range slices.Sorted(mapKeys(r)) {
		if err := r[addr].Err(); err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s: %w", addr, err))
			if e.byNode == nil {
				e.byNode = map[string]error{}
			}
			e.byNode[addr] = err
		} else {
			e.succeeded = true
		}
	}
	if e.errs == nil {
		return nil
	}
	return &e
}

// nodesError is NodeResults.Err's error: the failed nodes' errors, joined, and whether
// some node succeeded. It answers SafeToRetry and MayHaveExecuted for all of them, not
// for the first that has the method (as errors.As alone would).
type nodesError struct {
	errs      []error          // "addr: error" per failed node, by address
	byNode    map[string]error // each failed node's error, by address
	succeeded bool             // some node ran the command and answered
}

// NodeErrors returns each failed node's error, by address, from the error of
// NodeResults.Err or of a per-node method (InfoOn, ConfigGetOn…); nil for another
// error, or nil.
func NodeErrors(err error) map[string]error {
	var e *nodesError
	if !errors.As(err, &e) {
		return nil
	}
	return maps.Clone(e.byNode)
}

// Error lists the failed nodes' errors, one a line (as errors.Join does).
func (e *nodesError) Error() string { return errors.Join(e.errs...).Error() }

// Unwrap returns the failed nodes' errors.
func (e *nodesError) Unwrap() []error { return e.errs }

// SafeToRetry reports whether the command certainly reached no node: none succeeded,
// and every failed node's error is safe to retry.
func (e *nodesError) SafeToRetry() bool {
	if e.succeeded {
		return false
	}
	for _, err := range e.errs {
		if !SafeToRetry(err) {
			return false
		}
	}
	return true
}

// MayHaveExecuted reports whether the command may have run on some node: one
// succeeded, or a failed node's reply was lost after the command was written.
func (e *nodesError) MayHaveExecuted() bool {
	if e.succeeded {
		return true
	}
	for _, err := range e.errs {
		if MayHaveExecuted(err) {
			return true
		}
	}
	return false
}

// mapKeys returns the keys of r in no order.
func mapKeys(r NodeResults) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range r {
			if !yield(k) {
				return
			}
		}
	}
}

// DoOn runs one command on the node at addr (host:port, as PrimaryAddrs, NodeAddrs or
// Stats name it), primary or replica, and returns its reply: bounded by the call's
// deadline (the earlier of ctx's and Options.CommandTimeout; a blocking command's, such
// as WAIT, is ctx's and its own timeout, as with Do), retried on that node when the
// server asks (TRYAGAIN, LOADING…) and never redirected: a MOVED or ASK answer is the
// reply, as is READONLY from a replica. An address the topology does not list fails
// without being dialed. Arguments are as for Cmd (slices flattened, encoding.
// BinaryMarshaler marshaled). A command that would change its connection's state
// (SUBSCRIBE, MULTI, SELECT…) fails with a *ConnStateError, unsent.
func (c *Client) DoOn(ctx context.Context, addr string, args ...any) Result {
	return c.doOnNodes(ctx, []string{addr}, args)[addr]
}

// DoOnEveryPrimary runs one command on every primary that serves slots (the nodes a
// command for all shards goes to), at once, and returns each one's Result by address.
// Each node's call is bounded by the call's deadline, as DoOn's: a node that does not
// answer in time has a *DeadlineError naming it as its Result's error, and the call
// still returns the others' replies by the deadline. NodeResults.Err joins the errors.
// Nothing is merged or redirected (see DoOn).
func (c *Client) DoOnEveryPrimary(ctx context.Context, args ...any) NodeResults {
	return c.doOnNodes(ctx, c.e.PrimaryAddrs(), args)
}

// DoOnEveryNode is DoOnEveryPrimary on every node of the topology: the primaries and
// their replicas. A replica answers reads of its own state (INFO, CONFIG GET…); a
// command on keys answers MOVED there, unless Options.ReadFrom made the connection
// READONLY.
func (c *Client) DoOnEveryNode(ctx context.Context, args ...any) NodeResults {
	return c.doOnNodes(ctx, c.e.NodeAddrs(), args)
}

// PrimaryAddrs returns the addresses of the primaries that serve slots, as the client
// last saw the topology: the nodes DoOnEveryPrimary runs on.
func (c *Client) PrimaryAddrs() []string { return c.e.PrimaryAddrs() }

// NodeAddrs returns the address of every node of the topology as the client last saw
// it, primaries first: the nodes DoOnEveryNode runs on.
func (c *Client) NodeAddrs() []string { return c.e.NodeAddrs() }

// doOnNodes runs args on each of addrs, within the command hooks.
func (c *Client) doOnNodes(ctx context.Context, addrs []string, args []any) NodeResults {
	out := make(NodeResults, len(addrs))
	fail := func(err error) NodeResults {
		for _, a := range addrs {
			out[a] = Result{err: err}
		}
		return out
	}
	if c.e.Closed() {
		return fail(ErrClosed)
	}
	args, err := resp.ExpandArgs(args)
	if err != nil {
		return fail(err)
	}
	if len(args) == 0 {
		return fail(errors.New("redline: empty command"))
	}
	run := func() {
		for i, r := range c.e.DoOnNodes(ctx, addrs, args) {
			out[addrs[i]] = resultOf(r)
		}
	}
	if !c.hooked {
		run()
		return out
	}
	// One command, as for Do's fan-out (DBSIZE): the hooks see it once, Node set when
	// it ran on one node.
	c.aroundCommand(ctx, CommandStart{Name: commandName(args), Commands: 1}, func(end *CommandEnd) {
		run()
		end.Err = out.Err()
		if len(addrs) == 1 {
			end.Node = addrs[0]
		}
	})
	return out
}
