package redistest

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/resp"
)

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestTopologyAsConfigured(t *testing.T) {
	c := plainCluster(t)
	ctx := testCtx(t, 10*time.Second)
	topo, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Nodes) != 6 {
		t.Fatalf("%d nodes, want 6", len(topo.Nodes))
	}
	masters := topo.Masters()
	if len(masters) != 3 {
		t.Fatalf("%d masters, want 3", len(masters))
	}
	total := 0
	for _, m := range masters {
		if n := m.SlotCount(); n < 5461 || n > 5462 {
			t.Errorf("master %s owns %d slots", m.Addr, n)
		}
		total += m.SlotCount()
		if m.Node == nil || m.Addr != m.Node.Addr() || m.Node.Addr() == m.Node.ServerAddr() {
			t.Errorf("master %s: want the proxy's address announced", m.Addr)
		}
		if r := topo.ReplicasOf(m.ID); len(r) != 1 {
			t.Errorf("master %s has %d replicas, want 1", m.Addr, len(r))
		}
	}
	if total != hashslot.Count {
		t.Errorf("masters own %d slots in all, want %d", total, hashslot.Count)
	}
	for _, n := range c.Nodes() {
		role, err := n.Role(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := "master"
		if n.Index() >= 3 {
			want = "slave"
		}
		if role != want {
			t.Errorf("%v: role %s, want %s", n, role, want)
		}
	}
	// CLUSTER SLOTS, what clients read, names the proxies too.
	v, err := c.Node(0).Do(ctx, "CLUSTER", "SLOTS")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range v.Elems {
		addr := fmt.Sprintf("%s:%d", r.Elems[2].Elems[0].Str, r.Elems[2].Elems[1].Int)
		if n := c.NodeByAddr(addr); n == nil || n.Addr() != addr {
			t.Errorf("CLUSTER SLOTS names %s, not a proxy address", addr)
		}
	}
}

func TestTLSCluster(t *testing.T) {
	c := tlsCluster(t)
	ctx := testCtx(t, 10*time.Second)
	topo, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m := topo.Masters(); len(m) != 4 {
		t.Fatalf("%d masters, want 4", len(m))
	}
	for _, n := range c.Nodes() {
		if err := pingNew(n.Addr(), c.TLSConfig(), 2*time.Second); err != nil {
			t.Errorf("%v: TLS PING through the proxy: %v", n, err)
		}
	}
	// Plain RESP to a TLS-only node gets no PONG.
	if err := pingNew(c.Node(0).Addr(), nil, 500*time.Millisecond); err == nil {
		t.Error("plain-text PING to a TLS node succeeded")
	}
	v, err := c.Node(0).Do(ctx, "CLUSTER", "SLOTS")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range v.Elems {
		addr := fmt.Sprintf("%s:%d", r.Elems[2].Elems[0].Str, r.Elems[2].Elems[1].Int)
		if n := c.NodeByAddr(addr); n == nil || n.Addr() != addr {
			t.Errorf("CLUSTER SLOTS names %s, not a proxy address", addr)
		}
	}
}

