package topology

import (
	"testing"
)

func mustShards(t testing.TB, shards ...tShard) *Table {
	t.Helper()
	tab, err := ParseShards(shardsReply(true, shards...), "10.0.0.1:7000", false)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestSlot(t *testing.T) {
	tab := mustShards(t, tShard{slots: []int64{0, 99, 200, 16383}, nodes: []tNode{nA, nA2}}, tShard{nodes: []tNode{nB}})
	for _, tc := range []struct {
		slot int
		want string // primary address, "" for nil
	}{
		{0, "10.0.0.1:7000"}, {99, "10.0.0.1:7000"}, {100, ""}, {199, ""}, {200, "10.0.0.1:7000"},
		{16383, "10.0.0.1:7000"}, {16384, ""}, {-1, ""}, {1 << 40, ""},
	} {
		got := ""
		if s := tab.Slot(tc.slot); s != nil {
			got = s.Primary.Addr
		}
		if got != tc.want {
			t.Errorf("Slot(%d) = %q, want %q", tc.slot, got, tc.want)
		}
	}
	if tab.Covered() != 16384-100 {
		t.Errorf("Covered = %d", tab.Covered())
	}
	var sink *Shard
	allocs := testing.AllocsPerRun(100, func() {
		for s := range 16384 {
			sink = tab.Slot(s)
		}
	})
	if allocs != 0 {
		t.Errorf("Slot allocates %v times", allocs)
	}
	_ = sink
}

func TestNodes(t *testing.T) {
	nC := tNode{id: "c", endpoint: "10.0.0.3", port: 7000}
	nC2 := tNode{id: "c2", endpoint: "10.0.0.3", port: 7001, replica: true}
	tab := mustShards(t,
		tShard{slots: []int64{0, 1}, nodes: []tNode{nA2, nA}},
		tShard{nodes: []tNode{nB}},
		tShard{slots: []int64{2, 3}, nodes: []tNode{nC, nC2, {id: "dup", endpoint: "10.0.0.1", port: 7001, replica: true}}},
	)
	var got []string
	for _, n := range tab.Nodes() {
		got = append(got, n.ID)
	}
	if want := "[a b c a2 c2]"; fmtSlice(got) != want {
		t.Errorf("Nodes = %v, want %s", got, want)
	}
	got = got[:0]
	for _, n := range tab.Primaries() {
		got = append(got, n.ID)
	}
	if want := "[a b c]"; fmtSlice(got) != want {
		t.Errorf("Primaries = %v, want %s", got, want)
	}
	for addr, id := range map[string]string{
		"10.0.0.1:7000": "a", "10.0.0.1:7001": "a2", "10.0.0.2:7000": "b", "10.0.0.3:7001": "c2",
	} {
		if n := tab.NodeByAddr(addr); n == nil || n.ID != id {
			t.Errorf("NodeByAddr(%s) = %+v, want ID %s", addr, n, id)
		}
	}
	if n := tab.NodeByAddr("10.0.0.9:7000"); n != nil {
		t.Errorf("NodeByAddr(unknown) = %+v", n)
	}
	if RolePrimary.String() != "primary" || RoleReplica.String() != "replica" || Role(7).String() != "Role(7)" {
		t.Error("Role.String")
	}
	checkInvariants(t, tab)
}

func fmtSlice(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

func TestEqual(t *testing.T) {
	base := twoShards()
	a := mustShards(t, base...)
	tests := []struct {
		name   string
		shards []tShard
		equal  bool
	}{
		{"same", twoShards(), true},
		{"different IDs, health, offsets", with(func(s []tShard) {
			s[0].nodes[0].id = "other"
			s[0].nodes[1].health = "fail"
			s[1].nodes[0].offset = 99
		}), true},
		{"shards in another order", []tShard{twoShards()[1], twoShards()[0]}, true},
		{"extra shard serving no slot", append(twoShards(), tShard{nodes: []tNode{{id: "z", endpoint: "10.0.0.9", port: 1}}}), true},
		{"ranges split differently", with(func(s []tShard) { s[0].slots = []int64{0, 99, 100, 8191} }), true},
		{"one slot moved", with(func(s []tShard) { s[0].slots[1] = 8190; s[1].slots[0] = 8191 }), false},
		{"one slot uncovered", with(func(s []tShard) { s[1].slots[0] = 8193 }), false},
		{"primary at another address", with(func(s []tShard) { s[1].nodes[0].port = 7002 }), false},
		{"replica missing", with(func(s []tShard) { s[0].nodes = s[0].nodes[:1] }), false},
		{"replica at another address", with(func(s []tShard) { s[0].nodes[1].port = 7005 }), false},
		{"failover", with(func(s []tShard) {
			s[0].nodes[0].replica, s[0].nodes[1].replica = true, false
		}), false},
	}
	for _, tc := range tests {
		b := mustShards(t, tc.shards...)
		if a.Equal(b) != tc.equal || b.Equal(a) != tc.equal {
			t.Errorf("%s: Equal = %v, want %v", tc.name, a.Equal(b), tc.equal)
		}
	}
	if !a.Equal(a) || a.Equal(nil) || (*Table)(nil).Equal(a) || !(*Table)(nil).Equal(nil) {
		t.Error("Equal with itself or nil")
	}

	// Replica order does not matter; multiplicity does.
	r := func(ports ...int64) *Table {
		nodes := []tNode{nA}
		for _, p := range ports {
			nodes = append(nodes, tNode{endpoint: "10.0.0.1", port: p, replica: true})
		}
		return mustShards(t, tShard{slots: []int64{0, 16383}, nodes: nodes})
	}
	if !r(1, 2, 3).Equal(r(3, 1, 2)) || r(1, 1, 2).Equal(r(1, 2, 2)) || r(1, 2).Equal(r(1, 2, 3)) {
		t.Error("replica sets")
	}
	many := make([]int64, 40)
	rev := make([]int64, 40)
	for i := range many {
		many[i], rev[39-i] = int64(i+1), int64(i+1)
	}
	other := append([]int64(nil), rev...)
	other[0] = 999
	if !r(many...).Equal(r(rev...)) || r(many...).Equal(r(other...)) {
		t.Error("large replica sets")
	}
}

func TestWithMoved(t *testing.T) {
	orig := mustShards(t, twoShards()...)
	before := describe(orig)
	tests := []struct {
		name string
		slot int
		addr string
		want string // describe; "" means: returns orig itself
	}{
		{"to the other primary", 8191, "10.0.0.2:7000",
			"10.0.0.1:7000[online] 0-8190 <- 10.0.0.1:7001[online]\n10.0.0.2:7000[online] 8191-16383\n"},
		{"from the middle of a range", 100, "10.0.0.2:7000",
			"10.0.0.1:7000[online] 0-99,101-8191 <- 10.0.0.1:7001[online]\n10.0.0.2:7000[online] 100-100,8192-16383\n"},
		{"to a new node", 0, "10.0.0.5:7000",
			"10.0.0.1:7000[online] 1-8191 <- 10.0.0.1:7001[online]\n10.0.0.2:7000[online] 8192-16383\n10.0.0.5:7000 0-0\n"},
		{"to a replica (promoted)", 16383, "10.0.0.1:7001",
			"10.0.0.1:7000[online] 0-8191 <- 10.0.0.1:7001[online]\n10.0.0.2:7000[online] 8192-16382\n10.0.0.1:7001[online] 16383-16383\n"},
		{"to a replica of its own shard (failover: the shard follows)", 100, "10.0.0.1:7001",
			"10.0.0.1:7001[online] 0-8191 <- 10.0.0.1:7000[online]\n10.0.0.2:7000[online] 8192-16383\n"},
		{"unbracketed IPv6", 5, "::1:7000",
			"10.0.0.1:7000[online] 0-4,6-8191 <- 10.0.0.1:7001[online]\n10.0.0.2:7000[online] 8192-16383\n[::1]:7000 5-5\n"},
		{"already there", 5, "10.0.0.1:7000", ""},
		{"slot out of range", 16384, "10.0.0.2:7000", ""},
		{"negative slot", -1, "10.0.0.2:7000", ""},
		{"empty host", 5, ":7000", ""},
		{"no port", 5, "10.0.0.2", ""},
		{"port out of range", 5, "10.0.0.2:99999", ""},
		{"garbage", 5, "a b:1", ""},
	}
	for _, tc := range tests {
		got := orig.WithMoved(tc.slot, tc.addr)
		if tc.want == "" {
			if got != orig {
				t.Errorf("%s: a new table:\n%s", tc.name, describe(got))
			}
			continue
		}
		if d := describe(got); d != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, d, tc.want)
		}
		checkInvariants(t, got)
		if describe(orig) != before {
			t.Fatalf("%s: the receiver changed", tc.name)
		}
	}

	// A promoted replica is a primary in the new table, under the same address.
	m := orig.WithMoved(16383, "10.0.0.1:7001")
	if n := m.NodeByAddr("10.0.0.1:7001"); n == nil || n.Role != RolePrimary || n.ID != "a2" {
		t.Errorf("promoted node = %+v", n)
	}
	if n := orig.NodeByAddr("10.0.0.1:7001"); n.Role != RoleReplica {
		t.Errorf("original node changed: %+v", n)
	}
	if len(m.Nodes()) != 3 || len(m.Primaries()) != 3 {
		t.Errorf("Nodes %d, Primaries %d", len(m.Nodes()), len(m.Primaries()))
	}

	// A failover: one primary per shard, the old one a replica of the new.
	f := orig.WithMoved(100, "10.0.0.1:7001")
	if len(f.Primaries()) != 2 || len(f.Nodes()) != 3 {
		t.Errorf("after a failover: Primaries %d, Nodes %d", len(f.Primaries()), len(f.Nodes()))
	}
	if n := f.NodeByAddr("10.0.0.1:7000"); n == nil || n.Role != RoleReplica {
		t.Errorf("old primary = %+v", n)
	}
	if n := f.NodeByAddr("10.0.0.1:7001"); n == nil || n.Role != RolePrimary || f.Slot(0).Primary != n {
		t.Errorf("promoted = %+v", n)
	}

	// WithPromoted: the same, learned from the replica itself (ROLE).
	if d, want := describe(orig.WithPromoted("10.0.0.1:7001")), describe(f); d != want {
		t.Errorf("WithPromoted:\n%s\nwant\n%s", d, want)
	}
	if orig.WithPromoted("10.0.0.2:7000") != orig || orig.WithPromoted("10.9.9.9:1") != orig {
		t.Error("WithPromoted of a primary or an unknown node changed the table")
	}

	// Into an uncovered slot, and chained moves: every slot of a shard to another.
	part := mustShards(t, tShard{slots: []int64{0, 9}, nodes: []tNode{nA}}, tShard{nodes: []tNode{nB}})
	m = part.WithMoved(10, "10.0.0.2:7000")
	if m.Covered() != 11 || part.Covered() != 10 {
		t.Errorf("Covered %d then %d", part.Covered(), m.Covered())
	}
	for s := range 10 {
		m = m.WithMoved(s, "10.0.0.2:7000")
	}
	if d := describe(m); d != "10.0.0.1:7000[online] -\n10.0.0.2:7000[online] 0-10\n" {
		t.Errorf("after moving everything:\n%s", d)
	}
	checkInvariants(t, m)
	if !m.Equal(mustShards(t, tShard{slots: []int64{0, 10}, nodes: []tNode{nB}})) {
		t.Error("not Equal to the table of the final state")
	}
}

