package redline

import (
	"testing"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// The package's integration tests share clusters (redistest.Shared), each started once
// per test binary on first use: a plain 3-master + 3-replica cluster and a 4-master TLS
// cluster. Tests that change a cluster restore it.

// plain is 3 masters + 3 replicas, node timeout 2s.
func plain(t testing.TB) *redistest.Cluster {
	return redistest.Shared(t, "plain", redistest.Config{Masters: 3, ReplicasPerMaster: 1})
}

// tlsCluster is 4 masters with TLS.
func tlsCluster(t testing.TB) *redistest.Cluster {
	return redistest.Shared(t, "tls", redistest.Config{Masters: 4, TLS: true})
}

// TestMain runs the tests and stops the shared clusters.
func TestMain(m *testing.M) { redistest.Main(m) }

// needServer skips t, saying why, when cl runs a server older than major.minor (the
// feature under test is not there; scripts/test-matrix.sh runs the suite on Redis 6.0).
func needServer(t testing.TB, cl *redistest.Cluster, major, minor int) {
	t.Helper()
	if s := cl.Server(); !s.AtLeast(major, minor) {
		t.Skipf("needs Redis %d.%d or newer; the cluster runs %s", major, minor, s)
	}
}

// keyOwner returns the cluster node that c sends key to. Its proxy is set back to Pass
// when the test ends, so the test may put it in any fault mode.
func keyOwner(t testing.TB, cl *redistest.Cluster, c *Client, key string) *redistest.Node {
	t.Helper()
	n, err := c.e.Pick(hashslot.Key(key), false)
	if err != nil {
		t.Fatal(err)
	}
	nd := cl.NodeByAddr(n.Addr())
	t.Cleanup(func() { nd.SetFault(redistest.Pass) })
	return nd
}

// newTestClient connects to c with o (Addrs filled in when empty) and closes the
// client when the test ends. It does not check for leaked goroutines (the package's
// tests share clusters and run in parallel); TestCloseLeavesNoGoroutine does.
func newTestClient(t testing.TB, c *redistest.Cluster, o Options) *Client {
	t.Helper()
	if len(o.Addrs) == 0 {
		o.Addrs = c.Addrs()
	}
	if o.TLSConfig == nil {
		o.TLSConfig = c.TLSConfig()
	}
	cl, err := NewClient(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}
