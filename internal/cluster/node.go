package cluster

import (
	"context"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/node"
	"github.com/redline-go/redline/resp"
)

// Node is what the engine needs of one cluster node: the narrow interface between
// routing policy (this package) and transport (internal/node). Production nodes are
// Node behind realNode; the routing tests use fakes.
type Node interface {
	// Addr is the node's address (host:port) as the topology names it.
	Addr() string
	// State is the node's health: down means its last connection attempt failed.
	State() NodeState
	// Latency is a smoothed round-trip time of the node's shared connection.
	Latency() time.Duration
	// RTT is the least recent round-trip time seen, the floor of a reply's delay.
	RTT() time.Duration
	// Exec runs one command on the node's shared connection.
	Exec(w *Waiter, args []any) (resp.Value, error)
	// ExecMulti writes cmds together on the shared connection (never interleaved with
	// other callers': ASKING + command stay adjacent) and returns their replies.
	ExecMulti(w *Waiter, cmds [][]any) ([]resp.Value, error)
	// Check verifies the node answers (a PING unless one came back within fresh).
	Check(w *Waiter, fresh time.Duration) error
	// Dedicated takes a connection for one caller's exclusive use; Release gives it
	// back (reuse false: close it).
	Dedicated(ctx context.Context) (Conn, error)
	Release(c Conn, reuse bool)
	// DialOwn dials a connection outside the pool, configured by tweak.
	DialOwn(ctx context.Context, tweak func(*conn.Options)) (Conn, error)
	// Zone is the node's availability zone ("" unknown), learned once per connection
	// or given by Config.NodeZone; a cheap load, read on the call path by Pick.
	Zone() string
	// Stats returns the node's counters.
	Stats() NodeStats
	// Close closes the node's connections.
	Close() error
}

// Conn is one dedicated connection (blocking commands, transactions, pub/sub).
type Conn interface {
	// Addr is the node's address.
	Addr() string
	// Exec runs one command; block extends the connection's health limit for a
	// command the server may hold that long.
	Exec(w *Waiter, block time.Duration, args []any) (resp.Value, error)
	// ExecMulti and ExecMultiBlock write cmds together and return their replies.
	ExecMulti(w *Waiter, cmds [][]any) ([]resp.Value, error)
	ExecMultiBlock(w *Waiter, block time.Duration, cmds [][]any) ([]resp.Value, error)
	// Send writes commands answered by pushes (SUBSCRIBE…), not replies.
	Send(w *Waiter, cmds [][]any) error
	// ClientID is the server's id of the connection (for CLIENT UNBLOCK).
	ClientID(w *Waiter) (int64, error)
	// Err is why the connection closed (nil while open); Done is closed then.
	Err() error
	Done() <-chan struct{}
	// Close closes the connection.
	Close() error
}

var _ Conn = (*conn.Conn)(nil)

// realNode is a Node as a Node. A struct of one pointer: stored in an interface
// without an allocation, and comparable.
type realNode struct{ *node.Node }

