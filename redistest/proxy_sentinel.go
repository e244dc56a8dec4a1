package redistest

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/resp"
)

// The StaleMaster mode: the proxy in front of a Sentinel reads each request and each
// reply (RESP), and answers the primary's address with a fixed one.

// StaleMaster returns a mode for a Sentinel's proxy that makes the Sentinel report the
// primary at addr (host:port), as a Sentinel that missed a failover would: SENTINEL
// GET-MASTER-ADDR-BY-NAME is answered with addr by the proxy itself (for any name); the
// ip and port fields of SENTINEL MASTER and SENTINEL MASTERS replies are replaced by
// addr's; "+switch-master" messages to subscribers are dropped. Everything else
// passes unchanged, one request and its reply at a time (a subscribed connection's
// messages as they come). Switching to or from StaleMaster closes the proxy's
// established connections, so that clients connect again and meet the new answers.
// Plain (non-TLS) deployments only: the proxy must read the traffic.
func StaleMaster(addr string) Mode { return Mode{kind: kindStaleMaster, addr: addr} }

// Addr returns a StaleMaster mode's address, and "" for other modes.
func (m Mode) Addr() string { return m.addr }

// staleLimits bound what the StaleMaster proxy reads: Sentinel traffic is small.
var staleLimits = resp.Limits{}

// serveStale proxies one client connection under StaleMaster.
func (p *Proxy) serveStale(client net.Conn) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.backend, backendDialTimeout)
	if err != nil {
		client.Close()
		return
	}
	pc := &proxyConn{client: client, server: server, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed || p.mode.kind != kindStaleMaster {
		p.mu.Unlock()
		pc.close(false)
		return
	}
	p.conns[pc] = struct{}{}
	p.mu.Unlock()
	defer func() {
		pc.close(false)
		p.mu.Lock()
		delete(p.conns, pc)
		p.mu.Unlock()
	}()
	s := &staleConn{p: p, pc: pc, creq: resp.NewReader(client, staleLimits), srep: resp.NewReader(server, staleLimits), proto: 2}
	s.run()
}

// staleConn is one connection under StaleMaster.
type staleConn struct {
	p     *Proxy
	pc    *proxyConn
	creq  *resp.Reader // the client's requests
	srep  *resp.Reader // the Sentinel's replies
	proto int          // 2, or 3 after a successful HELLO 3

	wmu sync.Mutex // writes to the client: the request loop's and the message pump's
	buf []byte
	sub atomic.Bool // set at the first (P)SUBSCRIBE, when the message pump starts
}

func (s *staleConn) run() {
	for {
		req, err := s.creq.ReadValue()
		if err != nil || len(req.Elems) == 0 {
			return // the client left, or sent what is not a RESP command
		}
		args := make([]string, len(req.Elems))
		for i, e := range req.Elems {
			args[i] = string(e.Str)
		}
		name := strings.ToUpper(args[0])
		sub := ""
		if len(args) > 1 {
			sub = strings.ToUpper(args[1])
		}
		if name == "SENTINEL" && (sub == "GET-MASTER-ADDR-BY-NAME" || sub == "GET-PRIMARY-ADDR-BY-NAME") {
			host, port, _ := net.SplitHostPort(s.mode().addr)
			if !s.write(resp.Value{Type: resp.TypeArray, Elems: []resp.Value{bulk(host), bulk(port)}}) {
				return
			}
			continue
		}
		if !s.forward(args) {
			return
		}
		switch name {
		case "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE":
			// From here on the Sentinel sends messages unasked: a pump forwards every
			// reply, and requests pass without waiting for theirs.
			if s.sub.CompareAndSwap(false, true) {
				s.p.wg.Add(1)
				go s.pumpMessages()
			}
			continue
		}
		if s.sub.Load() {
			continue
		}
		v, err := s.srep.ReadValue()
		if err != nil {
			return
		}
		if name == "HELLO" && len(args) > 1 && !v.IsError() {
			s.proto = 2
			if args[1] == "3" {
				s.proto = 3
			}
		}
		if name == "SENTINEL" && (sub == "MASTER" || sub == "PRIMARY") {
			s.rewriteMaster(&v)
		}
		if name == "SENTINEL" && (sub == "MASTERS" || sub == "PRIMARIES") {
			for i := range v.Elems {
				s.rewriteMaster(&v.Elems[i])
			}
		}
		if !s.write(v) {
			return
		}
	}
}

// pumpMessages forwards every reply of a subscribed connection, dropping
// +switch-master messages.
func (s *staleConn) pumpMessages() {
	defer s.p.wg.Done()
	defer s.pc.close(false)
	for {
		v, err := s.srep.ReadValue()
		if err != nil {
			return
		}
		if len(v.Elems) >= 2 && strings.HasSuffix(string(v.Elems[0].Str), "message") &&
			bytes.Equal(v.Elems[len(v.Elems)-2].Str, []byte("+switch-master")) {
			continue
		}
		if !s.write(v) {
			return
		}
	}
}

// forward sends one request to the Sentinel.
func (s *staleConn) forward(args []string) bool {
	b := resp.AppendCommandStrings(nil, args...)
	s.p.bytesIn.Add(int64(len(b)))
	_, err := s.pc.server.Write(b)
	return err == nil
}

// write sends one reply to the client in the connection's protocol.
func (s *staleConn) write(v resp.Value) bool {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.proto == 3 {
		s.buf = resp.AppendValue(s.buf[:0], v)
	} else {
		s.buf = resp.AppendValueRESP2(s.buf[:0], v)
	}
	s.p.bytesOut.Add(int64(len(s.buf)))
	s.pc.client.SetWriteDeadline(time.Now().Add(backendDialTimeout))
	_, err := s.pc.client.Write(s.buf)
	return err == nil
}

// mode returns the proxy's mode now.
func (s *staleConn) mode() Mode { return s.p.Mode() }

// rewriteMaster replaces the ip and port fields of one SENTINEL MASTER reply (a flat
// array, or a RESP3 map) by the stale address.
func (s *staleConn) rewriteMaster(v *resp.Value) {
	host, port, _ := net.SplitHostPort(s.mode().addr)
	for i := 0; i+1 < len(v.Elems); i += 2 {
		switch string(v.Elems[i].Str) {
		case "ip":
			v.Elems[i+1] = bulk(host)
		case "port":
			v.Elems[i+1] = bulk(port)
		}
	}
}

func bulk(s string) resp.Value { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }
