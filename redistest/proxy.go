package redistest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is the fault-injecting TCP proxy in front of one node. The node announces the
// proxy's port to the cluster, so every client that discovers the topology connects
// through it. Its mode can be switched at any time with SetMode; a switch applies to
// new and established connections as each Mode describes.
//
// Replication between nodes also goes through the proxies (a replica connects to the
// address its master announces); the cluster bus does not.
type Proxy struct {
	addr    string // 127.0.0.1:port the proxy owns
	backend string // the node's real address
	badTLS  *tls.Config

	mu      sync.Mutex
	mode    Mode
	changed chan struct{} // closed and replaced on every mode change
	ln      net.Listener  // set while mode.listens()
	bh      *blackhole    // set while blackholed
	conns   map[*proxyConn]struct{}
	closed  bool
	wg      sync.WaitGroup

	accepted atomic.Int64
	bytesIn  atomic.Int64
	bytesOut atomic.Int64
}

// ProxyStats are the proxy's counters since it started.
type ProxyStats struct {
	Accepted int64 // connections accepted (in every mode that accepts)
	Active   int   // connections currently open through the proxy
	BytesIn  int64 // bytes forwarded from clients to the node
	BytesOut int64 // bytes forwarded from the node to clients
}

// backendDialTimeout bounds the proxy's own connection to the node.
const backendDialTimeout = 5 * time.Second

func newProxy(addr, backend string, badTLS *tls.Config) (*Proxy, error) {
	p := &Proxy{addr: addr, backend: backend, badTLS: badTLS, changed: make(chan struct{}), conns: map[*proxyConn]struct{}{}}
	if err := p.listen(); err != nil {
		return nil, err
	}
	return p, nil
}

// Addr returns the proxy's address, which the node announces.
func (p *Proxy) Addr() string { return p.addr }

// Mode returns the current mode.
func (p *Proxy) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// Stats returns a snapshot of the proxy's counters.
func (p *Proxy) Stats() ProxyStats {
	p.mu.Lock()
	active := len(p.conns)
	p.mu.Unlock()
	return ProxyStats{Accepted: p.accepted.Load(), Active: active, BytesIn: p.bytesIn.Load(), BytesOut: p.bytesOut.Load()}
}

// SetMode switches the proxy to m. When it returns, the new mode is in force for new
// connection attempts (for Blackhole: the accept queue is already full).
func (p *Proxy) SetMode(m Mode) error {
	if m.kind == kindTLSBad && p.badTLS == nil {
		return errors.New("redistest: tls-bad needs a TLS cluster (Config.TLS)")
	}
	if m.kind == kindStaleMaster && p.badTLS != nil {
		return errors.New("redistest: stale-master needs a plain (non-TLS) deployment: the proxy reads the traffic")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("redistest: proxy is closed")
	}
	if m.listens() != p.mode.listens() || m.kind == kindBlackhole || p.mode.kind == kindBlackhole {
		p.stopListeningLocked()
		var err error
		switch {
		case m.listens():
			err = p.listenLocked()
		case m.kind == kindBlackhole:
			p.bh, err = newBlackhole(p.addr)
		}
		if err != nil {
			return fmt.Errorf("redistest: proxy %s to %v: %w", p.addr, m, err)
		}
	}
	// StaleMaster's connections are served apart: entering or leaving it drops them.
	drop := m.dropsConns() || (m.kind == kindStaleMaster) != (p.mode.kind == kindStaleMaster)
	p.mode = m
	close(p.changed)
	p.changed = make(chan struct{})
	if drop {
		for pc := range p.conns {
			pc.close(m.kind == kindReset)
		}
	}
	return nil
}

// ResetConns resets every established connection (RST) without changing the mode.
func (p *Proxy) ResetConns() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pc := range p.conns {
		pc.close(true)
	}
}

// Close stops the proxy and closes every connection through it.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.stopListeningLocked()
	for pc := range p.conns {
		pc.close(false)
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

func (p *Proxy) listen() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listenLocked()
}

// listenLocked binds the proxy's port again. A port just released by a listener or a
// blackhole socket can be bound at once (SO_REUSEADDR); a short retry covers the rare
// case of a slow release.
func (p *Proxy) listenLocked() error {
	var ln net.Listener
	var err error
	for i := range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(time.Duration(i+1) * time.Millisecond)
	}
	if err != nil {
		return err
	}
	p.ln = ln
	p.wg.Add(1)
	go p.acceptLoop(ln)
	return nil
}

