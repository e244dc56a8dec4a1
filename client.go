package redline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/node"
	"github.com/redline-go/redline/internal/topology"
)

// Client is a Redis Cluster client. It is safe for concurrent use by any number of
// goroutines; create one per cluster and share it.
type Client struct {
	opts     Options
	nodeOpts node.Options

	topo atomic.Pointer[topology.Table]

	nodesMu sync.Mutex                            // serializes changes to nodes
	nodes   atomic.Pointer[map[string]*node.Node] // copy-on-write: lock-free lookups
	retired []*node.Node                          // no longer in the topology; closed at the next refresh

	refreshCh   chan struct{}
	refreshes   atomic.Uint64
	lastRefresh atomic.Int64 // unix nanos
	timedOut    atomic.Value // string: the last node a call timed out waiting on; refreshes ask it last
	moved, ask  atomic.Uint64
	epoch       atomic.Uint64 // topology changes installed
	hooked      bool          // a command hook is set

	cmds cmdCache // command infos learned from servers (module commands)

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the client starts; Close waits for them
	bgMu   sync.Mutex     // orders goAdd against Close's wait
	closed atomic.Bool
}

// goAdd counts one more background goroutine that Close must wait for, unless the
// client is closed (false: do not start it). A goroutine started on the caller's
// behalf at any time (Subscribe's) must come through here: a bare wg.Add racing
// Close's wg.Wait panics.
func (c *Client) goAdd() bool {
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.wg.Add(1)
	return true
}

// NewClient connects to the cluster: it asks the seeds in Options.Addrs for the
// topology (CLUSTER SHARDS, or CLUSTER SLOTS on older servers) — three at once, in
// random order, one more each time one fails or 50ms pass without an answer — and
// returns as soon as one answers. Other nodes are not dialed until a command needs
// them, so nodes that are down or unreachable never delay it. ctx bounds the call (DialTimeout +
// CommandTimeout when it has no deadline).
func NewClient(ctx context.Context, opts Options) (*Client, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{opts: o, refreshCh: make(chan struct{}, 1)}
	c.nodeOpts = node.Options{
		Conn: conn.Options{
			TLS:          o.TLSConfig,
			Protocol:     o.Protocol,
			Username:     o.Username,
			Password:     o.Password,
			Credentials:  o.Credentials,
			ClientName:   o.ClientName,
			ReadOnly:     o.ReadFrom != ReadPrimary,
			ReplyTimeout: o.ReplyTimeout,
			Limits:       o.replyLimits(),
		},
		DialTimeout: o.DialTimeout,
		Logger:      o.Logger,
	}
	c.nodeHooks(&c.nodeOpts)
	c.hooked = hooksBuilt && o.Hooks.commandHooks()
	empty := map[string]*node.Node{}
	c.nodes.Store(&empty)
	c.ctx, c.cancel = context.WithCancel(context.Background())

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.DialTimeout+o.CommandTimeout)
		defer cancel()
	}
	t, err := c.fetchFromAny(ctx, o.Addrs)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.install(nil, t)
	c.wg.Add(1)
	go c.refreshLoop()
	if o.ReadFrom != ReadPrimary {
		c.wg.Add(1)
		go c.roleCheckLoop()
	}
	return c, nil
}

// seedFanout is how many seeds NewClient asks at once; seedHedge is how long it waits
// for an answer before asking one more.
const (
	seedFanout = 3
	seedHedge  = 50 * time.Millisecond
)