func TestChoose(t *testing.T) {
	x := mustShards(t, twoShards()...)
	x2 := mustShards(t, twoShards()...)
	x3 := mustShards(t, twoShards()...)
	y := mustShards(t, with(func(s []tShard) { s[1].nodes[0].port = 7002 })...)
	y2 := mustShards(t, with(func(s []tShard) { s[1].nodes[0].port = 7002 })...)
	part := mustShards(t, with(func(s []tShard) { s[1].slots[1] = 9000 })...) // covers fewer slots
	tests := []struct {
		name  string
		views []*Table
		best  *Table
		agree int
	}{
		{"none", nil, nil, 0},
		{"all nil", []*Table{nil, nil}, nil, 0},
		{"one", []*Table{nil, x}, x, 1},
		{"majority", []*Table{y, x, x2, nil, x3, y2}, x, 3},
		{"majority later", []*Table{y, part, x, y2}, y, 2},
		{"tie: more coverage wins", []*Table{part, x}, x, 1},
		{"tie: more coverage wins, reversed", []*Table{x, part}, x, 1},
		{"tie: first wins", []*Table{y, x}, y, 1},
		{"tie of pairs: first wins", []*Table{y, x, x2, y2}, y, 2},
	}
	for _, tc := range tests {
		best, n := Choose(tc.views)
		if best != tc.best || n != tc.agree {
			t.Errorf("%s: got (%p, %d), want (%p, %d)", tc.name, best, n, tc.best, tc.agree)
		}
	}
}

