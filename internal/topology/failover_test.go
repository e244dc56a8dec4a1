package topology

import (
	"strings"
	"testing"
)

// TestParseShardsFailedPrimary: after a failover, Valkey 8 (and Redis 7.2+) list the
// failed old primary of a shard beside the promoted one (both with role "master") until
// the old one returns as a replica. The shard is served by the one not failed; the
// failed one is left out and reported. Two live primaries, or two failed ones, remain
// an error. (Captured on Valkey 8.0.1 after killing a master: the whole reply used to
// be rejected, so a client could neither start nor follow the failover.)
func TestParseShardsFailedPrimary(t *testing.T) {
	old := tNode{id: "old", endpoint: "10.0.0.1", port: 7000, health: "fail"}
	promoted := tNode{id: "new", endpoint: "10.0.0.2", port: 7000}
	other := tNode{id: "o", endpoint: "10.0.0.3", port: 7000}
	for _, order := range [][]tNode{{old, promoted}, {promoted, old}} {
		for _, resp3 := range []bool{false, true} {
			v := shardsReply(resp3, tShard{slots: []int64{0, 8191}, nodes: order}, tShard{slots: []int64{8192, 16383}, nodes: []tNode{other}})
			tb, err := ParseShards(v, "10.0.0.3:7000", false)
			if err != nil {
				t.Fatalf("order %s, RESP3 %v: %v", order[0].id, resp3, err)
			}
			if got := tb.Slot(0).Primary.Addr; got != "10.0.0.2:7000" {
				t.Fatalf("slot 0 served by %s, want the promoted 10.0.0.2:7000", got)
			}
			if tb.NodeByAddr("10.0.0.1:7000") != nil {
				t.Fatal("the failed old primary is still in the table")
			}
			if sk := tb.Skipped(); len(sk) != 1 || !strings.Contains(sk[0].Error(), "10.0.0.1:7000 left out: failed") {
				t.Fatalf("skipped = %v", sk)
			}
		}
	}
	bothFailed := promoted
	bothFailed.health = "fail"
	for _, nodes := range [][]tNode{{promoted, other}, {old, bothFailed}} {
		v := shardsReply(true, tShard{slots: []int64{0, 16383}, nodes: nodes})
		if _, err := ParseShards(v, "10.0.0.3:7000", false); err == nil || !strings.Contains(err.Error(), "two primaries") {
			t.Fatalf("%s and %s: err = %v, want two primaries", nodes[0].id, nodes[1].id, err)
		}
	}
}
