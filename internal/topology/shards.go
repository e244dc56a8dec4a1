package topology

import (
	"github.com/redline-go/redline/resp"
)

// ParseShards parses a CLUSTER SHARDS reply (Redis 7.0 and later), in its RESP3 form (maps)
// or its RESP2 form (flat arrays of alternating keys and values).
//
// source is the address ("host:port") of the node that answered: a node whose endpoint is
// unknown ("" or "?") is reached at the host of source. With useTLS a node's client port is
// its "tls-port" when the reply gives a non-zero one, else its "port".
//
// Shards that serve no slot are kept (Covered tells how many slots are served). Nodes are
// kept whatever their health. A replica without a usable address is left out and reported
// by [Table.Skipped]; so is a shard that serves no slot and has no usable primary. Any
// other problem is an error matching [ErrInvalid]; a reply with no shard is [ErrNoShards];
// an error reply is returned as an error wrapping its *resp.Error.
func ParseShards(v resp.Value, source string, useTLS bool) (*Table, error) {
	if v.IsError() {
		return nil, serverError(&v)
	}
	list, ok := array(&v)
	if !ok {
		return nil, invalid("CLUSTER SHARDS reply is a %s, not an array", typeName(&v))
	}
	if len(list) == 0 {
		return nil, ErrNoShards
	}
	if len(list) > maxShards {
		return nil, invalid("%d shards, more than %d", len(list), maxShards)
	}
	b := newBuilder(source, "shard", len(list), countShardNodes(list))
	for i := range list {
		if err := b.parseShard(i, &list[i], useTLS); err != nil {
			return nil, err
		}
	}
	return b.finish()
}

// countShardNodes counts the elements of the "nodes" of every shard, to size the builder's
// slab. Malformed shards count 0; parseShard reports them.
func countShardNodes(list []resp.Value) int {
	n := 0
	for i := range list {
		kv, ok := pairs(&list[i])
		if !ok {
			continue
		}
		for k := 0; k < len(kv); k += 2 {
			if key, ok := str(&kv[k]); ok && string(key) == "nodes" {
				if nodes, ok := array(&kv[k+1]); ok {
					n += len(nodes)
				}
			}
		}
	}
	return n
}

// parseShard parses shard i of the reply: a map with "slots" (start and end slots,
// alternating) and "nodes" (maps). Other keys are ignored.
func (b *builder) parseShard(i int, v *resp.Value, useTLS bool) error {
	kv, ok := pairs(v)
	if !ok {
		if v.Type == resp.TypeMap || v.Type == resp.TypeArray {
			return invalid("shard %d: odd number of map elements (%d)", i, len(v.Elems))
		}
		return invalid("shard %d is a %s, not a map", i, typeName(v))
	}
	var slotsV, nodesV *resp.Value
	for k := 0; k < len(kv); k += 2 {
		key, ok := str(&kv[k])
		if !ok {
			return invalid("shard %d: a key is a %s, not a string", i, typeName(&kv[k]))
		}
		switch string(key) {
		case "slots":
			slotsV = &kv[k+1]
		case "nodes":
			nodesV = &kv[k+1]
		}
	}
	if slotsV == nil {
		return invalid(`shard %d has no "slots"`, i)
	}
	if nodesV == nil {
		return invalid(`shard %d has no "nodes"`, i)
	}
	slots, ok := array(slotsV)
	if !ok {
		return invalid(`shard %d: "slots" is a %s, not an array`, i, typeName(slotsV))
	}
	if len(slots)%2 != 0 {
		return invalid(`shard %d: "slots" has an odd number of elements (%d)`, i, len(slots))
	}
	nodes, ok := array(nodesV)
	if !ok {
		return invalid(`shard %d: "nodes" is a %s, not an array`, i, typeName(nodesV))
	}

	var primary rawNode
	var primaryErr error
	havePrimary := false
	repStart := len(b.reps)
	for j := range nodes {
		var n rawNode
		unknown, err := parseShardNode(&nodes[j], j, useTLS, &n)
		if err != nil {
			return within(b.unit+" "+itoa(i), err)
		}
		addrErr := b.resolve(&n, unknown)
		if n.role == RolePrimary {
			if havePrimary {
				// After a failover, Valkey 8 (and Redis 7.2+) list the failed old primary
				// beside the new one until it comes back as a replica: the one the cluster
				// has not failed serves the shard. Two that are both up, or both failed,
				// are a contradiction.
				switch {
				case primary.failed() && !n.failed():
					b.skip(invalid("shard %d: primary %s left out: failed; %s serves the shard", i, primary.label(), n.label()))
					primary, primaryErr = n, addrErr
					continue
				case n.failed() && !primary.failed():
					b.skip(invalid("shard %d: primary %s left out: failed; %s serves the shard", i, n.label(), primary.label()))
					continue
				}
				return invalid("shard %d has two primaries, %s and %s", i, primary.label(), n.label())
			}
			primary, primaryErr, havePrimary = n, addrErr, true
			continue
		}
		if addrErr != nil {
			b.skip(within("shard "+itoa(i)+", replica left out", addrErr))
			continue
		}
		b.reps = append(b.reps, b.newNode(&n))
	}
	served := len(slots) > 0
	if !havePrimary || primaryErr != nil {
		b.reps = b.reps[:repStart]
		var err error
		if !havePrimary {
			err = invalid("shard %d has no primary", i)
		} else {
			err = within("shard "+itoa(i)+", primary", primaryErr)
		}
		if served {
			return err // its slots cannot be served
		}
		b.skip(within("shard "+itoa(i)+" left out (it serves no slot)", err))
		return nil
	}

	idx := b.addShard(i, &primary)
	if len(b.reps) > repStart {
		b.shards[idx].Replicas = b.reps[repStart:len(b.reps):len(b.reps)]
	}
	for k := 0; k < len(slots); k += 2 {
		lo, ok1 := integer(&slots[k])
		hi, ok2 := integer(&slots[k+1])
		if !ok1 || !ok2 {
			bad := &slots[k]
			if ok1 {
				bad = &slots[k+1]
			}
			return invalid("shard %d: a slot is a %s, not an integer", i, typeName(bad))
		}
		if err := checkRange(lo, hi); err != nil {
			return within("shard "+itoa(i), err)
		}
		b.addRange(idx, int(lo), int(hi))
	}
	return nil
}

