// Package fakeserver is the one in-memory Redis server of the project's tests, built on
// the resp codec. Its Server serves connections over net.Pipe (Dial), loopback listeners
// (Listen, ListenAddr) or listeners of the caller's (Serve), and answers each command
// with a handler:
//
//   - a Handler (New) sees a command's arguments as strings and replies when and how it
//     likes (Conn.Reply, Conn.WriteRaw, from any goroutine, or never): scripted replies,
//     delays, pushes, desync and hostile frames for unit tests of the connection layer;
//   - an AppendHandler (NewAppend) appends its reply to a buffer, and the replies of
//     pipelined commands go out in one write: the fast path redistest.FakeCluster builds
//     a simulated cluster of thousands of nodes on.
//
// It is a test tool; behaviour against real servers is tested on redis-server itself.
package fakeserver

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/resp"
)

// Handler answers one command on a connection. The default handler (nil) answers
// HELLO, PING, ECHO, GET, SET, AUTH (password "secret"), CLIENT, READONLY, READWRITE and
// QUIT like Redis does. A handler that returns false lets the default handler answer.
type Handler func(c *Conn, args []string) bool

// AppendHandler answers one command by appending its reply to out and returning the
// extended buffer (the server writes it, batching the replies of pipelined commands).
// args alias the server's read buffer: valid only during the call. An AppendHandler
// must not call c.Reply or c.WriteRaw.
type AppendHandler func(c *Conn, args [][]byte, out []byte) []byte

// Small buffers: a server may hold tens of thousands of connections. Commands are
// small; lines longer than the buffer are still read.
const (
	readBuf  = 1 << 10
	keepOut  = 64 << 10 // largest reply buffer kept between writes
	maxBatch = 64 << 10 // write pipelined replies once this many bytes wait
)

// Server is a fake Redis server.
type Server struct {
	handler Handler
	append  AppendHandler
	// Proto2Only makes HELLO unknown to the default handler, as on Redis before 6.
	Proto2Only bool

	mu     sync.Mutex
	data   map[string]string
	conns  map[*Conn]struct{}
	lns    []net.Listener
	closed bool
	done   chan struct{} // closed by Close
	wg     sync.WaitGroup

	accepted atomic.Int64
	commands atomic.Int64
}

// New returns a server answering with h (nil for the default behaviour).
func New(h Handler) *Server {
	return &Server{handler: h, data: map[string]string{}, conns: map[*Conn]struct{}{}, done: make(chan struct{})}
}

// NewAppend returns a server answering every command with h.
func NewAppend(h AppendHandler) *Server {
	s := New(nil)
	s.append = h
	return s
}

// Dial is a DialContext for conn.Options: it returns the client end of a net.Pipe
// whose server end this server serves.
func (s *Server) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	client, server := net.Pipe()
	s.serve(server)
	return client, nil
}

// Listen serves on a loopback TCP listener and returns its address.
func (s *Server) Listen() (string, error) { return s.ListenAddr("127.0.0.1:0") }

// ListenAddr serves on a TCP listener at addr and returns its address.
func (s *Server) ListenAddr(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.Serve(ln)
	return ln.Addr().String(), nil
}

// Serve accepts connections on ln, in a goroutine of its own, until Close (which
// closes ln). A temporary failure to accept (too many open files) is retried after a
// pause rather than in a spin.
func (s *Server) Serve(ln net.Listener) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return
	}
	s.lns = append(s.lns, ln)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err == nil {
				s.serve(nc)
				continue
			}
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				continue
			case errors.Is(err, net.ErrClosed):
				return
			}
			t := time.NewTimer(5 * time.Millisecond) // EMFILE and friends
			select {
			case <-s.done:
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
}

// serve starts serving nc, unless the server is closed.
func (s *Server) serve(nc net.Conn) {
	c := &Conn{s: s, nc: nc, Proto: 2}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.accepted.Add(1)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			nc.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
		c.loop()
	}()
}

// loop reads commands and answers them until the connection fails or closes.
func (c *Conn) loop() {
	s := c.s
	rd := resp.NewReaderSize(c.nc, readBuf, resp.Limits{})
	raw := make([][]byte, 0, 8)
	for {
		v, err := rd.ReadValue()
		if err != nil {
			return
		}
		s.commands.Add(1)
		if v.Type != resp.TypeArray || len(v.Elems) == 0 {
			if c.WriteRaw([]byte("-ERR Protocol error: expected a command array\r\n")) != nil {
				return
			}
			continue
		}
		if s.append == nil {
			args := make([]string, len(v.Elems))
			for i := range v.Elems {
				args[i] = string(v.Elems[i].Str)
			}
			if s.handler == nil || !s.handler(c, args) {
				s.defaultHandle(c, args)
			}
			continue
		}
		raw = raw[:0]
		for i := range v.Elems {
			raw = append(raw, v.Elems[i].Str)
		}
		c.mu.Lock()
		c.out = s.append(c, raw, c.out)
		var err2 error
		if rd.Buffered() == 0 || len(c.out) >= maxBatch {
			err2 = c.flushLocked()
		}
		c.mu.Unlock()
		if err2 != nil {
			return
		}
	}
}

// Accepted returns the number of connections served so far.
func (s *Server) Accepted() int64 { return s.accepted.Load() }

// Commands returns the number of commands received so far.
func (s *Server) Commands() int64 { return s.commands.Load() }

// Open returns the number of connections open now.
func (s *Server) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// CloseConns closes every client connection (the server keeps listening).
func (s *Server) CloseConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.nc.Close()
	}
}

// Close closes every listener and connection and waits for the serving goroutines. It
// may be called more than once; the server serves nothing after it.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
