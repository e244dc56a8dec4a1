package cluster

import (
	"fmt"
	"testing"

	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// zoneNode is a fake node for Pick: an address, a zone and a state. Any other method
// panics (the embedded nil interface): Pick must not call them.
type zoneNode struct {
	Node
	addr, zone string
	state      NodeState
}

func (f *zoneNode) Addr() string     { return f.addr }
func (f *zoneNode) Zone() string     { return f.zone }
func (f *zoneNode) State() NodeState { return f.state }

// zoneEngine is an engine with one shard (all slots) whose primary and replicas are
// in the given zones (primary first), all up, reading with ReadLocalZone from zone "a".
func zoneEngine(t *testing.T, zones ...string) (*Engine, []*zoneNode) {
	t.Helper()
	bulk := func(s string) resp.Value { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }
	integer := func(n int64) resp.Value { return resp.Value{Type: resp.TypeInteger, Int: n} }
	entry := []resp.Value{integer(0), integer(16383)}
	nodes := map[string]Node{}
	var fakes []*zoneNode
	for i, z := range zones {
		f := &zoneNode{addr: fmt.Sprintf("127.0.0.1:%d", 7000+i), zone: z, state: StateUp}
		fakes = append(fakes, f)
		nodes[f.addr] = f
		entry = append(entry, resp.Value{Type: resp.TypeArray, Elems: []resp.Value{
			bulk("127.0.0.1"), integer(int64(7000 + i)), bulk(fmt.Sprintf("%040d", i))}})
	}
	tb, err := topology.ParseSlots(resp.Value{Type: resp.TypeArray, Elems: []resp.Value{{Type: resp.TypeArray, Elems: entry}}}, "127.0.0.1:7000", false)
	if err != nil {
		t.Fatal(err)
	}
	c := &Engine{cfg: Config{ReadFrom: ReadLocalZone, Zone: "a"}, refreshCh: make(chan struct{}, 1)}
	c.topo.Store(tb)
	c.nodes.Store(&nodes)
	return c, fakes
}

// picks returns how often Pick chose each node over 200 reads (exclude as given).
func picks(t *testing.T, c *Engine, fakes []*zoneNode, exclude Node) map[string]int {
	var ex *excluded
	if exclude != nil {
		ex = &excluded{}
		ex.add(exclude)
	}
	t.Helper()
	got := map[string]int{}
	for range 200 {
		n, err := c.pick(42, true, ex)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range fakes {
			if n == Node(f) {
				got[fmt.Sprintf("n%d", i)]++
			}
		}
	}
	return got
}

// TestPickLocalZoneOrder: a replica in the zone (spread over them); else the primary if
// in the zone; else any replica; else the primary. Down and excluded nodes are skipped;
// writes go to the primary.
func TestPickLocalZoneOrder(t *testing.T) {
	// n0 primary (zone a), n1 replica b, n2 replica a, n3 replica a, n4 replica unknown.
	c, f := zoneEngine(t, "a", "b", "a", "a", "")
	check := func(step string, exclude Node, want ...string) {
		t.Helper()
		got := picks(t, c, f, exclude)
		total := 0
		for _, w := range want {
			if got[w] == 0 {
				t.Errorf("%s: %s never picked (picks %v, want only %v)", step, w, got, want)
			}
			total += got[w]
		}
		if total != 200 {
			t.Errorf("%s: picks %v, want only %v", step, got, want)
		}
	}
	check("in-zone replicas, spread", nil, "n2", "n3")
	f[2].state = StateDown
	check("one in-zone replica down", nil, "n3")
	check("the other excluded (it just failed)", f[3], "n0")
	f[3].state = StateDown
	check("no in-zone replica: the primary, in the zone", nil, "n0")
	f[0].zone = "b"
	check("primary out of the zone: any replica", nil, "n1", "n4")
	check("any replica but the excluded", f[1], "n4")
	f[1].state, f[4].state = StateDown, StateDown
	check("no replica left: the primary", nil, "n0")
	f[0].state = StateDown
	check("everything down: still the primary (its error names it)", nil, "n0")

	f[0].state, f[2].state = StateUp, StateUp
	if n, _ := c.Pick(42, false); n != Node(f[0]) {
		t.Errorf("a write went to %s, want the primary", n.Addr())
	}
	c.cfg.Zone = "c" // no node there: reads as prefer-replica
	check("zone with no node: any replica", nil, "n2")
}

// TestPickLocalZoneNoAlloc: Pick runs on every read and must not allocate.
func TestPickLocalZoneNoAlloc(t *testing.T) {
	c, _ := zoneEngine(t, "b", "b", "a", "c")
	if a := testing.AllocsPerRun(1000, func() { c.Pick(42, true) }); a != 0 {
		t.Errorf("Pick allocates %.1f times per read, want 0", a)
	}
}
