package redline

import (
	"context"
	"errors"
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// Adversarial review of client-side caching (branch h-rcache). Each TestReviewCache…
// is a reproducer: it fails while the defect it names is there.

// TestReviewCacheReadYourOwnWrite: a client that writes a key and then reads it
// through its own cache must see its write. Redis 7 sends a tracking client the
// invalidation of a key it wrote itself after the write's reply, on the same
// connection: the writer's caller returns on the reply and reads the cache before the
// reader goroutine handled the push.
func TestReviewCacheReadYourOwnWrite(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	ctx := t.Context()
	// Several writers of keys of one slot share one connection: its reader has
	// replies and pushes queued, which widens the window (one writer alone sees it
	// about once in 4,000 rounds).
	const writers, rounds = 8, 400
	var stale, total atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		key := "{review:ryw}:" + t.Name() + ":" + strconv.Itoa(w)
		wg.Go(func() {
			for i := range rounds {
				want := strconv.Itoa(i)
				if err := a.Set(ctx, key, want, nil); err != nil {
					t.Error(err)
					return
				}
				got, err := a.Cached(time.Hour).Get(ctx, key)
				if err != nil {
					t.Error(err)
					return
				}
				total.Add(1)
				if got != want {
					stale.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := stale.Load(); n > 0 {
		t.Fatalf("%d of %d cached reads right after the client's own acknowledged SET returned the previous value", n, total.Load())
	}
}

// TestReviewCacheEvalROUndeclaredKey: EVAL_RO is accepted by DoCache, and a script may
// read a key it did not declare (same slot): the server tracks it, but the entry is
// indexed only by the declared keys, so the key's invalidation drops nothing.
func TestReviewCacheEvalROUndeclaredKey(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	b := newTestClient(t, cl, Options{})
	ctx := t.Context()
	tag := "{review:evalro:" + t.Name() + "}"
	other := tag + ":x"
	if err := b.Set(ctx, other, "v1", nil); err != nil {
		t.Fatal(err)
	}
	script := "return redis.call('GET', KEYS[1] .. ':x')"
	read := func() Result { return a.DoCache(ctx, time.Hour, "EVAL_RO", script, 1, tag) }
	r := read()
	var nc *NotCacheableError
	if errors.As(r.Err(), &nc) {
		return // refused: fine
	}
	if v, err := r.Text(); err != nil || v != "v1" {
		t.Fatalf("first read: %q %v", v, err)
	}
	if err := b.Set(ctx, other, "v2", nil); err != nil {
		t.Fatal(err)
	}
	ok := redistest.Poll(time.Second, func() bool {
		v, _ := read().Text()
		return v == "v2"
	})
	if !ok {
		v, _ := read().Text()
		t.Fatalf("EVAL_RO cached: still %q 1s after another client's write of %s (hits %d)", v, other, a.Stats().Cache.Hits)
	}
}

// TestReviewCacheEvalROTime: a script's reply need not be deterministic (TIME,
// redis.call on a random command): DoCache caches it.
func TestReviewCacheEvalROTime(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	ctx := t.Context()
	tag := "{review:evaltime:" + t.Name() + "}"
	script := "return redis.call('TIME')[2]"
	first := a.DoCache(ctx, time.Hour, "EVAL_RO", script, 1, tag)
	var nc *NotCacheableError
	if errors.As(first.Err(), &nc) {
		return
	}
	v1, err := first.Text()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	v2, _ := a.DoCache(ctx, time.Hour, "EVAL_RO", script, 1, tag).Text()
	if v1 == v2 {
		t.Fatalf("EVAL_RO calling TIME served from the cache: %s twice, 5 ms apart (want a *NotCacheableError)", v1)
	}
}

// TestReviewCacheSortROPatterns: SORT_RO … BY/GET reads keys named by its patterns
// (allowed in a cluster when they hash to the key's slot); the entry is indexed by
// the sorted key only, so a write to a GET key is never seen.
func TestReviewCacheSortROPatterns(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	b := newTestClient(t, cl, Options{})
	ctx := t.Context()
	tag := "{review:sort:" + t.Name() + "}"
	list := tag + ":l"
	b.Do(ctx, "DEL", list)
	if err := b.Do(ctx, "RPUSH", list, "1").Err(); err != nil {
		t.Fatal(err)
	}
	obj := tag + ":o_1"
	if err := b.Set(ctx, obj, "v1", nil); err != nil {
		t.Fatal(err)
	}
	read := func() ([]string, error) {
		return a.DoCache(ctx, time.Hour, "SORT_RO", list, "GET", tag+":o_*").Strings()
	}
	r := a.DoCache(ctx, time.Hour, "SORT_RO", list, "GET", tag+":o_*")
	var nc *NotCacheableError
	if errors.As(r.Err(), &nc) {
		return
	}
	got, err := r.Strings()
	if err != nil {
		t.Skipf("the server refuses SORT_RO GET in a cluster: %v", err)
	}
	if len(got) != 1 || got[0] != "v1" {
		t.Fatalf("first read: %q", got)
	}
	if err := b.Set(ctx, obj, "v2", nil); err != nil {
		t.Fatal(err)
	}
	ok := redistest.Poll(time.Second, func() bool {
		got, _ = read()
		return len(got) == 1 && got[0] == "v2"
	})
	if !ok {
		t.Fatalf("SORT_RO GET pattern cached: still %q 1s after another client's write of %s", got, obj)
	}
}

// TestReviewCacheFollowersCounted: concurrent misses of one key share one read; the
// callers that waited for it are served from memory (the hooks say CacheHit) but
// Stats.Cache counts them neither as hits nor as misses.
func TestReviewCacheFollowersCounted(t *testing.T) {
	cl := plain(t)
	var hookHits, hookCalls atomic.Int64
	a := newTestClient(t, cl, Options{Cache: CacheOptions{MaxBytes: 1 << 20},
		Hooks: Hooks{AfterCommand: func(_ context.Context, e CommandEnd) {
			hookCalls.Add(1)
			if e.CacheHit {
				hookHits.Add(1)
			}
		}}})
	ctx := t.Context()
	key := "review:follow:" + t.Name()
	if err := a.Set(ctx, key, "v", nil); err != nil {
		t.Fatal(err)
	}
	nd := keyOwner(t, cl, a, key)
	nd.SetFault(redistest.Slow(100 * time.Millisecond))
	hookHits.Store(0)
	hookCalls.Store(0)
	before := a.Stats().Cache
	const n = 8
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if v, err := a.Cached(time.Hour).Get(ctx, key); err != nil || v != "v" {
				t.Errorf("%q %v", v, err)
			}
		})
	}
	wg.Wait()
	after := a.Stats().Cache
	hits, misses := after.Hits-before.Hits, after.Misses-before.Misses
	t.Logf("hooks: %d calls, %d hits; Stats: %d hits, %d misses", hookCalls.Load(), hookHits.Load(), hits, misses)
	if hits+misses != n || int64(hits) != hookHits.Load() {
		t.Fatalf("%d cached reads: Stats counted %d hits + %d misses, the hooks %d hits", n, hits, misses, hookHits.Load())
	}
}

// TestReviewCacheBlackholeMissDeadline: a cached miss (and a caller waiting for it)
// to a node whose connection must be dialed again into a blackhole returns by its
// deadline.
func TestReviewCacheBlackholeMissDeadline(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	key := "review:blackhole:" + t.Name()
	nd := keyOwner(t, cl, a, key)
	if err := a.Set(t.Context(), key, "v", nil); err != nil {
		t.Fatal(err)
	}
	nd.SetFault(redistest.Blackhole)
	nd.Proxy().ResetConns()
	const timeout = 200 * time.Millisecond
	for round := range 3 {
		var wg sync.WaitGroup
		start := time.Now()
		for range 3 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), timeout)
				defer cancel()
				_, err := a.Cached(time.Hour).Get(ctx, key)
				if err == nil {
					t.Errorf("round %d: a read through a blackhole succeeded", round)
				}
				if el := time.Since(start); el > timeout+50*time.Millisecond {
					t.Errorf("round %d: returned after %v (deadline %v): %v", round, el, timeout, err)
				}
			})
		}
		wg.Wait()
	}
}

