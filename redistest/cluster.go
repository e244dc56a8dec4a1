package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redline-go/redline/hashslot"
)

// Cluster is a running Redis Cluster of real redis-server processes on 127.0.0.1, each
// behind its own fault proxy. Close stops every process and removes every file.
type Cluster struct {
	cfg   Config
	dir   string
	pki   *pki
	nodes []*Node

	pidMu sync.Mutex
	pids  map[int]bool

	closeOnce sync.Once
	closeErr  error
}

// Start starts a cluster as cfg describes and returns when every node reports
// cluster_state:ok, all nodes agree on the slot map and every replica's link to its
// master is up. ctx bounds the whole start; on any failure everything started so far
// is stopped and removed.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, pids: map[int]bool{}}
	if err := c.start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	cfg := c.cfg
	dir, err := os.MkdirTemp(cfg.Dir, "redistest-")
	if err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	c.dir = dir
	var badTLS *tls.Config
	if cfg.TLS {
		if c.pki, err = newPKI(dir); err != nil {
			return err
		}
		badTLS = &tls.Config{Certificates: []tls.Certificate{c.pki.bad}}
	}
	total := cfg.Masters * (1 + cfg.ReplicasPerMaster)
	cfg.logf("redistest: starting %d masters, %d replicas each (TLS %v) in %s", cfg.Masters, cfg.ReplicasPerMaster, cfg.TLS, dir)
	for i := range total {
		if err := c.newNode(i, badTLS); err != nil {
			return err
		}
	}
	// Start the processes concurrently: each takes a few tens of milliseconds.
	if err := c.eachNode(ctx, c.nodes, func(ctx context.Context, n *Node) error { return n.start(ctx) }); err != nil {
		return err
	}
	return c.form(ctx)
}

// newNode adds node i (ports, proxy, directory; no process yet) to c.nodes, so that
// Close cleans up after a partial failure too.
func (c *Cluster) newNode(i int, badTLS *tls.Config) error {
	n := &Node{cluster: c, index: i}
	c.nodes = append(c.nodes, n)
	n.admin = &adminConn{password: c.cfg.Password}
	var err error
	if c.cfg.server.AtLeast(7, 0) {
		if n.port, err = freePort(); err != nil {
			return err
		}
		if n.busPort, err = freePort(); err != nil {
			return err
		}
	} else { // the bus listens on port+10000, whatever is announced
		if n.port, n.busPort, err = freePortPair(busOffset); err != nil {
			return err
		}
	}
	n.admin.addr = n.ServerAddr()
	if c.cfg.Hostnames {
		n.hostname = fmt.Sprintf("node%d.redline.test", i)
	}
	if c.pki != nil {
		n.admin.tls = c.pki.clientConfig()
		n.admin.tls.ServerName = n.hostname // "": the address's host
		n.certFile, n.keyFile = c.pki.certFile, c.pki.keyFile
	}
	n.proxyPort = n.port
	if !c.cfg.NoProxy {
		if n.proxyPort, err = freePort(); err != nil {
			return err
		}
		if n.proxy, err = newProxy(n.Addr(), n.ServerAddr(), badTLS); err != nil {
			return fmt.Errorf("redistest: proxy for node %d: %w", i, err)
		}
	}
	n.dir = fmt.Sprintf("%s/node-%d", c.dir, i)
	if err := os.Mkdir(n.dir, 0o700); err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	if c.pki != nil && n.hostname != "" {
		if n.certFile, n.keyFile, err = c.pki.hostCert(n.dir, n.hostname); err != nil {
			return err
		}
	}
	return nil
}

