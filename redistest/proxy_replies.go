package redistest

import (
	"net"
	"sync/atomic"
	"time"
)

// faultReply delivers one chunk of reply data to dst under a reply-fault mode
// (Dribble, ResetMidReply, CloseAfterRequest); false when the connection is over.
func (p *Proxy) faultReply(pc *proxyConn, dst net.Conn, data []byte, m Mode, counter *atomic.Int64) bool {
	switch m.kind {
	case kindCloseAfterRequest:
		pc.close(false) // the node answered; the client gets none of it
		return false
	case kindResetMidReply:
		// At most n bytes, never the whole chunk: the client holds a partial reply when
		// the reset comes. On loopback the bytes are in the client's receive queue
		// before the RST, and Linux hands them out before the reset error.
		cut := min(m.n, len(data)-1)
		counter.Add(int64(cut))
		if cut > 0 {
			dst.Write(data[:cut])
		}
		pc.close(true)
		return false
	}
	// Dribble: pieces of m.n bytes, m.delay apart, while the mode lasts; the rest at
	// once when it changes.
	for len(data) > 0 {
		size := len(data)
		if m.kind == kindDribble {
			size = min(size, m.n)
		}
		counter.Add(int64(size))
		if _, err := dst.Write(data[:size]); err != nil {
			return false
		}
		data = data[size:]
		if len(data) == 0 || m.kind != kindDribble || m.delay == 0 {
			continue
		}
		t := time.NewTimer(m.delay)
		select {
		case <-t.C:
		case <-pc.done:
			t.Stop()
			return false
		}
		m = p.Mode()
	}
	return true
}
