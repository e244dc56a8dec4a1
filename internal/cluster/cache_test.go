package cluster

import (
	"testing"
	"time"

	"github.com/redline-go/redline/internal/cache"
	"github.com/redline-go/redline/resp"
)

// cacheEntry caches a reply for GET key (of slot) read from addr's tracker.
func cacheEntry(t *testing.T, st *cache.Store, addr, key string, slot int) []byte {
	t.Helper()
	k, _ := cache.AppendKey(nil, []any{"GET", key})
	f, leader := st.Begin(k, []string{key}, slot, st.Tracker(addr))
	if !leader || !st.Fill(f, resp.Value{Type: resp.TypeBulkString, Str: []byte("v")}, time.Hour) {
		t.Fatalf("%s not cached", key)
	}
	return k
}

// TestCacheDropsMovedSlotsOnly: a MOVED, a failover moving a shard and a refresh that
// changes owners each make exactly the entries of the slots whose primary changed
// stale.
func TestCacheDropsMovedSlotsOnly(t *testing.T) {
	fc := newFakeCluster(t)
	cfg := testConfig(fc)
	st := cache.New(1 << 20)
	cfg.Cache = &CacheConfig{Store: st}
	c := newEngine(t, cfg, threeShards)
	moved := cacheEntry(t, st, p1, "a", s1)
	kept := cacheEntry(t, st, p1, "b", s1+1) // same node, next slot
	other := cacheEntry(t, st, p3, "c", s3)

	c.ApplyMoved(s1, p2)
	if st.Has(moved) || !st.Has(kept) || !st.Has(other) {
		t.Fatalf("after MOVED of slot %d: moved %v kept %v other %v", s1, st.Has(moved), st.Has(kept), st.Has(other))
	}
	c.ApplyMoved(s3, r3) // a failover: the shard's replica took every slot
	if st.Has(other) || !st.Has(kept) {
		t.Fatalf("after the failover of %s: other %v kept %v", p3, st.Has(other), st.Has(kept))
	}
	back := cacheEntry(t, st, p2, "a2", s1)          // read from the slot's new owner
	c.install(c.Topology(), tableOf(t, threeShards)) // a refresh putting every slot back
	if st.Has(back) || !st.Has(kept) {
		t.Fatalf("after the refresh: back %v kept %v", st.Has(back), st.Has(kept))
	}
	c.install(c.Topology(), tableOf(t, threeShards)) // a refresh without change drops nothing
	if !st.Has(kept) {
		t.Fatal("a refresh that changed nothing dropped an entry")
	}
}
