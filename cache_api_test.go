package redline

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

func TestCacheOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Addrs: []string{"h:1"}, Protocol: 2, Cache: CacheOptions{MaxBytes: 1 << 20}}, "needs Options.Protocol 3"},
		{Options{Addrs: []string{"h:1"}, Cache: CacheOptions{MaxBytes: -1}}, "must not be negative"},
		{Options{Addrs: []string{"h:1"}, Cache: CacheOptions{Broadcast: true}}, "MaxBytes 0"},
		{Options{Addrs: []string{"h:1"}, Cache: CacheOptions{MaxBytes: 1, Prefixes: []string{"a"}}}, "for Broadcast mode"},
	} {
		_, err := NewClient(t.Context(), tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.o.Cache, err, tc.want)
		}
	}
}

func TestDoCacheRefusals(t *testing.T) {
	cl := plain(t)
	ctx := t.Context()
	off := newTestClient(t, cl, Options{})
	if err := off.DoCache(ctx, time.Minute, "GET", "k").Err(); !errors.Is(err, ErrNoCache) {
		t.Fatalf("without a cache: %v", err)
	}
	a := cachedClient(t, cl, 1<<20)
	for _, args := range [][]any{{"SET", "k", "v"}, {"SRANDMEMBER", "s"}, {"DBSIZE"}, {"BLPOP", "l", 1}, {"NOSUCHCMD", "x"}} {
		var nc *NotCacheableError
		if err := a.DoCache(ctx, time.Minute, args...).Err(); !errors.As(err, &nc) {
			t.Errorf("%v: %v, want a *NotCacheableError", args, err)
		}
	}
	if err := a.DoCache(ctx, 0, "GET", "k").Err(); err == nil {
		t.Error("TTL 0 accepted")
	}
	if err := a.DoCache(ctx, time.Minute, "MGET", "a", "b").Err(); err == nil {
		t.Error("a cross-slot MGET accepted") // cached by slot; Cached.MGet splits by key
	}
}

