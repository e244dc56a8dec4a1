package redline

import (
	"errors"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// cachedClient is a client of cl with a cache of maxBytes.
func cachedClient(t testing.TB, cl *redistest.Cluster, maxBytes int64) *Client {
	t.Helper()
	return newTestClient(t, cl, Options{Cache: CacheOptions{MaxBytes: maxBytes}})
}

// waitFresh polls c's cached GET of key until it returns want, and fails the test
// when that takes longer than within: the invalidation never came, or came late.
func waitFresh(t *testing.T, c *Client, key, want string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var got string
	ok := redistest.Poll(within, func() bool {
		got, _ = c.Cached(time.Hour).Get(t.Context(), key)
		return got == want
	})
	if !ok {
		t.Fatalf("cached GET %s still %q %v after the write acknowledged %q", key, got, within, want)
	}
	return time.Since(start)
}

func TestCacheHitMissAndInvalidationByAnotherClient(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	b := newTestClient(t, cl, Options{})
	ctx := t.Context()
	key := "cache:inval:" + t.Name()
	if err := b.Set(ctx, key, "v1", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if v, err := a.Cached(time.Hour).Get(ctx, key); err != nil || v != "v1" {
			t.Fatalf("read %d: %q, %v", i, v, err)
		}
	}
	st := a.Stats().Cache
	if st.Misses != 1 || st.Hits != 2 || st.Entries != 1 {
		t.Fatalf("after 3 reads: %+v, want 1 miss, 2 hits, 1 entry", st)
	}
	if err := b.Set(ctx, key, "v2", nil); err != nil {
		t.Fatal(err)
	}
	d := waitFresh(t, a, key, "v2", time.Second)
	t.Logf("fresh %v after the write", d)
	if st := a.Stats().Cache; st.Invalidations == 0 {
		t.Fatalf("no invalidation counted: %+v", st)
	}
	// A missing key is read, not cached (its creation could go to another node), and
	// its creation is seen at once.
	missing := key + ":missing"
	if _, err := a.Cached(time.Hour).Get(ctx, missing); !errors.Is(err, Nil) {
		t.Fatalf("missing key: %v", err)
	}
	b.Set(ctx, missing, "now", nil)
	waitFresh(t, a, missing, "now", time.Second)
}

func TestCacheHitAllocatesNothing(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	ctx := t.Context()
	key := "cache:allocs:" + t.Name()
	if err := a.Set(ctx, key, "value", nil); err != nil {
		t.Fatal(err)
	}
	view := a.Cached(time.Hour)
	if v, err := view.Get(ctx, key); err != nil || v != "value" {
		t.Fatal(v, err)
	}
	if n := testing.AllocsPerRun(200, func() { view.Get(ctx, key) }); n != 0 {
		t.Errorf("Cached.Get hit: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(200, func() { a.DoCache(ctx, time.Hour, "GET", key) }); n != 0 {
		t.Errorf("DoCache GET hit: %v allocations, want 0", n)
	}
	if st := a.Stats().Cache; st.Misses != 1 {
		t.Errorf("%d misses, want 1 (every other read a hit)", st.Misses)
	}
}

// BenchmarkCachedGetHit is a cached GET served from memory (no round trip):
// go test -run x -bench CachedGetHit -cpu 1,2 .
func BenchmarkCachedGetHit(b *testing.B) {
	cl := plain(b)
	a := cachedClient(b, cl, 1<<20)
	ctx := b.Context()
	key := "cache:bench:hit"
	if err := a.Set(ctx, key, "0123456789abcdef", nil); err != nil {
		b.Fatal(err)
	}
	view := a.Cached(time.Hour)
	view.Get(ctx, key)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := view.Get(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
	if st := a.Stats().Cache; st.Misses != 1 {
		b.Fatalf("%d misses", st.Misses)
	}
}
