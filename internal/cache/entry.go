package cache

import (
	"sync/atomic"

	"github.com/redline-go/redline/resp"
)

// The states of an entry. An entry is created pending by the caller that reads the
// value from the server (Begin), becomes filled when that caller stores the reply
// (Fill), and dead when it is invalidated, evicted, expired or aborted. A dead entry
// never comes back: a new read makes a new entry.
const (
	statePending int32 = iota
	stateFilled
	stateDead
)

// entry is one cached reply: the reply to one command (its arguments joined: cmd),
// which read keys. It is valid while it is filled, its node's tracking epoch and its
// slot's generation are those seen when its read was sent, and it has not expired.
type entry struct {
	cmd     string    // the lookup key (the command's arguments, see AppendKey)
	links   []keyLink // the keys it read (index.go): an invalidation of any drops it
	tr      *Tracker  // the node it was read from
	trEpoch uint64    // tr's epoch before the read was sent
	slot    int
	slotGen uint64 // the slot's generation before the read was sent

	state atomic.Int32
	ref   atomic.Uint32 // CLOCK's reference bit, set by hits
	done  chan struct{} // closed when the entry leaves pending

	// Set by Fill before the entry becomes filled; read only once it is.
	val     resp.Value
	expires int64 // Store clock nanos
	size    int64 // bytes charged to the budget

	ring int // index in its shard's ring (-1: not in it); under the shard's lock
}

// entryOverhead is what an entry costs beyond its strings, key links and value's
// copy: the entry (232 bytes, a 240-byte allocation, its top-level value inline), its
// done channel (96), and its slots in the shard's map, in its keys' index map and in
// the ring (slots of 24-25 bytes in maps between 7/16 and 7/8 full, a ring slice
// doubling: ~120 on average). Measured with 10,000 to 100,000 GETs of values of 8 to
// 5,000 bytes: the heap kept is 0.94-1.02× what is charged (it was 1.09-1.40×
// before these figures); TestReviewCacheBudgetIsMemory checks it.
const entryOverhead = 240 + 96 + 128

// linkBytes is what one keyLink takes (unsafe.Sizeof on 64-bit).
const linkBytes = 48

// valueBytes is what one resp.Value takes (unsafe.Sizeof on 64-bit).
const valueBytes = 120

// allocSize is what the heap takes for an allocation of n bytes: n rounded up to
// its size class (Go's classes are 8 and 16 bytes apart up to 128 bytes, at most
// 128 apart up to 1 KiB, and waste at most 1/8 up to 32 KiB; larger ones take
// whole 8 KiB pages), over-estimated a little rather than under.
func allocSize(n int) int64 {
	switch {
	case n == 0:
		return 0
	case n <= 8:
		return 8
	case n <= 128:
		return int64(n+15) &^ 15
	case n <= 1024:
		return int64(n+127) &^ 127
	case n <= 32<<10:
		return int64(n+n/8+63) &^ 63
	default:
		return int64(n+8191) &^ 8191
	}
}

// valueSize is the memory a value copied by cloneValue takes.
func valueSize(v *resp.Value) (strs, vals int) {
	strs = len(v.Str) + len(v.Format)
	for i := range v.Elems {
		s, n := valueSize(&v.Elems[i])
		strs += s
		vals += n + 1
	}
	return strs, vals
}

// cloneValue copies v into two allocations of its own (one for every string, one for
// every nested value), so that a cached reply shares nothing with the reply buffers
// it came from and its size is what it costs. Attributes are dropped.
func cloneValue(v resp.Value) (resp.Value, int64) {
	strs, vals := valueSize(&v)
	buf := make([]byte, 0, strs)
	var elems []resp.Value
	if vals > 0 {
		elems = make([]resp.Value, 0, vals)
	}
	out := copyInto(v, &buf, &elems)
	return out, allocSize(strs) + allocSize(vals*valueBytes) // the top-level value is in the entry
}

func copyInto(v resp.Value, buf *[]byte, elems *[]resp.Value) resp.Value {
	out := resp.Value{Type: v.Type, Int: v.Int, Float: v.Float, Format: v.Format, Err: v.Err}
	if v.Str != nil {
		start := len(*buf)
		*buf = append(*buf, v.Str...)
		out.Str = (*buf)[start:len(*buf):len(*buf)]
	}
	if v.Elems != nil {
		start := len(*elems)
		*elems = (*elems)[:start+len(v.Elems)] // capacity reserved by cloneValue
		kids := (*elems)[start : start+len(v.Elems) : start+len(v.Elems)]
		for i := range v.Elems {
			kids[i] = copyInto(v.Elems[i], buf, elems)
		}
		out.Elems = kids
	}
	return out
}

// atomicEpoch is a tracker's epoch.
type atomicEpoch = atomic.Uint64
