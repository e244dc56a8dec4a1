//go:build unix && !aix

package conn

import (
	"net"
	"path/filepath"
	"syscall"
	"testing"
)

// The direct path's peek and reads are socket calls: a stream socket (TCP, or Unix of
// type SOCK_STREAM) gets a direct writer, a datagram socket none.
func TestDirectOnlyOnStreamSockets(t *testing.T) {
	dir := t.TempDir()
	stream := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", stream)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	uc, err := net.Dial("unix", stream)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if newDirectWriter(uc) == nil {
		t.Error("no direct writer for a Unix stream socket")
	}
	dgram := filepath.Join(dir, "d")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: dgram, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	dc, err := net.Dial("unixgram", dgram)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	if newDirectWriter(dc) != nil {
		t.Error("a direct writer for a datagram socket")
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

// withFD runs f with c's descriptor.
func withFD(t *testing.T, c syscall.Conn, f func(fd uintptr)) {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Control(f); err != nil {
		t.Fatal(err)
	}
}
