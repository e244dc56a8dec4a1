package redline

import (
	"context"
	"testing"
	"time"
)

// TestRefreshKeepsNewerMoved: a refresh whose answer was fetched before a MOVED reply
// was applied must not put the slot back on its old owner (install used to store the
// refreshed table unconditionally), while a slot the answer itself shows elsewhere
// follows the answer.
func TestRefreshKeepsNewerMoved(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{RefreshInterval: -1, RefreshMinInterval: time.Hour})
	base := c.topo.Load()
	// The refresh's answer: fetched now, before the move below.
	fctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	view, err := c.fetchTopology(fctx, c.node(base.Primaries()[0].Addr))
	if err != nil {
		t.Fatal(err)
	}
	const slot = 100
	owner := base.Slot(slot).Primary.Addr
	var other string
	for _, p := range base.Primaries() {
		if p.Addr != owner {
			other = p.Addr
			break
		}
	}
	c.applyMoved(slot, other) // a MOVED reply arrives while the answer is in flight
	c.install(base, view)
	if got := c.topo.Load().Slot(slot).Primary.Addr; got != other {
		t.Fatalf("slot %d is on %s after the stale refresh; the MOVED said %s", slot, got, other)
	}
	if got := c.topo.Load().Slot(slot + 1).Primary.Addr; got != owner {
		t.Fatalf("slot %d moved to %s; nothing moved it", slot+1, got)
	}
	// An answer fetched after the move (its base is the moved table) is believed.
	moved := c.topo.Load()
	c.install(moved, view)
	if got := c.topo.Load().Slot(slot).Primary.Addr; got != owner {
		t.Fatalf("slot %d is on %s after a newer refresh said %s", slot, got, owner)
	}
}
