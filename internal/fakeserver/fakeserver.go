// Package fakeserver is an in-memory Redis server built on the resp codec, for unit
// tests of the connection layer: scripted replies, delays, pushes, desync, hostile
// frames. It serves over net.Pipe (Dial) or a loopback listener (Listen). It is a test
// tool; behaviour against real servers is tested on redis-server itself.
package fakeserver

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redline-go/redline/resp"
)

// Handler answers one command on a connection. The default handler (nil) answers
// HELLO, PING, ECHO, GET, SET, DEL, AUTH, CLIENT, READONLY and QUIT like Redis does.
// A handler that returns false lets the default handler answer.
type Handler func(c *Conn, args []string) bool

// Server is a fake Redis server.
type Server struct {
	handler Handler
	// Proto2Only makes HELLO unknown, as on Redis before 6.
	Proto2Only bool

	mu    sync.Mutex
	data  map[string]string
	conns map[*Conn]struct{}
	lns   []net.Listener
	wg    sync.WaitGroup

	accepted atomic.Int64
	commands atomic.Int64
}

// New returns a server using h (nil for the default behaviour).
func New(h Handler) *Server {
	return &Server{handler: h, data: map[string]string{}, conns: map[*Conn]struct{}{}}
}

// Conn is the server side of one client connection.
type Conn struct {
	s     *Server
	nc    net.Conn
	rd    *resp.Reader
	w     *resp.Writer
	Proto int // negotiated protocol: 2 until HELLO 3
	mu    sync.Mutex
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
	s.mu.Lock()
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.serve(nc)
		}
	}()
	return ln.Addr().String(), nil
}

func (s *Server) serve(nc net.Conn) {
	s.accepted.Add(1)
	c := &Conn{s: s, nc: nc, rd: resp.NewReader(nc, resp.Limits{}), w: resp.NewWriter(nc), Proto: 2}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			nc.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
		for {
			v, err := c.rd.ReadValue()
			if err != nil {
				return
			}
			args := make([]string, len(v.Elems))
			for i, e := range v.Elems {
				args[i] = string(e.Str)
			}
			if len(args) == 0 {
				continue
			}
			s.commands.Add(1)
			if s.handler == nil || !s.handler(c, args) {
				s.defaultHandle(c, args)
			}
		}
	}()
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

// Close closes every listener and connection and waits for the serving goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Reply writes v (downgraded to RESP2 when the connection speaks RESP2) and flushes.
func (c *Conn) Reply(v resp.Value) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if c.Proto == 3 {
		err = c.w.WriteValue(v)
	} else {
		err = c.w.WriteValueRESP2(v)
	}
	if err != nil {
		return err
	}
	return c.w.Flush()
}

// WriteRaw writes b as it is (malformed frames, partial replies) and flushes.
func (c *Conn) WriteRaw(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	return c.w.Flush()
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Simple, Bulk, Int, Err and Null build reply values.
func Simple(s string) resp.Value { return resp.Value{Type: resp.TypeSimpleString, Str: []byte(s)} }

// Bulk builds a bulk string reply.
func Bulk(s string) resp.Value { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }

// Int builds an integer reply.
func Int(n int64) resp.Value { return resp.Value{Type: resp.TypeInteger, Int: n} }

// Err builds an error reply.
func Err(msg string) resp.Value {
	return resp.Value{Type: resp.TypeError, Str: []byte(msg), Err: resp.ParseError(msg)}
}

// Null builds a null reply.
func Null() resp.Value { return resp.Value{Type: resp.TypeNull} }

func (s *Server) defaultHandle(c *Conn, args []string) {
	switch strings.ToUpper(args[0]) {
	case "HELLO":
		if s.Proto2Only {
			c.Reply(Err("ERR unknown command 'HELLO', with args beginning with: "))
			return
		}
		if len(args) > 1 && args[1] == "3" {
			c.Proto = 3
		}
		for i := 2; i+2 < len(args); i++ {
			if strings.ToUpper(args[i]) == "AUTH" && args[i+2] != "secret" {
				c.Reply(Err("WRONGPASS invalid username-password pair or user is disabled."))
				return
			}
		}
		c.Reply(resp.Value{Type: resp.TypeMap, Elems: []resp.Value{
			Bulk("server"), Bulk("fake"), Bulk("version"), Bulk("7.0.15"),
			Bulk("proto"), Int(int64(c.Proto)), Bulk("role"), Bulk("master"),
		}})
	case "AUTH":
		if args[len(args)-1] != "secret" {
			c.Reply(Err("WRONGPASS invalid username-password pair or user is disabled."))
			return
		}
		c.Reply(Simple("OK"))
	case "PING":
		if len(args) > 1 {
			c.Reply(Bulk(args[1]))
			return
		}
		c.Reply(Simple("PONG"))
	case "ECHO":
		if len(args) < 2 {
			c.Reply(Err("ERR wrong number of arguments for 'echo' command"))
			return
		}
		c.Reply(Bulk(args[1]))
	case "CLIENT", "READONLY", "SET":
		if strings.ToUpper(args[0]) == "SET" && len(args) >= 3 {
			s.mu.Lock()
			s.data[args[1]] = args[2]
			s.mu.Unlock()
		}
		c.Reply(Simple("OK"))
	case "GET":
		s.mu.Lock()
		v, ok := s.data[args[len(args)-1]]
		s.mu.Unlock()
		if !ok {
			c.Reply(Null())
			return
		}
		c.Reply(Bulk(v))
	case "QUIT":
		c.Reply(Simple("OK"))
		c.Close()
	default:
		c.Reply(Err("ERR unknown command '" + args[0] + "'"))
	}
}
