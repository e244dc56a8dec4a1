package cluster

// A fake cluster for the routing-policy tests: fake Nodes (and Conns) that answer
// through a per-node handler and record, in one log shared by the cluster, every
// command they were sent. No sockets, no sleeps: a handler that stands for a node that
// does not answer waits for the call's own deadline.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// handler answers one command sent to a fake node. asking says ASKING came right
// before it on the same connection (a pipeline ASKING + command).
type handler func(w *Waiter, args []string, asking bool) (resp.Value, error)

// sent is one Exec or ExecMulti a fake node received.
type sent struct {
	addr string
	cmds []string // each command as its words joined by blanks
	at   time.Time
}

// String is "addr: CMD a | CMD b".
func (s sent) String() string { return s.addr + ": " + strings.Join(s.cmds, " | ") }

// fakeCluster is the nodes of one fake cluster and the log of what they were sent.
type fakeCluster struct {
	t     testing.TB
	mu    sync.Mutex
	nodes map[string]*fakeNode
	log   []sent
	// topo, when set, is what CLUSTER SHARDS answers on every node (unless its handler
	// answers it); those commands are not logged.
	topo resp.Value
	// askingRefused, when set, is what every node answers ASKING (an ACL refusal, say)
	// instead of OK.
	askingRefused *resp.Value
}

func newFakeCluster(t testing.TB) *fakeCluster {
	return &fakeCluster{t: t, nodes: map[string]*fakeNode{}}
}

// node returns the fake node at addr, creating it (answering "+OK" to everything).
func (fc *fakeCluster) node(addr string) *fakeNode {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	n := fc.nodes[addr]
	if n == nil {
		n = &fakeNode{fc: fc, addr: addr, state: StateUp}
		fc.nodes[addr] = n
	}
	return n
}

// newNode is Config.NewNode.
func (fc *fakeCluster) newNode(addr string) Node { return fc.node(addr) }

// handle sets the handler of the node at addr.
func (fc *fakeCluster) handle(addr string, h handler) *fakeNode {
	n := fc.node(addr)
	n.mu.Lock()
	n.h = h
	n.mu.Unlock()
	return n
}

// sent returns what the nodes were sent, in order, as "addr: CMD args | …".
func (fc *fakeCluster) sent() []string {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	out := make([]string, len(fc.log))
	for i, s := range fc.log {
		out[i] = s.String()
	}
	return out
}

// sentAt returns the log entries with their times.
func (fc *fakeCluster) entries() []sent {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return append([]sent(nil), fc.log...)
}

// sentTo returns the commands sent to addr, in order.
func (fc *fakeCluster) sentTo(addr string) []string {
	var out []string
	for _, s := range fc.entries() {
		if s.addr == addr {
			out = append(out, strings.Join(s.cmds, " | "))
		}
	}
	return out
}

func (fc *fakeCluster) record(addr string, cmds []string) {
	fc.mu.Lock()
	fc.log = append(fc.log, sent{addr: addr, cmds: cmds, at: time.Now()})
	fc.mu.Unlock()
}

// wantSent fails the test unless the log is exactly want.
func (fc *fakeCluster) wantSent(want ...string) {
	fc.t.Helper()
	got := fc.sent()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		fc.t.Fatalf("sent:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// fakeNode is a Node whose replies come from its handler.
type fakeNode struct {
	fc   *fakeCluster
	addr string

	mu      sync.Mutex
	h       handler
	state   NodeState
	latency time.Duration
	closed  int
	topos   int // CLUSTER SHARDS answered from the cluster's topology
}

var _ Node = (*fakeNode)(nil)

func (n *fakeNode) Addr() string { return n.addr }

func (n *fakeNode) State() NodeState {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state
}

func (n *fakeNode) setState(s NodeState) {
	n.mu.Lock()
	n.state = s
	n.mu.Unlock()
}

func (n *fakeNode) Latency() time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.latency
}

// Zone is the fake's availability zone: none.
func (n *fakeNode) Zone() string { return "" }

func (n *fakeNode) setLatency(d time.Duration) {
	n.mu.Lock()
	n.latency = d
	n.mu.Unlock()
}

func (n *fakeNode) RTT() time.Duration { return n.Latency() }

// words renders a command's arguments as the server would read them.
func words(args []any) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = ArgString(a)
	}
	return out
}

// answer runs one command through the handler (CLUSTER SHARDS from the cluster's
// topology when the handler has nothing to say about it).
func (n *fakeNode) answer(w *Waiter, ws []string, asking bool) (resp.Value, error) {
	n.mu.Lock()
	h := n.h
	n.mu.Unlock()
	if h == nil {
		return okValue(), nil
	}
	return h(w, ws, asking)
}