// Parsing is linear: allocations grow in proportion to the shards, and a reply of 16,384
// one-slot shards parses.
func TestParseLinear(t *testing.T) {
	allocs := func(n int) float64 {
		v := shardsReply(true, oneSlotShards(n, 1)...)
		return testing.AllocsPerRun(5, func() {
			if _, err := ParseShards(v, "10.0.0.1:7000", false); err != nil {
				t.Fatal(err)
			}
		})
	}
	a1, a4 := allocs(1000), allocs(4000)
	if a4 > 4.5*a1 {
		t.Errorf("allocations: %v for 1000 shards, %v for 4000", a1, a4)
	}
	t.Logf("allocations: %v for 1000 shards (%.1f per shard), %v for 4000", a1, a1/1000, a4)

	shards := oneSlotShards(16384, 0)
	tab, err := ParseShards(shardsReply(false, shards...), "10.0.0.1:7000", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Shards()) != 16384 || tab.Covered() != 16384 {
		t.Fatalf("%d shards, %d covered", len(tab.Shards()), tab.Covered())
	}
	checkInvariants(t, tab)
	tab2, err := ParseSlots(slotsReply(true, shards...), "10.0.0.1:7000", false)
	if err != nil {
		t.Fatal(err)
	}
	if !tab.Equal(tab2) {
		t.Fatal("CLUSTER SLOTS table differs")
	}
}

