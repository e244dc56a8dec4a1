package redistest

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/fakeserver"
)

// FakeConfig configures a fake cluster (StartFake).
type FakeConfig struct {
	// Masters is the number of masters, 1 to 16384. The slots are split among them in
	// contiguous ranges of near-equal size, master 0 serving slot 0.
	Masters int
	// Replicas gives every master one replica (on a listener of its own). A replica
	// answers reads of its master's slots on a connection that sent READONLY, and
	// MOVED otherwise, like Redis.
	Replicas bool
}

// FakeCluster is a Redis Cluster simulated in this process, for scale tests: every node
// is a loopback listener served by the project's one fake server (internal/fakeserver), so a thousand
// masters cost a few megabytes instead of a thousand redis-server processes. It answers
// HELLO (RESP2 and RESP3), PING, ECHO, AUTH (any password), CLIENT, READONLY,
// READWRITE, COMMAND (an empty table), CLUSTER SHARDS, SLOTS, NODES, MYID and INFO, and
// GET, SET and DEL on one keyspace shared by all nodes, with MOVED replies for slots a
// node does not own. Any other command gets an error reply.
//
// Its slot map is consistent across nodes at every moment: MoveSlot changes it for all
// of them at once. SetClusterDown makes every node answer CLUSTERDOWN to data commands
// for a while (topology commands and PING still answer, as with Redis). Counts tells
// how many commands of each kind the nodes received, and how many connections are open.
//
// Real redis-server clusters (Start) remain the reference for behaviour; this is the
// tool for what does not fit on a small machine. All methods are safe for concurrent
// use. Close closes every listener and connection and waits for every goroutine.
type FakeCluster struct {
	nodes   []*fakeNode // masters first, then replicas (replica of master i at Masters+i)
	masters int

	mu        sync.RWMutex
	owner     [hashslot.Count]uint16 // master index serving each slot
	replies   map[string][]byte      // cached topology replies by kind; reset by MoveSlot
	downUntil time.Time

	data sync.Map // key → value ([]byte), shared by all nodes

	topology, pings, dataCmds, other atomic.Int64
	moved, downReplies               atomic.Int64
}

// fakeNode is one node: a listener, the fake server answering on it, and its identity.
type fakeNode struct {
	srv     *fakeserver.Server // nil until the node serves
	index   int
	id      string // 40 hex digits
	addr    string // 127.0.0.1:port
	port    int
	replica bool
	master  int // for a replica, its master's index
	ln      net.Listener
}

// FakeCounts are the commands a fake cluster received, by kind, and its connections.
type FakeCounts struct {
	// Topology counts CLUSTER SHARDS, CLUSTER SLOTS and CLUSTER NODES.
	Topology int64
	// Pings counts PING.
	Pings int64
	// Data counts GET, SET and DEL, whatever the answer (value, MOVED, CLUSTERDOWN).
	Data int64
	// Other counts every other command (HELLO, AUTH, CLIENT, READONLY, …).
	Other int64
	// Moved counts MOVED replies; ClusterDown counts CLUSTERDOWN replies.
	Moved, ClusterDown int64
	// Accepted counts the connections accepted so far; Open those open now.
	Accepted, Open int64
}

// Total returns the number of commands received.
func (c FakeCounts) Total() int64 { return c.Topology + c.Pings + c.Data + c.Other }

// Sub returns c minus an earlier reading o for the command counters (Open stays c's).
func (c FakeCounts) Sub(o FakeCounts) FakeCounts {
	return FakeCounts{
		Topology: c.Topology - o.Topology, Pings: c.Pings - o.Pings, Data: c.Data - o.Data,
		Other: c.Other - o.Other, Moved: c.Moved - o.Moved, ClusterDown: c.ClusterDown - o.ClusterDown,
		Accepted: c.Accepted - o.Accepted, Open: c.Open,
	}
}

// StartFake starts a fake cluster on 127.0.0.1. It raises the process's soft limit on
// open files to its hard limit first when the cluster's listeners alone would come
// close to it (each node is one listener, each client connection one more descriptor,
// two when the client is in the same process).
func StartFake(cfg FakeConfig) (*FakeCluster, error) {
	if cfg.Masters < 1 || cfg.Masters > hashslot.Count {
		return nil, fmt.Errorf("redistest: FakeConfig.Masters must be 1 to %d (got %d)", hashslot.Count, cfg.Masters)
	}
	n := cfg.Masters
	if cfg.Replicas {
		n *= 2
	}
	if err := RaiseOpenFileLimit(); err != nil && n > 256 {
		return nil, fmt.Errorf("redistest: raising the open-files limit for %d listeners: %w", n, err)
	}
	f := &FakeCluster{masters: cfg.Masters}
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("redistest: fake node %d: %w", i, err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		nd := &fakeNode{index: i, id: fmt.Sprintf("%040x", i+1), addr: ln.Addr().String(), port: port, ln: ln}
		if i >= cfg.Masters {
			nd.replica, nd.master = true, i-cfg.Masters
		}
		f.nodes = append(f.nodes, nd)
	}
	for s := range hashslot.Count {
		f.owner[s] = uint16(s * cfg.Masters / hashslot.Count)
	}
	for _, nd := range f.nodes {
		nd.srv = fakeserver.NewAppend(func(c *fakeserver.Conn, args [][]byte, out []byte) []byte {
			return f.answer(nd, c, args, out)
		})
		nd.srv.Serve(nd.ln)
	}
	return f, nil
}

