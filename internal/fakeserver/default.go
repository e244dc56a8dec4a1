package fakeserver

import (
	"strings"

	"github.com/redline-go/redline/resp"
)

// defaultHandle answers the commands a Handler leaves (see Handler).
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
	case "READONLY", "READWRITE":
		c.ReadOnly = strings.ToUpper(args[0]) == "READONLY"
		c.Reply(Simple("OK"))
	case "CLIENT", "SET":
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
