package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// sharedStartTimeout bounds the start of a shared cluster.
const sharedStartTimeout = 90 * time.Second

// shared holds the clusters Shared started in this process (one test binary), by name,
// and the errors of those that failed to start, so later tests fail at once.
var shared struct {
	mu    sync.Mutex
	byKey map[string]*Cluster
	errs  map[string]error
	order []*Cluster // in start order
}

// Shared returns the cluster called name, starting it with cfg the first time any test
// of the test binary asks for it; later calls return the same cluster (cfg is read only
// by the first). It fails tb when the cluster cannot start, and every later call for
// name fails at once with the same error. The cluster outlives the test: stop the
// shared clusters at the end of the binary with CloseShared, or let Main do it.
//
// Tests that change a shared cluster (a fault mode, a killed node, a moved slot) must
// restore it before they end, since the next test receives it as they leave it.
func Shared(tb testing.TB, name string, cfg Config) *Cluster {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if c := shared.byKey[name]; c != nil {
		return c
	}
	if err := shared.errs[name]; err != nil {
		tb.Fatalf("redistest: shared cluster %q failed to start earlier: %v", name, err)
	}
	if shared.byKey == nil {
		shared.byKey, shared.errs = map[string]*Cluster{}, map[string]error{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedStartTimeout)
	defer cancel()
	c, err := Start(ctx, cfg)
	if err != nil {
		shared.errs[name] = err
		if errors.Is(err, ErrNoRedisServer) {
			tb.Fatalf("redistest: %v", err)
		}
		tb.Fatalf("redistest: shared cluster %q did not start: %v", name, err)
	}
	shared.byKey[name] = c
	shared.order = append(shared.order, c)
	return c
}

// CloseShared stops every cluster Shared started, in the reverse order of their start
// (and every SharedStandalone and SharedSentinelSet deployment), and forgets them (a
// later Shared starts a new one). It returns the first error of a Close. Call it from
// TestMain after m.Run, or use Main.
func CloseShared() error {
	shared.mu.Lock()
	cs := shared.order
	shared.byKey, shared.errs, shared.order = nil, nil, nil
	shared.mu.Unlock()
	first := closeSharedSets() // Standalone and Sentinel sets (shared_sets.go)
	for i := len(cs) - 1; i >= 0; i-- {
		if err := cs[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Main is a TestMain for a package whose tests use Shared: it runs the tests, stops
// the shared clusters and exits with the tests' status (failed too when a cluster
// does not close cleanly).
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := CloseShared(); err != nil {
		fmt.Fprintln(os.Stderr, "redistest: close shared clusters:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
