package cache

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestIndexUnderChurn: reads of overlapping keys (one key, several, many entries per
// key) filled, invalidated, evicted and closed concurrently leave the index holding
// exactly the live entries' links, each list well formed.
func TestIndexUnderChurn(t *testing.T) {
	s := New(64 << 10) // small: eviction runs too
	tr := s.Tracker("n1")
	keys := []string{"a", "b", "c", "d", "e"}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range 3000 {
				k1, k2 := keys[r.IntN(len(keys))], keys[r.IntN(len(keys))]
				switch r.IntN(4) {
				case 0:
					s.InvalidateString(k1)
				default:
					ks := []string{k1}
					if k2 != k1 {
						ks = append(ks, k2)
					}
					cmd := lookupKey(append([]any{"X", i % 50}, anys(ks)...)...)
					if f, ok := s.Begin(cmd, ks, 0, tr); ok {
						s.Fill(f, bulk(strconv.Itoa(i)), time.Hour)
					}
				}
			}
		})
	}
	wg.Wait()
	checkIndex(t, s)
	for _, k := range keys {
		s.InvalidateString(k)
	}
	if k := s.Counters(); k.Entries != 0 || k.Bytes != 0 {
		t.Fatalf("every key invalidated: %+v", k)
	}
	checkIndex(t, s)
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// checkIndex verifies that every list is well formed and holds live entries only, and
// that every live entry is in the list of each of its keys.
func checkIndex(t *testing.T, s *Store) {
	t.Helper()
	linked := map[*keyLink]bool{}
	for i := range s.shards {
		for key, head := range s.shards[i].byKey {
			if head.prev != nil {
				t.Fatalf("key %q: its head has a prev", key)
			}
			for l := head; l != nil; l = l.next {
				if !l.on || l.key != key || l.e.state.Load() == stateDead {
					t.Fatalf("key %q: a bad link (on %v, key %q, state %d)", key, l.on, l.key, l.e.state.Load())
				}
				if l.next != nil && l.next.prev != l {
					t.Fatalf("key %q: broken back link", key)
				}
				linked[l] = true
			}
		}
	}
	for i := range s.shards {
		for _, e := range s.shards[i].entries {
			for j := range e.links {
				if !linked[&e.links[j]] {
					t.Fatalf("entry %q not in the list of %q", e.cmd, e.links[j].key)
				}
			}
		}
	}
}

// TestInvalidateReturnsWhenDead: two invalidations of one key at once (the client's
// own, after its write returned, and the server's push of the same write on the
// reader): the one that finds the list detached by the other must still return only
// once the key's entries no longer hit. Here the other has just detached the list
// (and not dropped its entries yet).
func TestInvalidateReturnsWhenDead(t *testing.T) {
	s := New(1 << 20)
	tr := s.Tracker("n1")
	for i := range 4 {
		f, _ := s.Begin(lookupKey("HGET", "h", i), []string{"h"}, 0, tr)
		s.Fill(f, bulk("v"), time.Hour)
	}
	victims, _ := s.detach("h") // the other invalidation, midway
	s.InvalidateString("h")     // finds no list
	for i := range 4 {
		if _, st, _ := s.Get(lookupKey("HGET", "h", i)); st == Hit {
			t.Fatalf("HGET h %d hits after Invalidate(h) returned", i)
		}
	}
	for _, e := range victims {
		s.drop(e)
	}
	if k := s.Counters(); k.Entries != 0 {
		t.Fatalf("%+v", k)
	}
	checkIndex(t, s)
}
