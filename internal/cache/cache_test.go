package cache

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

func bulk(s string) resp.Value { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }

func invalidation(keys ...string) resp.Value {
	arr := resp.Value{Type: resp.TypeArray}
	for _, k := range keys {
		arr.Elems = append(arr.Elems, bulk(k))
	}
	return resp.Value{Type: resp.TypePush, Elems: []resp.Value{bulk("invalidate"), arr}}
}

func flushPush() resp.Value {
	return resp.Value{Type: resp.TypePush, Elems: []resp.Value{bulk("invalidate"), {Type: resp.TypeNull}}}
}

func lookupKey(args ...any) []byte {
	k, ok := AppendKey(nil, args)
	if !ok {
		panic("not keyable")
	}
	return k
}

// read is a miss read through: Begin, then Fill with v.
func read(t *testing.T, s *Store, tr *Tracker, key, v string, ttl time.Duration) bool {
	t.Helper()
	f, leader := s.Begin(lookupKey("GET", key), []string{key}, 0, tr)
	if !leader {
		t.Fatalf("GET %s: another read in flight", key)
	}
	return s.Fill(f, bulk(v), ttl)
}

func get(s *Store, key string) (string, Status) {
	v, st, _ := s.Get(lookupKey("GET", key))
	return string(v.Str), st
}

func TestHitThenInvalidation(t *testing.T) {
	s := New(1 << 20)
	tr := s.Tracker("n1")
	if !read(t, s, tr, "k", "v1", time.Hour) {
		t.Fatal("not cached")
	}
	if v, st := get(s, "k"); st != Hit || v != "v1" {
		t.Fatalf("got %q %v", v, st)
	}
	if !tr.OnPush(invalidation("k")) {
		t.Fatal("invalidation not recognised")
	}
	if _, st := get(s, "k"); st != Miss {
		t.Fatalf("after invalidation: %v", st)
	}
	if k := s.Counters(); k.Entries != 0 || k.Bytes != 0 || k.Hits != 1 || k.Misses != 1 || k.Invalidations != 1 {
		t.Fatalf("counters %+v", k)
	}
}

// TestInvalidationBetweenSendAndFill is the classic race: the invalidation of a write
// that followed the read is processed before the reader stores the reply.
func TestInvalidationBetweenSendAndFill(t *testing.T) {
	s := New(1 << 20)
	tr := s.Tracker("n1")
	f, leader := s.Begin(lookupKey("GET", "k"), []string{"k"}, 0, tr)
	if !leader {
		t.Fatal("not leader")
	}
	tr.OnPush(invalidation("k"))
	if s.Fill(f, bulk("stale"), time.Hour) {
		t.Fatal("a reply whose key was invalidated while in flight was cached")
	}
	if _, st := get(s, "k"); st != Miss {
		t.Fatalf("got %v", st)
	}
}

