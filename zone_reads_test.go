package redline

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// The availability-zone test's cluster (Valkey 8.0+): 3 primaries, 2 replicas each, in
// two zones. Nodes 0-2 are the primaries, 3-5 their first replicas, 6-8 their second.
// The client is in zone azA: shard 0's and 1's primaries are elsewhere (in-zone reads
// need a replica), shard 2's is in it (the fallback when its in-zone replica is gone).
const (
	azA, azB = "az-a", "az-b"
	azReads  = 4000 // reads per measured phase
	azCallTO = 500 * time.Millisecond
)

var azZones = []string{azB, azB, azA, azA, azA, azA, azB, azB, azB}

// valkeyForZones returns the Valkey server for the zone tests. Inside the server
// matrix (scripts/test-matrix.sh sets REDLINE_MATRIX), a column running Redis skips
// them, saying why: the Valkey column runs them. Anywhere else (make test's suite on
// Redis 7.0) they run on the Valkey 8.0 that scripts/servers.sh fetched (make deps
// does), and fail, saying how to get it, when it is missing: never a silent skip.
func valkeyForZones(t *testing.T) redistest.Server {
	t.Helper()
	if os.Getenv("REDLINE_MATRIX") != "" {
		s, err := redistest.ProbeServer("")
		if err != nil {
			t.Fatal(err)
		}
		if !redistest.ZonesSupported(s) {
			t.Skipf("availability zones need Valkey 8.0+ (its availability-zone setting); this matrix column runs %s", s)
		}
		return s
	}
	s, err := redistest.FindValkey()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// azTally counts the reads each node served, from the command hook (the node that
// answered), and the calls that failed or ended past their deadline.
type azTally struct {
	mu     sync.Mutex
	byNode map[string]int
	errs   []error
	late   atomic.Int64 // returned more than 2ms past the call's deadline (the promise)
	late50 atomic.Int64 // … more than 50ms past it (the test's bound, for a loaded machine)
	worst  atomic.Int64 // the slowest call, in ns
}

func newAZTally() *azTally { return &azTally{byNode: map[string]int{}} }

func (a *azTally) served(node string) {
	a.mu.Lock()
	a.byNode[node]++
	a.mu.Unlock()
}

// share returns the fraction of the reads served by nodes for which in is true, and
// how many reads there were.
func (a *azTally) share(in func(addr string) bool) (float64, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, total := 0, 0
	for addr, k := range a.byNode {
		total += k
		if in(addr) {
			n += k
		}
	}
	if total == 0 {
		return 0, 0
	}
	return float64(n) / float64(total), total
}

// TestReadLocalZone (issue 21 item 3), on real Valkey servers with availability-zone
// set per node: reads land on replicas in the client's zone (≥ 99%) while they are
// healthy, writes on primaries; with two in-zone replicas killed, reads fall back (a
// replica in the other zone for a shard whose primary is elsewhere, the in-zone
// primary for the other) with no call past its deadline; once they are back, reads
// return to them.
func TestReadLocalZone(t *testing.T) {
	srv := valkeyForZones(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := redistest.Start(ctx, redistest.Config{Masters: 3, ReplicasPerMaster: 2, RedisServer: srv.Path, Zones: azZones})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	t.Logf("cluster: %s, zones %v, client in %s", srv, azZones, azA)

	var cur atomic.Pointer[azTally]
	cur.Store(newAZTally())
	var writesOff atomic.Int64                    // writes answered by a node that is not a primary
	var hookZoneWrong, dialZoneWrong atomic.Int64 // hooks naming a zone other than the node's
	primaries := map[string]bool{}
	for _, n := range cl.Nodes()[:3] {
		primaries[n.Addr()] = true
	}
	c := newTestClient(t, cl, Options{ReadFrom: ReadLocalZone, Zone: azA, Hooks: Hooks{
		AfterCommand: func(_ context.Context, e CommandEnd) {
			switch e.Name {
			case "get":
				if e.Err == nil {
					cur.Load().served(e.Node)
					if n := cl.NodeByAddr(e.Node); n == nil || e.Zone != n.Zone() {
						hookZoneWrong.Add(1)
					}
				}
			case "set":
				if !primaries[e.Node] {
					writesOff.Add(1)
				}
			}
		},
		OnDial: func(d DialInfo) {
			if n := cl.NodeByAddr(d.Addr); d.Err == nil && (n == nil || d.Zone != n.Zone()) {
				dialZoneWrong.Add(1)
			}
		},
	}})

	// The client learns every node's zone from the servers (INFO server on 8.0).
	waitZones := time.Now().Add(10 * time.Second)
	for {
		known := 0
		for _, ns := range c.Stats().Nodes {
			if n := cl.NodeByAddr(ns.Addr); n != nil && ns.Zone == n.Zone() {
				known++
			}
		}
		if known == len(azZones) {
			break
		}
		if time.Now().After(waitZones) {
			t.Fatalf("the client knows %d of %d nodes' zones after 10s: %+v", known, len(azZones), c.Stats().Nodes)
		}
		time.Sleep(10 * time.Millisecond) // polling Stats: no event says "all zones known"
	}

	keys := make([]string, 300)
	for i := range keys {
		keys[i] = fmt.Sprintf("az:%d", i)
		if err := c.Do(t.Context(), "SET", keys[i], i).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if n := writesOff.Load(); n != 0 {
		t.Fatalf("%d writes went to a node that is not a primary", n)
	}

	// read runs azReads reads over 8 goroutines into a fresh tally (about as fast as
	// the servers answer), for at least minDur; started (if not nil) is closed once 100
	// reads have begun.
	read := func(minDur time.Duration, started chan struct{}) *azTally {
		tl := newAZTally()
		cur.Store(tl)
		var next atomic.Int64
		start := time.Now()
		var once sync.Once
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > azReads && time.Since(start) >= minDur || i > 100*azReads {
						return
					}
					if i == 100 && started != nil {
						once.Do(func() { close(started) })
					}
					cctx, cancel := context.WithTimeout(context.Background(), azCallTO)
					dl, _ := cctx.Deadline()
					t0 := time.Now()
					err := c.Do(cctx, "GET", keys[int(i)%len(keys)]).Err()
					took, over := time.Since(t0), time.Since(dl)
					cancel()
					if over > 2*time.Millisecond {
						tl.late.Add(1)
					}
					if over > 50*time.Millisecond {
						tl.late50.Add(1)
					}
					for w := tl.worst.Load(); took > time.Duration(w) && !tl.worst.CompareAndSwap(w, int64(took)); w = tl.worst.Load() {
					}
					if err != nil {
						tl.mu.Lock()
						tl.errs = append(tl.errs, err)
						tl.mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		return tl
	}
	inZoneReplica := func(addr string) bool {
		n := cl.NodeByAddr(addr)
		return n != nil && n.Zone() == azA && !primaries[addr]
	}
	report := func(phase string, tl *azTally, in func(string) bool) float64 {
		t.Helper()
		share, total := tl.share(in)
		t.Logf("FIGURE %s: %d reads, %.2f%% where wanted, %d errors, %d past deadline+2ms (%d past +50ms), slowest %v (deadline %v); by node %v",
			phase, total, 100*share, len(tl.errs), tl.late.Load(), tl.late50.Load(), time.Duration(tl.worst.Load()).Round(100*time.Microsecond), azCallTO, tl.byNode)
		if tl.late50.Load() != 0 {
			t.Errorf("%s: %d calls returned more than 50ms past their deadline", phase, tl.late50.Load())
		}
		if len(tl.errs) != 0 {
			t.Errorf("%s: %d reads failed, first: %v", phase, len(tl.errs), tl.errs[0])
		}
		return share
	}

	// 1. Healthy: reads on in-zone replicas.
	if share := report("healthy", read(0, nil), inZoneReplica); share < 0.99 {
		t.Errorf("healthy: %.2f%% of reads served by in-zone replicas, want ≥ 99%%", 100*share)
	}

	// 2. Kill shard 0's and shard 2's in-zone replicas (nodes 3 and 5) while reading.
	// Shard 0's primary is in az-b: its reads go to its other replica (node 6); shard
	// 2's primary is in the zone: its reads go there (node 2).
	killed := []*redistest.Node{cl.Node(3), cl.Node(5)}
	fallback := map[string]bool{cl.Node(6).Addr(): true, cl.Node(2).Addr(): true, cl.Node(4).Addr(): true}
	var during *azTally
	var wg sync.WaitGroup
	wg.Add(1)
	started := make(chan struct{})
	go func() {
		defer wg.Done()
		during = read(3*time.Second, started) // spans the kill, the cluster's failure detection (2s) and refreshes
	}()
	<-started // bounded: read returns, closing it or not, within 100*azReads reads
	for _, n := range killed {
		if err := n.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	report("in-zone replicas killed (reads over the kill)", during, func(addr string) bool { return inZoneReplica(addr) || fallback[addr] })
	after := read(0, nil)
	if share := report("in-zone replicas down", after, func(addr string) bool { return fallback[addr] }); share < 1 {
		t.Errorf("with nodes 3 and 5 down, %.2f%% of reads went to the expected fallbacks (node 6 for shard 0, primary node 2 for shard 2, node 4 for shard 1)", 100*share)
	}
	for _, n := range killed {
		if after.byNode[n.Addr()] != 0 {
			t.Errorf("%v: served %d reads while down", n, after.byNode[n.Addr()])
		}
	}

	// 3. Back: reads return to the in-zone replicas.
	for _, n := range killed {
		if err := n.Restart(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	deadline := back.Add(15 * time.Second)
	for {
		tl := read(0, nil)
		share, _ := tl.share(inZoneReplica)
		if share >= 0.99 {
			report(fmt.Sprintf("replicas back (after %v)", time.Since(back).Round(100*time.Millisecond)), tl, inZoneReplica)
			break
		}
		if time.Now().After(deadline) {
			report("replicas back (gave up)", tl, inZoneReplica)
			t.Fatalf("15s after the replicas came back, %.2f%% of reads served in-zone", 100*share)
		}
	}
	if n := writesOff.Load(); n != 0 {
		t.Errorf("%d writes went to a node that is not a primary", n)
	}
	for _, ns := range c.Stats().Nodes {
		if n := cl.NodeByAddr(ns.Addr); n != nil && ns.Zone != n.Zone() {
			t.Errorf("Stats: %s zone %q, want %q", ns.Addr, ns.Zone, n.Zone())
		}
	}
	if n, d := hookZoneWrong.Load(), dialZoneWrong.Load(); n != 0 || d != 0 {
		t.Errorf("hooks named the wrong zone: %d reads (CommandEnd.Zone), %d dials (DialInfo.Zone)", n, d)
	}
}

// TestReadLocalZoneNodeZone: with Options.NodeZone the zones come from the user's
// function, not the servers (Redis has none): on the plain Redis cluster, reads land on
// the nodes the function puts in the client's zone (the replicas), and Stats and hooks
// show the function's zones.
func TestReadLocalZoneNodeZone(t *testing.T) {
	cl := plain(t)
	top, err := cl.Topology(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]string{}
	for _, n := range top.Nodes {
		zones[n.Addr] = "far"
		if n.Role == "replica" {
			zones[n.Addr] = "near"
		}
	}
	var served sync.Map // addr -> *atomic.Int64
	var wrongZone atomic.Int64
	c := newTestClient(t, cl, Options{ReadFrom: ReadLocalZone, Zone: "near",
		NodeZone: func(addr string) string { return zones[addr] },
		Hooks: Hooks{AfterCommand: func(_ context.Context, e CommandEnd) {
			if e.Name == "get" && e.Err == nil {
				v, _ := served.LoadOrStore(e.Node, new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
				if e.Zone != zones[e.Node] {
					wrongZone.Add(1)
				}
			}
		}}})
	for i := range 500 {
		if err := c.Do(t.Context(), "GET", fmt.Sprintf("nz:%d", i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	total, near := int64(0), int64(0)
	served.Range(func(k, v any) bool {
		n := v.(*atomic.Int64).Load()
		total += n
		if zones[k.(string)] == "near" {
			near += n
		}
		return true
	})
	if total != 500 || near != total {
		t.Errorf("%d of %d reads on the nodes NodeZone puts in the client's zone, want all 500", near, total)
	}
	if n := wrongZone.Load(); n != 0 {
		t.Errorf("%d reads' CommandEnd.Zone differ from NodeZone's", n)
	}
	for _, ns := range c.Stats().Nodes {
		if z, ok := zones[ns.Addr]; ok && ns.Zone != z {
			t.Errorf("Stats: %s zone %q, want NodeZone's %q", ns.Addr, ns.Zone, z)
		}
	}
}
