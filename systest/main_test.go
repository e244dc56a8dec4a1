package systest

import (
	"strings"
	"testing"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/redistest"
)

// The package's tests share clusters started once per test binary (redistest.Shared):
// a plain 3-master + 3-replica cluster and a 4-master TLS cluster for the seed
// scenario. Tests that change a cluster restore it. Tests that need a cluster of
// their own (they kill, pause or partition nodes) start one with redistest.Run.
func TestMain(m *testing.M) { redistest.Main(m) }

// plain is 3 masters + 3 replicas, node timeout 2s.
func plain(t testing.TB) *redistest.Cluster {
	return redistest.Shared(t, "plain", redistest.Config{Masters: 3, ReplicasPerMaster: 1})
}

// tlsCluster is 4 masters with TLS.
func tlsCluster(t testing.TB) *redistest.Cluster {
	return redistest.Shared(t, "tls", redistest.Config{Masters: 4, TLS: true})
}

// newTestClient connects to c with o (Addrs and TLSConfig filled in when empty) and
// closes the client when the test ends.
func newTestClient(t testing.TB, c *redistest.Cluster, o redline.Options) *redline.Client {
	t.Helper()
	if len(o.Addrs) == 0 {
		o.Addrs = c.Addrs()
	}
	if o.TLSConfig == nil {
		o.TLSConfig = c.TLSConfig()
	}
	cl, err := redline.NewClient(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// isHealthErr reports whether err says the node stopped answering under a wait.
func isHealthErr(err error) bool {
	return err != nil && strings.Contains(err.Error(), "stopped answering") && redline.MayHaveExecuted(err)
}
