package redline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// The cache's events on a real cluster: each test caches entries through client a,
// changes the cluster (or writes) behind a's back, and checks a never serves what
// could be stale once the event reached it.

// mustCached reads key through a's cache and fails unless it is want ("" for a
// missing key).
func mustCached(t *testing.T, a *Client, key, want string) {
	t.Helper()
	got, err := a.Cached(time.Hour).Get(t.Context(), key)
	if want == "" {
		if !errors.Is(err, Nil) {
			t.Fatalf("cached GET %s: %q, %v; want a missing key", key, got, err)
		}
		return
	}
	if err != nil || got != want {
		t.Fatalf("cached GET %s: %q, %v; want %q", key, got, err, want)
	}
}

// cacheBoth caches key (value v) and reads a missing key of the same slot twice, and
// checks that key hits and the missing key does not (a missing key is never cached:
// see doCacheMiss); it returns the missing key.
func cacheBoth(t *testing.T, a *Client, key, v string) string {
	t.Helper()
	missing := "{" + key + "}:missing"
	if err := a.Set(t.Context(), key, v, nil); err != nil {
		t.Fatal(err)
	}
	before := a.Stats().Cache.Hits
	for range 2 {
		mustCached(t, a, key, v)
		mustCached(t, a, missing, "")
	}
	if h := a.Stats().Cache.Hits - before; h != 1 {
		t.Fatalf("%d hits of 4 reads, want 1", h)
	}
	return missing
}

func TestCacheFlushAllDropsEverything(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	b := newTestClient(t, cl, Options{})
	ctx := t.Context()
	var keys []string
	for i, n := range cl.Nodes()[:3] {
		if role, _ := n.Role(ctx); role != "master" {
			continue
		}
		k := cl.KeyOn(t, n, "cache:flush:")
		if err := a.Set(ctx, k, "v", nil); err != nil {
			t.Fatal(i, err)
		}
		mustCached(t, a, k, "v")
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		t.Skip("no master among the first nodes")
	}
	flushes := a.Stats().Cache.Flushes
	if err := b.Do(ctx, "FLUSHALL").Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		k := k
		redistest.Eventually(t, time.Second, func() bool {
			_, err := a.Cached(time.Hour).Get(ctx, k)
			return errors.Is(err, Nil)
		}, "cached %s survived FLUSHALL", k)
	}
	if got := a.Stats().Cache.Flushes - flushes; got < uint64(len(keys)) {
		t.Fatalf("%d flush invalidations, want %d (one per master)", got, len(keys))
	}
}

