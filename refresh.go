package redline

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/node"
	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// refreshFanout is how many nodes a refresh asks when the first one asked does not
// confirm the topology in use: enough to outvote one stale or confused node, few
// enough that a refresh costs little on a large cluster. refreshHedge is how long the
// first one has to answer before the others are asked too.
const (
	refreshFanout = 3
	refreshHedge  = time.Second
)

// triggerRefresh asks for a topology refresh. It never blocks: triggers coalesce, and
// the refresher runs at most one refresh per RefreshMinInterval.
func (c *Client) triggerRefresh() {
	select {
	case c.refreshCh <- struct{}{}:
	default:
	}
}

// refreshLoop is the single refresher goroutine: periodic, or on trigger, spaced by
// RefreshMinInterval (with jitter, so many clients do not refresh in step).
func (c *Client) refreshLoop() {
	defer c.wg.Done()
	var tick <-chan time.Time
	if c.opts.RefreshInterval > 0 {
		t := time.NewTicker(c.opts.RefreshInterval)
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
		spacing := c.opts.RefreshMinInterval + rand.N(c.opts.RefreshMinInterval/4+1)
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
func (c *Client) refresh() {
	start := time.Now()
	c.lastRefresh.Store(start.UnixNano())
	c.refreshes.Add(1)
	base := c.topo.Load() // what the answers are newer than, unless a MOVED comes meanwhile
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.DialTimeout+c.opts.CommandTimeout)
	defer cancel()

	cands := c.refreshCandidates()
	if len(cands) == 0 {
		return
	}
	type answer struct {
		i   int
		t   *topology.Table
		err error
	}
	answers := make(chan answer, len(cands))
	ask := func(i int) {
		c.wg.Add(1) // inside refreshLoop's own count: Close waits for these too
		go func() {
			defer c.wg.Done()
			t, err := c.fetchTopology(ctx, cands[i])
			answers <- answer{i, t, err}
		}()
	}
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
		if c.opts.Logger != nil && c.ctx.Err() == nil {
			c.opts.Logger.Warn("redline: topology refresh failed; keeping the current one", "err", errors.Join(errs...).Error())
		}
		return
	}
	if agreeing < countNonNil(views) && c.opts.Logger != nil {
		c.opts.Logger.Info("redline: nodes disagree on the topology; using the majority view", "agreeing", agreeing, "asked", len(cands))
	}
	c.install(base, best)
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

// refreshCandidates picks up to refreshFanout nodes to ask: primaries of the current
// table not known to be down (nor the last one a call timed out on) first, in random
// order; then any other node; the seeds when nothing else is known.
func (c *Client) refreshCandidates() []*node.Node {
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
	addrs = append(addrs, c.opts.Addrs...)
	suspect, _ := c.timedOut.Load().(string) // a stopped node would hold the refresh up
	var up, down []*node.Node
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[a] {
			continue
		}
		seen[a] = true
		n := c.node(a)
		if n.State() == node.StateDown || a == suspect {
			down = append(down, n)
		} else {
			up = append(up, n)
		}
		if len(up) >= refreshFanout {
			break
		}
	}
	out := append(up, down...)
	return out[:min(len(out), refreshFanout)]
}

// fetchTopology asks one node: CLUSTER SHARDS, or CLUSTER SLOTS when the server does
// not know SHARDS (Redis < 7).
func (c *Client) fetchTopology(ctx context.Context, n *node.Node) (*topology.Table, error) {
	useTLS := c.opts.TLSConfig != nil
	v, err := n.Do(ctx, "CLUSTER", "SHARDS")
	if err == nil && v.Err != nil && unknownCommand(v.Err) {
		v, err = n.Do(ctx, "CLUSTER", "SLOTS")
		if err == nil && v.Err == nil {
			return topology.ParseSlots(v, n.Addr(), useTLS)
		}
	}
	if err != nil {
		return nil, err
	}
	if v.Err != nil {
		return nil, &NodeError{Addr: n.Addr(), Phase: PhaseRead, Err: v.Err, Written: true}
	}
	t, err := topology.ParseShards(v, n.Addr(), useTLS)
	if err != nil || !demotedAsEmptyShard(t) {
		return t, err
	}
	// Redis 7.0's CLUSTER SHARDS lists a master demoted by a failover as the master of a
	// shard of its own, serving no slot, for a while (its shard id is stale); CLUSTER SLOTS,
	// built from the nodes' roles, has it as the replica it is. Asked only then.
	sv, err := n.Do(ctx, "CLUSTER", "SLOTS")
	if err != nil || sv.Err != nil {
		return t, nil
	}
	st, err := topology.ParseSlots(sv, n.Addr(), useTLS)
	if err != nil {
		return t, nil
	}
	for _, s := range t.Shards() {
		if len(s.Ranges) == 0 {
			if r := st.NodeByAddr(s.Primary.Addr); r != nil && r.Role == topology.RoleReplica {
				return st, nil
			}
		}
	}
	return t, nil
}

