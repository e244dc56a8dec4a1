package cluster

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

// Engine routes commands over a cluster: it keeps the slot table and the nodes,
// sends each command to the node that serves it, follows redirects and retries within
// the call's deadline, splits and fans out multi-node commands, and refreshes the
// topology. It is safe for concurrent use; the root package's Client wraps one.
type Engine struct {
	cfg      Config
	connOpts conn.Options // every connection's; IdleCheck grows with the cluster
	newNode  func(addr string) Node

	topo      atomic.Pointer[topology.Table]
	single    bool          // one shard serving every slot, not a cluster (shape.go); set by New
	sentinels []Node        // Config.Sentinel's nodes (sentinel.go), outside the node map
	switched  chan struct{} // a Sentinel published +switch-master (sentinel.go)
	watching  atomic.Int32  // Sentinel subscriptions up and answering (sentinel_watch.go)
	follow    sentinelFollow

	nodesMu sync.Mutex                      // serializes changes to nodes
	nodes   atomic.Pointer[map[string]Node] // copy-on-write: lock-free lookups
	retired []Node                          // no longer in the topology; closed at the next refresh

	refreshCh    chan struct{}
	refreshes    atomic.Uint64
	lastRefresh  atomic.Int64             // unix nanos
	promotedAt   atomic.Int64             // unix nanos of the last promotion applied or seen (notePromotion, slotlessChecks)
	lastDemotion atomic.Pointer[demotion] // the primary the last promotion applied demoted (notePromotion)
	timedOut     atomic.Value             // string: the last node a call timed out waiting on; refreshes ask it last
	moved, ask   atomic.Uint64
	epoch        atomic.Uint64 // topology changes installed

	cmds cmdCache // command infos learned from servers (module commands)

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the engine starts; Close waits for them
	bgMu   sync.Mutex     // orders GoAdd against Close's wait
	closed atomic.Bool
}

// GoAdd counts one more background goroutine that Close must wait for, unless the
// engine is closed (false: do not start it); the goroutine calls GoDone when it ends.
// A goroutine started on a caller's behalf at any time (Subscribe's) must come
// through here: a bare wg.Add racing Close's wg.Wait panics.
func (c *Engine) GoAdd() bool {
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.wg.Add(1)
	return true
}

// GoDone ends a goroutine counted by GoAdd.
func (c *Engine) GoDone() { c.wg.Done() }

// Ctx is canceled by Close.
func (c *Engine) Ctx() context.Context { return c.ctx }

// Closed reports whether Close was called.
func (c *Engine) Closed() bool { return c.closed.Load() }

// New connects to the cluster: it asks the seeds in cfg.Addrs for the topology
// (CLUSTER SHARDS, or CLUSTER SLOTS on older servers) — three at once, in random
// order, one more each time one fails or 50ms pass without an answer — and returns as
// soon as one answers. A seed that is a standalone server (cluster support disabled),
// or cfg.Shape standalone, makes it a standalone client instead, and cfg.Sentinel a
// client of the primary the Sentinels name (shape.go, sentinel.go). Other nodes are
// not dialed until a command needs them, so nodes that are down or unreachable never
// delay it. ctx bounds the call
// (DialTimeout + CommandTimeout when it has no deadline).
func New(ctx context.Context, cfg Config) (*Engine, error) {
	cfg.MaxAttempts = max(cfg.MaxAttempts, 1) // Engine.Do makes the first attempt whatever it says
	c := &Engine{cfg: cfg, refreshCh: make(chan struct{}, 1)}
	c.connOpts = conn.Options{
		TLS:          cfg.TLS,
		Protocol:     cfg.Protocol,
		Username:     cfg.Username,
		Password:     cfg.Password,
		Credentials:  cfg.Credentials,
		ClientName:   cfg.ClientName,
		DB:           cfg.DB,
		ReadOnly:     cfg.ReadFrom != ReadPrimary,
		AskZone:      cfg.ReadFrom == ReadLocalZone && cfg.NodeZone == nil,
		ReplyTimeout: cfg.ReplyTimeout,
		Limits:       cfg.Limits,
	}
	c.newNode = cfg.NewNode
	if c.newNode == nil {
		c.newNode = c.realNode
	}
	empty := map[string]Node{}
	c.nodes.Store(&empty)
	c.ctx, c.cancel = context.WithCancel(context.Background())

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.DialTimeout+cfg.CommandTimeout)
		defer cancel()
	}
	if cfg.Sentinel != nil {
		if err := c.newSentinels(); err != nil {
			c.Close()
			return nil, err
		}
	}
	t, err := c.connect(ctx)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.install(nil, t)
	if c.single { // no cluster topology to refresh
		if cfg.Sentinel != nil { // the primary the Sentinels name, followed
			c.wg.Add(2)
			go c.sentinelLoop()
			go c.sentinelWatch()
		}
		return c, nil
	}
	c.wg.Add(1)
	go c.refreshLoop()
	if cfg.Cache != nil {
		c.wg.Add(1)
		go c.cacheProbeLoop() // cacheprobe.go
	}
	if cfg.ReadFrom != ReadPrimary {
		c.wg.Add(1)
		go c.roleCheckLoop()
	}
	return c, nil
}