// topoReply returns the cluster's CLUSTER SHARDS reply if ws asks for it and the
// cluster has one.
func (n *fakeNode) topoReply(ws []string) (resp.Value, bool) {
	if len(ws) != 2 || !strings.EqualFold(ws[0], "CLUSTER") || !strings.EqualFold(ws[1], "SHARDS") {
		return resp.Value{}, false
	}
	n.fc.mu.Lock()
	v := n.fc.topo
	n.fc.mu.Unlock()
	return v, v.Type != 0
}

// setTopo makes every node answer CLUSTER SHARDS with the topology of specs.
func (fc *fakeCluster) setTopo(specs []shardSpec) {
	v := shardsValue(specs)
	fc.mu.Lock()
	fc.topo = v
	fc.mu.Unlock()
}

func (n *fakeNode) Exec(w *Waiter, args []any) (resp.Value, error) { return n.exec(w, args, n.addr) }

// exec is Exec, logged under the name at (the node's address, or its dedicated
// connection's).
func (n *fakeNode) exec(w *Waiter, args []any, at string) (resp.Value, error) {
	ws := words(args)
	if v, ok := n.topoReply(ws); ok {
		n.mu.Lock()
		n.topos++
		n.mu.Unlock()
		return v, nil
	}
	n.fc.record(at, []string{strings.Join(ws, " ")})
	return n.answer(w, ws, false)
}

func (n *fakeNode) ExecMulti(w *Waiter, cmds [][]any) ([]resp.Value, error) {
	return n.execMulti(w, cmds, n.addr)
}

// execMulti is ExecMulti, logged under the name at.
func (n *fakeNode) execMulti(w *Waiter, cmds [][]any, at string) ([]resp.Value, error) {
	rec := make([]string, len(cmds))
	for i, c := range cmds {
		rec[i] = strings.Join(words(c), " ")
	}
	n.fc.record(at, rec)
	out := make([]resp.Value, len(cmds))
	asking := false
	for i, c := range cmds {
		ws := words(c)
		if len(ws) == 1 && strings.EqualFold(ws[0], "ASKING") {
			out[i], asking = okValue(), true
			if r := n.fc.askingRefused; r != nil {
				out[i], asking = *r, false
			}
			continue
		}
		v, err := n.answer(w, ws, asking)
		if err != nil {
			return nil, err
		}
		out[i], asking = v, false
	}
	return out, nil
}

func (n *fakeNode) Check(w *Waiter, fresh time.Duration) error { return nil }

func (n *fakeNode) Dedicated(ctx context.Context) (Conn, error) {
	return &fakeConn{n: n, done: make(chan struct{})}, nil
}

func (n *fakeNode) Release(c Conn, reuse bool) {}

func (n *fakeNode) DialOwn(ctx context.Context, tweak func(*conn.Options)) (Conn, error) {
	return n.Dedicated(ctx)
}

func (n *fakeNode) Stats() NodeStats { return NodeStats{} }

func (n *fakeNode) Close() error {
	n.mu.Lock()
	n.closed++
	n.mu.Unlock()
	return nil
}

// topoAsks is how many times the node answered CLUSTER SHARDS from the topology.
func (n *fakeNode) topoAsks() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.topos
}

func (n *fakeNode) closes() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// fakeConn is a dedicated connection of a fake node: its commands go through the
// node's handler, logged as sent to "addr (dedicated)".
type fakeConn struct {
	n    *fakeNode
	once sync.Once
	done chan struct{}
}

func (c *fakeConn) Addr() string { return c.n.addr }
func (c *fakeConn) at() string   { return c.n.addr + " (dedicated)" }
func (c *fakeConn) Exec(w *Waiter, block time.Duration, args []any) (resp.Value, error) {
	return c.n.exec(w, args, c.at())
}
func (c *fakeConn) ExecMulti(w *Waiter, cmds [][]any) ([]resp.Value, error) {
	return c.n.execMulti(w, cmds, c.at())
}
func (c *fakeConn) ExecMultiBlock(w *Waiter, block time.Duration, cmds [][]any) ([]resp.Value, error) {
	return c.n.execMulti(w, cmds, c.at())
}
func (c *fakeConn) Send(w *Waiter, cmds [][]any) error {
	_, err := c.n.execMulti(w, cmds, c.at())
	return err
}
func (c *fakeConn) ClientID(w *Waiter) (int64, error) { return 1, nil }
func (c *fakeConn) Err() error                        { return nil }
func (c *fakeConn) Done() <-chan struct{}             { return c.done }
func (c *fakeConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

// Replies and errors a handler returns.

func okValue() resp.Value { return resp.Value{Type: resp.TypeSimpleString, Str: []byte("OK")} }
func bulkV(s string) resp.Value {
	return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)}
}
func intV(n int64) resp.Value { return resp.Value{Type: resp.TypeInteger, Int: n} }
func arrV(e ...resp.Value) resp.Value {
	return resp.Value{Type: resp.TypeArray, Elems: e}
}