// Dedicated is node.Node.Dedicated, its connection as a Conn.
func (r realNode) Dedicated(ctx context.Context) (Conn, error) {
	c, err := r.Node.Dedicated(ctx)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Release gives back a connection from Dedicated.
func (r realNode) Release(c Conn, reuse bool) { r.Node.Release(c.(*conn.Conn), reuse) }

// DialOwn is node.Node.DialOwn, its connection as a Conn.
func (r realNode) DialOwn(ctx context.Context, tweak func(*conn.Options)) (Conn, error) {
	c, err := r.Node.DialOwn(ctx, tweak)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ExecMulti runs cmds together on the shared connection.
func (r realNode) ExecMulti(w *Waiter, cmds [][]any) ([]resp.Value, error) {
	cn, err := r.Node.Conn(w)
	if err != nil {
		return nil, err
	}
	return cn.ExecMulti(w, cmds)
}

// execOn runs args on n's shared connection. A production node is called directly:
// through the interface the compiler could not prove that the caller's arguments and
// waiter stay on its stack, and every call would move them to the heap (the hot path
// allocates at most once). Another Node (a test's fake) gets copies.
func execOn(n Node, w *Waiter, args []any) (resp.Value, error) {
	if r, ok := n.(realNode); ok {
		return r.Node.Exec(w, args)
	}
	return execCopy(n, w, args)
}

// viaCopy calls f with a copy of w on the heap, copied back afterwards: how a Node or
// Conn that is not a production one (a test's fake) is called, so that the caller's
// waiter never escapes through the interface (see execOn).
func viaCopy[T any](w *Waiter, f func(*Waiter) (T, error)) (T, error) {
	wc := new(Waiter)
	*wc = *w
	v, err := f(wc)
	*w = *wc
	return v, err
}

// execCopy calls a Node that is not a production node with copies of the waiter and
// arguments (see execOn).
func execCopy(n Node, w *Waiter, args []any) (resp.Value, error) {
	cp, err := resp.CloneArgs(args)
	if err != nil {
		return resp.Value{}, err
	}
	return viaCopy(w, func(wc *Waiter) (resp.Value, error) { return n.Exec(wc, cp) })
}

// DoOn runs one command on n's shared connection, bounded by ctx alone.
func DoOn(ctx context.Context, n Node, args ...any) (resp.Value, error) {
	w := conn.NewWaiter(ctx, time.Time{})
	defer w.Release()
	return execOn(n, &w, args)
}

// ExecMultiOn is ExecMulti on n, called directly for a production node (see execOn).
func ExecMultiOn(n Node, w *Waiter, cmds [][]any) ([]resp.Value, error) {
	if r, ok := n.(realNode); ok {
		return r.ExecMulti(w, cmds)
	}
	cp, err := cloneCmds(cmds)
	if err != nil {
		return nil, err
	}
	return viaCopy(w, func(wc *Waiter) ([]resp.Value, error) { return n.ExecMulti(wc, cp) })
}

// ConnExec is Exec on a dedicated connection, called directly for a production one
// (see execOn): callers outside the engine (Tx, Subscribe) use it too.
func ConnExec(cn Conn, w *Waiter, block time.Duration, args []any) (resp.Value, error) {
	if c, ok := cn.(*conn.Conn); ok {
		return c.Exec(w, block, args)
	}
	cp, err := resp.CloneArgs(args)
	if err != nil {
		return resp.Value{}, err
	}
	return viaCopy(w, func(wc *Waiter) (resp.Value, error) { return cn.Exec(wc, block, cp) })
}

// ConnExecMulti is ExecMultiBlock on a dedicated connection, called directly for a
// production one (see execOn).
func ConnExecMulti(cn Conn, w *Waiter, block time.Duration, cmds [][]any) ([]resp.Value, error) {
	if c, ok := cn.(*conn.Conn); ok {
		return c.ExecMultiBlock(w, block, cmds)
	}
	cp, err := cloneCmds(cmds)
	if err != nil {
		return nil, err
	}
	return viaCopy(w, func(wc *Waiter) ([]resp.Value, error) { return cn.ExecMultiBlock(wc, block, cp) })
}

// cloneCmds is cloneArgs for several commands.
func cloneCmds(cmds [][]any) ([][]any, error) {
	out := make([][]any, len(cmds))
	for i, args := range cmds {
		cp, err := resp.CloneArgs(args)
		if err != nil {
			return nil, err
		}
		out[i] = cp
	}
	return out, nil
}

// ConnSend is Send on a dedicated connection, called directly for a production one
// (see execOn).
func ConnSend(cn Conn, w *Waiter, cmds [][]any) error {
	if c, ok := cn.(*conn.Conn); ok {
		return c.Send(w, cmds)
	}
	cp, err := cloneCmds(cmds)
	if err != nil {
		return err
	}
	_, err = viaCopy(w, func(wc *Waiter) (struct{}, error) { return struct{}{}, cn.Send(wc, cp) })
	return err
}

// connClientID is ClientID on a dedicated connection, called directly for a
// production one (see execOn).
func connClientID(cn Conn, w *Waiter) (int64, error) {
	if c, ok := cn.(*conn.Conn); ok {
		return c.ClientID(w)
	}
	return viaCopy(w, cn.ClientID)
}

// checkOn is Check on n, called directly for a production node (see execOn).
func checkOn(n Node, w *Waiter, fresh time.Duration) error {
	if r, ok := n.(realNode); ok {
		return r.Node.Check(w, fresh)
	}
	_, err := viaCopy(w, func(wc *Waiter) (struct{}, error) { return struct{}{}, n.Check(wc, fresh) })
	return err
}
