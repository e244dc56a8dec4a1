package redistest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The package's tests share two clusters, each started once, on first use: a plain
// 3-master + 3-replica cluster and a 4-master TLS cluster. Tests that change a cluster
// restore it before they end (and wait until it is healthy again).
var shared struct {
	mu       sync.Mutex
	plain    *Cluster
	tls      *Cluster
	started  []*Cluster
	startErr map[string]error
}

func sharedCluster(t *testing.T, name string, cfg Config) *Cluster {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	slot := &shared.plain
	if name == "tls" {
		slot = &shared.tls
	}
	if *slot != nil {
		return *slot
	}
	if err := shared.startErr[name]; err != nil {
		t.Fatalf("shared %s cluster failed to start earlier: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := Start(ctx, cfg)
	if err != nil {
		if shared.startErr == nil {
			shared.startErr = map[string]error{}
		}
		shared.startErr[name] = err
		t.Fatalf("start shared %s cluster: %v", name, err)
	}
	*slot = c
	shared.started = append(shared.started, c)
	return c
}

// plainCluster is 3 masters + 3 replicas, no TLS.
func plainCluster(t *testing.T) *Cluster {
	return sharedCluster(t, "plain", Config{Masters: 3, ReplicasPerMaster: 1})
}

// tlsCluster is 4 masters with TLS.
func tlsCluster(t *testing.T) *Cluster {
	return sharedCluster(t, "tls", Config{Masters: 4, TLS: true})
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range shared.started {
		pids, dir := c.PIDs(), c.Dir()
		if err := c.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close:", err)
			code = 1
		}
		if err := checkGone(pids, dir); err != nil {
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
