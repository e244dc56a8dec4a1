package topology

import (
	"github.com/redline-go/redline/hashslot"
)

// maxShards is the largest number of shards a Table holds: the slot array stores shard
// indices in a uint16. A real cluster has at most a few thousand nodes.
const maxShards = 1<<16 - 1

// Shard is a primary, its replicas and the slots they serve. Shards are shared by the
// tables that contain them and must not be modified.
type Shard struct {
	// Primary is the node that serves the shard's slots; never nil.
	Primary *Node
	// Replicas are the shard's replicas, in reply order. Replicas whose address is not
	// usable (port 0, out of range or missing, invalid endpoint) are left out and reported
	// by [Table.Skipped].
	Replicas []*Node
	// Ranges are the inclusive slot ranges the shard serves, sorted, adjacent ranges
	// merged; empty for a shard that serves no slot (a new or emptied primary).
	Ranges [][2]int
}

// Slots returns the number of slots s serves.
func (s *Shard) Slots() int {
	n := 0
	for _, r := range s.Ranges {
		n += r[1] - r[0] + 1
	}
	return n
}

// Table is an immutable view of a cluster's topology: which shard serves each of the
// 16,384 slots. It is safe for concurrent use; nothing it returns may be modified. A client
// swaps whole tables atomically (for example with atomic.Pointer) rather than editing one.
type Table struct {
	// slots holds, for each slot, 1 + the index in shards of the shard serving it, or 0
	// when the slot is not served.
	slots     [hashslot.Count]uint16
	shards    []*Shard
	covered   int
	primaries []*Node
	nodes     []*Node // unique addresses, primaries first
	byAddr    map[string]*Node
	source    string
	skipped   []error
}

// Shards returns the shards in reply order (for CLUSTER SLOTS, in order of first
// appearance), including those that serve no slot. The slice must not be modified.
func (t *Table) Shards() []*Shard { return t.shards }

// Slot returns the shard serving slot, or nil when no shard does or slot is not in
// 0..16383. It takes constant time and does not allocate.
func (t *Table) Slot(slot int) *Shard {
	if uint(slot) >= hashslot.Count {
		return nil
	}
	i := t.slots[slot]
	if i == 0 {
		return nil
	}
	return t.shards[i-1]
}

// Covered returns the number of slots served by some shard: 16384 for a fully covered
// cluster. Uncovered slots are allowed (a cluster being set up, or partly down).
func (t *Table) Covered() int { return t.covered }

// Primaries returns the primary of each shard, in the order of Shards. No two have the same
// address. The slice must not be modified.
func (t *Table) Primaries() []*Node { return t.primaries }

// Nodes returns every node once per address: the primaries (in the order of Shards), then
// the replicas. When two nodes of a reply share an address (a node restarted with a new ID
// while the cluster still remembers the old one), the one listed is the one NodeByAddr
// returns. The slice must not be modified.
func (t *Table) Nodes() []*Node { return t.nodes }

// NodeByAddr returns the node whose Addr is addr, or nil if there is none. A primary is
// preferred to a replica with the same address, the first of several replicas otherwise.
func (t *Table) NodeByAddr(addr string) *Node { return t.byAddr[addr] }

// Source returns the address of the node whose reply the table was built from, as given to
// ParseShards or ParseSlots.
func (t *Table) Source() string { return t.source }

// Skipped returns the entries of the reply that were left out, one error each (matching
// ErrInvalid): replicas without a usable address, and shards that serve no slot and have
// no usable primary (such as a failed node the cluster knows only by ID). A client may log
// them. The slice must not be modified.
func (t *Table) Skipped() []error { return t.skipped }

// Equal reports whether t and o route alike: each slot is served by a primary with the
// same address in both, and each shard serving slots has the same set of replica
// addresses (in any order). IDs, health, offsets, host names and shards serving no slot
// are not compared. Two nil tables are equal.
func (t *Table) Equal(o *Table) bool {
	if t == nil || o == nil {
		return t == o
	}
	if t == o {
		return true
	}
	if t.covered != o.covered {
		return false
	}
	var pa, pb uint16 // the pair of shard indices compared last
	for s := range hashslot.Count {
		a, b := t.slots[s], o.slots[s]
		if a == pa && b == pb {
			continue
		}
		pa, pb = a, b
		if a == 0 || b == 0 {
			if a != b {
				return false
			}
			continue
		}
		if !sameShard(t.shards[a-1], o.shards[b-1]) {
			return false
		}
	}
	return true
}

// sameShard reports whether a and b have primaries at the same address and the same set
// of replica addresses.
func sameShard(a, b *Shard) bool {
	if a == b {
		return true
	}
	if a.Primary.Addr != b.Primary.Addr || len(a.Replicas) != len(b.Replicas) {
		return false
	}
	if len(a.Replicas) > 16 {
		set := make(map[string]int, len(a.Replicas))
		for _, r := range a.Replicas {
			set[r.Addr]++
		}
		for _, r := range b.Replicas {
			if set[r.Addr] == 0 {
				return false
			}
			set[r.Addr]--
		}
		return true
	}
	inOrder := true
	for i, r := range a.Replicas {
		if b.Replicas[i].Addr != r.Addr {
			inOrder = false
			break
		}
	}
	if inOrder {
		return true // the usual case
	}
	// Same length, and each address of a as many times in both: the same multiset.
	for _, r := range a.Replicas {
		if count(a.Replicas, r.Addr) != count(b.Replicas, r.Addr) {
			return false
		}
	}
	return true
}

func count(nodes []*Node, addr string) int {
	n := 0
	for _, x := range nodes {
		if x.Addr == addr {
			n++
		}
	}
	return n
}
