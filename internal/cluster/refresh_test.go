package cluster

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// events records the engine's topology events.
type events struct {
	mu sync.Mutex
	ev []TopologyEvent
}

func (e *events) add(ev TopologyEvent) {
	e.mu.Lock()
	e.ev = append(e.ev, ev)
	e.mu.Unlock()
}

func (e *events) all() []TopologyEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.ev)
}

// newWatched is newEngine with the topology events recorded (the first install's
// dropped).
func newWatched(t *testing.T, fc *fakeCluster, cfg Config, specs []shardSpec) (*Engine, *events) {
	ev := &events{}
	cfg.OnTopology = ev.add
	c := newEngine(t, cfg, specs)
	ev.mu.Lock()
	ev.ev = nil
	ev.mu.Unlock()
	return c, ev
}

// TestRefreshKeepsNewerMoved: a refresh whose answer was fetched before a MOVED reply
// was applied must not put the slot back on its old owner (install used to store the
// refreshed table unconditionally), while a slot the answer itself shows elsewhere
// follows the answer. (Was a socket test of the root package.)
func TestRefreshKeepsNewerMoved(t *testing.T) {
	fc := newFakeCluster(t)
	fc.setTopo(threeShards)
	c := newEngine(t, testConfig(fc), threeShards)
	base := c.topo.Load()
	// The refresh's answer: fetched now, before the move below.
	view, err := c.fetchTopology(ctxFor(t, time.Second), c.NodeAt(base.Primaries()[0].Addr))
	if err != nil {
		t.Fatal(err)
	}
	const slot = 100
	owner := base.Slot(slot).Primary.Addr
	var other string
	for _, p := range base.Primaries() {
		if p.Addr != owner {
			other = p.Addr
			break
		}
	}
	c.ApplyMoved(slot, other) // a MOVED reply arrives while the answer is in flight
	c.install(base, view)
	if got := c.topo.Load().Slot(slot).Primary.Addr; got != other {
		t.Fatalf("slot %d is on %s after the stale refresh; the MOVED said %s", slot, got, other)
	}
	if got := c.topo.Load().Slot(slot + 1).Primary.Addr; got != owner {
		t.Fatalf("slot %d moved to %s; nothing moved it", slot+1, got)
	}
	// An answer fetched after the move (its base is the moved table) is believed.
	moved := c.topo.Load()
	c.install(moved, view)
	if got := c.topo.Load().Slot(slot).Primary.Addr; got != owner {
		t.Fatalf("slot %d is on %s after a newer refresh said %s", slot, got, owner)
	}
}

// TestKeepNewerMoves: only slots that moved since base, and that the answer still shows
// where base had them, keep the newer owner.
func TestKeepNewerMoves(t *testing.T) {
	base := tableOf(t, threeShards)
	cur := base.WithMoved(10, p2).WithMoved(20, p3)
	answer := tableOf(t, threeShards).WithMoved(20, p2) // it saw 20 move elsewhere itself
	got := keepNewerMoves(base, cur, answer)
	for slot, want := range map[int]string{10: p2, 20: p2, 30: p1, s2: p2} {
		if s := got.Slot(slot); s == nil || s.Primary.Addr != want {
			t.Errorf("slot %d on %v; want %s", slot, s, want)
		}
	}
}

// TestSwapTableEvents: a MOVED and a replica found promoted change the table through
// swapTable, which counts the epoch and reports the change with its cause; a change
// that changes nothing is not reported.
func TestSwapTableEvents(t *testing.T) {
	fc := newFakeCluster(t)
	c, ev := newWatched(t, fc, testConfig(fc), threeShards)
	epoch := c.Counters().Epoch

	c.ApplyMoved(s1, p2)
	c.ApplyMoved(s1, p2) // known already: no change
	c.ApplyMoved(s3, r3) // to the slot's replica: a failover moves the whole shard
	c.applyPromoted(r2)
	c.applyPromoted("127.0.0.1:9") // not a replica: no change

	got := ev.all()
	want := []TopologyEvent{
		{Cause: CauseMoved, Epoch: epoch + 1, Source: p2, SlotsMoved: 1},
		{Cause: CauseMoved, Epoch: epoch + 2, Source: r3, SlotsMoved: 16384 - 10923},
		{Cause: CauseRole, Epoch: epoch + 3, Source: r2, SlotsMoved: 10922 - 5461 + 1 + 1}, // s1 joined that shard
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v; want %d", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Cause != w.Cause || g.Epoch != w.Epoch || g.Source != w.Source || g.SlotsMoved != w.SlotsMoved || g.Shards != 3 {
			t.Errorf("event %d: %+v; want %+v", i, g, w)
		}
	}
	if k := c.Counters(); k.Epoch != epoch+3 || k.Moved != 3 {
		t.Fatalf("counters %+v; want epoch %d, 3 MOVED", k, epoch+3)
	}
	tb := c.Topology()
	for slot, want := range map[int]string{s1: r2, s1 + 1: p1, s2: r2, s3: r3} {
		if got := tb.Slot(slot).Primary.Addr; got != want {
			t.Errorf("slot %d on %s; want %s", slot, got, want)
		}
	}
	if !c.triggered() {
		t.Fatal("a MOVED asked for no refresh")
	}
}

