package redline

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redline-go/redline/resp"
)

// The replies of the cluster commands an operator reads (CLUSTER NODES, REPLICAS,
// SLOTS, LINKS), typed.

// ClusterNodeInfo is one line of CLUSTER NODES (or CLUSTER REPLICAS): a node as the node
// that answered sees it.
type ClusterNodeInfo struct {
	ID string // the node's ID (40 hex digits)
	// Addr is the node's client address (host:port); "" for a node whose address is
	// not known yet (":0" on the line).
	Addr     string
	BusPort  int    // the cluster bus port (after "@")
	Hostname string // the announced hostname, "" for none (Redis 7.0+)
	// Aux are the line's other key=value address fields (shard-id=… on Redis 7.2+).
	Aux map[string]string
	// Flags are the node's flags: myself, master, slave, fail?, fail, handshake, noaddr,
	// nofailover ("noflags" is left out).
	Flags []string
	// PrimaryID is a replica's primary's ID; "" for a primary.
	PrimaryID string
	// PingSent is when the pending PING was sent (zero when none is); PongReceived when
	// the last PONG came back (zero when none did).
	PingSent, PongReceived time.Time
	ConfigEpoch            int64  // the node's configuration epoch
	LinkState              string // "connected" or "disconnected": the bus link to it
	// Slots are the slot ranges it serves (a primary's).
	Slots []SlotRange
	// Migrating maps a slot this node is moving out to the ID of the node it moves to;
	// Importing maps a slot moving in to the ID of the node it comes from. They are
	// listed only on the line of the answering node itself.
	Migrating, Importing map[int]string
	Raw                  string // the line as the server wrote it
}

// SlotRange is a range of hash slots, both ends included.
type SlotRange struct {
	Start, End int
}

// HasFlag reports whether the node has flag ("master", "myself", "fail"…).
func (n ClusterNodeInfo) HasFlag(flag string) bool { return slices.Contains(n.Flags, flag) }

// IsPrimary reports whether the node is a primary (flag "master").
func (n ClusterNodeInfo) IsPrimary() bool { return n.HasFlag("master") }

// ClusterSlotRange is one entry of CLUSTER SLOTS: a range of slots and the nodes that
// serve it, the primary first.
type ClusterSlotRange struct {
	Start, End int
	Nodes      []ClusterSlotNode // Nodes[0] is the primary, then its replicas
}

// ClusterSlotNode is a node of a CLUSTER SLOTS entry.
type ClusterSlotNode struct {
	// Addr is host:port, the node's preferred endpoint (an IP, a hostname, or "?" when
	// unknown: cluster-preferred-endpoint-type).
	Addr string
	ID   string // the node's ID ("" from servers before 4.0)
	// Metadata are the node's other endpoints (hostname, ip), Redis 7.0+.
	Metadata map[string]string
}

// ClusterLink is one cluster bus link of a node (CLUSTER LINKS).
type ClusterLink struct {
	Direction           string    // "to" (this node dialed) or "from" (the peer did)
	Node                string    // the peer's ID
	CreateTime          time.Time // when the link was established (to the millisecond)
	Events              string    // the events the link waits for: "r", "w" or "rw"
	SendBufferAllocated int64     // the send buffer's allocated size, in bytes
	SendBufferUsed      int64     // the part of it holding data
}

// decodeClusterNodes decodes CLUSTER NODES (and CLUSTER REPLICAS, which is an array of
// such lines): one ClusterNodeInfo per line.
func decodeClusterNodes(r Result) ([]ClusterNodeInfo, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	var lines []string
	if isList(v) { // CLUSTER REPLICAS
		for _, e := range v.Elems {
			s, err := valueText(e)
			if err != nil {
				return nil, err
			}
			lines = append(lines, s)
		}
	} else {
		s, err := valueText(v)
		if err != nil {
			return nil, err
		}
		for l := range strings.Lines(s) {
			lines = append(lines, l)
		}
	}
	out := make([]ClusterNodeInfo, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		n, err := parseClusterNode(l)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// parseClusterNode parses one line: id addr flags primary ping pong epoch link slot….
func parseClusterNode(line string) (ClusterNodeInfo, error) {
	f := strings.Fields(line)
	bad := func(why string) (ClusterNodeInfo, error) {
		return ClusterNodeInfo{}, fmt.Errorf("redline: CLUSTER NODES line %.80q: %s", line, why)
	}
	if len(f) < 8 {
		return bad("fewer than 8 fields")
	}
	n := ClusterNodeInfo{ID: f[0], LinkState: f[7], Raw: line}
	addr, rest, _ := strings.Cut(f[1], ",")
	hostport, bus, _ := strings.Cut(addr, "@")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return bad("address " + strconv.Quote(f[1]))
	}
	if port != "0" || host != "" {
		n.Addr = hostport
	}
	if bus != "" {
		if n.BusPort, err = strconv.Atoi(bus); err != nil {
			return bad("bus port " + strconv.Quote(bus))
		}
	}
	if rest != "" {
		for i, p := range strings.Split(rest, ",") {
			k, val, ok := strings.Cut(p, "=")
			switch {
			case !ok && i == 0:
				n.Hostname = p
			case ok:
				if n.Aux == nil {
					n.Aux = map[string]string{}
				}
				n.Aux[k] = val
			}
		}
	}
	for _, fl := range strings.Split(f[2], ",") {
		if fl != "" && fl != "noflags" {
			n.Flags = append(n.Flags, fl)
		}
	}
	if f[3] != "-" {
		n.PrimaryID = f[3]
	}
	ping, err1 := strconv.ParseInt(f[4], 10, 64)
	pong, err2 := strconv.ParseInt(f[5], 10, 64)
	epoch, err3 := strconv.ParseInt(f[6], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return bad("ping, pong or epoch not a number")
	}
	n.PingSent, n.PongReceived, n.ConfigEpoch = unixMilliOrZero(ping), unixMilliOrZero(pong), epoch
	for _, s := range f[8:] {
		if s[0] == '[' { // [slot->-id] migrating, [slot-<-id] importing
			body := strings.Trim(s, "[]")
			if slot, id, ok := strings.Cut(body, "->-"); ok {
				if k, err := slotNumber(slot); err == nil {
					n.Migrating = setSlotPeer(n.Migrating, k, id)
					continue
				}
			} else if slot, id, ok := strings.Cut(body, "-<-"); ok {
				if k, err := slotNumber(slot); err == nil {
					n.Importing = setSlotPeer(n.Importing, k, id)
					continue
				}
			}
			return bad("slot state " + strconv.Quote(s))
		}
		lo, hi, isRange := strings.Cut(s, "-")
		a, err := slotNumber(lo)
		b := a
		if err == nil && isRange {
			b, err = slotNumber(hi)
		}
		if err != nil || b < a {
			return bad("slot range " + strconv.Quote(s))
		}
		n.Slots = append(n.Slots, SlotRange{Start: a, End: b})
	}
	return n, nil
}

func setSlotPeer(m map[int]string, slot int, id string) map[int]string {
	if m == nil {
		m = map[int]string{}
	}
	m[slot] = id
	return m
}

// slotNumber parses a slot, 0 to 16383.
func slotNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 16383 {
		return 0, fmt.Errorf("redline: %q is not a slot", s)
	}
	return n, nil
}

