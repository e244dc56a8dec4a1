package fakeserver

import (
	"net"
	"sync"

	"github.com/redline-go/redline/resp"
)

// Conn is the server side of one client connection.
type Conn struct {
	s  *Server
	nc net.Conn
	// Proto is the negotiated protocol: 2 until HELLO 3. Handlers that answer HELLO
	// themselves set it; Reply encodes for it.
	Proto int
	// ReadOnly is set by READONLY and cleared by READWRITE (the default handler's, or a
	// handler's own), for handlers that serve replica reads.
	ReadOnly bool

	mu  sync.Mutex
	out []byte // replies being written (an AppendHandler's: not yet written)
}

// Reply writes v (downgraded to RESP2 when the connection speaks RESP2).
func (c *Conn) Reply(v resp.Value) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Proto == 3 {
		c.out = resp.AppendValue(c.out, v)
	} else {
		c.out = resp.AppendValueRESP2(c.out, v)
	}
	return c.flushLocked()
}

// WriteRaw writes b as it is (malformed frames, partial replies), without copying it.
func (c *Conn) WriteRaw(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.flushLocked(); err != nil {
		return err
	}
	_, err := c.nc.Write(b)
	return err
}

// flushLocked writes c.out; the caller holds c.mu.
func (c *Conn) flushLocked() error {
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.out)
	if cap(c.out) > keepOut {
		c.out = nil
	}
	c.out = c.out[:0]
	return err
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Simple builds a simple string reply.
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