// TestInstallRetires: a table without a node retires it (kept in use until the next
// refresh, then closed); seeds are kept; an equal table changes nothing.
func TestInstallRetires(t *testing.T) {
	fc := newFakeCluster(t)
	cfg := testConfig(fc)
	cfg.Addrs = []string{p1, r3} // r3 is a seed
	c, ev := newWatched(t, fc, cfg, threeShards)
	epoch := c.Counters().Epoch

	smaller := []shardSpec{{0, 5460, p1, []string{r1}, nil}, {5461, 16383, p2, nil, nil}}
	c.install(c.Topology(), tableOf(t, smaller))
	got := ev.all()
	if len(got) != 1 || got[0].Cause != CauseRefresh || got[0].Epoch != epoch+1 || got[0].SlotsMoved != 16384-10923 ||
		!slices.Equal(sorted(got[0].Removed...), []string{p3, r2, r3}) || len(got[0].Added) != 0 {
		t.Fatalf("events %+v; want one refresh removing %s, %s, %s and moving %d slots", got, p3, r2, r3, 16384-10923)
	}
	var known []string
	for _, n := range c.Nodes() {
		known = append(known, n.Addr())
	}
	if want := sorted(p1, r1, p2, r3); !slices.Equal(sorted(known...), want) {
		t.Fatalf("nodes %q; want %q (seed %s kept)", sorted(known...), want, r3)
	}
	if n := fc.node(p3).closes() + fc.node(r2).closes(); n != 0 {
		t.Fatalf("%d retired nodes closed at once; calls in flight may still use them", n)
	}
	c.install(c.Topology(), tableOf(t, smaller)) // the next refresh: no change
	if len(ev.all()) != 1 || c.Counters().Epoch != epoch+1 {
		t.Fatalf("an equal table was reported or counted: %+v", ev.all())
	}
	if fc.node(p3).closes() != 1 || fc.node(r2).closes() != 1 || fc.node(r3).closes() != 0 {
		t.Fatalf("closes p3 %d, r2 %d, r3 %d; want the retired closed once, the seed kept",
			fc.node(p3).closes(), fc.node(r2).closes(), fc.node(r3).closes())
	}
}

// TestRefreshConfirmed: when the first node asked confirms the table in use, a refresh
// costs one request and changes nothing.
func TestRefreshConfirmed(t *testing.T) {
	fc := newFakeCluster(t)
	fc.setTopo(threeShards)
	c, ev := newWatched(t, fc, testConfig(fc), threeShards)
	c.Refresh()
	asked := 0
	for _, a := range []string{p1, p2, p3, r1, r2, r3} {
		asked += fc.node(a).topoAsks()
	}
	if asked != 1 || len(ev.all()) != 0 {
		t.Fatalf("%d nodes asked, events %+v; want 1 and none", asked, ev.all())
	}
}

// TestRefreshMajority: when the nodes disagree, the view of the majority of those asked
// is installed, whichever answers first.
func TestRefreshMajority(t *testing.T) {
	fc := newFakeCluster(t)
	c, ev := newWatched(t, fc, testConfig(fc), threeShards)
	moved := []shardSpec{{0, 5460, p1, []string{r1}, nil}, {5461, 16383, p2, []string{r2}, nil}}
	stale := []shardSpec{{0, 16383, p3, nil, nil}}
	answer := func(specs []shardSpec) handler {
		v := shardsValue(specs)
		return func(_ *Waiter, args []string, _ bool) (resp.Value, error) {
			if strings.EqualFold(args[0], "CLUSTER") {
				return v, nil
			}
			return okValue(), nil
		}
	}
	fc.handle(p1, answer(moved))
	fc.handle(p2, answer(moved))
	fc.handle(p3, answer(stale))
	c.Refresh()
	if got := c.Topology().Slot(s3).Primary.Addr; got != p2 {
		t.Fatalf("slot %d on %s; want %s, the majority's", s3, got, p2)
	}
	if got := ev.all(); len(got) != 1 || got[0].Cause != CauseRefresh {
		t.Fatalf("events %+v; want one refresh", got)
	}
}