// RunFake starts a fake cluster for a test and closes it when the test ends; it fails
// the test when the cluster cannot start.
func RunFake(tb testing.TB, cfg FakeConfig) *FakeCluster {
	tb.Helper()
	f, err := StartFake(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// Masters returns the number of masters.
func (f *FakeCluster) Masters() int { return f.masters }

// Addrs returns the masters' addresses, master 0 first.
func (f *FakeCluster) Addrs() []string {
	out := make([]string, f.masters)
	for i := range out {
		out[i] = f.nodes[i].addr
	}
	return out
}

// Addr returns master i's address.
func (f *FakeCluster) Addr(i int) string { return f.nodes[i].addr }

// ReplicaAddr returns the address of master i's replica, or "" without replicas.
func (f *FakeCluster) ReplicaAddr(i int) string {
	if len(f.nodes) == f.masters {
		return ""
	}
	return f.nodes[f.masters+i].addr
}

// SlotOwner returns the index of the master serving slot.
func (f *FakeCluster) SlotOwner(slot int) int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return int(f.owner[slot])
}

// MoveSlot makes master to serve slot, at once for every node: the old owner answers
// MOVED for it from now on, and every topology reply shows the new map. Its keys move
// with it (the keyspace is shared).
func (f *FakeCluster) MoveSlot(slot, to int) error {
	if slot < 0 || slot >= hashslot.Count {
		return fmt.Errorf("redistest: MoveSlot: slot %d out of range", slot)
	}
	if to < 0 || to >= f.masters {
		return fmt.Errorf("redistest: MoveSlot: no master %d (%d masters)", to, f.masters)
	}
	f.mu.Lock()
	f.owner[slot] = uint16(to)
	f.replies = nil
	f.mu.Unlock()
	return nil
}

// SetClusterDown makes every node answer CLUSTERDOWN to data commands (GET, SET, DEL)
// until d from now, and returns that moment; d ≤ 0 ends an outage now.
func (f *FakeCluster) SetClusterDown(d time.Duration) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d <= 0 {
		f.downUntil = time.Time{}
		return time.Now()
	}
	f.downUntil = time.Now().Add(d)
	return f.downUntil
}

func (f *FakeCluster) isDown() bool {
	f.mu.RLock()
	until := f.downUntil
	f.mu.RUnlock()
	return !until.IsZero() && time.Now().Before(until)
}

// Counts returns the commands received so far by kind, and the connections.
func (f *FakeCluster) Counts() FakeCounts {
	c := FakeCounts{
		Topology: f.topology.Load(), Pings: f.pings.Load(), Data: f.dataCmds.Load(), Other: f.other.Load(),
		Moved: f.moved.Load(), ClusterDown: f.downReplies.Load(),
	}
	for _, nd := range f.nodes {
		c.Accepted += nd.srv.Accepted()
		c.Open += int64(nd.srv.Open())
	}
	return c
}

// OpenConns returns the number of client connections open now.
func (f *FakeCluster) OpenConns() int { return int(f.Counts().Open) }

// CloseConns closes every client connection; the nodes keep listening.
func (f *FakeCluster) CloseConns() {
	for _, nd := range f.nodes {
		nd.srv.CloseConns()
	}
}

// Close closes every listener and connection and returns once every goroutine of the
// cluster has ended. It may be called more than once.
func (f *FakeCluster) Close() error {
	for _, nd := range f.nodes {
		if nd.srv != nil {
			nd.srv.Close()
		} else {
			nd.ln.Close() // StartFake failed before the node served
		}
	}
	return nil
}

// slotRanges returns, for each master, its slot ranges (start, end pairs), computed in
// one pass over the slot map. The caller holds f.mu.
func (f *FakeCluster) slotRanges() [][]int {
	out := make([][]int, f.masters)
	start := 0
	for s := 1; s <= hashslot.Count; s++ {
		if s == hashslot.Count || f.owner[s] != f.owner[start] {
			m := f.owner[start]
			out[m] = append(out[m], start, s-1)
			start = s
		}
	}
	return out
}

// portString returns a node's port as text.
func (nd *fakeNode) portString() string { return strconv.Itoa(nd.port) }
