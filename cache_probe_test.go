package redline

import (
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestCacheSilentNodeDropsEntries: a node that stops answering without closing its
// connection (the proxy holds everything, as a SIGSTOPped server would) sends no
// invalidations while its replica may be promoted: the cache's probe finds it silent
// and drops its entries within about 1.25 s (cacheprobe.go), with no call of a's.
func TestCacheSilentNodeDropsEntries(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	ctx := t.Context()
	key := "cache:silent:" + t.Name()
	nd := keyOwner(t, cl, a, key)
	if err := a.Set(ctx, key, "v1", nil); err != nil {
		t.Fatal(err)
	}
	mustCached(t, a, key, "v1")
	if !a.e.CacheHas([]any{"GET", key}) {
		t.Fatal("not cached")
	}
	if err := nd.SetFault(redistest.Hang); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// The bound: 1.25 s, and slack for a loaded machine.
	if !redistest.Poll(3*time.Second, func() bool { return !a.e.CacheHas([]any{"GET", key}) }) {
		t.Fatalf("the entry of a node silent for %v still hits", time.Since(start).Round(time.Millisecond))
	}
	t.Logf("dropped %v after the node fell silent", time.Since(start).Round(time.Millisecond))
	if err := nd.SetFault(redistest.Pass); err != nil {
		t.Fatal(err)
	}
	// Once it answers again, its keys are cached again.
	redistest.Eventually(t, 5*time.Second, func() bool {
		v, err := a.Cached(time.Hour).Get(ctx, key)
		return err == nil && v == "v1" && a.e.CacheHas([]any{"GET", key})
	}, "never cached again once the node answered")
}