func TestKillRestart(t *testing.T) {
	c := plainCluster(t)
	ctx := testCtx(t, 30*time.Second)
	n := c.Node(5)
	pid, id := n.PID(), n.ID()
	if err := n.Kill(); err != nil {
		t.Fatal(err)
	}
	if n.Running() || n.PID() != 0 {
		t.Fatal("node still running after Kill")
	}
	if syscall.Kill(pid, 0) == nil {
		t.Fatalf("process %d alive after Kill", pid)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err := n.Do(short, "PING")
	cancel()
	if err == nil {
		t.Fatal("PING to a killed node succeeded")
	}
	if err := n.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if n.ID() != id || n.PID() == 0 || n.PID() == pid {
		t.Fatalf("after restart: id %s (was %s), pid %d (was %d)", n.ID(), id, n.PID(), pid)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPauseResume(t *testing.T) {
	c := plainCluster(t)
	ctx := testCtx(t, 30*time.Second)
	n := c.Node(4)
	if err := n.Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Resume() }) // whatever happens, leave the shared cluster running
	if !n.Paused() {
		t.Error("Paused() false after Pause")
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err := n.Do(short, "PING")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PING to a paused node: %v, want deadline exceeded", err)
	}
	if err := n.Resume(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Do(ctx, "PING"); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestManualFailover(t *testing.T) {
	c := plainCluster(t)
	ctx := testCtx(t, 60*time.Second)
	master, replica := c.Node(0), c.Node(3)
	if err := c.Failover(ctx, replica, FailoverDefault); err != nil {
		t.Fatal(err)
	}
	topo, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e := topo.ByID(master.ID()); e == nil || e.Role != "replica" || e.MasterID != replica.ID() {
		t.Fatalf("old master after failover: %+v", e)
	}
	// And back, so the shared cluster is as configured again.
	if err := c.Failover(ctx, master, FailoverDefault); err != nil {
		t.Fatal(err)
	}
}

func TestKillMasterFailsOver(t *testing.T) {
	c := plainCluster(t)
	ctx := testCtx(t, 90*time.Second)
	master, replica := c.Node(1), c.Node(4)
	start := time.Now()
	if err := master.Kill(); err != nil {
		t.Fatal(err)
	}
	// The replica is promoted after cluster-node-timeout; WaitHealthy accepts the dead
	// master because it no longer owns slots once the replica took over.
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	topo, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lo, _ := slotRange(1, 3)
	if o := topo.Owner(lo); o == nil || o.ID != replica.ID() {
		t.Fatalf("slot %d owner after killing its master: %+v, want %v", lo, o, replica)
	}
	t.Logf("replica promoted %v after the kill (node timeout %v)", time.Since(start).Round(time.Millisecond), c.NodeTimeout())
	// The old master comes back as a replica; then fail back.
	if err := master.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Failover(ctx, master, FailoverDefault); err != nil {
		t.Fatal(err)
	}
}

func TestSlotMigration(t *testing.T) {
	c := plainCluster(t)
	ctx := testCtx(t, 60*time.Second)
	const tag = "{mig}"
	slot := hashslot.Key(tag)
	topo, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := topo.Owner(slot).Node
	dst := topo.OtherMaster(src)
	const keys = 50
	for i := range keys {
		if _, err := src.Do(ctx, "SET", fmt.Sprintf("%s:%d", tag, i), i); err != nil {
			t.Fatal(err)
		}
	}
	m, err := c.BeginMigration(ctx, slot, dst)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := m.MoveKeys(ctx, 10)
	if err != nil || moved != 10 {
		t.Fatalf("MoveKeys: %d, %v", moved, err)
	}
	// A moved key: the source answers ASK; the target serves it after ASKING.
	keysLeft, err := src.Do(ctx, "CLUSTER", "COUNTKEYSINSLOT", slot)
	if err != nil || keysLeft.Int != keys-10 {
		t.Fatalf("keys left on source: %v %v", keysLeft, err)
	}
	var movedKey string
	for i := range keys {
		k := fmt.Sprintf("%s:%d", tag, i)
		if _, err := src.Do(ctx, "GET", k); err != nil {
			var re *resp.Error
			if !errors.As(err, &re) || !re.IsAsk() || re.Slot != slot || re.Addr != dst.Addr() {
				t.Fatalf("GET %s on source mid-migration: %v, want ASK %d %s", k, err, slot, dst.Addr())
			}
			movedKey = k
			break
		}
	}
	if movedKey == "" {
		t.Fatal("no key answered ASK")
	}
	if err := m.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		v, err := dst.Do(ctx, "GET", fmt.Sprintf("%s:%d", tag, i))
		if err != nil || string(v.Str) != fmt.Sprint(i) {
			t.Fatalf("key %d on target after migration: %v %v", i, v, err)
		}
	}
	if _, err := src.Do(ctx, "GET", movedKey); err == nil {
		t.Fatal("source still serves a migrated slot")
	} else if re := (*resp.Error)(nil); !errors.As(err, &re) || !re.IsMoved() {
		t.Fatalf("source after migration: %v, want MOVED", err)
	}
	// Move it back and clean up.
	if err := c.MigrateSlot(ctx, slot, src); err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		if _, err := src.Do(ctx, "DEL", fmt.Sprintf("%s:%d", tag, i)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{Masters: -1},
		{ReplicasPerMaster: 9},
		{NodeTimeout: time.Millisecond},
		{ClientAuth: true},
	} {
		if _, err := Start(context.Background(), cfg); err == nil {
			t.Errorf("Start(%+v) accepted", cfg)
		}
	}
	_, err := Start(context.Background(), Config{RedisServer: "/nonexistent/redis-server"})
	if err == nil {
		t.Error("Start with a missing binary succeeded")
	}
}
