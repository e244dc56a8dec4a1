package conn

import (
	"bytes"

	"github.com/redline-go/redline/resp"
)

// A server's availability zone is learned once per connection, at the handshake: no
// call pays for it. Valkey 8.1+ reports it in HELLO's reply (the field
// availability_zone, present only when set); Valkey 8.0 has the availability-zone
// setting and reports it only in INFO server (availability_zone:…), so with AskZone the
// handshake sends INFO server in its round trip too. CONFIG GET is not used: managed
// services deny it (it needs +config|get), while INFO is in every read ACL. Redis has
// no zone: it stays unknown ("").

// greeting is what the handshake learned: the protocol, HELLO's reply and the zone.
type greeting struct {
	proto int
	hello resp.Value
	zone  string
}

// zoneQuery returns the commands the handshake adds to learn the zone.
func zoneQuery(o *Options) [][]string {
	if !o.AskZone {
		return nil
	}
	return [][]string{{"INFO", "server"}}
}

// zoneOf returns the zone that HELLO's reply reports, else the one in the replies to
// zoneQuery's commands; "" when neither does (or INFO was refused).
func zoneOf(hello resp.Value, extra []resp.Value) string {
	for i := 0; i+1 < len(hello.Elems); i += 2 {
		if string(hello.Elems[i].Str) == "availability_zone" {
			if z := hello.Elems[i+1]; z.Err == nil && len(z.Str) > 0 {
				return string(z.Str)
			}
		}
	}
	for _, v := range extra {
		if v.Err == nil {
			if z := infoField(v.Str, "availability_zone"); z != "" {
				return z
			}
		}
	}
	return ""
}

// infoField returns the value of key in an INFO reply ("key:value" lines), "" if absent.
func infoField(info []byte, key string) string {
	for len(info) > 0 {
		line := info
		if i := bytes.IndexByte(info, '\n'); i >= 0 {
			line, info = info[:i], info[i+1:]
		} else {
			info = nil
		}
		line = bytes.TrimRight(line, "\r")
		if k, v, ok := bytes.Cut(line, []byte{':'}); ok && string(k) == key {
			return string(v)
		}
	}
	return ""
}

// Zone returns the server's availability zone as learned at the handshake (see
// Options.AskZone), or "" when it reported none.
func (c *Conn) Zone() string { return c.zone }
