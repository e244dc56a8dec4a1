package cluster

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// RefreshFanout is how many nodes a refresh asks when the first one asked does not
// confirm the topology in use: enough to outvote one stale or confused node, few
// enough that a refresh costs little on a large cluster. refreshHedge is how long the
// first one has to answer before the others are asked too.
const (
	RefreshFanout = 3
	refreshHedge  = time.Second
)

// TriggerRefresh asks for a topology refresh. It never blocks: triggers coalesce, and
// the refresher runs at most one refresh per RefreshMinInterval.
func (c *Engine) TriggerRefresh() {
	select {
	case c.refreshCh <- struct{}{}:
	default:
	}
}

// refreshLoop is the single refresher goroutine: periodic, or on trigger, spaced by
// RefreshMinInterval (with jitter, so many clients do not refresh in step).
func (c *Engine) refreshLoop() {
	defer c.wg.Done()
	var tick <-chan time.Time
	if c.cfg.RefreshInterval > 0 {
		t := time.NewTicker(c.cfg.RefreshInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.refreshCh:
		case <-tick:
		}
		spacing := c.cfg.RefreshMinInterval + rand.N(c.cfg.RefreshMinInterval/4+1)
		if wait := time.Until(time.Unix(0, c.lastRefresh.Load()).Add(spacing)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-c.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		select { // triggers that arrived meanwhile are served by this refresh
		case <-c.refreshCh:
		default:
		}
		c.refresh()
	}
}

// refresh asks one node for the topology, and a few when that one does not confirm
// the table in use; it resolves their views and installs the winner as soon as a
// majority of them agree (once a majority has sent views that disagree, the others get
// as long again). A node that does not answer holds it up by refreshHedge at most. It
// runs under its own timeout, never on a caller's goroutine.
func (c *Engine) refresh() {
	start := time.Now()
	c.lastRefresh.Store(start.UnixNano())
	c.refreshes.Add(1)
	base := c.topo.Load() // what the answers are newer than, unless a MOVED comes meanwhile
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.DialTimeout+c.cfg.CommandTimeout)
	defer cancel()

	cands := c.refreshCandidates()
	if len(cands) == 0 {
		return
	}
	f := c.newFetches(ctx, len(cands), func(i int) Node { return cands[i] })
	ask, answers := f.ask, f.answers
	views := make([]*topology.Table, len(cands))
	errs := make([]error, len(cands))
	// One node first: when its view is the one in use — the usual case, and the case
	// of a storm of CLUSTERDOWN triggers — the refresh costs one request. A different
	// view, a failure or no answer within refreshHedge brings the others in to vote.
	ask(0)
	got := 0
	hedge := time.NewTimer(refreshHedge)
	defer hedge.Stop()
	select {
	case a := <-answers:
		got++
		views[a.i], errs[a.i] = a.t, a.err
		if a.t != nil && a.t.Equal(c.topo.Load()) {
			c.install(base, a.t)
			return
		}
	case <-hedge.C:
	}
	for i := 1; i < len(cands); i++ {
		ask(i)
	}
	asked := time.Now()
	// A majority decides: a node that does not answer (a stopped master) does not hold
	// the refresh up; its attempt ends with ctx.
	majority := len(cands)/2 + 1
	var straggle <-chan time.Time
collect:
	for got < len(cands) {
		if _, agreeing := topology.Choose(views); agreeing >= majority {
			break
		}
		if straggle == nil && countNonNil(views) >= majority {
			t := time.NewTimer(max(50*time.Millisecond, time.Since(asked)))
			defer t.Stop()
			straggle = t.C
		}
		select {
		case a := <-answers:
			got++
			views[a.i], errs[a.i] = a.t, a.err
		case <-straggle:
			break collect // decide with what came
		}
	}
	best, agreeing := topology.Choose(views)
	if best == nil {
		if c.cfg.Logger != nil && c.ctx.Err() == nil {
			c.cfg.Logger.Warn("redline: topology refresh failed; keeping the current one", "err", errors.Join(errs...).Error())
		}
		return
	}
	if agreeing < countNonNil(views) && c.cfg.Logger != nil {
		c.cfg.Logger.Info("redline: nodes disagree on the topology; using the majority view", "agreeing", agreeing, "asked", len(cands))
	}
	c.install(base, c.placeSlotless(ctx, best))
}

func countNonNil(ts []*topology.Table) int {
	n := 0
	for _, t := range ts {
		if t != nil {
			n++
		}
	}
	return n
}

