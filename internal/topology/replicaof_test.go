package topology

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestWithReplicaOfRandom: WithReplicaOf on random tables (slotless shards, replicas
// sharing addresses with primaries or with each other) keeps every invariant, routes every
// slot to the same primary, leaves the original alone, and lists the placed node once, as
// a replica of the primary it named, with no replica at its own shard's primary address.
func TestWithReplicaOfRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]tNode, 0, 6)
	for i := range 6 {
		pool = append(pool, tNode{id: fmt.Sprint("n", i), endpoint: fmt.Sprintf("10.0.0.%d", 1+i/2), port: int64(7000 + i%2)})
	}
	addr := func(n tNode) string { return fmt.Sprintf("%s:%d", n.endpoint, n.port) }
	built, changed := 0, 0
	for range 300 {
		nShards := 1 + rng.IntN(4)
		perm := rng.Perm(len(pool))
		var shards []tShard
		next := 0 // slot ranges in order
		for i := range nShards {
			s := tShard{nodes: []tNode{pool[perm[i]]}}
			if rng.IntN(3) != 0 && next < 16384 {
				end := min(16383, next+rng.IntN(6000))
				s.slots = []int64{int64(next), int64(end)}
				next = end + 1
			}
			for range rng.IntN(3) {
				r := pool[rng.IntN(len(pool))]
				r.replica = true
				r.id += "r"
				s.nodes = append(s.nodes, r)
			}
			shards = append(shards, s)
		}
		tab, err := ParseShards(shardsReply(rng.IntN(2) == 0, shards...), "10.0.0.1:7000", false)
		if err != nil {
			continue
		}
		built++
		checkInvariants(t, tab)
		before := describe(tab)
		for _, a := range pool {
			for _, p := range pool {
				got := tab.WithReplicaOf(addr(a), addr(p))
				if got != tab {
					checkInvariants(t, got)
				}
				if describe(tab) != before {
					t.Fatalf("the original changed:\n%s\nnow\n%s", before, describe(tab))
				}
				if got.Covered() != tab.Covered() {
					t.Fatalf("covered %d, was %d", got.Covered(), tab.Covered())
				}
				for _, x := range tab.Shards() { // with checkInvariants: every slot where it was
					for _, r := range x.Ranges {
						for _, slot := range r {
							if y := got.Slot(slot); y == nil || y.Primary.Addr != x.Primary.Addr {
								t.Fatalf("slot %d moved:\n%s\n->\n%s", slot, before, describe(got))
							}
						}
					}
				}
				for _, s := range got.Shards() {
					seen := map[string]bool{s.Primary.Addr: true}
					for _, r := range s.Replicas {
						if seen[r.Addr] && !dupIn(tab, s.Primary.Addr, r.Addr) {
							t.Fatalf("WithReplicaOf(%s, %s): %s listed twice in the shard of %s:\n%s\n->\n%s",
								addr(a), addr(p), r.Addr, s.Primary.Addr, before, describe(got))
						}
						seen[r.Addr] = true
					}
				}
				if n := got.NodeByAddr(addr(a)); n != nil {
					if w := got.WithReplica(n, addr(p)); w != got {
						t.Fatalf("WithReplica(%s, %s) changed a table listing it", addr(a), addr(p))
					}
				} else if w := got.WithReplica(&Node{Addr: addr(a)}, addr(p)); w != got {
					checkInvariants(t, w)
					if n := w.NodeByAddr(addr(a)); n == nil || n.Role != RoleReplica || w.Covered() != got.Covered() ||
						len(w.Shards()) != len(got.Shards()) || !slices.Equal(w.slots[:], got.slots[:]) {
						t.Fatalf("WithReplica(%s, %s):\n%s\n->\n%s", addr(a), addr(p), describe(got), describe(w))
					}
				}
				if got == tab {
					continue
				}
				changed++
				if n := got.NodeByAddr(addr(a)); n == nil || n.Role != RoleReplica {
					t.Fatalf("WithReplicaOf(%s, %s): node %+v:\n%s\n->\n%s", addr(a), addr(p), n, before, describe(got))
				}
			}
		}
	}
	if built < 50 || changed < 100 {
		t.Fatalf("only %d tables built, %d changed", built, changed)
	}
	t.Logf("%d tables, %d placements", built, changed)
}

// dupIn reports whether tab already lists r twice (or as its primary) in the shard of primary.
func dupIn(tab *Table, primary, r string) bool {
	for _, s := range tab.Shards() {
		if s.Primary.Addr != primary {
			continue
		}
		n := 0
		for _, x := range s.Replicas {
			if x.Addr == r {
				n++
			}
		}
		return n > 1 || primary == r
	}
	return false
}

// TestWithReplica: a node the table does not list joins the shard of the primary it
// names as a replica, nothing else changes; a node it lists, or an unknown primary,
// leaves the table as it is.
func TestWithReplica(t *testing.T) {
	nC := tNode{id: "c", endpoint: "10.0.0.3", port: 7000}
	tab := mustShards(t,
		tShard{slots: []int64{0, 8191}, nodes: []tNode{nA, nA2}},
		tShard{slots: []int64{8192, 16383}, nodes: []tNode{nC}},
	)
	x := &Node{ID: "x", Addr: "10.0.0.2:7000", Role: RolePrimary}
	got := tab.WithReplica(x, "10.0.0.3:7000")
	checkInvariants(t, got)
	want := "10.0.0.1:7000[online] 0-8191 <- 10.0.0.1:7001[online]\n10.0.0.3:7000[online] 8192-16383 <- 10.0.0.2:7000\n"
	if d := describe(got); d != want {
		t.Fatalf("got\n%s\nwant\n%s", d, want)
	}
	if n := got.NodeByAddr(x.Addr); n == nil || n.Role != RoleReplica || x.Role != RolePrimary || tab.NodeByAddr(x.Addr) != nil {
		t.Fatalf("placed %+v, given %+v", n, x)
	}
	if !got.Equal(got) || got.Equal(tab) {
		t.Fatal("Equal")
	}
	for _, tc := range []struct {
		n       *Node
		primary string
	}{
		{&Node{Addr: "10.0.0.1:7001"}, "10.0.0.3:7000"}, // listed already
		{&Node{Addr: "10.0.0.3:7000"}, "10.0.0.1:7000"}, // a primary
		{x, "10.0.0.1:7001"},                            // a replica, not a primary
		{x, "10.0.0.9:7000"},                            // nobody
	} {
		if tab.WithReplica(tc.n, tc.primary) != tab {
			t.Errorf("WithReplica(%s, %s) changed the table", tc.n.Addr, tc.primary)
		}
	}
}