func TestCacheBudgetEvicts(t *testing.T) {
	cl := plain(t)
	const budget = 32 << 10
	a := cachedClient(t, cl, budget)
	ctx := t.Context()
	val := string(make([]byte, 1000))
	for i := range 100 {
		k := "cache:budget:" + t.Name() + ":" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if err := a.Set(ctx, k, val, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Cached(time.Hour).Get(ctx, k); err != nil {
			t.Fatal(err)
		}
		if st := a.Stats().Cache; st.Bytes > budget {
			t.Fatalf("%d bytes cached, budget %d", st.Bytes, budget)
		}
	}
	if st := a.Stats().Cache; st.Evictions == 0 || st.Entries == 0 {
		t.Fatalf("no eviction within the budget: %+v", st)
	}
}

func TestCacheTTLCappedByKeyTTL(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	ctx := t.Context()
	key := "cache:pttl:" + t.Name()
	if err := a.Do(ctx, "SET", key, "v", "PX", 150).Err(); err != nil {
		t.Fatal(err)
	}
	mustCached(t, a, key, "v")
	// The key expires on the server at 150 ms (an expiry the server may only notice
	// later: no invalidation is awaited); the entry must not outlive it.
	time.Sleep(200 * time.Millisecond)
	misses := a.Stats().Cache.Misses
	mustCached(t, a, key, "")
	if a.Stats().Cache.Misses == misses {
		t.Fatal("the entry outlived its key's TTL")
	}
}

func TestCacheReconnectDropsNodeEntries(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	ctx := t.Context()
	key := "cache:reconnect:" + t.Name()
	nd := keyOwner(t, cl, a, key)
	missing := cacheBoth(t, a, key, "v1")
	inval := a.Stats().Cache.Invalidations
	// The tracking connection is reset; the writes go straight to the server, so no
	// invalidation can reach a: only the lost connection can drop the entries.
	nd.Proxy().ResetConns()
	if _, err := nd.Do(ctx, "SET", missing, "created"); err != nil {
		t.Fatal(err)
	}
	if _, err := nd.Do(ctx, "SET", key, "v2"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, 2*time.Second, func() bool {
		v, _ := a.Cached(time.Hour).Get(ctx, key)
		return v == "v2"
	}, "entry survived its tracking connection's reset")
	mustCached(t, a, missing, "created")
	if a.Stats().Cache.Invalidations != inval {
		t.Fatal("an invalidation arrived: the test did not test the reset")
	}
}

// TestCacheSlotMoveAndFailover changes a private cluster: a slot migration, then a
// failover, each followed by a write a's tracking connections cannot hear of.
func TestCacheSlotMoveAndFailover(t *testing.T) {
	cl := redistest.Run(t, redistest.Config{Masters: 3, ReplicasPerMaster: 1})
	a := cachedClient(t, cl, 1<<20)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	t.Run("migration", func(t *testing.T) {
		key := "cache:migrate"
		missing := cacheBoth(t, a, key, "v1")
		slot := hashslot.Key(key)
		topo, err := cl.Topology(ctx)
		if err != nil {
			t.Fatal(err)
		}
		from := topo.Owner(slot).Node
		to := topo.OtherMaster(from)
		if err := cl.MigrateSlot(ctx, slot, to); err != nil {
			t.Fatal(err)
		}
		// Created on the new owner, which a does not track: only the slot's move drops
		// the cached "missing".
		if _, err := to.Do(ctx, "SET", missing, "created"); err != nil {
			t.Fatal(err)
		}
		// a learns of the move from a MOVED (an uncached read of the slot).
		if err := a.Do(ctx, "GET", "{"+key+"}:other").Err(); err != nil && !errors.Is(err, Nil) {
			t.Fatal(err)
		}
		mustCached(t, a, missing, "created")
		mustCached(t, a, key, "v1") // moved with its slot: read again from the new owner
	})

	t.Run("failover", func(t *testing.T) {
		key := "cache:failover"
		missing := cacheBoth(t, a, key, "v1")
		slot := hashslot.Key(key)
		topo, err := cl.Topology(ctx)
		if err != nil {
			t.Fatal(err)
		}
		master := topo.Owner(slot)
		reps := topo.ReplicasOf(master.ID)
		if len(reps) == 0 {
			t.Fatal("no replica")
		}
		replica := reps[0].Node
		if err := cl.Failover(ctx, replica, redistest.FailoverDefault); err != nil {
			t.Fatal(err)
		}
		if _, err := replica.Do(ctx, "SET", missing, "created"); err != nil {
			t.Fatal(err)
		}
		a.e.Refresh() // as the background refresh, or a MOVED, would
		mustCached(t, a, missing, "created")
		mustCached(t, a, key, "v1")
	})
}

func TestCacheNodeRestartDropsEntries(t *testing.T) {
	cl := redistest.Run(t, redistest.Config{Masters: 3})
	a := cachedClient(t, cl, 1<<20)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	key := "cache:restart"
	nd := keyOwner(t, cl, a, key)
	missing := cacheBoth(t, a, key, "v1")
	if err := nd.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// The cluster takes a moment to take the node back (CLUSTERDOWN meanwhile).
	redistest.Eventually(t, 10*time.Second, func() bool {
		_, err := nd.Do(ctx, "SET", key, "v2")
		return err == nil
	}, "the restarted node never took writes")
	if _, err := nd.Do(ctx, "SET", missing, "created"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, 5*time.Second, func() bool {
		v, _ := a.Cached(time.Hour).Get(ctx, key)
		return v == "v2"
	}, "entry survived its node's restart")
	mustCached(t, a, missing, "created")
}

func TestCacheMissKeepsDeadline(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	key := "cache:deadline:" + t.Name()
	nd := keyOwner(t, cl, a, key)
	if err := a.Set(t.Context(), key, "v", nil); err != nil {
		t.Fatal(err)
	}
	nd.SetFault(redistest.Hang)
	const timeout = 200 * time.Millisecond
	type result struct {
		err error
		el  time.Duration
	}
	results := make(chan result, 2)
	for range 2 { // a leader and a follower waiting for its read
		go func() {
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			start := time.Now()
			_, err := a.Cached(time.Hour).Get(ctx, key)
			results <- result{err, time.Since(start)}
		}()
	}
	for range 2 {
		r := <-results
		var ne *NodeError
		if !errors.Is(r.err, context.DeadlineExceeded) || !errors.As(r.err, &ne) || ne.Phase != PhaseRead {
			t.Errorf("err %v, want a deadline waiting for a reply (phase read)", r.err)
		}
		t.Log(r.err)
		if r.el > timeout+testkit.Slack() {
			t.Errorf("returned after %v, deadline %v: %v", r.el, timeout, r.err)
		}
	}
}
