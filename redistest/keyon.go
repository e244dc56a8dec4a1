package redistest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
)

// keyOnTries bounds the search for a key on a node: with 16384 slots shared by at
// least one master, a key lands on a given master within a few thousand tries.
const keyOnTries = 200_000

// KeyOn returns the first key of the form prefix:0, prefix:1, … whose slot node n
// serves in t, failing tb when n serves no slot in t.
func (t *Topology) KeyOn(tb testing.TB, n *Node, prefix string) string {
	tb.Helper()
	for i := range keyOnTries {
		k := prefix + ":" + strconv.Itoa(i)
		if o := t.Owner(hashslot.Key(k)); o != nil && o.Node == n {
			return k
		}
	}
	tb.Fatalf("redistest: no key with prefix %q on %v (does it serve a slot?)", prefix, n)
	return ""
}

// KeyOn returns a key of the form prefix:i whose slot node n serves now (it reads the
// cluster's topology), failing tb when there is none or the topology cannot be read.
func (c *Cluster) KeyOn(tb testing.TB, n *Node, prefix string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	topo, err := c.Topology(ctx)
	if err != nil {
		tb.Fatalf("redistest: KeyOn: %v", err)
	}
	return topo.KeyOn(tb, n, prefix)
}

// KeyOn returns the first key of the form prefix:0, prefix:1, … whose slot master m
// serves now, and that slot, or ("", -1) when m serves no slot.
func (f *FakeCluster) KeyOn(m int, prefix string) (string, int) {
	for i := range keyOnTries {
		k := prefix + ":" + strconv.Itoa(i)
		if s := hashslot.Key(k); f.SlotOwner(s) == m {
			return k, s
		}
	}
	return "", -1
}
