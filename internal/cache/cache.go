// Package cache is the store behind redline's client-side caching: replies to
// read-only commands kept in process memory, bounded by a byte budget, invalidated by
// the server (RESP3 CLIENT TRACKING pushes, fed in by Tracker.OnPush).
//
// Correctness rests on four rules, each checked on every hit:
//
//   - An entry is created pending (Begin) before its read is sent, and filled (Fill)
//     only if no invalidation of its keys was processed in between: the invalidation
//     of a write that followed the read arrives on the same connection after the
//     read's reply, and kills the pending entry, so the fill fails (the classic race).
//   - Each node has a Tracker whose epoch moves when its tracking connection is lost
//     or the server flushes (an invalidation without keys): entries read from the
//     node before that no longer hit.
//   - Each slot has a generation, moved when the slot's primary changes (MOVED, a
//     refresh, a failover): entries of the slot read before that no longer hit.
//   - An entry expires at the earlier of the caller's TTL and the key's own.
//
// Entries are spread over shards by a hash of their lookup key; a hit takes its
// shard's read lock, checks the entry and sets its reference bit: no allocation, no
// write lock. Eviction is CLOCK over each shard's ring, run by the writer that takes
// the store over its budget.
package cache

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/resp"
)

// nShards is the number of shards (a power of two).
const nShards = 64

// Store is a client's cache. Safe for concurrent use.
type Store struct {
	max    int64
	bytes  atomic.Int64
	n      atomic.Int64 // filled entries
	base   time.Time    // the clock's origin (monotonic)
	seed   maphash.Seed
	hand   atomic.Uint32 // the shard eviction starts from
	shards [nShards]shard

	slotGen [hashslot.Count]atomic.Uint64

	trackers sync.Map // node address → *Tracker

	misses, evictions, invalidations, flushes atomic.Uint64

	closed atomic.Bool // Close: nothing is cached any more
}

// shard holds the entries whose lookup key hashes to it (under mu, read-locked by
// hits), and the index from a key to the entries that read it for the keys that hash
// to it (under kmu, which hits never take: an invalidation finds its entries, and
// kills them with one atomic store each, without waiting for a hit's lock — a hitting
// goroutine preempted under it would delay the invalidation by a time slice).
type shard struct {
	mu      sync.RWMutex
	entries map[string]*entry
	kmu     sync.Mutex
	byKey   map[string]*keyLink // a key → the head of its entries' list (index.go)
	ring    []*entry            // filled entries, for CLOCK
	hand    int
	hits    atomic.Uint64
	_       [64]byte // keep shards' hot fields on separate cache lines
}

// New returns a store bounded by maxBytes (> 0).
func New(maxBytes int64) *Store {
	s := &Store{max: maxBytes, base: time.Now(), seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].entries = map[string]*entry{}
		s.shards[i].byKey = map[string]*keyLink{}
	}
	return s
}

// now is the store's monotonic clock, in nanoseconds.
func (s *Store) now() int64 { return int64(time.Since(s.base)) }

func (s *Store) shardOf(b []byte) *shard {
	return &s.shards[maphash.Bytes(s.seed, b)&(nShards-1)]
}

func (s *Store) shardOfString(str string) *shard {
	return &s.shards[maphash.String(s.seed, str)&(nShards-1)]
}

// Status is the outcome of a lookup.
type Status uint8

// The outcomes of Get.
const (
	Miss    Status = iota // nothing usable: read it (Begin)
	Hit                   // the value is the cached reply
	Pending               // another caller is reading it: wait for Wait
)

// Get looks cmd up (a key built by AppendKey). A hit returns the cached reply, shared:
// the caller must not modify it. Pending returns the entry to Wait for.
func (s *Store) Get(cmd []byte) (resp.Value, Status, *Flight) {
	sh := s.shardOf(cmd)
	sh.mu.RLock()
	e := sh.entries[string(cmd)]
	sh.mu.RUnlock()
	if e == nil {
		return resp.Value{}, Miss, nil
	}
	switch e.state.Load() {
	case stateFilled:
		if s.valid(e) {
			if e.ref.Load() == 0 {
				e.ref.Store(1)
			}
			sh.hits.Add(1)
			return e.val, Hit, nil
		}
		s.kill(e)
	case statePending:
		return resp.Value{}, Pending, (*Flight)(e)
	}
	return resp.Value{}, Miss, nil
}

// Has reports whether Get would hit cmd now, without counting a hit.
func (s *Store) Has(cmd []byte) bool {
	sh := s.shardOf(cmd)
	sh.mu.RLock()
	e := sh.entries[string(cmd)]
	sh.mu.RUnlock()
	return e != nil && e.state.Load() == stateFilled && s.valid(e)
}

// valid reports whether a filled entry may be served now.
func (s *Store) valid(e *entry) bool {
	return e.tr.epoch.Load() == e.trEpoch && s.slotGen[e.slot].Load() == e.slotGen && s.now() < e.expires
}

// Flight is a read in progress: the pending entry its caller will fill.
type Flight entry

// Done is closed when the read ends (filled or not).
func (f *Flight) Done() <-chan struct{} { return f.done }

// Value returns the reply once Done is closed, if the read was cached and is still
// valid (counted as a hit: the caller waited for another's read instead of reading);
// otherwise the caller reads it itself, counted as a miss.
func (s *Store) Value(f *Flight) (resp.Value, bool) {
	e := (*entry)(f)
	if e.state.Load() == stateFilled && s.valid(e) {
		s.shardOfString(e.cmd).hits.Add(1)
		return e.val, true
	}
	s.misses.Add(1)
	return resp.Value{}, false
}

// Begin records that the caller is about to read cmd, which reads keys (of slot
// slot) from the node tracked by tr: it must then send the read and call Fill with the
// reply, or Abort. Called before the read is sent: the tracker's epoch and the slot's
// generation are taken now. When another caller is reading cmd already, Begin returns
// its Flight and false instead.
func (s *Store) Begin(cmd []byte, keys []string, slot int, tr *Tracker) (*Flight, bool) {
	e := &entry{tr: tr, trEpoch: tr.epoch.Load(), slot: slot, slotGen: s.slotGen[slot].Load(),
		done: make(chan struct{}), ring: -1}
	sh := s.shardOf(cmd)
	sh.mu.Lock()
	if old := sh.entries[string(cmd)]; old != nil {
		switch old.state.Load() {
		case statePending:
			sh.mu.Unlock()
			return (*Flight)(old), false
		case stateFilled:
			if s.valid(old) {
				sh.mu.Unlock()
				return (*Flight)(old), false // filled meanwhile: Value has it
			}
		}
		sh.mu.Unlock()
		s.kill(old)
		sh.mu.Lock()
		if sh.entries[string(cmd)] != nil { // raced with another Begin: let it read
			other := sh.entries[string(cmd)]
			sh.mu.Unlock()
			return (*Flight)(other), false
		}
	}
	e.cmd = string(cmd)
	e.links = linksOf(e, keys)
	sh.entries[e.cmd] = e
	sh.mu.Unlock()
	s.index(e)
	s.misses.Add(1)
	return (*Flight)(e), true
}

// Fill stores the reply of f's read, valid for ttl (already capped by the key's own
// TTL), unless an invalidation (or a lost connection, a flush, a slot move) came
// first; it reports whether the reply was cached. v is copied.
func (s *Store) Fill(f *Flight, v resp.Value, ttl time.Duration) bool {
	e := (*entry)(f)
	if ttl <= 0 {
		s.kill(e)
		return false
	}
	if strs, vals := valueSize(&v); int64(strs+vals*valueBytes) > s.max {
		s.kill(e) // larger than the whole budget: not even copied
		return false
	}
	val, size := cloneValue(v)
	e.val, e.size = val, size+entryOverhead+allocSize(len(e.cmd))+allocSize(len(e.links)*linkBytes)
	for i := range e.links {
		e.size += allocSize(len(e.links[i].key))
	}
	e.expires = expiry(s.now(), ttl)
	if e.size > s.max {
		s.kill(e)
		return false
	}
	sh := s.shardOfString(e.cmd)
	sh.mu.Lock()
	if s.closed.Load() { // read under the lock Close takes to sweep the shard
		sh.mu.Unlock()
		s.kill(e)
		return false
	}
	if !e.state.CompareAndSwap(statePending, stateFilled) {
		sh.mu.Unlock()
		return false // killed: its killer closed done and dropped it
	}
	e.ring = len(sh.ring)
	sh.ring = append(sh.ring, e)
	sh.mu.Unlock()
	close(e.done)
	s.n.Add(1)
	e.tr.n.Add(1)
	if s.bytes.Add(e.size) > s.max {
		s.evict()
	}
	return s.valid(e)
}

