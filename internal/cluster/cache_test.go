package cluster

import (
	"math"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/cache"
	"github.com/redline-go/redline/internal/command"
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

// TestCacheRefusesScripts: the read-only script and function calls are not cacheable
// (undeclared keys, nondeterministic replies); plain reads are.
func TestCacheRefusesScripts(t *testing.T) {
	for _, args := range [][]any{{"EVAL_RO", "return 1", 0}, {"evalsha_ro", "abc", 0}, {"FCALL_RO", "f", 0}} {
		info := command.Lookup(args)
		if err := cacheable(info, args); err == nil {
			t.Errorf("%v: cacheable", args[0])
		}
	}
	if err := cacheable(command.Lookup([]any{"GET", "k"}), []any{"GET", "k"}); err != nil {
		t.Errorf("GET: %v", err)
	}
}

// TestCacheHugeTTLSaturates: a TTL of math.MaxInt64 ("until invalidated") is cached.
func TestCacheHugeTTLSaturates(t *testing.T) {
	st := cache.New(1 << 20)
	k, _ := cache.AppendKey(nil, []any{"GET", "k"})
	f, _ := st.Begin(k, []string{"k"}, 0, st.Tracker("n"))
	if !st.Fill(f, resp.Value{Type: resp.TypeBulkString, Str: []byte("v")}, time.Duration(math.MaxInt64)) || !st.Has(k) {
		t.Fatal("a reply with TTL MaxInt64 was not cached")
	}
}

// TestCacheRefreshesWhileCaching: while the cache holds entries, the topology is
// refreshed every cacheRefreshEvery (a slot's owner may change unheard of); not when
// it is empty, nor when the periodic refresh is off or more frequent.
func TestCacheRefreshesWhileCaching(t *testing.T) {
	fc := newFakeCluster(t)
	cfg := testConfig(fc)
	cfg.RefreshInterval = 30 * time.Second
	st := cache.New(1 << 20)
	cfg.Cache = &CacheConfig{Store: st}
	c := newEngine(t, cfg, threeShards)
	start := time.Now()
	last := start
	c.cacheRefresh(&last, start.Add(cacheRefreshEvery/2))
	if c.triggered() {
		t.Fatal("refreshed before cacheRefreshEvery")
	}
	c.cacheRefresh(&last, start.Add(cacheRefreshEvery))
	if c.triggered() || !last.Equal(start.Add(cacheRefreshEvery)) {
		t.Fatal("refreshed with an empty cache")
	}
	cacheEntry(t, st, p1, "a", s1)
	c.cacheRefresh(&last, last.Add(cacheRefreshEvery))
	if !c.triggered() {
		t.Fatal("no refresh while caching")
	}
	for _, every := range []time.Duration{-1, time.Second} {
		c.cfg.RefreshInterval = every
		c.cacheRefresh(&last, last.Add(cacheRefreshEvery))
		if c.triggered() {
			t.Fatalf("refreshed with RefreshInterval %v", every)
		}
	}
}