// unixMilliOrZero is the time of ms milliseconds after the epoch; the zero Time for 0.
func unixMilliOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// decodeClusterSlots decodes CLUSTER SLOTS: [[start, end, [ip, port, id, {meta}]…]…].
func decodeClusterSlots(r Result) ([]ClusterSlotRange, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of slot ranges")
	}
	out := make([]ClusterSlotRange, len(v.Elems))
	for i, e := range v.Elems {
		if !isList(e) || len(e.Elems) < 3 {
			return nil, fmt.Errorf("redline: CLUSTER SLOTS entry %d is not [start, end, nodes…]", i)
		}
		a, err1 := valueInt(e.Elems[0])
		b, err2 := valueInt(e.Elems[1])
		if err1 != nil || err2 != nil || a < 0 || b < a || b > 16383 {
			return nil, fmt.Errorf("redline: CLUSTER SLOTS entry %d: a bad slot range", i)
		}
		s := ClusterSlotRange{Start: int(a), End: int(b), Nodes: make([]ClusterSlotNode, 0, len(e.Elems)-2)}
		for _, nv := range e.Elems[2:] {
			node, err := clusterSlotNode(nv)
			if err != nil {
				return nil, fmt.Errorf("redline: CLUSTER SLOTS entry %d: %w", i, err)
			}
			s.Nodes = append(s.Nodes, node)
		}
		out[i] = s
	}
	return out, nil
}

func clusterSlotNode(v resp.Value) (ClusterSlotNode, error) {
	if !isList(v) || len(v.Elems) < 2 {
		return ClusterSlotNode{}, fmt.Errorf("a node is not [ip, port, …]")
	}
	host, err1 := textOr(v.Elems[0])
	port, err2 := valueInt(v.Elems[1])
	if err1 != nil || err2 != nil {
		return ClusterSlotNode{}, fmt.Errorf("a node is not [ip, port, …]")
	}
	n := ClusterSlotNode{Addr: net.JoinHostPort(host, strconv.FormatInt(port, 10))}
	if len(v.Elems) > 2 {
		var err error
		if n.ID, err = textOr(v.Elems[2]); err != nil {
			return ClusterSlotNode{}, err
		}
	}
	if len(v.Elems) > 3 {
		err := forPairs(v.Elems[3], "a node's metadata", func(name string, val resp.Value) error {
			s, err := valueText(val)
			if err == nil {
				if n.Metadata == nil {
					n.Metadata = map[string]string{}
				}
				n.Metadata[name] = s
			}
			return err
		})
		if err != nil {
			return ClusterSlotNode{}, err
		}
	}
	return n, nil
}

// decodeClusterLinks decodes CLUSTER LINKS: an array of maps (flat arrays in RESP2).
func decodeClusterLinks(r Result) ([]ClusterLink, error) {
	v, err := r.typed()
	if err != nil {
		return nil, err
	}
	if !isList(v) {
		return nil, typeErr(v, "an array of links")
	}
	out := make([]ClusterLink, len(v.Elems))
	for i, e := range v.Elems {
		l := &out[i]
		err := forPairs(e, "a link", func(name string, val resp.Value) (err error) {
			switch name {
			case "direction":
				l.Direction, err = valueText(val)
			case "node":
				l.Node, err = valueText(val)
			case "create-time":
				var ms int64
				ms, err = valueInt(val)
				l.CreateTime = unixMilliOrZero(ms)
			case "events":
				l.Events, err = valueText(val)
			case "send-buffer-allocated":
				l.SendBufferAllocated, err = valueInt(val)
			case "send-buffer-used":
				l.SendBufferUsed, err = valueInt(val)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("redline: CLUSTER LINKS entry %d: %w", i, err)
		}
	}
	return out, nil
}
