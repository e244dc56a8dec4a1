package redistest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Topology is the cluster as one node sees it (CLUSTER NODES).
type Topology struct {
	Nodes []NodeInfo // in the order the node listed them
}

// NodeInfo is one line of CLUSTER NODES.
type NodeInfo struct {
	ID       string
	Addr     string   // announced host:port (the proxy's)
	BusPort  int      // cluster bus port
	Flags    []string // myself, master, slave, fail?, fail, handshake, noaddr, nofailover, noflags
	Role     string   // "master" or "replica"
	MasterID string   // for replicas: the master's ID
	Epoch    int64    // config epoch
	Link     string   // "connected" or "disconnected"
	Slots    [][2]int // owned slot ranges, inclusive
	Node     *Node    // the harness's node with this ID, nil if unknown
}

// HasFlag reports whether the node carries flag f.
func (e NodeInfo) HasFlag(f string) bool { return slices.Contains(e.Flags, f) }

// SlotCount returns the number of slots the node owns.
func (e NodeInfo) SlotCount() int {
	n := 0
	for _, r := range e.Slots {
		n += r[1] - r[0] + 1
	}
	return n
}

// Masters returns the entries with the master role.
func (t *Topology) Masters() []NodeInfo {
	var out []NodeInfo
	for _, e := range t.Nodes {
		if e.Role == "master" {
			out = append(out, e)
		}
	}
	return out
}

// ReplicasOf returns the replicas of the master with the given ID.
func (t *Topology) ReplicasOf(masterID string) []NodeInfo {
	var out []NodeInfo
	for _, e := range t.Nodes {
		if e.Role == "replica" && e.MasterID == masterID {
			out = append(out, e)
		}
	}
	return out
}

// ByID returns the entry with the given ID, or nil.
func (t *Topology) ByID(id string) *NodeInfo {
	for i := range t.Nodes {
		if t.Nodes[i].ID == id {
			return &t.Nodes[i]
		}
	}
	return nil
}

// OtherMaster returns the first master that is not n (a slot's destination when it is
// migrated away from n), or nil when there is none.
func (t *Topology) OtherMaster(n *Node) *Node {
	for _, m := range t.Masters() {
		if m.Node != n {
			return m.Node
		}
	}
	return nil
}

// Owner returns the master entry owning slot, or nil when no node owns it.
func (t *Topology) Owner(slot int) *NodeInfo {
	for i, e := range t.Nodes {
		if e.Role != "master" {
			continue
		}
		for _, r := range e.Slots {
			if slot >= r[0] && slot <= r[1] {
				return &t.Nodes[i]
			}
		}
	}
	return nil
}

// slotSignature is a canonical text of who owns which slots and who replicates whom,
// for comparing two nodes' views.
func (t *Topology) slotSignature() string {
	var lines []string
	for _, e := range t.Nodes {
		if e.HasFlag("fail") || e.HasFlag("handshake") || e.HasFlag("noaddr") {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %v", e.ID, e.Role, e.MasterID, e.Slots))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// Topology returns the cluster as the first running, unpaused node sees it.
func (c *Cluster) Topology(ctx context.Context) (*Topology, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	for _, n := range c.nodes {
		if n.Running() && !n.Paused() {
			return c.topologyFrom(ctx, n)
		}
	}
	return nil, fmt.Errorf("redistest: no node is running")
}

// topologyFrom asks n for CLUSTER NODES.
func (c *Cluster) topologyFrom(ctx context.Context, n *Node) (*Topology, error) {
	v, err := n.Do(ctx, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	s, err := text(v)
	if err != nil {
		return nil, err
	}
	t, err := ParseClusterNodes(s)
	if err != nil {
		return nil, fmt.Errorf("redistest: node %d: %w", n.index, err)
	}
	for i := range t.Nodes {
		t.Nodes[i].Node = c.NodeByID(t.Nodes[i].ID)
	}
	return t, nil
}

// ParseClusterNodes parses the text of a CLUSTER NODES reply.
func ParseClusterNodes(s string) (*Topology, error) {
	t := &Topology{}
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("bad CLUSTER NODES line %q", line)
		}
		e := NodeInfo{ID: f[0], Flags: strings.Split(f[2], ","), MasterID: f[3], Link: f[7]}
		addr, _, _ := strings.Cut(f[1], ",") // drop ",hostname"
		hostPort, bus, _ := strings.Cut(addr, "@")
		e.Addr = hostPort
		e.BusPort, _ = strconv.Atoi(bus)
		e.Epoch, _ = strconv.ParseInt(f[6], 10, 64)
		e.Role = "master"
		if e.HasFlag("slave") {
			e.Role = "replica"
		}
		if e.MasterID == "-" {
			e.MasterID = ""
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") { // migrating/importing marker
				continue
			}
			lo, hi, isRange := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("bad slot range %q in CLUSTER NODES line %q", r, line)
			}
			e.Slots = append(e.Slots, [2]int{a, b})
		}
		t.Nodes = append(t.Nodes, e)
	}
	return t, nil
}

// WriteTable writes the topology as a table for people: one line per node, masters
// each followed by their replicas.
func (t *Topology) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tSLOTS\tSTATE\tID")
	row := func(e NodeInfo, role string) {
		state := "ok"
		switch {
		case e.HasFlag("fail"):
			state = "fail"
		case e.HasFlag("fail?"):
			state = "pfail"
		case e.Link != "connected":
			state = e.Link
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.8s\n", e.Addr, role, formatSlots(e.Slots), state, e.ID)
	}
	masters := t.Masters()
	slices.SortFunc(masters, func(a, b NodeInfo) int { return firstSlot(a) - firstSlot(b) })
	for _, m := range masters {
		row(m, "master")
		for _, r := range t.ReplicasOf(m.ID) {
			row(r, "  replica")
		}
	}
	return tw.Flush()
}

func firstSlot(e NodeInfo) int {
	if len(e.Slots) == 0 {
		return 1 << 30
	}
	return e.Slots[0][0]
}

func formatSlots(rs [][2]int) string {
	if len(rs) == 0 {
		return "-"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		if r[0] == r[1] {
			parts[i] = strconv.Itoa(r[0])
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r[0], r[1])
		}
	}
	return strings.Join(parts, ",")
}

// clusterInfo returns CLUSTER INFO as a map.
func clusterInfo(ctx context.Context, n *Node) (map[string]string, error) {
	v, err := n.Do(ctx, "CLUSTER", "INFO")
	if err != nil {
		return nil, err
	}
	s, err := text(v)
	if err != nil {
		return nil, err
	}
	return parseInfo(s), nil
}

// parseInfo parses "key:value" lines (INFO, CLUSTER INFO).
func parseInfo(s string) map[string]string {
	m := map[string]string{}
	for line := range strings.SplitSeq(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && !strings.HasPrefix(k, "#") {
			m[k] = v
		}
	}
	return m
}
