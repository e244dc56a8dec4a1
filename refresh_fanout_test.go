package redline

import (
	"testing"
	"time"

	"github.com/redline-go/redline/internal/cluster"
	"github.com/redline-go/redline/redistest"
)

// This test stays in the root package (the other scale tests are in systest/): it
// calls the unexported refresh directly and reads the client's slot table, since no
// public call starts a refresh on demand.

// A refresh asks one node while the topology is unchanged, and several to vote when
// that node's view differs from the table in use.
func TestScaleRefreshAsksOneNodeUnlessChanged(t *testing.T) {
	f := redistest.RunFake(t, redistest.FakeConfig{Masters: 200})
	c, err := NewClient(t.Context(), Options{Addrs: f.Addrs()[:1], RefreshInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	before := f.Counts()
	for range 3 {
		c.e.Refresh()
	}
	if n := f.Counts().Sub(before).Topology; n != 3 {
		t.Errorf("3 refreshes of an unchanged topology sent %d topology requests; want 3", n)
	}
	slot := 5000
	to := (f.SlotOwner(slot) + 1) % f.Masters()
	if err := f.MoveSlot(slot, to); err != nil {
		t.Fatal(err)
	}
	before = f.Counts()
	c.e.Refresh()
	// The refresh installs what a majority agrees on without waiting for the last
	// answer, so the last request may reach the fake cluster just after it returns,
	// or never: the refresh's end cancels a request not yet sent (on a busy machine,
	// its connection may still be dialing). A majority of the vote was asked.
	majority := int64(cluster.RefreshFanout/2 + 1)
	n := f.Counts().Sub(before).Topology
	for end := time.Now().Add(2 * time.Second); n < cluster.RefreshFanout && time.Now().Before(end); n = f.Counts().Sub(before).Topology {
		time.Sleep(5 * time.Millisecond)
	}
	if n < majority || n > cluster.RefreshFanout {
		t.Errorf("a refresh that finds a change sent %d topology requests; want %d to %d (the vote)", n, majority, cluster.RefreshFanout)
	}
	if got := c.e.Topology().Slot(slot).Primary.Addr; got != f.Addr(to) {
		t.Errorf("slot %d owned by %s after the refresh, want %s", slot, got, f.Addr(to))
	}
}
