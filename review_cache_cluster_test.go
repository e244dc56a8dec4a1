package redline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// freshWithin polls a's cached GET of key until it returns want (""; a missing key)
// and reports how long that took, or false after within.
func freshWithin(t *testing.T, a *Client, key, want string, within time.Duration) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	var got string
	var err error
	ok := redistest.Poll(within, func() bool {
		got, err = a.Cached(time.Hour).Get(t.Context(), key)
		if want == "" {
			return errors.Is(err, Nil)
		}
		return err == nil && got == want
	})
	if !ok {
		t.Logf("cached GET %s: still %q (%v) after %v; want %q", key, got, err, within, want)
	} else {
		t.Logf("cached GET %s: %q after %v", key, want, time.Since(start).Round(time.Millisecond))
	}
	return time.Since(start), ok
}

// keyOnFreshShard returns a key owned by a master that has a replica and is not in
// used (each failover subtest takes a shard of its own), and that master.
func keyOnFreshShard(t *testing.T, ctx context.Context, cl *redistest.Cluster, prefix string, used map[string]bool) (string, redistest.NodeInfo, *redistest.Node) {
	t.Helper()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range topo.Masters() {
		reps := topo.ReplicasOf(m.ID)
		if used[m.ID] || m.Node == nil || len(m.Slots) == 0 || len(reps) == 0 || reps[0].Node == nil {
			continue
		}
		// The whole shard is used: a replica promoted by an earlier subtest is a
		// master with a replica still syncing (a restarted old primary), which may
		// not fail over.
		used[m.ID] = true
		for _, r := range reps {
			used[r.ID] = true
		}
		return cl.KeyOn(t, m.Node, prefix), m, reps[0].Node
	}
	t.Fatal("no unused shard with a replica")
	return "", redistest.NodeInfo{}, nil
}

