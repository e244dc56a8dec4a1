package redline

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestReplicaReadsFollowFailover: with ReadFrom replica-only, after a coordinated
// CLUSTER FAILOVER of a shard, its reads land on a replica again (the demoted master)
// within 1s — not on the new primary until the periodic refresh (30s by default), as
// when nothing told the client: replica reads get no MOVED. Nor refused for want of a
// replica until the next refresh, as when a refresh came before every node had heard
// of the demotion (Redis 7.0 lists the demoted master as a master of no slot meanwhile:
// Engine.placeSlotless asks it). Topology changes are logged, with the failover's end.
func TestReplicaReadsFollowFailover(t *testing.T) {
	cl := redistest.Run(t, redistest.Config{Masters: 3, ReplicasPerMaster: 1})
	var last atomic.Value
	began := time.Now()
	c := newTestClient(t, cl, Options{ReadFrom: ReadReplicaOnly, Hooks: Hooks{
		AfterCommand: func(ctx context.Context, e CommandEnd) { last.Store(e.Node) },
		OnTopology: func(ev TopologyChange) {
			t.Logf("%v: topology %s from %s, %d slots moved", time.Since(began).Round(time.Millisecond), ev.Cause, ev.Source, ev.SlotsMoved)
		},
	}})
	ctx := t.Context()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	master := cl.Node(0)
	replica := topo.ReplicasOf(master.ID())[0].Node
	key := topo.KeyOn(t, master, "rf")
	if err := c.Do(ctx, "GET", key).Err(); err != nil && err != Nil {
		t.Fatal(err)
	}
	if got := last.Load(); got != replica.Addr() {
		t.Fatalf("before: read served by %v, want the replica %s", got, replica.Addr())
	}
	if err := cl.Failover(ctx, replica, redistest.FailoverDefault); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Failover(context.Background(), master, redistest.FailoverDefault) })
	done := time.Now()
	t.Logf("%v: the failover is done", done.Sub(began).Round(time.Millisecond))
	refused := 0 // reads that failed since
	for {
		err := c.Do(ctx, "GET", key).Err()
		if err != nil && err != Nil {
			refused++
		}
		if last.Load() == master.Addr() {
			break
		}
		if time.Since(done) > 5*time.Second {
			var shards []string
			for _, s := range c.e.Topology().Shards() {
				d := fmt.Sprintf("%s %v", s.Primary.Addr, s.Ranges)
				for _, r := range s.Replicas {
					d += fmt.Sprintf(" <- %s(%s, %v)", r.Addr, r.Health, c.e.NodeAt(r.Addr).State())
				}
				shards = append(shards, d)
			}
			t.Fatalf("5s after the failover, reads still go to %q, not to the new replica %s (the last: %v; the table: %v)", last.Load(), master.Addr(), err, shards)
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(done)
	t.Logf("replica reads back on a replica %v after the failover (%d reads failed meanwhile)", took, refused)
	if took > time.Second {
		t.Errorf("replica reads back on a replica only %v after the failover, want ≤ 1s", took)
	}
}

// TestReplicaReadsFollowKilledPrimary: with two replicas per shard and ReadFrom
// replica-only, after a primary is killed and one replica promoted, the shard's reads go
// only to the remaining replica within 1s of the promotion (not half of them to the new
// primary until the periodic refresh).
func TestReplicaReadsFollowKilledPrimary(t *testing.T) {
	cl := redistest.Run(t, redistest.Config{Masters: 3, ReplicasPerMaster: 2})
	var last atomic.Value
	c := newTestClient(t, cl, Options{ReadFrom: ReadReplicaOnly, Hooks: Hooks{
		AfterCommand: func(ctx context.Context, e CommandEnd) { last.Store(e.Node) },
	}})
	ctx := t.Context()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	master := cl.Node(0)
	key := topo.KeyOn(t, master, "rk")
	var replicas []string
	for _, r := range topo.ReplicasOf(master.ID()) {
		replicas = append(replicas, r.Node.Addr())
	}
	for range 20 { // the client is connected to both replicas
		c.Do(ctx, "GET", key)
	}
	if err := master.Kill(); err != nil {
		t.Fatal(err)
	}
	var promoted string
	for promoted == "" {
		if ctx.Err() != nil {
			t.Fatal("no replica promoted")
		}
		for _, r := range topo.ReplicasOf(master.ID()) {
			if role, err := r.Node.Role(ctx); err == nil && role == "master" {
				promoted = r.Node.Addr()
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	at := time.Now()
	lastOnPrimary := at
	clean := 0 // reads in a row not served by the new primary
	for clean < 50 {
		c.Do(ctx, "GET", key)
		if last.Load() == promoted {
			clean = 0
			lastOnPrimary = time.Now()
		} else {
			clean++
		}
		if time.Since(at) > 10*time.Second {
			t.Fatalf("10s after the promotion, reads still go to the new primary %s", promoted)
		}
		time.Sleep(2 * time.Millisecond)
	}
	took := lastOnPrimary.Sub(at)
	t.Logf("the last read on the new primary %v after the promotion (the 50 after it on the remaining replica)", took)
	if took > time.Second {
		t.Errorf("reads left the new primary only %v after the promotion, want ≤ 1s", took)
	}
}
