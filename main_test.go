package redline

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// The package's integration tests share clusters, each started once on first use:
// a plain 3-master + 3-replica cluster, and a 4-master TLS cluster for the seed
// scenario. Tests that change a cluster restore it.
var clusters struct {
	mu   sync.Mutex
	m    map[string]*redistest.Cluster
	errs map[string]error
}

func sharedCluster(t testing.TB, name string, cfg redistest.Config) *redistest.Cluster {
	t.Helper()
	clusters.mu.Lock()
	defer clusters.mu.Unlock()
	if c := clusters.m[name]; c != nil {
		return c
	}
	if err := clusters.errs[name]; err != nil {
		t.Fatalf("cluster %s failed to start earlier: %v", name, err)
	}
	if clusters.m == nil {
		clusters.m, clusters.errs = map[string]*redistest.Cluster{}, map[string]error{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := redistest.Start(ctx, cfg)
	if err != nil {
		clusters.errs[name] = err
		t.Fatalf("start cluster %s: %v", name, err)
	}
	clusters.m[name] = c
	return c
}

// plain is 3 masters + 3 replicas, node timeout 2s.
func plain(t testing.TB) *redistest.Cluster {
	return sharedCluster(t, "plain", redistest.Config{Masters: 3, ReplicasPerMaster: 1})
}

// tlsCluster is 4 masters with TLS.
func tlsCluster(t testing.TB) *redistest.Cluster {
	return sharedCluster(t, "tls", redistest.Config{Masters: 4, TLS: true})
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range clusters.m {
		c.Close()
	}
	os.Exit(code)
}

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

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
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
	cl, err := NewClient(ctxT(t, 10*time.Second), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}