// TestReviewCacheHitNotBlockedBySlowMiss: hits (of the same node) return at once
// while misses hang on that node.
func TestReviewCacheHitNotBlockedBySlowMiss(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	ctx := t.Context()
	hot := "review:hot:" + t.Name()
	cold := "{" + hot + "}:cold"
	nd := keyOwner(t, cl, a, hot)
	if err := a.Set(ctx, hot, "v", nil); err != nil {
		t.Fatal(err)
	}
	mustCached(t, a, hot, "v")
	nd.SetFault(redistest.Hang)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			defer cancel()
			a.Cached(time.Hour).Get(c, cold)
		})
	}
	time.Sleep(20 * time.Millisecond) // the misses are in flight (not synchronization: a window)
	for i := range 1000 {
		start := time.Now()
		v, err := a.Cached(time.Hour).Get(ctx, hot)
		if err != nil || v != "v" {
			t.Fatalf("hit %d: %q %v", i, v, err)
		}
		if el := time.Since(start); el > 20*time.Millisecond {
			t.Fatalf("hit %d took %v while misses hang", i, el)
		}
	}
	wg.Wait()
}

// TestReviewCacheBroadcastOverlappingPrefixes: Redis refuses CLIENT TRACKING BCAST with
// overlapping prefixes; the options are accepted and every connection's handshake
// then fails. Expected: NewClient refuses the options with a clear error.
func TestReviewCacheBroadcastOverlappingPrefixes(t *testing.T) {
	cl := plain(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, err := NewClient(ctx, Options{Addrs: cl.Addrs(),
		Cache: CacheOptions{MaxBytes: 1 << 20, Broadcast: true, Prefixes: []string{"a:", "a:b:"}}})
	if err != nil {
		t.Logf("refused: %v", err)
		return
	}
	defer c.Close()
	err = c.Do(ctx, "GET", "a:b:"+t.Name()).Err()
	if err != nil && !errors.Is(err, Nil) {
		t.Fatalf("NewClient accepted overlapping prefixes; then every call fails: %v", err)
	}
}

// TestReviewCacheClosedClientFreesEntries: a closed client, once unreachable, leaves
// no cached entries in the heap (nothing global or in a leftover goroutine keeps its
// store); Close itself empties the cache (a closed client that is still referenced
// should not pin MaxBytes).
func TestReviewCacheClosedClientFreesEntries(t *testing.T) {
	cl := plain(t)
	ctx := t.Context()
	b := newTestClient(t, cl, Options{})
	val := string(make([]byte, 64<<10))
	const n = 256 // 16 MiB of values
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "review:closed:" + t.Name() + ":" + strconv.Itoa(i)
		if err := b.Set(ctx, keys[i], val, nil); err != nil {
			t.Fatal(err)
		}
	}
	var m0, m1, m2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	a, err := NewClient(ctx, Options{Addrs: cl.Addrs(), Cache: CacheOptions{MaxBytes: 64 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if _, err := a.Cached(time.Hour).Get(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	st := a.Stats().Cache
	a.Close()
	after := a.Stats().Cache
	runtime.GC()
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(a)
	a = nil
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m2)
	t.Logf("cached %d entries, %d bytes; after Close: %d entries, %d bytes; heap +%d KiB after Close, +%d KiB once unreachable",
		st.Entries, st.Bytes, after.Entries, after.Bytes, (int64(m1.HeapAlloc)-int64(m0.HeapAlloc))>>10, (int64(m2.HeapAlloc)-int64(m0.HeapAlloc))>>10)
	if int64(m2.HeapAlloc)-int64(m0.HeapAlloc) > 4<<20 {
		t.Errorf("an unreachable closed client still holds %d KiB", (int64(m2.HeapAlloc)-int64(m0.HeapAlloc))>>10)
	}
	if after.Entries != 0 || int64(m1.HeapAlloc)-int64(m0.HeapAlloc) > 4<<20 {
		t.Errorf("a closed (still referenced) client keeps its %d cached entries, %d bytes", after.Entries, after.Bytes)
	}
}

// TestReviewCacheMultiKeyReadsInvalidated: every key of a multi-key read indexes its
// entry: a write of its last key drops it.
func TestReviewCacheMultiKeyReadsInvalidated(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	b := newTestClient(t, cl, Options{})
	ctx := t.Context()
	tag := "{review:multi:" + t.Name() + "}"
	s1, s2, z1, z2, k1, k2 := tag+"s1", tag+"s2", tag+"z1", tag+"z2", tag+"k1", tag+"k2"
	reset := func() {
		b.Do(ctx, "DEL", s1, s2, z1, z2, k1, k2)
		for _, c := range [][]any{{"SADD", s1, "a", "b"}, {"SADD", s2, "b"}, {"ZADD", z1, 1, "a", 2, "b"},
			{"ZADD", z2, 1, "b"}, {"SET", k1, "abc"}, {"SET", k2, "abd"}} {
			if err := b.Do(ctx, c...).Err(); err != nil {
				t.Fatal(c, err)
			}
		}
	}
	for _, tc := range []struct {
		write, args []any
	}{
		{[]any{"SADD", s2, "a"}, []any{"SINTER", s1, s2}}, {[]any{"SADD", s2, "c"}, []any{"SUNION", s1, s2}},
		{[]any{"SADD", s2, "a"}, []any{"SDIFF", s1, s2}}, {[]any{"SADD", s2, "a"}, []any{"SINTERCARD", 2, s1, s2}},
		{[]any{"ZADD", z2, 1, "c"}, []any{"ZUNION", 2, z1, z2}}, {[]any{"ZADD", z2, 1, "a"}, []any{"ZINTER", 2, z1, z2}},
		{[]any{"ZADD", z2, 1, "a"}, []any{"ZDIFF", 2, z1, z2}}, {[]any{"ZADD", z2, 1, "a"}, []any{"ZINTERCARD", 2, z1, z2}},
		{[]any{"SET", k2, "xyz"}, []any{"LCS", k1, k2}}, {[]any{"SET", k2, "xyz"}, []any{"MGET", k1, k2}},
		{[]any{"DEL", k2}, []any{"EXISTS", k1, k2}}, {[]any{"SADD", s2, "a"}, []any{"SMISMEMBER", s2, "a"}},
	} {
		reset()
		first := a.DoCache(ctx, time.Hour, tc.args...)
		if first.Err() != nil {
			t.Errorf("%v: %v", tc.args, first.Err())
			continue
		}
		bv, _ := first.Value()
		before := bv.String()
		if err := b.Do(ctx, tc.write...).Err(); err != nil {
			t.Fatal(err)
		}
		var now string
		if !redistest.Poll(time.Second, func() bool {
			nv, _ := a.DoCache(ctx, time.Hour, tc.args...).Value()
			now = nv.String()
			return now != before
		}) {
			t.Errorf("%v still %s 1s after %v", tc.args, now, tc.write)
		}
	}
}

// TestReviewCacheSameKeyOtherArgs: entries of one key with other arguments, other
// argument types, a binary key and keys built to look like another's lookup key
// never answer for each other.
func TestReviewCacheSameKeyOtherArgs(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	ctx := t.Context()
	tag := "{review:args:" + t.Name() + "}"
	h, z, s := tag+"h", tag+"z", tag+"s"
	bin := tag + "\x00\xff;1:a;"
	look := tag + "1:a;"
	for _, c := range [][]any{{"DEL", h, z, s, bin, look}, {"HSET", h, "a", "A", "b", "B"}, {"ZADD", z, 1, "m1", 2, "m2"},
		{"SET", s, "0123456789"}, {"SET", bin, "BIN"}, {"SET", look, "LOOK"}} {
		if err := a.Do(ctx, c...).Err(); err != nil {
			t.Fatal(c, err)
		}
	}
	for range 2 { // a miss, then a hit, of each
		for _, tc := range []struct {
			args []any
			want string
		}{
			{[]any{"HGET", h, "a"}, "A"}, {[]any{"HGET", h, "b"}, "B"},
			{[]any{"GETRANGE", s, 0, 1}, "01"}, {[]any{"GETRANGE", s, 2, 3}, "23"}, {[]any{"GETRANGE", s, "2", "4"}, "234"},
			{[]any{"GETRANGE", s, int64(5), int64(5)}, "5"}, {[]any{"GET", []byte(bin)}, "BIN"}, {[]any{"GET", look}, "LOOK"},
			{[]any{"get", bin}, "BIN"},
		} {
			if got, err := a.DoCache(ctx, time.Hour, tc.args...).Text(); err != nil || got != tc.want {
				t.Errorf("%q: %q %v, want %q", tc.args, got, err, tc.want)
			}
		}
		plainR, err := a.DoCache(ctx, time.Hour, "ZRANGE", z, 0, -1).Strings()
		if err != nil || len(plainR) != 2 {
			t.Errorf("ZRANGE: %q %v", plainR, err)
		}
		ws, _ := a.DoCache(ctx, time.Hour, "ZRANGE", z, 0, -1, "WITHSCORES").Value()
		if len(ws.Elems) != 2 || len(ws.Elems[0].Elems) != 2 {
			t.Errorf("ZRANGE WITHSCORES: %s", ws.String())
		}
		rev, err := a.DoCache(ctx, time.Hour, "ZRANGE", z, 0, -1, "REV").Strings()
		if err != nil || len(rev) != 2 || rev[0] != "m2" {
			t.Errorf("ZRANGE REV: %q %v", rev, err)
		}
	}
}

// TestReviewCacheBigHashInvalidationStallsReader: a hash whose fields are cached one
// HGET each; one write of the hash by another client makes a's connection reader drop
// every entry, one linear search each (internal/cache TestReviewCacheManyEntriesOfOneKey):
// meanwhile no reply on that connection is read, and a's plain GETs of another key of
// the node miss their deadline.
func TestReviewCacheBigHashInvalidationStallsReader(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 256<<20)
	b := newTestClient(t, cl, Options{})
	ctx := t.Context()
	tag := "{review:bighash:" + t.Name() + "}"
	h, probe := tag+"h", tag+"probe"
	const fields = 80_000
	b.Do(ctx, "DEL", h)
	for i := 0; i < fields; i += 1000 {
		args := []any{"HSET", h}
		for j := i; j < i+1000; j++ {
			args = append(args, "f"+strconv.Itoa(j), "v")
		}
		if err := b.Do(ctx, args...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { b.Do(context.Background(), "DEL", h) })
	if err := b.Set(ctx, probe, "p", nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 32 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < fields; i = next.Add(1) - 1 {
				if _, err := a.Cached(time.Hour).HGet(ctx, h, "f"+strconv.Itoa(int(i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("cached: %+v", a.Stats().Cache)
	// Probe a's connection to the node with plain GETs (200 ms deadline) while b writes
	// the hash once.
	timeout := 200 * time.Millisecond
	if testkit.Race {
		timeout *= 5 // the race detector slows the reader's drops ~10×
	}
	stop := make(chan struct{})
	var worst atomic.Int64
	var failed atomic.Int64
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			c, cancel := context.WithTimeout(ctx, timeout)
			start := time.Now()
			err := a.Do(c, "GET", probe).Err()
			cancel()
			if el := int64(time.Since(start)); el > worst.Load() {
				worst.Store(el)
			}
			if err != nil {
				failed.Add(1)
			}
		}
	})
	time.Sleep(50 * time.Millisecond)
	if err := b.Do(ctx, "HSET", h, "f0", "w").Err(); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, 30*time.Second, func() bool { return a.Stats().Cache.Entries == 0 }, "entries never dropped")
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("probe GETs on the node: slowest %v, %d failed", time.Duration(worst.Load()), failed.Load())
	if failed.Load() > 0 {
		t.Fatalf("%d plain GETs of another key failed (deadline %v) while the connection's reader dropped a hash's %d cached fields; slowest %v",
			failed.Load(), timeout, fields, time.Duration(worst.Load()))
	}
}

// TestReviewCacheHugeTTL: a TTL meant as "until invalidated" (math.MaxInt64, the
// largest time.Duration) overflows the entry's expiry: nothing is ever cached.
func TestReviewCacheHugeTTL(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	ctx := t.Context()
	key := "review:hugettl:" + t.Name()
	if err := a.Set(ctx, key, "v", nil); err != nil {
		t.Fatal(err)
	}
	forever := time.Duration(math.MaxInt64)
	for range 3 {
		if v, err := a.Cached(forever).Get(ctx, key); err != nil || v != "v" {
			t.Fatalf("%q %v", v, err)
		}
	}
	if st := a.Stats().Cache; st.Hits != 2 {
		t.Fatalf("3 reads with TTL MaxInt64: %+v, want 1 miss and 2 hits", st)
	}
}