// refreshCandidates picks up to RefreshFanout nodes to ask: primaries of the current
// table not known to be down (nor the last one a call timed out on) first, in random
// order; then any other node; the seeds when nothing else is known.
func (c *Engine) refreshCandidates() []Node {
	var addrs []string
	if t := c.topo.Load(); t != nil {
		for _, n := range t.Primaries() {
			addrs = append(addrs, n.Addr)
		}
		rand.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
		var replicas []string
		for _, n := range t.Nodes() {
			if n.Role == topology.RoleReplica {
				replicas = append(replicas, n.Addr)
			}
		}
		rand.Shuffle(len(replicas), func(i, j int) { replicas[i], replicas[j] = replicas[j], replicas[i] })
		addrs = append(addrs, replicas...)
	}
	addrs = append(addrs, c.cfg.Addrs...)
	suspect, _ := c.timedOut.Load().(string) // a stopped node would hold the refresh up
	var up, down []Node
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[a] {
			continue
		}
		seen[a] = true
		n := c.NodeAt(a)
		if n.State() == StateDown || a == suspect {
			down = append(down, n)
		} else {
			up = append(up, n)
		}
		if len(up) >= RefreshFanout {
			break
		}
	}
	out := append(up, down...)
	return out[:min(len(out), RefreshFanout)]
}

// fetchTopology asks one node for the topology (topology.Fetch: CLUSTER SHARDS, or
// CLUSTER SLOTS when the server does not know SHARDS).
func (c *Engine) fetchTopology(ctx context.Context, n Node) (*topology.Table, error) {
	return topology.Fetch(ctx, func(ctx context.Context, args ...any) (resp.Value, error) {
		return DoOn(ctx, n, args...)
	}, n.Addr(), c.cfg.TLS != nil)
}

// install makes t the current topology if it differs, logs the change and retires
// nodes that left it. base is the table in use when t was asked for (nil at NewClient):
// a slot a MOVED reply moved since then, and that t still shows where base had it, keeps
// the MOVED's owner — t was fetched before the move, so it cannot undo it.
func (c *Engine) install(base, t *topology.Table) {
	var old *topology.Table
	for {
		old = c.topo.Load()
		nt := t
		if base != nil && old != base {
			nt = keepNewerMoves(base, old, t)
		}
		if old != nil && old.Equal(nt) {
			c.nameNodes(nt) // routes alike, but may tell a hostname first
			c.closeRetired()
			return
		}
		if c.topo.CompareAndSwap(old, nt) {
			t = nt
			break
		}
	}
	c.cacheMoved(old, t)
	epoch := c.epoch.Add(1)
	c.addNodes(t) // known from now on (not dialed)
	c.nameNodes(t)
	c.learnZones(t)
	if c.cfg.Logger != nil || c.cfg.OnTopology != nil {
		added, removed, moved := topologyDiff(old, t)
		if c.cfg.Logger != nil {
			c.cfg.Logger.Info("redline: topology", "shards", len(t.Shards()), "covered_slots", t.Covered(),
				"source", t.Source(), "epoch", epoch, "slots_moved", moved, "nodes_added", len(added), "nodes_removed", len(removed))
		}
		if h := c.cfg.OnTopology; h != nil {
			h(TopologyEvent{Cause: CauseRefresh, Epoch: epoch, Source: t.Source(), Shards: len(t.Shards()),
				Nodes: len(t.Nodes()), Added: added, Removed: removed, SlotsMoved: moved})
		}
	}
	c.retireAbsent(t)
}

// keepNewerMoves returns t with the slots that moved between base and cur (MOVED
// replies applied while t was being fetched) kept at cur's owner, where t still agrees
// with base: for those slots, t's answer predates the move.
func keepNewerMoves(base, cur, t *topology.Table) *topology.Table {
	owner := func(tb *topology.Table, slot int) string {
		if s := tb.Slot(slot); s != nil {
			return s.Primary.Addr
		}
		return ""
	}
	for slot := range hashslot.Count {
		was, now := owner(base, slot), owner(cur, slot)
		if now != was && now != "" && owner(t, slot) == was {
			t = t.WithMoved(slot, now)
		}
	}
	return t
}

