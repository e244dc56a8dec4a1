package node

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/fakeserver"
)

// TestZoneLearnedAndKept: the node's zone is what its shared connection's server
// reported (INFO with AskZone), kept while it reconnects, replaced by what the next
// connection reports, and overridden by Options.Zone.
func TestZoneLearnedAndKept(t *testing.T) {
	var zone atomic.Value
	zone.Store("az-a")
	s := fakeserver.New(func(c *fakeserver.Conn, args []string) bool {
		if strings.ToUpper(args[0]) != "INFO" {
			return false
		}
		c.Reply(fakeserver.Bulk("# Server\r\navailability_zone:" + zone.Load().(string) + "\r\n"))
		return true
	})
	addr, _ := s.Listen()
	defer s.Close()
	ups := make(chan struct{}, 16)
	n := New(addr, Options{Conn: conn.Options{AskZone: true}, OnStateChange: func(ev Event) {
		if ev.To == StateUp {
			ups <- struct{}{}
		}
	}})
	defer n.Close()
	if z := n.Zone(); z != "" {
		t.Fatalf("zone %q before any connection, want unknown", z)
	}
	if _, err := n.Do(ctxT(t, time.Second), "PING"); err != nil {
		t.Fatal(err)
	}
	if z := n.Zone(); z != "az-a" || n.Stats().Zone != "az-a" {
		t.Fatalf("zone %q, stats %q; want az-a", z, n.Stats().Zone)
	}
	<-ups
	zone.Store("az-b")
	s.CloseConns() // the node redials at once (a reset, not a timeout)
	if z := n.Zone(); z != "az-a" && z != "az-b" {
		t.Fatalf("zone %q while reconnecting, want the last known (az-a)", z)
	}
	select {
	case <-ups:
	case <-time.After(5 * time.Second):
		t.Fatal("the node did not reconnect")
	}
	if z := n.Zone(); z != "az-b" {
		t.Fatalf("zone %q after reconnecting, want az-b", z)
	}

	o := New(addr, Options{Zone: "user-zone", Conn: conn.Options{AskZone: true}})
	defer o.Close()
	if _, err := o.Do(ctxT(t, time.Second), "PING"); err != nil {
		t.Fatal(err)
	}
	if z := o.Zone(); z != "user-zone" {
		t.Fatalf("zone %q, want Options.Zone's", z)
	}
}