// expiry returns now+ttl, saturated (a TTL of math.MaxInt64 means "until invalidated").
func expiry(now int64, ttl time.Duration) int64 {
	if int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

// Abort ends f's read without caching it.
func (s *Store) Abort(f *Flight) { s.kill((*entry)(f)) }

// kill makes e dead and drops it from the maps, once; it reports whether this call
// did.
func (s *Store) kill(e *entry) bool {
	if !e.die() {
		return false
	}
	s.drop(e)
	return true
}

// die makes e dead (and releases the followers of a pending read); it reports
// whether this call did. Whoever did must drop it.
func (e *entry) die() bool {
	for {
		st := e.state.Load()
		if st == stateDead {
			return false
		}
		if e.state.CompareAndSwap(st, stateDead) {
			if st == statePending {
				close(e.done)
			}
			return true
		}
	}
}

// drop removes a dead entry from its shard (and ring) and from its keys' index.
func (s *Store) drop(e *entry) {
	if e.cmd == "" { // never inserted (Begin found another)
		return
	}
	sh := s.shardOfString(e.cmd)
	sh.mu.Lock()
	if sh.entries[e.cmd] == e {
		delete(sh.entries, e.cmd)
	}
	filled := e.ring >= 0
	if filled {
		last := len(sh.ring) - 1
		moved := sh.ring[last]
		sh.ring[e.ring] = moved
		moved.ring = e.ring
		sh.ring[last] = nil
		sh.ring = sh.ring[:last]
		e.ring = -1
	}
	sh.mu.Unlock()
	if filled {
		s.bytes.Add(-e.size)
		s.n.Add(-1)
		e.tr.n.Add(-1)
	}
	s.unindex(e)
}

// Invalidate drops every entry that read key (pending ones included: their read's
// reply may predate the write).
func (s *Store) Invalidate(key []byte) {
	s.InvalidateString(unsafe.String(unsafe.SliceData(key), len(key))) // not kept
}

// InvalidateString is Invalidate for a key held as a string.
func (s *Store) InvalidateString(key string) {
	victims, found := s.detach(key)
	if !found {
		return
	}
	s.invalidations.Add(1)
	for _, e := range victims {
		s.drop(e) // dead already (detach): no hit finds them once Invalidate returns
	}
}

// FlushAll makes every entry stale (the client flushed the nodes itself).
func (s *Store) FlushAll() {
	s.trackers.Range(func(_, t any) bool {
		t.(*Tracker).epoch.Add(1)
		return true
	})
	s.flushes.Add(1)
}

// Close drops every entry, pending ones included, and caches nothing from then on
// (the client closed: a closed client that is still referenced pins no memory).
func (s *Store) Close() {
	s.closed.Store(true)
	var all []*entry
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, e := range sh.entries {
			all = append(all, e)
		}
		sh.mu.Unlock()
		for _, e := range all {
			s.kill(e)
		}
		all = all[:0]
	}
}

// MoveSlot makes every entry of slot stale: its primary changed.
func (s *Store) MoveSlot(slot int) { s.slotGen[slot].Add(1) }

// evict frees entries, CLOCK order, until the store is within its budget. Bounded:
// a full sweep of every shard twice at most.
func (s *Store) evict() {
	for range 2 * nShards {
		if s.bytes.Load() <= s.max {
			return
		}
		sh := &s.shards[s.hand.Add(1)&(nShards-1)]
		for s.bytes.Load() > s.max {
			v := sh.victim()
			if v == nil {
				break
			}
			if s.kill(v) {
				s.evictions.Add(1)
			}
		}
	}
}

// victim returns the next entry CLOCK evicts from sh: the first one without its
// reference bit set, clearing the bits it passes; nil when one turn of the ring found
// every entry referenced (their second chance: the next shard is asked).
func (sh *shard) victim() *entry {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for range len(sh.ring) {
		if len(sh.ring) == 0 {
			return nil
		}
		if sh.hand >= len(sh.ring) {
			sh.hand = 0
		}
		e := sh.ring[sh.hand]
		sh.hand++
		if e.ref.Load() != 0 && e.state.Load() == stateFilled {
			e.ref.Store(0)
			continue
		}
		return e
	}
	return nil
}

// Counters are the store's figures (see redline.Stats).
type Counters struct {
	Hits, Misses, Evictions, Invalidations, Flushes uint64
	Entries, Bytes                                  int64
}

// Counters returns the store's figures.
func (s *Store) Counters() Counters {
	k := Counters{Misses: s.misses.Load(), Evictions: s.evictions.Load(), Invalidations: s.invalidations.Load(),
		Flushes: s.flushes.Load(), Entries: s.n.Load(), Bytes: s.bytes.Load()}
	for i := range s.shards {
		k.Hits += s.shards[i].hits.Load()
	}
	return k
}