func TestNodeAndSlotEvents(t *testing.T) {
	for _, tc := range []struct {
		name  string
		event func(s *Store, tr *Tracker)
	}{
		{"connection lost", func(s *Store, tr *Tracker) { tr.Lost() }},
		{"flush", func(s *Store, tr *Tracker) { tr.OnPush(flushPush()) }},
		{"slot moved", func(s *Store, tr *Tracker) { s.MoveSlot(0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(1 << 20)
			tr, other := s.Tracker("n1"), s.Tracker("n2")
			read(t, s, tr, "k", "v", time.Hour)
			f, _ := s.Begin(lookupKey("GET", "inflight"), []string{"inflight"}, 0, tr)
			// An entry of another node and slot is kept.
			f2, _ := s.Begin(lookupKey("GET", "elsewhere"), []string{"elsewhere"}, 7, other)
			s.Fill(f2, bulk("x"), time.Hour)
			tc.event(s, tr)
			if _, st := get(s, "k"); st != Miss {
				t.Fatalf("entry survived: %v", st)
			}
			if s.Fill(f, bulk("v"), time.Hour) {
				t.Fatal("a read in flight during the event was cached")
			}
			if _, st := get(s, "elsewhere"); st != Hit {
				t.Fatalf("an unrelated entry was dropped: %v", st)
			}
		})
	}
}

func TestTTL(t *testing.T) {
	s := New(1 << 20)
	tr := s.Tracker("n1")
	read(t, s, tr, "k", "v", 20*time.Millisecond)
	if _, st := get(s, "k"); st != Hit {
		t.Fatal("no hit")
	}
	time.Sleep(30 * time.Millisecond) // the TTL itself is what is tested
	if _, st := get(s, "k"); st != Miss {
		t.Fatalf("expired entry: %v", st)
	}
	if read(t, s, tr, "k0", "v", 0) {
		t.Fatal("TTL 0 (key expiring now) cached")
	}
}

func TestSingleFlight(t *testing.T) {
	s := New(1 << 20)
	tr := s.Tracker("n1")
	f, leader := s.Begin(lookupKey("GET", "k"), []string{"k"}, 0, tr)
	f2, leader2 := s.Begin(lookupKey("GET", "k"), []string{"k"}, 0, tr)
	if !leader || leader2 || f2 != f {
		t.Fatal("second Begin did not join the first")
	}
	if _, st, fl := s.Get(lookupKey("GET", "k")); st != Pending || fl != f {
		t.Fatalf("Get during the read: %v", st)
	}
	s.Fill(f, bulk("v"), time.Hour)
	<-f2.Done()
	if v, ok := s.Value(f2); !ok || string(v.Str) != "v" {
		t.Fatal("follower did not get the value")
	}
	// An aborted read releases its followers without a value.
	g, _ := s.Begin(lookupKey("GET", "j"), []string{"j"}, 0, tr)
	g2, _ := s.Begin(lookupKey("GET", "j"), []string{"j"}, 0, tr)
	s.Abort(g)
	<-g2.Done()
	if _, ok := s.Value(g2); ok {
		t.Fatal("value from an aborted read")
	}
}

func TestBudgetEviction(t *testing.T) {
	const budget = 64 << 10
	s := New(budget)
	tr := s.Tracker("n1")
	read(t, s, tr, "hot", "h", time.Hour)
	val := string(make([]byte, 1000))
	for i := range 1000 {
		read(t, s, tr, "k"+strconv.Itoa(i), val, time.Hour)
		get(s, "hot") // referenced: CLOCK keeps it
		if b := s.Counters().Bytes; b > budget {
			t.Fatalf("after %d inserts: %d bytes, budget %d", i, b, budget)
		}
	}
	k := s.Counters()
	if k.Evictions == 0 || k.Entries >= 1000 {
		t.Fatalf("no eviction: %+v", k)
	}
	if _, st := get(s, "hot"); st != Hit {
		t.Fatal("the hot entry was evicted")
	}
	// Entries are gone from the key index too: nothing is left behind.
	n := 0
	for i := range s.shards {
		n += len(s.shards[i].byKey)
	}
	if int64(n) != k.Entries {
		t.Fatalf("%d keys indexed for %d entries", n, k.Entries)
	}
	if read(t, s, tr, "huge", string(make([]byte, budget)), time.Hour) {
		t.Fatal("an entry larger than the budget was cached")
	}
}

func TestMultiKeyEntry(t *testing.T) {
	s := New(1 << 20)
	tr := s.Tracker("n1")
	cmd := lookupKey("MGET", "{t}a", "{t}b")
	f, _ := s.Begin(cmd, []string{"{t}a", "{t}b"}, 0, tr)
	s.Fill(f, resp.Value{Type: resp.TypeArray, Elems: []resp.Value{bulk("1"), bulk("2")}}, time.Hour)
	if v, st, _ := s.Get(cmd); st != Hit || len(v.Elems) != 2 || string(v.Elems[1].Str) != "2" {
		t.Fatalf("got %v %v", v, st)
	}
	tr.OnPush(invalidation("{t}b"))
	if _, st, _ := s.Get(cmd); st != Miss {
		t.Fatal("multi-key entry survived the invalidation of its second key")
	}
	for i := range s.shards {
		if len(s.shards[i].byKey) != 0 {
			t.Fatal("key index not emptied")
		}
	}
}

// TestNoHitSurvivesItsInvalidation models the server: a write bumps a key's version,
// then delivers its invalidation; readers read the version after Begin. Once a
// writer's invalidation has been handled, no hit may return an older version.
func TestNoHitSurvivesItsInvalidation(t *testing.T) {
	s := New(256 << 10)
	tr := s.Tracker("n1")
	const keys = 8
	var version, acked [keys]atomic.Int64
	var mu [keys]sync.Mutex // a write and its invalidation, in order per key (one stream)
	stop := time.Now().Add(300 * time.Millisecond)
	var wg sync.WaitGroup
	var hits, bad atomic.Int64
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for time.Now().Before(stop) {
				k := r.IntN(keys)
				mu[k].Lock()
				v := version[k].Add(1)
				tr.OnPush(invalidation(fmt.Sprint("k", k)))
				acked[k].Store(v)
				mu[k].Unlock()
			}
		}()
	}
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 2))
			for time.Now().Before(stop) {
				k := r.IntN(keys)
				key := fmt.Sprint("k", k)
				floor := acked[k].Load()
				cmd := lookupKey("GET", key)
				v, st, _ := s.Get(cmd)
				if st == Hit {
					hits.Add(1)
					if got, _ := strconv.ParseInt(string(v.Str), 10, 64); got < floor {
						bad.Add(1)
					}
					continue
				}
				f, leader := s.Begin(cmd, []string{key}, 0, tr)
				if !leader {
					continue
				}
				mu[k].Lock() // the read executes between writes
				val := version[k].Load()
				mu[k].Unlock()
				s.Fill(f, bulk(strconv.FormatInt(val, 10)), time.Hour)
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d of %d hits returned a value older than an acknowledged invalidation", bad.Load(), hits.Load())
	}
	if hits.Load() == 0 {
		t.Fatal("no hits: the test tested nothing")
	}
	t.Logf("%d hits", hits.Load())
}

