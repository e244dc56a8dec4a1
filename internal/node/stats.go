package node

import (
	"time"
)

// Stats is a snapshot of a node.
type Stats struct {
	Addr         string
	State        State
	InFlight     int           // requests on the shared connection (queued or awaiting replies)
	Conns        int           // open connections: shared plus idle dedicated
	Dials        uint64        // connection attempts
	SharedConns  uint64        // shared connections established: changes whenever it is replaced
	DialFailures uint64        // failed attempts
	LastError    error         // the last failure (a *rerr.NodeError), nil if none
	LastErrorAt  time.Time     // when it happened
	DownSince    time.Time     // while down
	NextRetry    time.Time     // while down
	Latency      time.Duration // moving average round trip on the shared connection
	Zone         string        // availability zone ("" unknown; see Node.Zone)
}

// Stats returns a snapshot of the node.
func (n *Node) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := Stats{
		Addr:         n.addr,
		State:        n.state,
		Conns:        len(n.idle),
		Dials:        n.dials.Load(),
		SharedConns:  n.installed,
		DialFailures: n.dialFailures.Load(),
		Zone:         n.Zone(),
	}
	if n.lastErr != nil {
		s.LastError = n.lastErr
	}
	if t := n.lastErrAt.Load(); t != 0 {
		s.LastErrorAt = time.Unix(0, t)
	}
	if n.state == StateDown {
		s.DownSince, s.NextRetry = n.downSince, n.nextRetry
	}
	if c := n.conn; c != nil {
		s.Conns++
		s.InFlight = c.InFlight()
		s.Latency = c.Latency()
	}
	return s
}

// DialsInFlight returns 1 while a shared-connection attempt is in flight, else 0.
func (n *Node) DialsInFlight() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dial != nil {
		return 1
	}
	return 0
}

// Latency returns the moving average round trip of the shared connection, 0 when
// there is none yet.
func (n *Node) Latency() time.Duration {
	n.mu.Lock()
	c := n.conn
	n.mu.Unlock()
	if c == nil {
		return 0
	}
	return c.Latency()
}
