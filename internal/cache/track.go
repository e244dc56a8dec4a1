package cache

import (
	"bytes"
	"strconv"
	"sync/atomic"

	"github.com/redline-go/redline/resp"
)

// Tracker is one node's tracking state: its epoch moves when the node's tracking
// connection is lost (its invalidations with it) or the server flushed its keys, and
// every entry read from the node before that stops hitting.
type Tracker struct {
	s     *Store
	addr  string
	epoch atomicEpoch
	n     atomic.Int64 // filled entries read from the node (valid or not)
}

// Entries returns how many entries read from the node the store holds (some may be
// stale already: they are dropped when next looked up or evicted).
func (t *Tracker) Entries() int64 { return t.n.Load() }

// Tracker returns the tracker of the node at addr, made on first use: a node dropped
// from the topology and added again keeps its tracker.
func (s *Store) Tracker(addr string) *Tracker {
	if t, ok := s.trackers.Load(addr); ok { // every miss asks: no lock
		return t.(*Tracker)
	}
	t, _ := s.trackers.LoadOrStore(addr, &Tracker{s: s, addr: addr})
	return t.(*Tracker)
}

// Lost records that the node's tracking connection closed: its invalidations may have
// been lost with it.
func (t *Tracker) Lost() { t.epoch.Add(1) }

// Epoch returns the tracker's epoch (tests).
func (t *Tracker) Epoch() uint64 { return t.epoch.Load() }

var invalidateName = []byte("invalidate")

// OnPush handles a push frame from the node's tracking connection and reports
// whether it was an invalidation: ["invalidate", [key…]] drops the entries that read
// those keys; ["invalidate", null] (FLUSHALL, FLUSHDB, or the server dropping its
// tracking table) drops every entry read from this node. It runs on the
// connection's reader, in order with the replies: that order is what closes the race
// between a read and an invalidation (see Begin).
func (t *Tracker) OnPush(v resp.Value) bool {
	if len(v.Elems) != 2 || !bytes.EqualFold(v.Elems[0].Str, invalidateName) {
		return false
	}
	keys := v.Elems[1]
	if keys.Type == resp.TypeNull || len(keys.Elems) == 0 && keys.Type != resp.TypeArray {
		t.epoch.Add(1)
		t.s.flushes.Add(1)
		return true
	}
	for i := range keys.Elems {
		t.s.Invalidate(keys.Elems[i].Str)
	}
	return true
}

// AppendKey appends the lookup key of a command to dst: each argument's length and
// bytes, so that no two commands share a key. ok is false for an argument of a type
// the cache does not key on (the command is then not cached).
func AppendKey(dst []byte, args []any) ([]byte, bool) {
	for _, a := range args {
		switch x := a.(type) {
		case string:
			dst = strconv.AppendInt(dst, int64(len(x)), 10)
			dst = append(dst, ':')
			dst = append(dst, x...)
		case []byte:
			dst = strconv.AppendInt(dst, int64(len(x)), 10)
			dst = append(dst, ':')
			dst = append(dst, x...)
		case int:
			dst = append(dst, 'i')
			dst = strconv.AppendInt(dst, int64(x), 10)
		case int64:
			dst = append(dst, 'i')
			dst = strconv.AppendInt(dst, x, 10)
		case float64:
			dst = append(dst, 'f')
			dst = strconv.AppendFloat(dst, x, 'g', -1, 64)
		default:
			return dst, false
		}
		dst = append(dst, ';')
	}
	return dst, true
}