func BenchmarkHit(b *testing.B) {
	s := New(1 << 20)
	tr := s.Tracker("n1")
	f, _ := s.Begin(lookupKey("GET", "k"), []string{"k"}, 0, tr)
	s.Fill(f, bulk("value"), time.Hour)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var buf [64]byte
		for pb.Next() {
			k, _ := AppendKey(buf[:0], []any{"GET", "k"})
			if _, st, _ := s.Get(k); st != Hit {
				b.Fatal("miss")
			}
		}
	})
}

// TestCloseEmptiesTheStore: Close drops every entry (and wakes a pending read's
// followers); a read in flight then caches nothing.
func TestCloseEmptiesTheStore(t *testing.T) {
	s := New(1 << 20)
	tr := s.Tracker("n1")
	for i := range 100 {
		read(t, s, tr, "k"+strconv.Itoa(i), "v", time.Hour)
	}
	f, _ := s.Begin(lookupKey("GET", "pending"), []string{"pending"}, 0, tr)
	s.Close()
	select {
	case <-f.Done():
	default:
		t.Fatal("a pending read's followers were not released")
	}
	if s.Fill(f, bulk("v"), time.Hour) {
		t.Fatal("a read in flight at Close was cached")
	}
	if read(t, s, tr, "after", "v", time.Hour) {
		t.Fatal("cached after Close")
	}
	if k := s.Counters(); k.Entries != 0 || k.Bytes != 0 {
		t.Fatalf("after Close: %+v", k)
	}
	for i := range s.shards {
		if len(s.shards[i].entries) != 0 || len(s.shards[i].byKey) != 0 || len(s.shards[i].ring) != 0 {
			t.Fatalf("shard %d not empty", i)
		}
	}
}

// TestFollowersCounted: a caller that waited for another's read counts as a hit when
// the reply was cached, as a miss when it must read it itself.
func TestFollowersCounted(t *testing.T) {
	s := New(1 << 20)
	tr := s.Tracker("n1")
	key := lookupKey("GET", "k")
	f, _ := s.Begin(key, []string{"k"}, 0, tr)
	g, leader := s.Begin(key, []string{"k"}, 0, tr)
	if leader {
		t.Fatal("two leaders")
	}
	s.Abort(f) // the leader's read failed
	<-g.Done()
	if _, ok := s.Value(g); ok {
		t.Fatal("a value from an aborted read")
	}
	f, _ = s.Begin(key, []string{"k"}, 0, tr)
	g, _ = s.Begin(key, []string{"k"}, 0, tr)
	s.Fill(f, bulk("v"), time.Hour)
	if v, ok := s.Value(g); !ok || string(v.Str) != "v" {
		t.Fatalf("follower: %q %v", v.Str, ok)
	}
	if k := s.Counters(); k.Misses != 3 || k.Hits != 1 {
		t.Fatalf("2 leaders and 2 followers (one served): %+v, want 3 misses and 1 hit", k)
	}
}