// errV is a server's error reply, parsed as the reader parses it (Code, Slot, Addr).
func errV(msg string) resp.Value {
	return resp.Value{Type: resp.TypeError, Str: []byte(msg), Err: resp.ParseError(msg)}
}

func movedV(slot int, addr string) resp.Value {
	return errV("MOVED " + strconv.Itoa(slot) + " " + addr)
}

func askV(slot int, addr string) resp.Value {
	return errV("ASK " + strconv.Itoa(slot) + " " + addr)
}

// transport is a NodeError for addr in phase.
func transport(addr string, phase rerr.Phase, written bool, cause string) *rerr.NodeError {
	return &rerr.NodeError{Addr: addr, Phase: phase, Err: fmt.Errorf("%s", cause), Written: written}
}

// downErr is the fast failure of a node known to be down.
func downErr(addr string) *rerr.NodeError {
	now := time.Now()
	return &rerr.NodeError{Addr: addr, Phase: rerr.PhaseDial, Err: fmt.Errorf("connect: connection refused"),
		Down: true, Since: now, RetryAt: now.Add(time.Second)}
}

// untilDeadline waits, as a node that does not answer, for the call's end (bounded by
// it: every test call has a deadline) and returns the deadline error a connection
// returns: the request written, no reply.
func untilDeadline(w *Waiter, addr string) error {
	select {
	case <-w.Ctx().Done():
	case <-w.Expired():
	}
	return w.DeadlineErr(&rerr.NodeError{Addr: addr, Phase: rerr.PhaseRead, Err: rerr.ErrNoReply, Written: true})
}

// always answers v to every command.
func always(v resp.Value) handler {
	return func(*Waiter, []string, bool) (resp.Value, error) { return v, nil }
}

// step is one scripted answer: a reply, or an error.
type step struct {
	v   resp.Value
	err error
}

// script answers its steps in turn, repeating the last one.
func script(steps ...step) handler {
	var mu sync.Mutex
	i := 0
	return func(*Waiter, []string, bool) (resp.Value, error) {
		mu.Lock()
		defer mu.Unlock()
		s := steps[min(i, len(steps)-1)]
		i++
		return s.v, s.err
	}
}

// testConfig is the configuration of the fake tests: short backoffs, a deadline that
// a test waiting for it does not feel, no background refresh.
func testConfig(fc *fakeCluster) Config {
	return Config{
		Addrs:              []string{p1},
		MaxAttempts:        5,
		CommandTimeout:     time.Second,
		DialTimeout:        time.Second,
		RetryBackoff:       time.Millisecond,
		RetryBackoffMax:    4 * time.Millisecond,
		ReplyTimeout:       time.Second,
		RefreshInterval:    -1,
		RefreshMinInterval: time.Hour,
		NewNode:            fc.newNode,
	}
}

// newEngine builds an engine over the fake cluster with specs as its table, without
// New's background goroutines (refresh triggers stay in refreshCh, for the test to
// see). cfg.NewNode must be set.
func newEngine(t testing.TB, cfg Config, specs []shardSpec) *Engine {
	t.Helper()
	c := &Engine{cfg: cfg, refreshCh: make(chan struct{}, 1), newNode: cfg.NewNode}
	empty := map[string]Node{}
	c.nodes.Store(&empty)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.install(nil, tableOf(t, specs))
	t.Cleanup(func() { c.Close() })
	return c
}

// triggered reports (and consumes) a pending refresh trigger.
func (c *Engine) triggered() bool {
	select {
	case <-c.refreshCh:
		return true
	default:
		return false
	}
}

// ctxFor returns a context ending after d, canceled at the test's end.
func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// do runs one command through the engine and returns its reply and trace.
func do(t testing.TB, c *Engine, ctx context.Context, args ...any) (Reply, Trace) {
	t.Helper()
	var tr Trace
	r := c.Do(ctx, args, &tr)
	return r, tr
}
