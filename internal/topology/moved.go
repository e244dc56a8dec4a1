package topology

import (
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/redline-go/redline/hashslot"
)

// WithMoved returns a copy of t in which slot is served by the primary at addr, as a MOVED
// redirection says. If addr is the primary of a shard of t, the slot joins that shard; if
// it is a replica of the shard serving slot, that replica has taken the shard over (a
// failover): it becomes the shard's primary for all its slots, the old primary one of its
// replicas; otherwise a new shard is added whose primary is addr, with no replicas (a copy of the
// node t knows at addr, such as a replica just promoted, else a node with only Addr set).
// t itself is not modified, and the copy shares all that did not change with it.
//
// addr is a "host:port"; an IPv6 host may be bracketed or not. WithMoved returns t
// unchanged when slot is not in 0..16383, when addr is not a usable address (including
// the empty host of Redis 7's "MOVED 3999 :6381", which the caller must replace with the
// host of the node that sent it), when addr already serves slot, or when t already has the
// maximum number of shards (65,535).
//
// It copies the 32 KiB slot array and the shard slice, plus the node index when a shard is
// added: cheap enough to run once per redirected slot.
func (t *Table) WithMoved(slot int, addr string) *Table {
	if uint(slot) >= hashslot.Count {
		return t
	}
	addr, ok := normalizeAddr(addr)
	if !ok {
		return t
	}
	old := int(t.slots[slot]) - 1 // -1 when uncovered
	if old >= 0 && t.shards[old].Primary.Addr == addr {
		return t
	}
	if old >= 0 {
		for r, n := range t.shards[old].Replicas {
			if n.Addr == addr {
				return t.withPromoted(old, r)
			}
		}
	}
	to := -1
	for i, p := range t.primaries {
		if p.Addr == addr {
			to = i
			break
		}
	}
	if to < 0 && len(t.shards) >= maxShards {
		return t
	}

	nt := new(Table)
	*nt = *t
	nt.shards = make([]*Shard, len(t.shards), len(t.shards)+1)
	copy(nt.shards, t.shards)
	if to < 0 {
		p := &Node{Addr: addr}
		if known := t.byAddr[addr]; known != nil {
			*p = *known
		}
		p.Role = RolePrimary
		nt.shards = append(nt.shards, &Shard{Primary: p})
		to = len(nt.shards) - 1
		nt.primaries = append(slices.Clip(t.primaries), p)
		nt.byAddr = maps.Clone(t.byAddr)
		nt.byAddr[addr] = p
		nt.nodes = make([]*Node, 0, len(t.nodes)+1)
		nt.nodes = append(nt.nodes, t.nodes[:len(t.primaries)]...)
		nt.nodes = append(nt.nodes, p)
		for _, n := range t.nodes[len(t.primaries):] {
			if n.Addr != addr {
				nt.nodes = append(nt.nodes, n)
			}
		}
	}
	if old >= 0 {
		s := *nt.shards[old]
		s.Ranges = removeSlot(s.Ranges, slot)
		nt.shards[old] = &s
	} else {
		nt.covered++
	}
	s := *nt.shards[to]
	s.Ranges = addSlot(s.Ranges, slot)
	nt.shards[to] = &s
	nt.slots[slot] = uint16(to + 1)
	return nt
}

// WithPromoted returns a copy of t in which the replica at addr has taken its shard over
// (it says it is a primary now, as after a failover): see WithMoved. It returns t itself
// when addr is not a replica in t.
func (t *Table) WithPromoted(addr string) *Table {
	for i, s := range t.shards {
		for r, n := range s.Replicas {
			if n.Addr == addr {
				return t.withPromoted(i, r)
			}
		}
	}
	return t
}

// WithReplicaOf returns a copy of t in which the node at addr, listed as the primary of a
// shard serving no slot, is a replica of the shard whose primary is at primary instead:
// what the node itself says (ROLE) while the node asked for the topology still lists it
// as a master — Redis 7.0's CLUSTER SHARDS keeps a master demoted by a failover as the
// master of a slotless shard of its own until every node has heard of the demotion. It
// returns t itself when addr is not the primary of a slotless shard of t, or primary is
// not the primary of another shard.
func (t *Table) WithReplicaOf(addr, primary string) *Table {
	from, to := -1, -1
	for i, s := range t.shards {
		switch s.Primary.Addr {
		case addr:
			if len(s.Ranges) == 0 {
				from = i
			}
		case primary:
			to = i
		}
	}
	if from < 0 || to < 0 {
		return t
	}
	moved := *t.shards[to]
	moved.Replicas = slices.Clip(moved.Replicas)
	listed := func(a string) bool {
		return slices.ContainsFunc(moved.Replicas, func(o *Node) bool { return o.Addr == a })
	}
	if !listed(addr) { // a node restarted with a new ID can be listed both ways
		n := *t.shards[from].Primary
		n.Role = RoleReplica
		moved.Replicas = append(moved.Replicas, &n)
	}
	for _, r := range t.shards[from].Replicas { // its own replicas follow it
		if r.Addr != primary && !listed(r.Addr) {
			moved.Replicas = append(moved.Replicas, r)
		}
	}

	nt := new(Table)
	*nt = *t
	nt.shards = make([]*Shard, 0, len(t.shards)-1)
	for i, s := range t.shards {
		switch i {
		case from:
		case to:
			nt.shards = append(nt.shards, &moved)
		default:
			nt.shards = append(nt.shards, s)
		}
	}
	for slot, v := range nt.slots { // the slotless shard's index is gone: the later ones shift
		if int(v) > from+1 {
			nt.slots[slot] = v - 1
		}
	}
	nt.index()
	return nt
}