// realNode builds a production node for addr with the engine's settings.
func (c *Engine) realNode(addr string) Node {
	o := node.Options{
		Conn:          c.connOpts,
		DialTimeout:   c.cfg.DialTimeout,
		Logger:        c.cfg.Logger,
		OnDial:        c.cfg.OnDial,
		OnStateChange: c.cfg.OnNodeState,
	}
	o.Conn.TLS = c.nodeTLS(addr) // its own server name (tlsname.go)
	if c.cfg.NodeZone != nil {
		o.Zone = c.cfg.NodeZone(addr)
	}
	if c.cfg.Cache != nil {
		o.Shared = c.cfg.Cache.trackShared(addr)
	}
	return realNode{node.New(addr, o)}
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
func (c *Engine) fetchFromAny(ctx context.Context, addrs []string) (*topology.Table, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	order := rand.Perm(len(addrs)) // many clients spread over the seeds
	f := c.newFetches(ctx, len(addrs), func(i int) Node { return c.NodeAt(addrs[order[i]]) })
	for f.asked < min(seedFanout, len(addrs)) {
		f.ask(f.asked)
	}
	hedge := time.NewTicker(seedHedge)
	defer hedge.Stop()
	var errs []error
	pending := f.asked
	// take counts an answer in: true when it has the table.
	take := func(a fetched) bool {
		pending--
		if a.err == nil {
			return true
		}
		errs = append(errs, a.err)
		return false
	}
	for pending > 0 {
		select {
		case a := <-f.answers:
			if take(a) {
				return a.t, nil
			}
			if nc := asNotCluster(a.err); nc != nil {
				return nil, nc // a standalone server: the caller decides
			}
			if f.asked < len(addrs) {
				f.ask(f.asked)
				pending++
			}
		case <-hedge.C:
			if f.asked < len(addrs) {
				f.ask(f.asked)
				pending++
			}
		case <-ctx.Done():
			// Each attempt ends with ctx too, saying which node it waited for and in which
			// phase: take what they say (at once, or within a millisecond), not a bare
			// "context deadline exceeded".
			grace := time.NewTimer(time.Millisecond)
			defer grace.Stop()
		drain:
			for pending > 0 {
				select {
				case a := <-f.answers:
					if take(a) {
						return a.t, nil
					}
				case <-grace.C:
					errs = append(errs, ctx.Err())
					break drain
				}
			}
			return nil, fmt.Errorf("redline: no seed answered with the topology in time: %w", errors.Join(errs...))
		}
	}
	return nil, fmt.Errorf("redline: no seed answered with the topology: %w", errors.Join(errs...))
}

// NodeAt returns the node for addr, creating it (without dialing) if needed.
func (c *Engine) NodeAt(addr string) Node {
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
func (c *Engine) addNodes(t *topology.Table) {
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
	c.connOpts.IdleCheck = max(conn.DefaultIdleCheck, time.Duration(len(*c.nodes.Load())+len(t.Nodes()))*time.Second/maxIdlePings)
	c.addLocked(missing)
}

// addLocked adds nodes for the addresses not known yet (none is dialed) with one copy
// of the node map, and returns the map in use. The caller holds nodesMu.
func (c *Engine) addLocked(addrs []string) map[string]Node {
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
	m := make(map[string]Node, len(old)+missing)
	for k, v := range old {
		m[k] = v
	}
	var added []Node
	for _, a := range addrs {
		if m[a] == nil {
			n := c.newNode(a)
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
// goroutine the client started has ended. Calls after Close fail with rerr.ErrClosed.
func (c *Engine) Close() error {
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
	for _, n := range c.sentinels {
		n.Close()
	}
	wg.Wait()
	if c.cfg.Cache != nil {
		c.cfg.Cache.Store.Close() // a closed client still referenced pins no entries
	}
	return nil
}

// Waiter returns a call's waiter: its context and the command timeout.
func (c *Engine) Waiter(ctx context.Context) conn.Waiter {
	return conn.NewWaiterTimeout(ctx, c.cfg.CommandTimeout)
}

// randN returns a random int in [0, n).
func randN(n int) int { return rand.IntN(n) }

// Topology returns the slot table in use (nil before the first one).
func (c *Engine) Topology() *topology.Table { return c.topo.Load() }

// Nodes returns every node the engine knows, in no order.
func (c *Engine) Nodes() []Node {
	m := *c.nodes.Load()
	out := make([]Node, 0, len(m))
	for _, n := range m {
		out = append(out, n)
	}
	return out
}

// Counters are the engine's totals since it started (see redline.Stats).
type Counters struct {
	Epoch, Refreshes, Moved, Ask uint64
	LastRefresh                  time.Time // zero: none yet
}

// Counters returns the engine's totals.
func (c *Engine) Counters() Counters {
	k := Counters{Epoch: c.epoch.Load(), Refreshes: c.refreshes.Load(), Moved: c.moved.Load(), Ask: c.ask.Load()}
	if ns := c.lastRefresh.Load(); ns != 0 {
		k.LastRefresh = time.Unix(0, ns)
	}
	return k
}