// TestRefreshFailsKeepsTable: when every node refuses CLUSTER SHARDS, the table in use
// stays.
func TestRefreshFailsKeepsTable(t *testing.T) {
	fc := newFakeCluster(t)
	c, ev := newWatched(t, fc, testConfig(fc), threeShards)
	before := c.Topology()
	for _, a := range []string{p1, p2, p3, r1, r2, r3} {
		fc.handle(a, always(errV("NOPERM this user has no permissions to run the 'cluster|shards' command")))
	}
	c.Refresh()
	if c.Topology() != before || len(ev.all()) != 0 {
		t.Fatalf("a failed refresh changed the table: %+v", ev.all())
	}
}

// TestRefreshCandidates: a refresh asks primaries not known down first, then replicas;
// a node known down, or the last one a call timed out on, only when nothing else is
// left.
func TestRefreshCandidates(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	fc.node(p1).setState(StateDown)
	c.timedOut.Store(p2)
	var got []string
	for _, n := range c.refreshCandidates() {
		got = append(got, n.Addr())
	}
	if len(got) != RefreshFanout || got[0] != p3 || slices.Contains(got, p1) || slices.Contains(got, p2) {
		t.Fatalf("candidates %q; want %s first, then replicas, not %s (down) nor %s (timed out)", got, p3, p1, p2)
	}
}

// TestNewFromSeeds: New asks the seeds for the topology and installs it; a seed that
// fails is passed over; when every seed fails, the error names each.
func TestNewFromSeeds(t *testing.T) {
	t.Run("one seed fails", func(t *testing.T) {
		fc := newFakeCluster(t)
		fc.setTopo(threeShards)
		bad := "127.0.0.1:7999"
		fc.handle(bad, downHandler(bad))
		cfg := testConfig(fc)
		cfg.Addrs = []string{bad, p1}
		c, err := New(ctxFor(t, time.Second), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := c.Topology().Slot(s2).Primary.Addr; got != p2 {
			t.Fatalf("slot %d on %s; want %s", s2, got, p2)
		}
		fc.handle(p2, always(vV))
		r, _ := do(t, c, context.Background(), "GET", k2)
		value("v")(t, r)
	})
	t.Run("every seed fails", func(t *testing.T) {
		fc := newFakeCluster(t)
		a, b := "127.0.0.1:7998", "127.0.0.1:7999"
		fc.handle(a, downHandler(a))
		fc.handle(b, always(errV("NOPERM no")))
		cfg := testConfig(fc)
		cfg.Addrs = []string{a, b}
		_, err := New(ctxFor(t, time.Second), cfg)
		if err == nil || !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
			t.Fatalf("error %v; want one naming %s and %s", err, a, b)
		}
	})
}

// TestFetchTopologyRefused: a node that refuses CLUSTER SHARDS (NOPERM) did not execute
// anything: the error names it, and does not say the request may have executed.
func TestFetchTopologyRefused(t *testing.T) {
	fc := newFakeCluster(t)
	fc.handle(p1, always(errV("NOPERM this user has no permissions to run the 'cluster|shards' command")))
	c := newEngine(t, testConfig(fc), threeShards)
	_, err := c.fetchTopology(ctxFor(t, time.Second), c.NodeAt(p1))
	if err == nil || !strings.Contains(err.Error(), p1) || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("error %v; want one naming %s and NOPERM", err, p1)
	}
	if !rerr.SafeToRetry(err) {
		t.Fatalf("error %v says the refused CLUSTER SHARDS may have executed", err)
	}
}

// TestInstallRacesMoved: MOVED replies applied while a refresh installs an answer
// fetched before them are all kept, whatever the interleaving.
func TestInstallRacesMoved(t *testing.T) {
	for round := range 8 {
		fc := newFakeCluster(t)
		c := newEngine(t, testConfig(fc), threeShards)
		base := c.Topology()
		view := tableOf(t, threeShards) // fetched before the moves
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					c.ApplyMoved(g*10+i, p2)
				}
			}()
		}
		c.install(base, view)
		wg.Wait()
		for slot := range 40 {
			if got := c.Topology().Slot(slot).Primary.Addr; got != p2 {
				t.Fatalf("round %d: slot %d on %s; its MOVED said %s", round, slot, got, p2)
			}
		}
		c.Close()
	}
}