// demotedAsEmptyShard reports whether t has a live primary serving no slot: a node being
// added to the cluster, or a demoted master as Redis 7.0 lists it after a failover.
func demotedAsEmptyShard(t *topology.Table) bool {
	for _, s := range t.Shards() {
		if len(s.Ranges) == 0 && !s.Primary.Failed() {
			return true
		}
	}
	return false
}

func unknownCommand(e *resp.Error) bool {
	m := strings.ToLower(e.Msg)
	return strings.Contains(m, "unknown subcommand") || strings.Contains(m, "unknown command")
}

// install makes t the current topology if it differs, logs the change and retires
// nodes that left it. base is the table in use when t was asked for (nil at NewClient):
// a slot a MOVED reply moved since then, and that t still shows where base had it, keeps
// the MOVED's owner — t was fetched before the move, so it cannot undo it.
func (c *Client) install(base, t *topology.Table) {
	var old *topology.Table
	for {
		old = c.topo.Load()
		nt := t
		if base != nil && old != base {
			nt = keepNewerMoves(base, old, t)
		}
		if old != nil && old.Equal(nt) {
			c.closeRetired()
			return
		}
		if c.topo.CompareAndSwap(old, nt) {
			t = nt
			break
		}
	}
	epoch := c.epoch.Add(1)
	c.addNodes(t) // known from now on (not dialed)
	if c.opts.Logger != nil || c.opts.Hooks.OnTopology != nil {
		added, removed, moved := topologyDiff(old, t)
		if c.opts.Logger != nil {
			c.opts.Logger.Info("redline: topology", "shards", len(t.Shards()), "covered_slots", t.Covered(),
				"source", t.Source(), "epoch", epoch, "slots_moved", moved, "nodes_added", len(added), "nodes_removed", len(removed))
		}
		if h := c.opts.Hooks.OnTopology; h != nil {
			h(TopologyChange{Cause: CauseRefresh, Epoch: epoch, Source: t.Source(), Shards: len(t.Shards()),
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
func (c *Client) retireAbsent(t *topology.Table) {
	c.nodesMu.Lock()
	defer c.nodesMu.Unlock()
	old := *c.nodes.Load()
	keep := make(map[string]*node.Node, len(old))
	seeds := map[string]bool{}
	for _, a := range c.opts.Addrs {
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
func (c *Client) closeRetired() {
	c.nodesMu.Lock()
	retired := c.retired
	c.retired = nil
	c.nodesMu.Unlock()
	for _, n := range retired {
		n.Close()
	}
}

// applyMoved records a MOVED reply at once — the very next call for slot goes to
// addr — and asks for a refresh to learn the rest.
func (c *Client) applyMoved(slot int, addr string) {
	c.moved.Add(1)
	c.swapTable(CauseMoved, addr, func(t *topology.Table) *topology.Table { return t.WithMoved(slot, addr) })
	c.node(addr)
	c.triggerRefresh()
}

// swapTable makes change(current table) the table in use, with compare-and-swap (change
// returns its argument when there is nothing to change), counts the epoch and reports
// the change to Hooks.OnTopology with cause and source.
func (c *Client) swapTable(cause TopologyCause, source string, change func(*topology.Table) *topology.Table) {
	for {
		old := c.topo.Load()
		t := change(old)
		if t == old {
			return
		}
		if !c.topo.CompareAndSwap(old, t) {
			continue
		}
		epoch := c.epoch.Add(1)
		if h := c.opts.Hooks.OnTopology; h != nil {
			added, removed, moved := topologyDiff(old, t)
			h(TopologyChange{Cause: cause, Epoch: epoch, Source: source, Shards: len(t.Shards()),
				Nodes: len(t.Nodes()), Added: added, Removed: removed, SlotsMoved: moved})
		}
		return
	}
}