func (p *Proxy) stopListeningLocked() {
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	if p.bh != nil {
		p.bh.close()
		p.bh = nil
	}
}

func (p *Proxy) acceptLoop(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by stopListeningLocked or Close
		}
		p.accepted.Add(1)
		p.mu.Lock()
		m := p.mode
		p.mu.Unlock()
		switch m.kind {
		case kindReset:
			resetConn(c)
		case kindTLSBad:
			p.wg.Add(1)
			go p.serveBadTLS(c)
		case kindStaleMaster:
			p.wg.Add(1)
			go p.serveStale(c)
		default:
			p.wg.Add(1)
			go p.forward(c)
		}
	}
}

// serveBadTLS answers the client's handshake with the untrusted certificate.
func (p *Proxy) serveBadTLS(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	tc := tls.Server(c, p.badTLS)
	tc.Handshake() // the client is expected to abort it
}

// forward connects to the node and pumps data both ways under the proxy's mode.
func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.backend, backendDialTimeout)
	if err != nil {
		client.Close() // the node is down: the client sees the connection end
		return
	}
	pc := &proxyConn{client: client, server: server, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed || p.mode.dropsConns() || p.mode.kind == kindStaleMaster {
		p.mu.Unlock()
		pc.close(p.mode.kind == kindReset)
		return
	}
	p.conns[pc] = struct{}{}
	p.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pump(pc, client, server, false, &p.bytesIn) }()
	go func() { defer wg.Done(); p.pump(pc, server, client, true, &p.bytesOut) }()
	wg.Wait()
	pc.close(false)
	p.mu.Lock()
	delete(p.conns, pc)
	p.mu.Unlock()
}

// chunk is data read from one side, stamped with its arrival time.
type chunk struct {
	data []byte
	at   time.Time
}

// pump copies src to dst (replies: from the node to the client): a reader stamps chunks
// as they arrive; the writer delivers each one when the mode allows (at once, after the
// Slow delay or the Stall hold, or after a Hang or Blackhole ends), and the reply-fault
// modes cut, drop or split replies. The queue between them is bounded, so a held
// connection pushes back on its sender through TCP flow control instead of buffering
// without limit.
func (p *Proxy) pump(pc *proxyConn, src, dst net.Conn, replies bool, counter *atomic.Int64) {
	queue := make(chan chunk, 64)
	go func() {
		defer close(queue)
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case queue <- chunk{data: append([]byte(nil), buf[:n]...), at: time.Now()}:
				case <-pc.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		pc.close(false)
		for range queue { // let the reader see the close and end
		}
	}()
	for ch := range queue {
		m, ok := p.deliverWhenAllowed(pc, ch, replies)
		if !ok {
			return
		}
		if replies && m.faultsReplies() {
			if !p.faultReply(pc, dst, ch.data, m, counter) {
				return
			}
			continue
		}
		// Counted before the write: a client that has read the bytes must find them
		// counted.
		counter.Add(int64(len(ch.data)))
		if _, err := dst.Write(ch.data); err != nil {
			return
		}
	}
}

// deliverWhenAllowed waits until the mode lets ch (a reply when replies is set)
// through and returns the mode then in force; false if the connection ended.
func (p *Proxy) deliverWhenAllowed(pc *proxyConn, ch chunk, replies bool) (Mode, bool) {
	for {
		p.mu.Lock()
		m, changed := p.mode, p.changed
		p.mu.Unlock()
		var hold time.Duration
		switch {
		case m.holds():
			hold = -1 // until a mode change
		case m.kind == kindSlow:
			hold = m.delay / 2
		case m.kind == kindStall && replies:
			hold = m.delay
		case m.dropsConns():
			return m, false
		}
		var wait <-chan time.Time
		if hold >= 0 {
			d := time.Until(ch.at.Add(hold))
			if d <= 0 {
				return m, true
			}
			t := time.NewTimer(d)
			defer t.Stop()
			wait = t.C
		}
		select {
		case <-wait:
			return m, true
		case <-changed:
		case <-pc.done:
			return m, false
		}
	}
}

// proxyConn is one client connection and the proxy's connection to the node for it.
type proxyConn struct {
	client, server net.Conn
	once           sync.Once
	done           chan struct{}
}

// close closes both sides; with rst, the client side is reset instead of closed.
func (pc *proxyConn) close(rst bool) {
	pc.once.Do(func() {
		close(pc.done)
		if rst {
			resetConn(pc.client)
		} else {
			pc.client.Close()
		}
		pc.server.Close()
	})
}

// resetConn closes c with an RST instead of a FIN.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
