package redistest

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

// The package's tests share two clusters (Shared), each started once, on first use: a
// plain 3-master + 3-replica cluster and a 4-master TLS cluster. Tests that change a
// cluster restore it before they end (and wait until it is healthy again).

// plainCluster is 3 masters + 3 replicas, no TLS.
func plainCluster(t *testing.T) *Cluster {
	return Shared(t, "plain", Config{Masters: 3, ReplicasPerMaster: 1})
}

// tlsCluster is 4 masters with TLS.
func tlsCluster(t *testing.T) *Cluster {
	return Shared(t, "tls", Config{Masters: 4, TLS: true})
}

// TestMain runs the tests, then closes the shared clusters and checks that each left
// no process and no directory behind.
func TestMain(m *testing.M) {
	code := m.Run()
	shared.mu.Lock()
	cs := append([]*Cluster(nil), shared.order...)
	shared.mu.Unlock()
	if err := CloseShared(); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		code = 1
	}
	for _, c := range cs {
		if err := checkGone(c.PIDs(), c.Dir()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkGone reports processes still alive or a directory still present.
func checkGone(pids []int, dir string) error {
	for _, p := range pids {
		if syscall.Kill(p, 0) == nil {
			return fmt.Errorf("process %d still running after Close", p)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		return fmt.Errorf("directory %s still present after Close (%v)", dir, err)
	}
	return nil
}
