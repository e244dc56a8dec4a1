package conn

import (
	"math/rand/v2"
	"sync"
)

// freeList recycles objects across garbage collections (the Waiters' timers): a
// sync.Pool drops what it has not handed out again within two collections, and timers
// are taken rarely (a wait that needs one). The list keeps at most freeListShards·perShard
// objects, spread over shards picked at random so that concurrent callers rarely share
// a lock; beyond that, objects are left to the collector.
type freeList[T any] struct {
	shards [freeListShards]freeShard[T]
}

const (
	freeListShards = 8
	freeListPer    = 256 // objects per shard: 2,048 in all
)

type freeShard[T any] struct {
	mu    sync.Mutex
	items []*T
	_     [40]byte // keep shards on separate cache lines
}

// get returns a recycled object, or nil when there is none.
func (f *freeList[T]) get() *T {
	i := rand.Uint32()
	for k := range uint32(freeListShards) { // a random shard first, then the others
		s := &f.shards[(i+k)%freeListShards]
		s.mu.Lock()
		if n := len(s.items); n > 0 {
			x := s.items[n-1]
			s.items[n-1] = nil
			s.items = s.items[:n-1]
			s.mu.Unlock()
			return x
		}
		s.mu.Unlock()
	}
	return nil
}

// put keeps x for reuse unless its shard is full.
func (f *freeList[T]) put(x *T) {
	s := &f.shards[rand.Uint32()%freeListShards]
	s.mu.Lock()
	if len(s.items) < freeListPer {
		if s.items == nil {
			s.items = make([]*T, 0, freeListPer)
		}
		s.items = append(s.items, x)
	}
	s.mu.Unlock()
}
