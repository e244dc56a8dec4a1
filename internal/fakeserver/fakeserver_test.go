package fakeserver

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// roundTrip writes req to a fresh connection to s and reads n reply lines.
func roundTrip(t *testing.T, s *Server, req string, n int) []string {
	t.Helper()
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	var out []string
	for range n {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", out, err)
		}
		out = append(out, strings.TrimSuffix(line, "\r\n"))
	}
	return out
}

func TestDefaultHandler(t *testing.T) {
	s := New(nil)
	defer s.Close()
	got := roundTrip(t, s, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n:1\r\n", 5)
	want := []string{"+OK", "$1", "v", "+PONG", "-ERR Protocol error: expected a command array"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	if s.Commands() != 4 || s.Accepted() != 1 {
		t.Fatalf("commands %d accepted %d", s.Commands(), s.Accepted())
	}
}

// TestAppendHandler: replies appended by an AppendHandler are written in order, those of
// pipelined commands together, and the connection state (ReadOnly) is the handler's.
func TestAppendHandler(t *testing.T) {
	s := NewAppend(func(c *Conn, args [][]byte, out []byte) []byte {
		if string(args[0]) == "READONLY" {
			c.ReadOnly = true
		}
		if c.ReadOnly {
			return append(out, "+ro "+string(args[0])+"\r\n"...)
		}
		return append(out, "+"+string(args[0])+"\r\n"...)
	})
	defer s.Close()
	got := roundTrip(t, s, "*1\r\n$1\r\nA\r\n*1\r\n$8\r\nREADONLY\r\n*1\r\n$1\r\nB\r\n", 3)
	if want := "+A|+ro READONLY|+ro B"; strings.Join(got, "|") != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	s.Close()
	if s.Open() != 0 {
		t.Fatalf("%d connections open after Close", s.Open())
	}
	s.Close() // twice is fine
}