func TestCachedTypedReads(t *testing.T) {
	cl := plain(t)
	ctx := t.Context()
	a := cachedClient(t, cl, 1<<20)
	p := "cache:typed:" + t.Name() + ":"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.Set(ctx, p+"s", "v", nil))
	must(a.Do(ctx, "HSET", p+"h", "f1", "a", "f2", "b").Err())
	must(a.Do(ctx, "SADD", p+"set", "x", "y").Err())
	must(a.Do(ctx, "ZADD", p+"z", 1, "one", 2, "two").Err())
	must(a.Do(ctx, "RPUSH", p+"l", "1", "2", "3").Err())
	v := a.Cached(time.Minute)
	for range 2 { // a miss, then a hit: the same answers
		if s, err := v.MGet(ctx, p+"s", p+"nokey"); err != nil || len(s) != 2 || *s[0] != "v" || s[1] != nil {
			t.Fatalf("MGet: %v %v", s, err)
		}
		if n, err := v.Exists(ctx, p+"s", p+"nokey", p+"h"); err != nil || n != 2 {
			t.Fatalf("Exists: %v %v", n, err)
		}
		if s, err := v.HGet(ctx, p+"h", "f2"); err != nil || s != "b" {
			t.Fatalf("HGet: %v %v", s, err)
		}
		if m, err := v.HGetAll(ctx, p+"h"); err != nil || len(m) != 2 || m["f1"] != "a" {
			t.Fatalf("HGetAll: %v %v", m, err)
		}
		if m, err := v.HMGet(ctx, p+"h", "f1", "nof"); err != nil || m["f1"] != "a" || len(m) != 1 {
			t.Fatalf("HMGet: %v %v", m, err)
		}
		if s, err := v.SMembers(ctx, p+"set"); err != nil || len(s) != 2 {
			t.Fatalf("SMembers: %v %v", s, err)
		}
		if ok, err := v.SIsMember(ctx, p+"set", "y"); err != nil || !ok {
			t.Fatalf("SIsMember: %v %v", ok, err)
		}
		if f, err := v.ZScore(ctx, p+"z", "two"); err != nil || f != 2 {
			t.Fatalf("ZScore: %v %v", f, err)
		}
		if s, err := v.ZRange(ctx, p+"z", 0, -1); err != nil || len(s) != 2 || s[0] != "one" {
			t.Fatalf("ZRange: %v %v", s, err)
		}
		if s, err := v.LRange(ctx, p+"l", 0, -1); err != nil || len(s) != 3 {
			t.Fatalf("LRange: %v %v", s, err)
		}
		for name, f := range map[string]func(context.Context, string) (int64, error){"StrLen": v.StrLen, "HLen": v.HLen, "SCard": v.SCard, "ZCard": v.ZCard, "LLen": v.LLen} {
			key := map[string]string{"StrLen": "s", "HLen": "h", "SCard": "set", "ZCard": "z", "LLen": "l"}[name]
			if n, err := f(ctx, p+key); err != nil || n == 0 {
				t.Fatalf("%s: %v %v", name, n, err)
			}
		}
	}
	if st := a.Stats().Cache; st.Hits == 0 || st.Misses == 0 {
		t.Fatalf("%+v", st)
	}
	// A write through the same client invalidates too.
	must(a.Do(ctx, "HSET", p+"h", "f2", "c").Err())
	waitFreshH := func() bool { s, _ := v.HGet(ctx, p+"h", "f2"); return s == "c" }
	for i := 0; !waitFreshH(); i++ {
		if i > 100 {
			t.Fatal("own write not seen")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCacheHooksSeeHits(t *testing.T) {
	cl := plain(t)
	ctx := t.Context()
	var ends []CommandEnd
	a := newTestClient(t, cl, Options{Cache: CacheOptions{MaxBytes: 1 << 20},
		Hooks: Hooks{AfterCommand: func(_ context.Context, e CommandEnd) { ends = append(ends, e) }}})
	key := "cache:hooks:" + t.Name()
	a.Set(ctx, key, "v", nil)
	ends = nil
	a.Cached(time.Minute).Get(ctx, key)
	a.Cached(time.Minute).Get(ctx, key)
	if len(ends) != 2 || ends[0].CacheHit || !ends[1].CacheHit || ends[0].Name != "get" || ends[0].Node == "" {
		t.Fatalf("hooks saw %+v", ends)
	}
}

func TestCacheBroadcastMode(t *testing.T) {
	cl := plain(t)
	ctx := t.Context()
	a := newTestClient(t, cl, Options{Cache: CacheOptions{MaxBytes: 1 << 20, Broadcast: true, Prefixes: []string{"bc:"}}})
	b := newTestClient(t, cl, Options{})
	key, other := "bc:"+t.Name(), "nbc:"+t.Name()
	b.Set(ctx, key, "v1", nil)
	b.Set(ctx, other, "w1", nil)
	// a's connections track every bc: key from their handshake on: the invalidation of
	// b's write may still be on its way and spoil the first read's caching.
	redistest.Eventually(t, time.Second, func() bool {
		hits := a.Stats().Cache.Hits
		mustCached(t, a, key, "v1")
		return a.Stats().Cache.Hits > hits
	}, "the prefixed key is never served from the cache")
	hits := a.Stats().Cache.Hits
	mustCached(t, a, other, "w1")
	mustCached(t, a, other, "w1") // outside the prefixes: sent, not cached
	if got := a.Stats().Cache.Hits - hits; got != 0 {
		t.Fatalf("%d hits of a key outside the prefixes", got)
	}
	b.Set(ctx, key, "v2", nil)
	waitFresh(t, a, key, "v2", time.Second)
	b.Set(ctx, other, "w2", nil)
	mustCached(t, a, other, "w2")
}

func TestCachedMGetAcrossSlots(t *testing.T) {
	cl := plain(t)
	ctx := t.Context()
	a := cachedClient(t, cl, 1<<20)
	var keys []string
	for i := range 40 {
		k := "cache:mget:" + t.Name() + ":" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		keys = append(keys, k)
		if i%4 != 0 { // every fourth key missing
			if err := a.Set(ctx, k, k, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	for round := range 2 {
		vals, err := a.Cached(time.Minute).MGet(ctx, keys...)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if (i%4 == 0) != (v == nil) || v != nil && *v != keys[i] {
				t.Fatalf("round %d key %d: %v", round, i, v)
			}
		}
	}
	// The 10 missing keys are read each round, never cached.
	if st := a.Stats().Cache; st.Misses != 50 || st.Hits < 30 {
		t.Fatalf("%+v: want 40 misses then 30 hits and 10 misses (missing keys)", st)
	}
}

func TestDoCacheServerErrorIsTheAnswer(t *testing.T) {
	cl := plain(t)
	ctx := t.Context()
	a := cachedClient(t, cl, 1<<20)
	key := "cache:wrongtype:" + t.Name()
	if err := a.Do(ctx, "RPUSH", key, "x").Err(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := a.Cached(time.Minute).Get(ctx, key); err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
			t.Fatalf("err %v, want WRONGTYPE", err)
		}
	}
	if st := a.Stats().Cache; st.Entries != 0 || st.Hits != 0 {
		t.Fatalf("an error reply was cached: %+v", st)
	}
}

// TestCacheReadsItsOwnWrites: a write through the caching client reaches the node on
// the connection that tracks its key, and the server sends the invalidation before the
// write's reply: once the write returns, no read of the client returns the old value.
func TestCacheReadsItsOwnWrites(t *testing.T) {
	cl := plain(t)
	a := cachedClient(t, cl, 1<<20)
	ctx := t.Context()
	key := "cache:ryw:" + t.Name()
	for i := range 300 {
		want := strconv.Itoa(i)
		if err := a.Set(ctx, key, want, nil); err != nil {
			t.Fatal(err)
		}
		if v, err := a.Cached(time.Hour).Get(ctx, key); err != nil || v != want {
			t.Fatalf("write %d: cached read %q, %v", i, v, err)
		}
	}
}
