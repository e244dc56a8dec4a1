package topology

import (
	"fmt"
	"strconv"

	"github.com/redline-go/redline/hashslot"
)

// builder collects the shards of a reply and turns them into a Table. Both parsers use
// it. Every allocation is sized by elements actually present in the reply, never by a
// number read from it.
type builder struct {
	source  string
	srcHost []byte // host of source; nil until needed or when source has none
	srcDone bool
	unit    string // "shard" (CLUSTER SHARDS) or "entry" (CLUSTER SLOTS), for messages

	nodes   []Node  // slab of nodes; its capacity is counted beforehand
	reps    []*Node // slab of replica slices
	shards  []Shard // slab of shards
	origin  []int   // per shard: its index (SHARDS) or first entry (SLOTS) in the reply
	served  []bool  // per shard: whether it has slot ranges
	dropped []bool  // per shard: left out of the table
	pending []pendingRange
	skipped []error
	scratch []byte
}

// pendingRange is a validated slot range of a shard, applied by finish.
type pendingRange struct {
	shard  int32
	lo, hi int32
}

func newBuilder(source, unit string, nShards, nNodes int) *builder {
	return &builder{
		source:  source,
		unit:    unit,
		nodes:   make([]Node, 0, nNodes),
		reps:    make([]*Node, 0, max(nNodes-nShards, 0)),
		shards:  make([]Shard, 0, nShards),
		origin:  make([]int, 0, nShards),
		served:  make([]bool, 0, nShards),
		dropped: make([]bool, 0, nShards),
	}
}

// where names shard i for messages: "shard 3" or "entry 3".
func (b *builder) where(i int) string { return b.unit + " " + strconv.Itoa(b.origin[i]) }

// sourceHost returns the host of the node that was asked, which stands for endpoints the
// reply leaves unknown, or an error when source has none.
func (b *builder) sourceHost(n *rawNode) ([]byte, error) {
	if !b.srcDone {
		b.srcHost, b.srcDone = hostOf(b.source), true
	}
	if b.srcHost == nil {
		return nil, nodeErr(n, "endpoint unknown, and the address of the node asked ("+
			strconv.Quote(b.source)+") has no host to use instead")
	}
	return b.srcHost, nil
}

// resolve fills in n.host for an unknown endpoint ("", "?" or NULL) and validates the
// address. It returns the address error, if any.
func (b *builder) resolve(n *rawNode, unknown bool) error {
	if unknown {
		h, err := b.sourceHost(n)
		if err != nil {
			return err
		}
		n.host = h
	}
	return n.checkAddr()
}

// addShard starts a shard at reply position origin with the given primary and returns its
// index.
func (b *builder) addShard(origin int, primary *rawNode) int {
	b.shards = append(b.shards, Shard{Primary: b.newNode(primary)})
	b.origin = append(b.origin, origin)
	b.served = append(b.served, false)
	b.dropped = append(b.dropped, false)
	return len(b.shards) - 1
}

// newNode allocates the Node that n describes, in the slab while it has room.
func (b *builder) newNode(n *rawNode) *Node {
	b.scratch = n.appendAddr(b.scratch[:0])
	var p *Node
	if len(b.nodes) < cap(b.nodes) {
		b.nodes = b.nodes[:len(b.nodes)+1]
		p = &b.nodes[len(b.nodes)-1]
	} else {
		p = new(Node)
	}
	n.makeNode(p, string(b.scratch))
	return p
}

// addRange records that shard i serves lo..hi, both already checked.
func (b *builder) addRange(i, lo, hi int) {
	b.pending = append(b.pending, pendingRange{int32(i), int32(lo), int32(hi)})
	b.served[i] = true
}

// skip records an entry left out of the table.
func (b *builder) skip(err error) { b.skipped = append(b.skipped, err) }

// checkRange validates a slot range read from the reply.
func checkRange(lo, hi int64) error {
	switch {
	case lo < 0 || lo >= hashslot.Count:
		return invalid("slot %d out of range 0-%d", lo, hashslot.Count-1)
	case hi < 0 || hi >= hashslot.Count:
		return invalid("slot %d out of range 0-%d", hi, hashslot.Count-1)
	case lo > hi:
		return invalid("slot range %d-%d ends before it starts", lo, hi)
	}
	return nil
}