// withPromoted returns a copy of t in which replica r of shard i has taken the shard over,
// as a MOVED to a replica of the slot's own shard says (a failover): it serves every slot
// of the shard, and the old primary is listed among its replicas until a refresh says
// what it became. Only one primary per shard remains, so a command sent to every primary
// never reaches the shard twice.
func (t *Table) withPromoted(i, r int) *Table {
	old := t.shards[i]
	promoted := *old.Replicas[r]
	promoted.Role = RolePrimary
	demoted := *old.Primary
	demoted.Role = RoleReplica
	reps := make([]*Node, 0, len(old.Replicas))
	for k, n := range old.Replicas {
		if k != r {
			reps = append(reps, n)
		}
	}
	reps = append(reps, &demoted)

	nt := new(Table)
	*nt = *t
	nt.shards = slices.Clone(t.shards)
	nt.shards[i] = &Shard{Primary: &promoted, Replicas: reps, Ranges: old.Ranges}
	nt.primaries = slices.Clone(t.primaries)
	nt.primaries[i] = &promoted
	nt.byAddr = maps.Clone(t.byAddr)
	nt.byAddr[promoted.Addr] = &promoted
	nt.byAddr[demoted.Addr] = &demoted
	nt.nodes = make([]*Node, 0, len(t.nodes))
	nt.nodes = append(nt.nodes, nt.primaries...)
	for _, n := range t.nodes[len(t.primaries):] {
		if n.Addr != promoted.Addr {
			nt.nodes = append(nt.nodes, n)
		}
	}
	nt.nodes = append(nt.nodes, &demoted)
	return nt
}

// normalizeAddr returns addr in the form of Node.Addr (IPv6 bracketed), or false when it
// is not a host and a port in 1..65535.
func normalizeAddr(addr string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// "::1:7000": an unbracketed IPv6 host, as older servers send in MOVED.
		i := strings.LastIndexByte(addr, ':')
		if i < 0 || strings.IndexByte(addr[:i], ':') < 0 || strings.IndexByte(addr, '[') >= 0 {
			return "", false
		}
		host, port = addr[:i], addr[i+1:]
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 || checkHost(host) != "" {
		return "", false
	}
	canon := string(appendHostPort(nil, []byte(host), int64(p)))
	if canon == addr {
		return addr, true
	}
	return canon, true
}

// removeSlot returns a new copy of the sorted ranges without slot, which one of them holds.
func removeSlot(ranges [][2]int, slot int) [][2]int {
	out := make([][2]int, 0, len(ranges)+1)
	for _, r := range ranges {
		if slot < r[0] || slot > r[1] {
			out = append(out, r)
			continue
		}
		if r[0] < slot {
			out = append(out, [2]int{r[0], slot - 1})
		}
		if slot < r[1] {
			out = append(out, [2]int{slot + 1, r[1]})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// addSlot returns a new copy of the sorted ranges with slot, which none of them holds,
// merged with its neighbours.
func addSlot(ranges [][2]int, slot int) [][2]int {
	out := make([][2]int, 0, len(ranges)+1)
	added := false
	for _, r := range ranges {
		if !added && slot < r[0] {
			out = appendMerged(out, [2]int{slot, slot})
			added = true
		}
		out = appendMerged(out, r)
	}
	if !added {
		out = appendMerged(out, [2]int{slot, slot})
	}
	return out
}

// appendMerged appends r to sorted ranges, merging it with the last one when adjacent.
func appendMerged(out [][2]int, r [2]int) [][2]int {
	if n := len(out); n > 0 && out[n-1][1]+1 == r[0] {
		out[n-1][1] = r[1]
		return out
	}
	return append(out, r)
}

// WithReplica returns a copy of t in which a copy of n, a node t does not list, is a
// replica of the shard whose primary is at primary: a master demoted by a failover, which
// CLUSTER SLOTS (Redis 6.0) leaves out of a node's reply until that node has heard of the
// demotion — it is still a master of no slot there — and which says, by ROLE, that it
// replicates primary. It returns t itself when t lists n's address, or no shard has
// primary as its primary.
func (t *Table) WithReplica(n *Node, primary string) *Table {
	if t.byAddr[n.Addr] != nil {
		return t
	}
	to := slices.IndexFunc(t.shards, func(s *Shard) bool { return s.Primary.Addr == primary })
	if to < 0 {
		return t
	}
	r := *n
	r.Role = RoleReplica
	moved := *t.shards[to]
	moved.Replicas = append(slices.Clip(moved.Replicas), &r)
	nt := new(Table)
	*nt = *t
	nt.shards = slices.Clone(t.shards)
	nt.shards[to] = &moved
	nt.index()
	return nt
}
