package topology

import (
	"github.com/redline-go/redline/resp"
)

// ParseSlots parses a CLUSTER SLOTS reply (Redis 3.0 and later; deprecated since 7.0 in
// favour of CLUSTER SHARDS), RESP2 or RESP3. Each entry is [start, end, primary,
// replica...], each node [endpoint, port, id?, metadata?] (metadata a map, or a flat
// array in RESP2, of which "hostname" is kept). Further elements are ignored.
//
// Entries with the same primary (by ID, or by address when the reply has no IDs) form one
// shard; its replicas are those of its first entry. A NULL, "" or "?" endpoint means the
// host of source, the address ("host:port") of the node that answered.
//
// The port a node reports is the one for the kind of connection that asked (its TLS port
// when asked over TLS), so useTLS changes nothing; it is there for symmetry with
// ParseShards. Nodes have no Health or Offset. Errors are as for ParseShards: an empty
// reply (no slot assigned in the cluster) is [ErrNoShards].
func ParseSlots(v resp.Value, source string, useTLS bool) (*Table, error) {
	_ = useTLS
	if v.IsError() {
		return nil, serverError(&v)
	}
	list, ok := array(&v)
	if !ok {
		return nil, invalid("CLUSTER SLOTS reply is a %s, not an array", typeName(&v))
	}
	if len(list) == 0 {
		return nil, ErrNoShards
	}
	nNodes := 0
	for i := range list {
		if e, ok := array(&list[i]); ok && len(e) > 2 {
			nNodes += len(e) - 2
		}
	}
	b := newBuilder(source, "entry", min(len(list), maxShards+1), nNodes)
	shardOf := make(map[string]int) // primary ID (or address) -> shard index
	for i := range list {
		if err := b.parseEntry(i, &list[i], shardOf); err != nil {
			return nil, err
		}
	}
	return b.finish()
}

// parseEntry parses entry i: [start, end, primary, replica...].
func (b *builder) parseEntry(i int, v *resp.Value, shardOf map[string]int) error {
	e, ok := array(v)
	if !ok {
		return invalid("entry %d is a %s, not an array", i, typeName(v))
	}
	if len(e) < 3 {
		return invalid("entry %d has %d elements, not at least 3 (start, end, primary)", i, len(e))
	}
	lo, ok1 := integer(&e[0])
	hi, ok2 := integer(&e[1])
	if !ok1 || !ok2 {
		bad := &e[0]
		if ok1 {
			bad = &e[1]
		}
		return invalid("entry %d: a slot is a %s, not an integer", i, typeName(bad))
	}
	if err := checkRange(lo, hi); err != nil {
		return within("entry "+itoa(i), err)
	}
	where := "entry " + itoa(i) + " (slots " + itoa(int(lo)) + "-" + itoa(int(hi)) + ")"

	var p rawNode
	p.role = RolePrimary
	unknown, err := parseSlotsNode(&e[2], 0, &p)
	if err == nil {
		err = b.resolve(&p, unknown)
	}
	if err != nil {
		return within(where+", primary", err)
	}
	b.scratch = p.appendAddr(b.scratch[:0]) // overwritten by newNode below
	key := b.scratch
	if len(p.id) > 0 {
		key = p.id
	}
	idx, seen := shardOf[string(key)] // no allocation for a lookup
	if seen {
		if prim := b.shards[idx].Primary; prim.Addr != string(b.scratch) {
			return invalid("%s: primary %s is at %s, but at %s in %s",
				where, printable(p.id), printable(b.scratch), prim.Addr, b.where(idx))
		}
	}
	repStart := len(b.reps)
	for j := 3; j < len(e); j++ {
		var r rawNode
		r.role = RoleReplica
		unknown, err := parseSlotsNode(&e[j], j-2, &r)
		if err != nil {
			return within(where, err)
		}
		if err := b.resolve(&r, unknown); err != nil {
			if !seen {
				b.skip(within(where+", replica left out", err))
			}
			continue
		}
		if !seen { // the replicas of later entries of the same shard are only checked
			b.reps = append(b.reps, b.newNode(&r))
		}
	}
	if !seen {
		idx = b.addShard(i, &p)
		prim := b.shards[idx].Primary
		if prim.ID != "" {
			shardOf[prim.ID] = idx
		} else {
			shardOf[prim.Addr] = idx
		}
		if len(b.reps) > repStart {
			b.shards[idx].Replicas = b.reps[repStart:len(b.reps):len(b.reps)]
		}
	}
	b.addRange(idx, int(lo), int(hi))
	return nil
}

// parseSlotsNode reads a node of CLUSTER SLOTS, [endpoint, port, id?, metadata?], into n.
// unknown reports an endpoint the server does not know (NULL, "" or "?").
func parseSlotsNode(v *resp.Value, j int, n *rawNode) (unknown bool, err error) {
	n.index = j
	e, ok := array(v)
	if !ok {
		return false, invalid("node #%d is a %s, not an array", j, typeName(v))
	}
	if len(e) < 2 {
		return false, invalid("node #%d has %d elements, not at least 2 (endpoint, port)", j, len(e))
	}
	if e[0].IsNull() {
		unknown = true
	} else {
		h, ok := str(&e[0])
		if !ok {
			return false, invalid("node #%d: the endpoint is a %s, not a string", j, typeName(&e[0]))
		}
		if len(h) == 0 || string(h) == "?" {
			unknown = true
		} else {
			n.host = h
		}
	}
	if n.port, ok = integer(&e[1]); !ok {
		return false, invalid("node #%d: the port is a %s, not an integer", j, typeName(&e[1]))
	}
	if len(e) > 2 && !e[2].IsNull() {
		if n.id, ok = str(&e[2]); !ok {
			return false, nodeErr(n, "the ID is a "+typeName(&e[2])+", not a string")
		}
	}
	if len(e) > 3 {
		kv, ok := pairs(&e[3])
		if !ok {
			return false, nodeErr(n, "the metadata is a "+typeName(&e[3])+" (or odd-sized), not a map")
		}
		for k := 0; k < len(kv); k += 2 {
			key, ok := str(&kv[k])
			if !ok {
				return false, nodeErr(n, "a metadata key is a "+typeName(&kv[k])+", not a string")
			}
			if string(key) == "hostname" {
				if n.hostname, ok = str(&kv[k+1]); !ok {
					return false, nodeErr(n, "the hostname is a "+typeName(&kv[k+1])+", not a string")
				}
			}
		}
	}
	return unknown, nil
}
