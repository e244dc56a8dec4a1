package conn

import (
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/resp"
)

// zoneServer answers HELLO with helloZone (Valkey 8.1+; "" leaves the field out) and
// INFO server with infoZone (Valkey 8.0), or refuses INFO when infoZone is "-" (an ACL
// without +info). It counts the INFO commands it is sent.
func zoneServer(helloZone, infoZone string, infos *int) fakeserver.Handler {
	return func(c *fakeserver.Conn, args []string) bool {
		switch strings.ToUpper(args[0]) {
		case "HELLO":
			c.Proto = 3
			m := []resp.Value{fakeserver.Bulk("server"), fakeserver.Bulk("valkey"), fakeserver.Bulk("proto"), fakeserver.Int(3)}
			if helloZone != "" {
				m = append(m, fakeserver.Bulk("availability_zone"), fakeserver.Bulk(helloZone))
			}
			c.Reply(resp.Value{Type: resp.TypeMap, Elems: m})
			return true
		case "INFO":
			*infos++
			if infoZone == "-" {
				c.Reply(fakeserver.Err("NOPERM User u has no permissions to run the 'info' command"))
				return true
			}
			c.Reply(fakeserver.Bulk("# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\navailability_zone:" + infoZone + "\r\nio_threads_active:0\r\n"))
			return true
		}
		return false
	}
}

func TestZoneLearnedAtHandshake(t *testing.T) {
	for _, tc := range []struct {
		name          string
		hello, info   string
		ask, readOnly bool
		proto         int
		want          string
	}{
		{name: "hello reports it (Valkey 8.1)", hello: "az-1", info: "az-other", ask: true, want: "az-1"},
		{name: "info reports it (Valkey 8.0)", info: "az-2", ask: true, readOnly: true, want: "az-2"},
		{name: "info over RESP2", info: "az-2", ask: true, proto: 2, want: "az-2"},
		{name: "none set (Redis, or unset)", info: "", ask: true, want: ""},
		{name: "info refused: unknown, handshake fine", info: "-", ask: true, readOnly: true, want: ""},
		{name: "not asked: HELLO only, no INFO", hello: "az-1", info: "az-2", want: "az-1"},
		{name: "not asked, no HELLO field", info: "az-2", want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			infos := 0
			_, c := serve(t, zoneServer(tc.hello, tc.info, &infos), Options{AskZone: tc.ask, ReadOnly: tc.readOnly, Protocol: tc.proto})
			if got := c.Zone(); got != tc.want {
				t.Errorf("Zone() = %q, want %q", got, tc.want)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.ask]; infos != want {
				t.Errorf("INFO sent %d times, want %d", infos, want)
			}
			ctx := ctxWithTimeout(t, 2e9)
			if v, err := c.Do(ctx, "PING"); err != nil || string(v.Str) != "PONG" {
				t.Fatalf("PING after the handshake: %v %v (the INFO reply must not be left for a caller)", v, err)
			}
		})
	}
}

func TestInfoField(t *testing.T) {
	info := []byte("# Server\r\nredis_version:8.0.1\r\navailability_zone:\r\nx:y\r\n")
	if got := infoField(info, "availability_zone"); got != "" {
		t.Errorf("empty zone: %q", got)
	}
	if got := infoField(info, "x"); got != "y" {
		t.Errorf("last field: %q", got)
	}
	if got := infoField([]byte("availability_zone:z1"), "availability_zone"); got != "z1" {
		t.Errorf("no line end: %q", got)
	}
	if got := infoField(nil, "availability_zone"); got != "" {
		t.Errorf("nil: %q", got)
	}
}
