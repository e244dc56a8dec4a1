package conn

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/rerr"
)

// Options.DB selects the database in the handshake, with RESP3 and RESP2; a standalone
// server's refusal of READONLY does not fail it; a refused SELECT does, naming SELECT.
func TestHandshakeSelectDB(t *testing.T) {
	for _, proto2 := range []bool{false, true} {
		var mu sync.Mutex
		var got []string
		s := fakeserver.New(func(c *fakeserver.Conn, args []string) bool {
			switch strings.ToUpper(args[0]) {
			case "SELECT":
				mu.Lock()
				got = append(got, strings.Join(args, " "))
				mu.Unlock()
				if args[1] == "99" {
					c.Reply(fakeserver.Err("ERR DB index is out of range"))
				} else {
					c.Reply(fakeserver.Simple("OK"))
				}
				return true
			case "READONLY":
				c.Reply(fakeserver.Err("ERR This instance has cluster support disabled"))
				return true
			}
			return false
		})
		s.Proto2Only = proto2
		addr, err := s.Listen()
		if err != nil {
			t.Fatal(err)
		}
		ctx := ctxWithTimeout(t, 5*time.Second)
		c, err := Dial(ctx, &Options{Addr: addr, DB: 3, ReadOnly: true, ClientName: "x"})
		if err != nil {
			t.Fatalf("proto2 %v: %v", proto2, err)
		}
		if v, err := c.Do(ctx, "PING"); err != nil || string(v.Str) != "PONG" {
			t.Fatalf("PING: %v %v", v, err)
		}
		c.Close()
		_, err = Dial(ctx, &Options{Addr: addr, DB: 99})
		var ne *rerr.NodeError
		if !errors.As(err, &ne) || ne.Phase != rerr.PhaseHandshake || !strings.Contains(err.Error(), "SELECT: ERR DB index is out of range") {
			t.Fatalf("proto2 %v: DB 99: %v", proto2, err)
		}
		mu.Lock()
		want := "SELECT 3,SELECT 99"
		if proto2 { // the first round trip (HELLO refused) ran it too
			want = "SELECT 3,SELECT 3,SELECT 99,SELECT 99"
		}
		if strings.Join(got, ",") != want {
			t.Errorf("proto2 %v: sent %q", proto2, got)
		}
		mu.Unlock()
		s.Close()
	}
}