// finish resolves primaries that share an address, fills the slot array (rejecting
// overlaps) and builds the table.
func (b *builder) finish() (*Table, error) {
	if err := b.dedupPrimaries(); err != nil {
		return nil, err
	}
	remap := make([]uint16, len(b.shards)) // 1 + index in the table, 0 when dropped
	n := 0
	for i := range b.shards {
		if !b.dropped[i] {
			n++
			if n > maxShards {
				return nil, invalid("more than %d shards", maxShards)
			}
			remap[i] = uint16(n)
		}
	}
	if n == 0 {
		if len(b.skipped) > 0 {
			return nil, fmt.Errorf("%w: every shard was left out, first because %v", ErrNoShards, b.skipped[0])
		}
		return nil, ErrNoShards
	}
	t := &Table{source: b.source, skipped: b.skipped}
	t.shards = make([]*Shard, 0, n)
	for i := range b.shards {
		if !b.dropped[i] {
			t.shards = append(t.shards, &b.shards[i])
		}
	}
	for _, r := range b.pending {
		idx := remap[r.shard]
		if idx == 0 {
			continue // never happens: only shards without slots are dropped
		}
		for s := r.lo; s <= r.hi; s++ {
			if prev := t.slots[s]; prev != 0 {
				return nil, b.overlap(int(s), t.shards[prev-1], t.shards[idx-1])
			}
			t.slots[s] = idx
		}
		t.covered += int(r.hi - r.lo + 1)
	}
	t.setRanges()
	t.index()
	return t, nil
}

func (b *builder) overlap(slot int, a, c *Shard) error {
	if a == c {
		return invalid("slot %d listed twice for %s", slot, a.Primary.Addr)
	}
	return invalid("slot %d served by both %s and %s (overlapping ranges)", slot, a.Primary.Addr, c.Primary.Addr)
}

// dedupPrimaries handles primaries with the same address. Real clusters produce them when a
// node restarts with a new ID while the others still remember the old one, which then
// serves no slot: that shard is dropped. Two shards serving slots from one address are an
// error.
func (b *builder) dedupPrimaries() error {
	seen := make(map[string]int, len(b.shards))
	for i := range b.shards {
		if b.dropped[i] {
			continue
		}
		addr := b.shards[i].Primary.Addr
		j, ok := seen[addr]
		if !ok {
			seen[addr] = i
			continue
		}
		if b.served[i] && b.served[j] {
			return invalid("%s and %s have the same primary %s", b.where(j), b.where(i), addr)
		}
		// Drop the one serving no slot; between two such, a failed one, else the later.
		drop, keep := i, j
		if b.served[i] || (!b.served[j] && b.shards[j].Primary.Failed() && !b.shards[i].Primary.Failed()) {
			drop, keep = j, i
		}
		b.dropped[drop] = true
		seen[addr] = keep
		b.skip(invalid("%s left out: its primary (ID %q) has the address of the primary of %s",
			b.where(drop), b.shards[drop].Primary.ID, b.where(keep)))
	}
	return nil
}

// setRanges computes each shard's Ranges from the slot array, in two passes so that all
// ranges share one allocation.
func (t *Table) setRanges() {
	counts := make([]int32, len(t.shards))
	total := 0
	var prev uint16
	for _, v := range t.slots {
		if v != 0 && v != prev {
			counts[v-1]++
			total++
		}
		prev = v
	}
	slab := make([][2]int, total)
	off := 0
	for i, s := range t.shards {
		c := int(counts[i])
		if c > 0 {
			s.Ranges = slab[off : off : off+c]
		} else {
			s.Ranges = nil
		}
		off += c
	}
	prev = 0
	for slot, v := range t.slots {
		if v == 0 {
			prev = 0
			continue
		}
		s := t.shards[v-1]
		if v == prev {
			s.Ranges[len(s.Ranges)-1][1] = slot
		} else {
			s.Ranges = append(s.Ranges, [2]int{slot, slot})
		}
		prev = v
	}
}

// index builds primaries, nodes and byAddr.
func (t *Table) index() {
	nNodes := len(t.shards)
	for _, s := range t.shards {
		nNodes += len(s.Replicas)
	}
	t.primaries = make([]*Node, len(t.shards))
	t.byAddr = make(map[string]*Node, nNodes)
	t.nodes = make([]*Node, 0, nNodes)
	for i, s := range t.shards {
		t.primaries[i] = s.Primary
		t.byAddr[s.Primary.Addr] = s.Primary
		t.nodes = append(t.nodes, s.Primary)
	}
	for _, s := range t.shards {
		for _, r := range s.Replicas {
			if _, ok := t.byAddr[r.Addr]; !ok {
				t.byAddr[r.Addr] = r
				t.nodes = append(t.nodes, r)
			}
		}
	}
}