// form assigns slots, joins the nodes, attaches replicas and waits until it is healthy.
func (c *Cluster) form(ctx context.Context) error {
	cfg := c.cfg
	for _, n := range c.nodes {
		v, err := n.Do(ctx, "CLUSTER", "MYID")
		if err != nil {
			return err
		}
		if n.id, err = text(v); err != nil {
			return err
		}
	}
	masters := c.nodes[:cfg.Masters]
	if err := c.eachNode(ctx, masters, func(ctx context.Context, n *Node) error {
		lo, hi := slotRange(n.index, cfg.Masters)
		if cfg.server.AtLeast(7, 0) {
			_, err := n.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi)
			return err
		}
		args := []any{"CLUSTER", "ADDSLOTS"} // ADDSLOTSRANGE is 7.0+
		for s := lo; s <= hi; s++ {
			args = append(args, s)
		}
		_, err := n.Do(ctx, args...)
		return err
	}); err != nil {
		return err
	}
	first := c.nodes[0]
	for _, n := range c.nodes[1:] {
		if _, err := first.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", n.port, n.busPort); err != nil {
			return err
		}
	}
	cfg.logf("redistest: slots assigned, nodes met; waiting for every node to know every other")
	if err := c.waitFor(ctx, "all nodes to know each other", func(ctx context.Context) error {
		for _, n := range c.nodes {
			info, err := clusterInfo(ctx, n)
			if err != nil {
				return err
			}
			if got := info["cluster_known_nodes"]; got != strconv.Itoa(len(c.nodes)) {
				return fmt.Errorf("node %d knows %s of %d nodes", n.index, got, len(c.nodes))
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for i, r := range c.nodes[cfg.Masters:] {
		m := masters[i%cfg.Masters]
		if err := replicate(ctx, r, m); err != nil {
			return err
		}
	}
	if err := c.WaitHealthy(ctx); err != nil {
		return err
	}
	cfg.logf("redistest: cluster ready: %d nodes", len(c.nodes))
	return nil
}

// replicate makes r a replica of m. A node counted in cluster_known_nodes may still be
// in its handshake under a temporary ID, and REPLICATE answers "Unknown node" until the
// real one arrives (seen on Valkey 8.0): that answer is retried every 20ms, within ctx.
func replicate(ctx context.Context, r, m *Node) error {
	for {
		_, err := r.Do(ctx, "CLUSTER", "REPLICATE", m.id)
		if err == nil || !strings.Contains(err.Error(), "Unknown node") {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redistest: node %d to replicate node %d: %w (last: %v)", r.index, m.index, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// slotRange returns the slots of master i of m, spread evenly.
func slotRange(i, m int) (int, int) {
	return i * hashslot.Count / m, (i+1)*hashslot.Count/m - 1
}

// WaitHealthy waits until every running, unpaused node reports cluster_state:ok, they
// all agree on which node owns each slot, every slot is owned by a running node, no
// node is flagged failed by another, and every replica's link to its master is up.
// Use it after Restart, Failover or a fault to wait for the cluster to settle.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return c.waitFor(ctx, "the cluster to be healthy", c.checkHealthy)
}

func (c *Cluster) checkHealthy(ctx context.Context) error {
	var ref *Topology
	var refNode *Node
	for _, n := range c.nodes {
		if !n.Running() || n.Paused() {
			continue
		}
		info, err := clusterInfo(ctx, n)
		if err != nil {
			return err
		}
		if info["cluster_state"] != "ok" {
			return fmt.Errorf("node %d: cluster_state:%s", n.index, info["cluster_state"])
		}
		t, err := c.topologyFrom(ctx, n)
		if err != nil {
			return err
		}
		for _, e := range t.Nodes {
			if e.Node != nil && e.Node.Running() && !e.Node.Paused() && (e.HasFlag("fail") || e.HasFlag("pfail")) {
				return fmt.Errorf("node %d sees running node %s as %v", n.index, e.Addr, e.Flags)
			}
		}
		if ref == nil {
			ref, refNode = t, n
			continue
		}
		if a, b := ref.slotSignature(), t.slotSignature(); a != b {
			return fmt.Errorf("node %d and node %d disagree on the slot map", refNode.index, n.index)
		}
	}
	if ref == nil {
		return errors.New("no node is running")
	}
	for _, m := range ref.Masters() {
		if len(m.Slots) > 0 && (m.Node == nil || !m.Node.Running()) {
			return fmt.Errorf("slots of %s are owned by a node that is not running", m.Addr)
		}
	}
	for _, e := range ref.Nodes {
		if e.Role != "replica" || e.Node == nil || !e.Node.Running() || e.Node.Paused() {
			continue
		}
		master := ref.ByID(e.MasterID)
		if master == nil || master.Node == nil || !master.Node.Running() {
			continue // an orphan replica of a dead master: nothing to wait for
		}
		v, err := e.Node.Do(ctx, "INFO", "replication")
		if err != nil {
			return err
		}
		s, _ := text(v)
		if parseInfo(s)["master_link_status"] != "up" {
			return fmt.Errorf("replica %s: link to master %s not up yet", e.Addr, master.Addr)
		}
	}
	return nil
}

// waitFor polls check every 20ms until it returns nil or ctx ends; the error then
// names what was awaited and the last reason it was not there yet.
func (c *Cluster) waitFor(ctx context.Context, what string, check func(context.Context) error) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := check(cctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redistest: waiting for %s: %w (last: %v)", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// eachNode runs fn for every node concurrently and returns the first error.
func (c *Cluster) eachNode(ctx context.Context, nodes []*Node, fn func(context.Context, *Node) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(ctx, n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Server returns the server the cluster runs (name and version).
func (c *Cluster) Server() Server { return c.cfg.server }

// Nodes returns every node: the masters as started first, then the replicas
// (replica i follows master i % Masters). Roles change with failovers: use Topology
// for the current ones.
func (c *Cluster) Nodes() []*Node { return c.nodes }

// Node returns node i of Nodes.
func (c *Cluster) Node(i int) *Node { return c.nodes[i] }

// Addrs returns the addresses every node announces (the proxies'), in Nodes order:
// what a client takes as seeds.
func (c *Cluster) Addrs() []string {
	a := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		a[i] = n.Addr()
	}
	return a
}

// NodeByAddr returns the node announcing addr, or nil.
func (c *Cluster) NodeByAddr(addr string) *Node {
	for _, n := range c.nodes {
		if n.Addr() == addr || n.ServerAddr() == addr {
			return n
		}
	}
	return nil
}

// NodeByID returns the node with the given cluster ID, or nil.
func (c *Cluster) NodeByID(id string) *Node {
	for _, n := range c.nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

// TLSConfig returns a client TLS configuration trusting the cluster's CA (with a client
// certificate, for ClientAuth clusters), or nil for a plain cluster. Each call returns
// a new copy. ServerName is left empty: the node certificates name 127.0.0.1 and
// localhost, and a client is expected to set the name per node from the address it
// dials (as tls.Dial does) — or, with Config.Hostnames, each certificate names only its
// node's hostname (Node.Hostname), which the client must verify instead.
func (c *Cluster) TLSConfig() *tls.Config {
	if c.pki == nil {
		return nil
	}
	return c.pki.clientConfig()
}

// Password returns the password clients need (Config.Password).
func (c *Cluster) Password() string { return c.cfg.Password }

// NodeTimeout returns the cluster-node-timeout in force.
func (c *Cluster) NodeTimeout() time.Duration { return c.cfg.NodeTimeout }

// Dir returns the cluster's temporary directory.
func (c *Cluster) Dir() string { return c.dir }

// PIDs returns the process IDs of every redis-server this cluster has running.
func (c *Cluster) PIDs() []int {
	c.pidMu.Lock()
	defer c.pidMu.Unlock()
	var out []int
	for p := range c.pids {
		out = append(out, p)
	}
	return out
}

func (c *Cluster) track(pid int) {
	c.pidMu.Lock()
	c.pids[pid] = true
	c.pidMu.Unlock()
}

func (c *Cluster) untrack(pid int) {
	c.pidMu.Lock()
	delete(c.pids, pid)
	c.pidMu.Unlock()
}

// Close kills every process, stops the proxies and removes the cluster's directory.
// It waits until every process has exited. Safe to call more than once.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		var errs []error
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, n := range c.nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := n.Kill(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
				if n.proxy != nil {
					n.proxy.Close()
				}
			}()
		}
		wg.Wait()
		if left := c.PIDs(); len(left) > 0 { // cannot happen: Kill waits; belt and braces
			for _, p := range left {
				syscall.Kill(p, syscall.SIGKILL)
			}
			errs = append(errs, fmt.Errorf("redistest: processes %v outlived Close", left))
		}
		var ports []int
		for _, n := range c.nodes {
			ports = append(ports, n.port, n.busPort, n.proxyPort)
		}
		releasePorts(ports...)
		if c.dir != "" {
			if err := os.RemoveAll(c.dir); err != nil {
				errs = append(errs, err)
			}
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}