// fetchFromAny asks the addresses, in random order, for the topology and returns the
// first answer; the other requests are abandoned (they end with ctx). It asks
// seedFanout at once, then one more each time one fails and every seedHedge while
// none has answered: a seed list naming every node of a large cluster costs a few
// connections, not one per node, while dead seeds delay it by seedHedge at most each.
func (c *Client) fetchFromAny(ctx context.Context, addrs []string) (*topology.Table, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		t   *topology.Table
		err error
	}
	order := rand.Perm(len(addrs)) // many clients spread over the seeds
	ch := make(chan answer, len(addrs))
	asked := 0
	ask := func() {
		n := c.node(addrs[order[asked]])
		asked++
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			t, err := c.fetchTopology(ctx, n)
			ch <- answer{t, err}
		}()
	}
	for asked < min(seedFanout, len(addrs)) {
		ask()
	}
	hedge := time.NewTicker(seedHedge)
	defer hedge.Stop()
	var errs []error
	for pending := asked; pending > 0; {
		select {
		case a := <-ch:
			pending--
			if a.err == nil {
				return a.t, nil
			}
			errs = append(errs, a.err)
			if asked < len(addrs) {
				ask()
				pending++
			}
		case <-hedge.C:
			if asked < len(addrs) {
				ask()
				pending++
			}
		case <-ctx.Done():
			// Each attempt ends with ctx too, saying which node it waited for and in which
			// phase: take what they say (at once, or within a millisecond), not a bare
			// "context deadline exceeded".
			grace := time.NewTimer(time.Millisecond)
			defer grace.Stop()
			for pending > 0 {
				select {
				case a := <-ch:
					pending--
					if a.err == nil {
						return a.t, nil
					}
					errs = append(errs, a.err)
					continue
				case <-grace.C:
					errs = append(errs, ctx.Err())
				}
				break
			}
			return nil, fmt.Errorf("redline: no seed answered with the topology in time: %w", errors.Join(errs...))
		}
	}
	return nil, fmt.Errorf("redline: no seed answered with the topology: %w", errors.Join(errs...))
}

// node returns the node for addr, creating it (without dialing) if needed.
func (c *Client) node(addr string) *node.Node {
	if n := (*c.nodes.Load())[addr]; n != nil {
		return n
	}
	c.nodesMu.Lock()
	defer c.nodesMu.Unlock()
	return c.addLocked([]string{addr})[addr]
}

// maxIdlePings bounds the idle checks of a client's connections, per second.
const maxIdlePings = 50

// addNodes makes every node of t known (none is dialed), with one copy of the node
// map however many are new: adding a thousand nodes one by one would copy the map a
// thousand times.
func (c *Client) addNodes(t *topology.Table) {
	nodes := *c.nodes.Load()
	var missing []string
	for _, n := range t.Nodes() {
		if nodes[n.Addr] == nil {
			missing = append(missing, n.Addr)
		}
	}
	if len(missing) == 0 {
		return
	}
	c.nodesMu.Lock()
	defer c.nodesMu.Unlock()
	// Each connection PINGs after IdleCheck without traffic (plus jitter); on a large
	// cluster the check is spaced further, so the client's idle PINGs stay under
	// maxIdlePings per second however many nodes there are. Nodes known already keep
	// theirs.
	c.nodeOpts.Conn.IdleCheck = max(conn.DefaultIdleCheck, time.Duration(len(*c.nodes.Load())+len(t.Nodes()))*time.Second/maxIdlePings)
	c.addLocked(missing)
}

// addLocked adds nodes for the addresses not known yet (none is dialed) with one copy
// of the node map, and returns the map in use. The caller holds nodesMu.
func (c *Client) addLocked(addrs []string) map[string]*node.Node {
	old := *c.nodes.Load()
	missing := 0
	for _, a := range addrs {
		if old[a] == nil {
			missing++
		}
	}
	if missing == 0 {
		return old
	}
	m := make(map[string]*node.Node, len(old)+missing)
	for k, v := range old {
		m[k] = v
	}
	var added []*node.Node
	for _, a := range addrs {
		if m[a] == nil {
			n := node.New(a, c.nodeOpts)
			m[a] = n
			added = append(added, n)
		}
	}
	c.nodes.Store(&m)
	if c.closed.Load() { // raced with Close: do not leak them
		for _, n := range added {
			n.Close()
		}
	}
	return m
}

// Close closes every connection and stops all background work; it returns when every
// goroutine the client started has ended. Calls after Close fail with ErrClosed.
func (c *Client) Close() error {
	c.bgMu.Lock()
	first := c.closed.CompareAndSwap(false, true)
	c.bgMu.Unlock()
	if !first {
		return nil
	}
	c.cancel()
	c.wg.Wait()
	c.nodesMu.Lock()
	nodes := *c.nodes.Load()
	retired := c.retired
	c.retired = nil
	c.nodesMu.Unlock()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); n.Close() }()
	}
	for _, n := range retired {
		n.Close()
	}
	wg.Wait()
	return nil
}

// deadline returns the call's end: its context and the command timeout.
func (c *Client) waiter(ctx context.Context) conn.Waiter {
	return conn.NewWaiterTimeout(ctx, c.opts.CommandTimeout)
}

// randN returns a random int in [0, n).
func randN(n int) int { return rand.IntN(n) }
