package topology

import (
	"net"
	"strconv"

	"github.com/redline-go/redline/hashslot"
)

// Single returns the table of a server that is not a cluster (a standalone server, or
// the primary a Sentinel names): one shard serving all 16,384 slots, its primary at
// primary and its replicas at replicas (none may repeat the primary or each other).
// Every address must be "host:port" with a port in 1..65535; it is kept as given, so
// that a node the client knows already under that address is the one the table names.
// Its Source is primary.
func Single(primary string, replicas []string) (*Table, error) {
	if err := checkSingleAddr(primary); err != nil {
		return nil, within("primary", err)
	}
	s := &Shard{Primary: &Node{Addr: primary, Role: RolePrimary}}
	seen := map[string]bool{primary: true}
	for i, r := range replicas {
		if err := checkSingleAddr(r); err != nil {
			return nil, within("replica "+strconv.Itoa(i), err)
		}
		if seen[r] {
			return nil, invalid("replica %d: %s is named twice", i, r)
		}
		seen[r] = true
		s.Replicas = append(s.Replicas, &Node{Addr: r, Role: RoleReplica})
	}
	t := &Table{source: primary, shards: []*Shard{s}, covered: hashslot.Count}
	for i := range t.slots {
		t.slots[i] = 1
	}
	t.setRanges()
	t.index()
	return t, nil
}

// checkSingleAddr validates a "host:port" address given to Single.
func checkSingleAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return invalid("%s is not host:port", quoteCut(addr))
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return invalid("%s: port out of range", quoteCut(addr))
	}
	if msg := checkHost(host); msg != "" {
		return invalid("%s: %s", quoteCut(addr), msg)
	}
	return nil
}