// topologyDiff returns the nodes in t and not in old, those in old and not in t, and
// the number of slots whose primary differs (old may be nil).
func topologyDiff(old, t *topology.Table) (added, removed []string, moved int) {
	for _, n := range t.Nodes() {
		if old == nil || old.NodeByAddr(n.Addr) == nil {
			added = append(added, n.Addr)
		}
	}
	if old != nil {
		for _, n := range old.Nodes() {
			if t.NodeByAddr(n.Addr) == nil {
				removed = append(removed, n.Addr)
			}
		}
	}
	for slot := range hashslot.Count {
		var a, b string
		if old != nil {
			if s := old.Slot(slot); s != nil {
				a = s.Primary.Addr
			}
		}
		if s := t.Slot(slot); s != nil {
			b = s.Primary.Addr
		}
		if a != b {
			moved++
		}
	}
	return added, removed, moved
}

// retireAbsent removes nodes that are neither in t nor seeds from the node map; they
// are closed at the next refresh, so calls still in flight on them can finish.
func (c *Engine) retireAbsent(t *topology.Table) {
	c.nodesMu.Lock()
	defer c.nodesMu.Unlock()
	old := *c.nodes.Load()
	keep := make(map[string]Node, len(old))
	seeds := map[string]bool{}
	for _, a := range c.cfg.Addrs {
		seeds[a] = true
	}
	for addr, n := range old {
		if t.NodeByAddr(addr) != nil || seeds[addr] {
			keep[addr] = n
		} else {
			c.retired = append(c.retired, n)
		}
	}
	c.nodes.Store(&keep)
}

// closeRetired closes nodes retired at an earlier refresh.
func (c *Engine) closeRetired() {
	c.nodesMu.Lock()
	retired := c.retired
	c.retired = nil
	c.nodesMu.Unlock()
	for _, n := range retired {
		n.Close()
	}
}

// ApplyMoved records a MOVED reply at once — the very next call for slot goes to
// addr — and asks for a refresh to learn the rest.
func (c *Engine) ApplyMoved(slot int, addr string) {
	if c.single {
		return // a standalone server's one shard serves every slot (see redirectOnSingle)
	}
	c.moved.Add(1)
	c.notePromotion(c.topo.Load().Slot(slot), addr) // a replica of the slot's shard takes it over (WithMoved)
	c.swapTable(CauseMoved, addr, func(t *topology.Table) *topology.Table { return t.WithMoved(slot, addr) })
	c.NodeAt(addr)
	c.TriggerRefresh()
}

// swapTable makes change(current table) the table in use, with compare-and-swap (change
// returns its argument when there is nothing to change), counts the epoch and reports
// the change to Hooks.OnTopology with cause and source.
func (c *Engine) swapTable(cause Cause, source string, change func(*topology.Table) *topology.Table) {
	for {
		old := c.topo.Load()
		t := change(old)
		if t == old {
			return
		}
		if !c.topo.CompareAndSwap(old, t) {
			continue
		}
		c.cacheMoved(old, t)
		epoch := c.epoch.Add(1)
		if h := c.cfg.OnTopology; h != nil {
			added, removed, moved := topologyDiff(old, t)
			h(TopologyEvent{Cause: cause, Epoch: epoch, Source: source, Shards: len(t.Shards()),
				Nodes: len(t.Nodes()), Added: added, Removed: removed, SlotsMoved: moved})
		}
		return
	}
}

// Refresh runs one topology refresh now, on the caller's goroutine (tests and tools;
// calls trigger the background one).
func (c *Engine) Refresh() {
	if !c.GoAdd() { // counted like any goroutine of the engine: Close waits for it
		return
	}
	defer c.GoDone()
	c.refresh()
}

// SuspectNode is the last node a call timed out waiting on ("" if none): refreshes
// ask it last.
func (c *Engine) SuspectNode() string {
	s, _ := c.timedOut.Load().(string)
	return s
}

// fetches asks nodes for the topology, each on a goroutine of its own that Close
// waits for, their answers on one channel: the skeleton of NewClient's hedged asking
// of the seeds and of a refresh's vote.
type fetches struct {
	c       *Engine
	ctx     context.Context // ends every attempt
	node    func(i int) Node
	answers chan fetched // buffered for every node: an abandoned attempt never blocks
	asked   int          // attempts started
}

// fetched is one node's answer: its view, or why there is none.
type fetched struct {
	i   int
	t   *topology.Table
	err error
}

func (c *Engine) newFetches(ctx context.Context, n int, node func(i int) Node) *fetches {
	return &fetches{c: c, ctx: ctx, node: node, answers: make(chan fetched, n)}
}

// ask starts asking node i.
func (f *fetches) ask(i int) {
	n := f.node(i)
	f.asked++
	f.c.wg.Add(1)
	go func() {
		defer f.c.wg.Done()
		t, err := f.c.fetchTopology(f.ctx, n)
		f.answers <- fetched{i, t, err}
	}()
}
