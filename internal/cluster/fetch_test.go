package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// topoHandler answers CLUSTER SHARDS and CLUSTER SLOTS as given (a zero value: the
// server does not know the subcommand).
func topoHandler(shards, slots resp.Value) handler {
	return func(_ *Waiter, args []string, _ bool) (resp.Value, error) {
		if len(args) == 2 && strings.EqualFold(args[0], "CLUSTER") {
			v := shards
			if strings.EqualFold(args[1], "SLOTS") {
				v = slots
			}
			if v.Type == 0 {
				return errV("ERR unknown subcommand '" + args[1] + "'. Try CLUSTER HELP."), nil
			}
			return v, nil
		}
		return okValue(), nil
	}
}

// TestFetchTopology: CLUSTER SHARDS, else CLUSTER SLOTS on a server that does not know
// SHARDS (Redis < 7); and CLUSTER SLOTS again when SHARDS lists a live primary serving
// no slot that SLOTS shows as a replica (Redis 7.0 after a failover).
func TestFetchTopology(t *testing.T) {
	demoted := append(threeShards[:2:2], shardSpec{10923, 16383, r3, []string{p3}, nil})
	shardsView := append(append([]shardSpec(nil), demoted...), shardSpec{-1, -1, p3, nil, nil})
	newOne := append(append([]shardSpec(nil), threeShards...), shardSpec{-1, -1, "127.0.0.1:7004", nil, nil})
	cases := []struct {
		name   string
		h      handler
		sent   []string
		owner3 string // slot s3's primary in the answer
		nodes  int
	}{
		{"SHARDS", topoHandler(shardsValue(threeShards), slotsValue(threeShards)),
			[]string{p1 + ": CLUSTER SHARDS"}, p3, 6},
		{"SLOTS when SHARDS is unknown", topoHandler(resp.Value{}, slotsValue(threeShards)),
			[]string{p1 + ": CLUSTER SHARDS", p1 + ": CLUSTER SLOTS"}, p3, 6},
		{"SLOTS when SHARDS shows a demoted master as an empty shard", topoHandler(shardsValue(shardsView), slotsValue(demoted)),
			[]string{p1 + ": CLUSTER SHARDS", p1 + ": CLUSTER SLOTS"}, r3, 6},
		{"SHARDS kept for a new empty primary", topoHandler(shardsValue(newOne), slotsValue(threeShards)),
			[]string{p1 + ": CLUSTER SHARDS", p1 + ": CLUSTER SLOTS"}, p3, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeCluster(t)
			c := newEngine(t, testConfig(fc), threeShards)
			fc.handle(p1, tc.h)
			tb, err := c.fetchTopology(context.Background(), c.NodeAt(p1))
			if err != nil {
				t.Fatal(err)
			}
			fc.wantSent(tc.sent...)
			if got := tb.Slot(s3).Primary.Addr; got != tc.owner3 {
				t.Fatalf("slot %d on %s; want %s", s3, got, tc.owner3)
			}
			if len(tb.Nodes()) != tc.nodes {
				t.Fatalf("%d nodes; want %d", len(tb.Nodes()), tc.nodes)
			}
		})
	}
}

// TestReplicaRoleCheck: with reads on replicas, a connected replica that answers ROLE
// as a primary is made its shard's primary at once (cause "role") and a refresh is
// asked for; replicas not connected are not asked.
func TestReplicaRoleCheck(t *testing.T) {
	fc := newFakeCluster(t)
	cfg := testConfig(fc)
	cfg.ReadFrom = ReadPreferReplica
	c, ev := newWatched(t, fc, cfg, threeShards)
	c.triggered()
	role := func(r string) handler {
		return always(arrV(bulkV(r), intV(0), arrV()))
	}
	fc.handle(r1, role("slave"))
	fc.handle(r2, role("master"))
	fc.node(r1).setState(StateUp)
	fc.node(r2).setState(StateUp)
	fc.node(r3).setState(StateIdle) // never used: nothing to ask
	c.checkReplicaRoles(0)
	fc.wantSent(r1+": ROLE", r2+": ROLE")
	if got := c.Topology().Slot(s2).Primary.Addr; got != r2 {
		t.Fatalf("slot %d on %s; want %s, promoted", s2, got, r2)
	}
	if got := ev.all(); len(got) != 1 || got[0].Cause != CauseRole || got[0].Source != r2 {
		t.Fatalf("events %+v; want one of cause role from %s", got, r2)
	}
	if !c.triggered() {
		t.Fatal("no refresh asked")
	}
	// Reads of that slot now go to the promoted node's replica (the old primary).
	fc.handle(p2, always(vV))
	r, _ := do(t, c, ctxFor(t, time.Second), "GET", k2)
	value("v")(t, r)
	if got := fc.sentTo(p2); len(got) != 1 {
		t.Fatalf("%s got %q; want the read (now a replica)", p2, got)
	}
}