// TestReviewCacheClusterEvents (review) changes a private cluster behind a caching
// client a's back, with writes by another client b (which follows its redirects),
// and never triggers a's own learning of the change (no uncached read of a's, no
// a.e.Refresh): what a's hits serve then is what an application would see.
func TestReviewCacheClusterEvents(t *testing.T) {
	cl := redistest.Run(t, redistest.Config{Masters: 3, ReplicasPerMaster: 1})
	a := cachedClient(t, cl, 1<<20)
	b := newTestClient(t, cl, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const within = 3 * time.Second // the refresh interval is 30 s: a bound well below it
	used := map[string]bool{}

	// A key missing when cached is tracked by the slot's owner only: during a
	// migration its creation goes (ASK) to the target, which never tracked a.
	t.Run("missing key created during a migration", func(t *testing.T) {
		key := "review:mig1"
		missing := cacheBoth(t, a, key, "v1")
		slot := hashslot.Key(key)
		topo, err := cl.Topology(ctx)
		if err != nil {
			t.Fatal(err)
		}
		from := topo.Owner(slot).Node
		m, err := cl.BeginMigration(ctx, slot, topo.OtherMaster(from))
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := m.Finish(ctx); err != nil {
				t.Error(err)
			}
		}()
		if err := b.Set(ctx, missing, "created", nil); err != nil {
			t.Fatal(err)
		}
		if d, ok := freshWithin(t, a, missing, "created", within); !ok {
			t.Errorf("a key created (acknowledged) during its slot's migration: a's cache still says missing %v later", d)
		}
	})

	t.Run("missing key created after a migration", func(t *testing.T) {
		key := "review:mig2"
		missing := cacheBoth(t, a, key, "v1")
		slot := hashslot.Key(key)
		topo, err := cl.Topology(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.MigrateSlot(ctx, slot, topo.OtherMaster(topo.Owner(slot).Node)); err != nil {
			t.Fatal(err)
		}
		if err := b.Set(ctx, missing, "created", nil); err != nil {
			t.Fatal(err)
		}
		if d, ok := freshWithin(t, a, missing, "created", within); !ok {
			t.Errorf("a key created (acknowledged) after its slot moved: a's cache still says missing %v later", d)
		}
	})

	// A coordinated failover (CLUSTER FAILOVER): the old primary stays up as a
	// replica of the new one; nothing tells a (no refresh, no MOVED of its own).
	t.Run("coordinated failover", func(t *testing.T) {
		key := "review:cfo"
		missing := cacheBoth(t, a, key, "v1")
		slot := hashslot.Key(key)
		topo, err := cl.Topology(ctx)
		if err != nil {
			t.Fatal(err)
		}
		reps := topo.ReplicasOf(topo.Owner(slot).ID)
		if len(reps) == 0 {
			t.Fatal("no replica")
		}
		if err := cl.Failover(ctx, reps[0].Node, redistest.FailoverDefault); err != nil {
			t.Fatal(err)
		}
		if err := b.Set(ctx, key, "v2", nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Set(ctx, missing, "created", nil); err != nil {
			t.Fatal(err)
		}
		d1, ok1 := freshWithin(t, a, key, "v2", within)
		d2, ok2 := freshWithin(t, a, missing, "created", within)
		if !ok1 || !ok2 {
			t.Errorf("after a coordinated failover and b's acknowledged writes: a served old values (key fresh: %v after %v; missing key fresh: %v after %v)", ok1, d1, ok2, d2)
		}
	})

	// A primary killed (SIGKILL): its connection closes, the entries go with it.
	t.Run("killed primary failed over", func(t *testing.T) {
		key, master, replica := keyOnFreshShard(t, ctx, cl, "review:kill:", used)
		missing := cacheBoth(t, a, key, "v1")
		if err := master.Node.Kill(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := master.Node.Restart(ctx); err != nil {
				t.Error(err)
			}
		}()
		redistest.Eventually(t, 30*time.Second, func() bool {
			r, err := replica.Role(ctx)
			return err == nil && r == "master"
		}, "the replica never took over")
		redistest.Eventually(t, 30*time.Second, func() bool {
			c, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			return b.Set(c, key, "v2", nil) == nil && b.Set(c, missing, "created", nil) == nil
		}, "b's writes never succeeded on the new primary")
		d1, ok1 := freshWithin(t, a, key, "v2", within)
		d2, ok2 := freshWithin(t, a, missing, "created", within)
		if !ok1 || !ok2 {
			t.Errorf("after a failover of a killed primary: a served old values (key fresh: %v after %v; missing fresh: %v after %v)", ok1, d1, ok2, d2)
		}
	})

	// A primary that stops answering (SIGSTOP) keeps its connection open and silent:
	// the cluster fails over to its replica, b writes there, and a's entries read from
	// the old primary keep hitting until a declares the connection dead or refreshes.
	t.Run("paused primary failed over", func(t *testing.T) {
		key, master, replica := keyOnFreshShard(t, ctx, cl, "review:pause:", used)
		missing := cacheBoth(t, a, key, "v1")
		if err := master.Node.Pause(); err != nil {
			t.Fatal(err)
		}
		defer master.Node.Resume()
		redistest.Eventually(t, 30*time.Second, func() bool {
			r, err := replica.Role(ctx)
			return err == nil && r == "master"
		}, "the replica never took over")
		redistest.Eventually(t, 30*time.Second, func() bool {
			c, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			return b.Set(c, key, "v2", nil) == nil && b.Set(c, missing, "created", nil) == nil
		}, "b's writes never succeeded on the new primary")
		d1, ok1 := freshWithin(t, a, key, "v2", within)
		d2, ok2 := freshWithin(t, a, missing, "created", within)
		if !ok1 || !ok2 {
			t.Errorf("after a failover of a paused primary and b's acknowledged writes: a served the old values (key fresh: %v after %v; missing key fresh: %v after %v)", ok1, d1, ok2, d2)
		}
	})
}