func TestTooManyShards(t *testing.T) {
	shards := make([]tShard, maxShards+1)
	for i := range shards {
		shards[i] = tShard{nodes: []tNode{{id: "x", endpoint: "h", port: int64(i%65535 + 1)}}}
	}
	_, err := ParseShards(shardsReply(true, shards...), "h:1", false)
	if err == nil || err.Error() != "topology: 65536 shards, more than 65535" {
		t.Fatalf("err = %v", err)
	}
}

// TestWithReplicaOf: a slotless primary that says it replicates another shard's primary
// joins that shard as a replica; the shards after it keep their slots; anything else
// leaves the table as it is.
func TestWithReplicaOf(t *testing.T) {
	nC := tNode{id: "c", endpoint: "10.0.0.3", port: 7000}
	tab := mustShards(t,
		tShard{slots: []int64{0, 8191}, nodes: []tNode{nA, nA2}},
		tShard{nodes: []tNode{nB}}, // the demoted master, listed as a master of no slot
		tShard{slots: []int64{8192, 16383}, nodes: []tNode{nC}},
	)
	got := tab.WithReplicaOf("10.0.0.2:7000", "10.0.0.1:7000")
	if got == tab {
		t.Fatal("nothing changed")
	}
	checkInvariants(t, got)
	if n := len(got.Shards()); n != 2 {
		t.Fatalf("%d shards, want 2", n)
	}
	s := got.Slot(0)
	if s.Primary.Addr != "10.0.0.1:7000" || len(s.Replicas) != 2 || s.Replicas[1].Addr != "10.0.0.2:7000" || s.Replicas[1].Role != RoleReplica {
		t.Fatalf("shard of slot 0: %+v", s)
	}
	if s := got.Slot(16383); s == nil || s.Primary.Addr != "10.0.0.3:7000" {
		t.Fatalf("slot 16383 served by %+v, want 10.0.0.3:7000", s)
	}
	if got.Covered() != 16384 || got.NodeByAddr("10.0.0.2:7000").Role != RoleReplica {
		t.Fatalf("covered %d, node %+v", got.Covered(), got.NodeByAddr("10.0.0.2:7000"))
	}
	if tab.NodeByAddr("10.0.0.2:7000").Role != RolePrimary || len(tab.Shards()) != 3 {
		t.Fatal("the original table changed")
	}
	for _, tc := range [][2]string{
		{"10.0.0.1:7000", "10.0.0.3:7000"}, // a primary serving slots stays one
		{"10.0.0.2:7000", "10.0.0.9:7000"}, // no such primary
		{"10.0.0.1:7001", "10.0.0.1:7000"}, // already a replica
		{"10.0.0.2:7000", "10.0.0.2:7000"}, // itself
	} {
		if tab.WithReplicaOf(tc[0], tc[1]) != tab {
			t.Errorf("WithReplicaOf(%s, %s) changed the table", tc[0], tc[1])
		}
	}
}