// parseShardNode reads node j of a shard into n. unknown reports an endpoint the server
// does not know ("", "?" or null). Address problems (port, endpoint) are left to
// checkAddr; err reports a malformed node.
func parseShardNode(v *resp.Value, j int, useTLS bool, n *rawNode) (unknown bool, err error) {
	n.index = j
	kv, ok := pairs(v)
	if !ok {
		if v.Type == resp.TypeMap || v.Type == resp.TypeArray {
			return false, invalid("node #%d: odd number of map elements (%d)", j, len(v.Elems))
		}
		return false, invalid("node #%d is a %s, not a map", j, typeName(v))
	}
	var port, tlsPort int64
	haveEndpoint, haveRole := false, false
	for k := 0; k < len(kv); k += 2 {
		key, ok := str(&kv[k])
		if !ok {
			return false, invalid("node #%d: a key is a %s, not a string", j, typeName(&kv[k]))
		}
		val := &kv[k+1]
		ok, want := true, "a string"
		switch string(key) {
		case "id":
			n.id, ok = str(val)
		case "port":
			port, ok = integer(val)
			want = "an integer"
		case "tls-port":
			tlsPort, ok = integer(val)
			want = "an integer"
		case "endpoint":
			haveEndpoint = true
			if val.IsNull() {
				unknown = true
				break
			}
			var e []byte
			e, ok = str(val)
			if len(e) == 0 || string(e) == "?" {
				unknown = true
			} else {
				n.host = e
			}
		case "hostname":
			n.hostname, ok = str(val)
		case "role":
			var r []byte
			r, ok = str(val)
			switch string(r) {
			case "master", "primary":
				n.role, haveRole = RolePrimary, true
			case "replica", "slave":
				n.role, haveRole = RoleReplica, true
			default:
				if ok {
					return false, nodeErr(n, "unknown role "+quoteCut(r))
				}
			}
		case "replication-offset":
			n.offset, ok = integer(val)
			want = "an integer"
		case "health":
			var h []byte
			h, ok = str(val)
			if n.health = internHealth(h); n.health == "" {
				n.healthB = h
			}
		}
		if !ok {
			return false, nodeErr(n, quoteCut(key)+" is not "+want+" but a "+typeName(val))
		}
	}
	if !haveEndpoint {
		return false, nodeErr(n, `no "endpoint"`)
	}
	if !haveRole {
		return false, nodeErr(n, `no "role"`)
	}
	switch {
	case useTLS && tlsPort != 0:
		n.port = tlsPort
	case port != 0:
		n.port = port
	case !useTLS && tlsPort != 0:
		n.tlsOnly = tlsPort
	}
	return unknown, nil
}
