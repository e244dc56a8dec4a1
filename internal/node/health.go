package node

import (
	"time"

	"github.com/redline-go/redline/internal/conn"
)

// RTT returns the round-trip floor of the shared connection (see conn.Conn.RTT): how
// long a cheap command takes to be answered, leaving out the time the server spent
// executing commands. 0 when there is no shared connection yet.
func (n *Node) RTT() time.Duration {
	n.mu.Lock()
	c := n.conn
	n.mu.Unlock()
	if c == nil {
		return 0
	}
	return c.RTT()
}

// Check reports whether the node still answers, for a caller whose own (dedicated)
// connection is held by a long blocking command and cannot be asked: nil at once when
// the shared connection received something within fresh; otherwise a PING on the
// shared connection must be answered before w ends, and the error says why not (the
// node is down, the connection died, or w ended first). An error reply still means the
// server answers, and so does a reply read but held while the connection verifies
// its stream (conn.IsHeld): whichever reply it was, the node answered.
func (n *Node) Check(w *conn.Waiter, fresh time.Duration) error {
	n.mu.Lock()
	c := n.conn
	n.mu.Unlock()
	if c != nil && time.Since(c.LastRead()) < fresh {
		return nil
	}
	_, err := n.Exec(w, []any{"PING"})
	if conn.IsHeld(err) {
		return nil
	}
	return err
}
