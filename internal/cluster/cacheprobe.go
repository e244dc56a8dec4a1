package cluster

import (
	"sync"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/node"
)

// A node that stops answering without closing its connection (SIGSTOPped, a frozen
// VM, a network that drops packets) sends no invalidations, and its replica may be
// promoted and take writes meanwhile: its cached entries would be served stale until
// the connection is declared dead or a refresh shows the new primary. So while the
// cache holds entries read from a node, the probe checks every cacheProbeEvery that
// the node answers: a shared connection that read nothing in the last
// cacheProbeFresh must answer a PING within cacheProbeTimeout, or every entry read
// from the node is dropped (its tracker's epoch moves). An entry of a node that
// stopped answering is therefore served for at most cacheProbeEvery + cacheProbeFresh
// + cacheProbeTimeout (1.25 s) — well under the time a cluster takes to fail it over
// (cluster-node-timeout, 15 s by default, plus an election).
//
// A slot's owner may also change without this client hearing of it on a connection
// of its own: a failover that leaves the old primary answering but cut off from its
// replicas (no replication, so no invalidations), keys moved with MIGRATE COPY. A
// refresh that shows a slot's new owner drops the slot's entries (cacheMoved); so
// while the cache holds entries, the topology is refreshed every cacheRefreshEvery
// (unless the periodic refresh is off, or more frequent already).
const (
	cacheProbeEvery   = 500 * time.Millisecond
	cacheProbeFresh   = 250 * time.Millisecond
	cacheProbeTimeout = 500 * time.Millisecond
	cacheRefreshEvery = 5 * time.Second
)

// cacheProbeLoop runs the probe until the engine closes.
func (c *Engine) cacheProbeLoop() {
	defer c.wg.Done()
	t := time.NewTicker(cacheProbeEvery)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-t.C:
			c.cacheProbe()
			c.cacheRefresh(&last, now)
		}
	}
}

// cacheRefresh triggers a refresh when cacheRefreshEvery passed since *last and the
// cache holds entries (and the periodic refresh is on, less often).
func (c *Engine) cacheRefresh(last *time.Time, now time.Time) {
	if c.cfg.RefreshInterval <= cacheRefreshEvery || now.Sub(*last) < cacheRefreshEvery {
		return
	}
	*last = now
	if c.cfg.Cache.Store.Counters().Entries > 0 {
		c.TriggerRefresh()
	}
}

// cacheProbe checks, at once, every node the cache holds entries of, and drops the
// entries of those that do not answer in time. Bounded by cacheProbeTimeout.
func (c *Engine) cacheProbe() {
	st := c.cfg.Cache.Store
	var wg sync.WaitGroup
	for _, n := range c.Nodes() {
		rn, ok := n.(realNode)
		if !ok {
			continue
		}
		// Only a node whose shared connection is up: a connection that closed dropped
		// its entries already (trackShared), and the probe dials nothing.
		tr := st.Tracker(n.Addr())
		if tr.Entries() == 0 || rn.Node.State() != node.StateUp {
			continue
		}
		wg.Go(func() {
			w := conn.NewWaiterTimeout(c.ctx, cacheProbeTimeout)
			defer w.Release()
			if err := rn.Node.Check(&w, cacheProbeFresh); err != nil && c.ctx.Err() == nil {
				tr.Lost()
			}
		})
	}
	wg.Wait()
}
