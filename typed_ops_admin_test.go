package redline

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
	"github.com/redline-go/redline/resp"
)

// Tests of the cluster-shaping and node-state methods (typed_ops_admin.go): their
// arguments and decoders, and real round trips on a cluster of their own — the changes
// that are safe to make and undo (a slot migrating then stable, a slot deleted and
// added back, a BLPOP unblocked), and the server's refusals of the others.

func TestOpsAdminArgs(t *testing.T) {
	c := &Client{} // the checks fail before anything is sent
	ctx := t.Context()
	for name, err := range map[string]error{
		"SetSlot 16384":     c.ClusterSetSlotOn(ctx, EveryNode, 16384, SlotStable, ""),
		"SetSlot no id":     c.ClusterSetSlotOn(ctx, EveryNode, 1, SlotMigrating, ""),
		"SetSlot bad state": c.ClusterSetSlotOn(ctx, EveryNode, 1, "MOVING", "x"),
		"AddSlots none":     c.ClusterAddSlotsOn(ctx, EveryNode),
		"DelSlots -1":       c.ClusterDelSlotsOn(ctx, EveryNode, 1, -1),
		"AddSlotsRange bad": c.ClusterAddSlotsRangeOn(ctx, EveryNode, SlotRange{5, 3}),
		"DelSlotsRange big": c.ClusterDelSlotsRangeOn(ctx, EveryNode, SlotRange{0, 16384}),
		"DelSlotsRange nil": c.ClusterDelSlotsRangeOn(ctx, EveryNode),
		"Failover mode":     c.ClusterFailoverOn(ctx, EveryNode, "SOON"),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	args, err := rangeArgs([]string{"CLUSTER", "ADDSLOTSRANGE"}, []SlotRange{{0, 10}, {20, 20}})
	if err != nil || fmt.Sprint(args) != "[CLUSTER ADDSLOTSRANGE 0 10 20 20]" {
		t.Errorf("rangeArgs = %v %v", args, err)
	}
}

func TestDecodeLatencyHistogram(t *testing.T) {
	h3 := vMap(vBulk("set"), vMap(vBulk("calls"), vInt(3), vBulk("histogram_usec"), vMap(vInt(1), vInt(2), vInt(16), vInt(1))))
	h2 := vArr(vBulk("set"), vArr(vBulk("calls"), vInt(3), vBulk("histogram_usec"), vArr(vInt(1), vInt(2), vInt(16), vInt(1))))
	for _, v := range []resp.Value{h3, h2} {
		hs, err := decodeLatencyHistogram(res(v))
		if err != nil || hs["set"].Calls != 3 || hs["set"].Buckets[time.Microsecond] != 2 || hs["set"].Buckets[16*time.Microsecond] != 1 {
			t.Fatalf("decodeLatencyHistogram = %+v %v", hs, err)
		}
	}
	for _, bad := range []resp.Value{vInt(1), vMap(vBulk("set")), vMap(vBulk("set"), vInt(1)), vMap(vBulk("set"), vMap(vBulk("histogram_usec"), vMap(vBulk("x"), vInt(1)))),
		vMap(vBulk("set"), vMap(vBulk("histogram_usec"), vMap(vInt(-1), vInt(1)))), vMap(vBulk("set"), vMap(vBulk("histogram_usec"), vMap(vInt(1), vBulk("many"))))} {
		if _, err := decodeLatencyHistogram(res(bad)); err == nil {
			t.Errorf("decodeLatencyHistogram(%v) succeeded", bad)
		}
	}
}

func TestDecodeLatencyHistoryAndKeyFlags(t *testing.T) {
	h, err := decodeLatencyHistory(res(vArr(vArr(vInt(1700000000), vInt(12)), vArr(vInt(1700000005), vInt(0)))))
	if err != nil || len(h) != 2 || h[0].Time.Unix() != 1700000000 || h[0].Latency != 12*time.Millisecond || h[1].Latency != 0 {
		t.Fatalf("decodeLatencyHistory = %v %v", h, err)
	}
	kf, err := decodeKeyFlags(res(vArr(vArr(vBulk("a"), vSet(vSimple("OW"), vSimple("update"))), vArr(vBulk("b"), vArr()))))
	if err != nil || len(kf) != 2 || kf[0].Key != "a" || fmt.Sprint(kf[0].Flags) != "[OW update]" || kf[1].Flags == nil {
		t.Fatalf("decodeKeyFlags = %v %v", kf, err)
	}
	for _, bad := range []resp.Value{vInt(1), vArr(vInt(1)), vArr(vArr(vInt(1))), vArr(vArr(vBulk("x"), vInt(1))), vArr(vArr(vInt(1), vInt(-5))), vArr(vArr(vInt(1), vInt(1), vInt(1)))} {
		_, err1 := decodeLatencyHistory(res(bad))
		_, err2 := decodeKeyFlags(res(bad))
		if err1 == nil || err2 == nil {
			t.Errorf("%v: decodeLatencyHistory %v, decodeKeyFlags %v", bad, err1, err2)
		}
	}
}

// TestTypedOpsAdmin: CLUSTER SETSLOT, ADDSLOTS/DELSLOTS(RANGE), SAVECONFIG, BUMPEPOCH,
// the refusals of MEET, FORGET, REPLICATE, FAILOVER, SET-CONFIG-EPOCH, MODULE
// LOAD/UNLOAD, FLUSHSLOTS and RESET, CLIENT UNBLOCK of a BLPOP, LATENCY HISTORY/GRAPH/
// HISTOGRAM of a script's spike, on a cluster of its own.
func TestTypedOpsAdmin(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 3, NoProxy: true})
	c := newTestClient(t, cl, Options{CommandTimeout: 5 * time.Second})
	ctx := t.Context()
	ids, err := c.ClusterMyIDOn(ctx, EveryPrimary)
	check(t, err)
	owner := func(slot int) string {
		n, err := c.e.Pick(slot, false)
		check(t, err)
		return n.Addr()
	}
	src, dst := owner(100), owner(16000)

	// A slot marked migrating on its owner, importing on another, then stable again.
	check(t, c.ClusterSetSlotOn(ctx, Addrs(src), 100, SlotMigrating, ids[dst]))
	check(t, c.ClusterSetSlotOn(ctx, Addrs(dst), 100, SlotImporting, ids[src]))
	views, err := c.ClusterNodesOn(ctx, Addrs(src, dst))
	check(t, err)
	myself := func(addr string) ClusterNodeInfo {
		i := slices.IndexFunc(views[addr], func(n ClusterNodeInfo) bool { return n.HasFlag("myself") })
		if i < 0 {
			t.Fatalf("ClusterNodesOn %s: no myself line", addr)
		}
		return views[addr][i]
	}
	if m, i := myself(src), myself(dst); m.Migrating[100] != ids[dst] || i.Importing[100] != ids[src] {
		t.Fatalf("after SETSLOT: migrating %v on %s, importing %v on %s", m.Migrating, src, i.Importing, dst)
	}
	check(t, c.ClusterSetSlotOn(ctx, Addrs(src, dst), 100, SlotStable, ""))
	check(t, c.ClusterSetSlotOn(ctx, Addrs(src), 100, SlotNode, ids[src]))
	views, err = c.ClusterNodesOn(ctx, Addrs(src, dst))
	check(t, err)
	if m, i := myself(src), myself(dst); m.Migrating != nil || i.Importing != nil {
		t.Fatalf("after SETSLOT STABLE: migrating %v, importing %v", m.Migrating, i.Importing)
	}

	// A slot deleted on its owner and added back; with ranges on Redis 7.0+.
	check(t, c.ClusterDelSlotsOn(ctx, Addrs(src), 101))
	check(t, c.ClusterAddSlotsOn(ctx, Addrs(src), 101))
	if cl.Server().AtLeast(7, 0) {
		check(t, c.ClusterDelSlotsRangeOn(ctx, Addrs(src), SlotRange{102, 103}))
		check(t, c.ClusterAddSlotsRangeOn(ctx, Addrs(src), SlotRange{102, 103}))
	}
	views, err = c.ClusterNodesOn(ctx, Addrs(src))
	check(t, err)
	if s := myself(src).Slots; !slices.ContainsFunc(s, func(r SlotRange) bool { return r.Start <= 100 && r.End >= 103 }) {
		t.Fatalf("slots of %s after DELSLOTS and ADDSLOTS: %v", src, s)
	}
	check(t, c.ClusterSaveConfigOn(ctx, EveryPrimary))
	bumped, err := c.ClusterBumpEpochOn(ctx, Addrs(src))
	if err != nil || !strings.HasPrefix(bumped[src], "BUMPED ") && !strings.HasPrefix(bumped[src], "STILL ") {
		t.Fatalf("ClusterBumpEpochOn = %v %v", bumped, err)
	}

	// What the server refuses, with its reason, per node. src holds a key: it may not
	// flush its slots nor reset.
	for i := 0; ; i++ {
		if i == 10000 {
			t.Fatalf("no key of %s among 10000", src)
		}
		if k := fmt.Sprint("ops:k", i); owner(hashslot.Key(k)) == src {
			check(t, c.Set(ctx, k, "v", nil))
			break
		}
	}
	refused := map[string]error{
		"FlushSlots, keys":    c.ClusterFlushSlotsOn(ctx, Addrs(src)),
		"Reset, keys":         c.ClusterResetOn(ctx, Addrs(src), false),
		"Meet port 0":         c.ClusterMeetOn(ctx, Addrs(src), "127.0.0.1", 0),
		"Forget unknown":      c.ClusterForgetOn(ctx, Addrs(src), strings.Repeat("f", 40)),
		"Replicate itself":    c.ClusterReplicateOn(ctx, Addrs(src), ids[src]),
		"Failover a primary":  c.ClusterFailoverOn(ctx, Addrs(src), FailoverForce),
		"SetConfigEpoch":      c.ClusterSetConfigEpochOn(ctx, Addrs(src), 99),
		"ModuleLoad no file":  c.ModuleLoadOn(ctx, Addrs(src), "/nonexistent/module.so", "x"),
		"ModuleUnload no mod": c.ModuleUnloadOn(ctx, Addrs(src), "nosuchmodule"),
	}
	if cl.Server().AtLeast(7, 0) {
		refused["ModuleLoadEx no file"] = c.ModuleLoadExOn(ctx, Addrs(src), "/nonexistent/module.so", map[string]string{"a": "1"}, "x")
	}
	for name, err := range refused {
		if e := NodeErrors(err)[src]; e == nil || !strings.Contains(e.Error(), "ERR") {
			t.Errorf("%s: %v, want the server's error from %s", name, err, src)
		}
	}

	// CLIENT UNBLOCK of a BLPOP: it fails with UNBLOCKED.
	key := "ops:queue"
	at := owner(hashslot.Key(key))
	done := make(chan error, 1)
	go func() {
		_, _, err := c.BLPop(ctx, 10*time.Second, key)
		done <- err
	}()
	var blocked int64
	redistest.Eventually(t, 5*time.Second, func() bool {
		cs, err := c.ClientListOn(ctx, Addrs(at))
		for _, ci := range cs[at] {
			if err == nil && ci.Cmd == "blpop" {
				blocked = ci.ID
			}
		}
		return blocked != 0
	}, "no connection of %s runs BLPOP", at)
	unblocked, err := c.ClientUnblockOn(ctx, Addrs(at), blocked, true)
	if err != nil || !unblocked[at] {
		t.Fatalf("ClientUnblockOn = %v %v", unblocked, err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "UNBLOCKED") {
			t.Fatalf("BLPop after CLIENT UNBLOCK ERROR: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("BLPop did not return after CLIENT UNBLOCK")
	}
	unblocked, err = c.ClientUnblockOn(ctx, Addrs(at), blocked, false)
	if err != nil || unblocked[at] {
		t.Fatalf("ClientUnblockOn of no blocked connection = %v %v", unblocked, err)
	}

	// A latency spike: a script that counts to 3 million on src (some 10 to 100 ms), over
	// a 1 ms threshold. (Not a loop until TIME has moved on: Valkey 8 freezes TIME
	// within a script, which would spin for ever.)
	check(t, c.ConfigSetOn(ctx, Addrs(src), map[string]string{"latency-monitor-threshold": "1"}))
	spin := "local n = 0 for i = 1, 3000000 do n = n + i end return 1"
	check(t, c.DoOn(ctx, src, "EVAL", spin, 0).Err())
	hist, err := c.LatencyHistoryOn(ctx, EveryPrimary, "command")
	if err != nil || len(hist) != 3 || len(hist[src]) == 0 || hist[src][0].Latency < time.Millisecond || time.Since(hist[src][0].Time) > time.Minute {
		t.Fatalf("LatencyHistoryOn = %v %v", hist, err)
	}
	graph, err := c.LatencyGraphOn(ctx, Addrs(src), "command")
	if err != nil || !strings.Contains(graph[src], "command") {
		t.Fatalf("LatencyGraphOn = %q %v", graph[src], err)
	}
	if cl.Server().AtLeast(7, 0) {
		hs, err := c.LatencyHistogramOn(ctx, Addrs(src), "eval", "set")
		check(t, err)
		if h := hs[src]["eval"]; h.Calls < 1 || len(h.Buckets) == 0 || hs[src]["set"].Calls < 1 {
			t.Fatalf("LatencyHistogramOn = %+v", hs)
		}
	}
}
