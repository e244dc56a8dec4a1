package redistest

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
)

// sharedSets holds the Standalone and SentinelSet deployments SharedStandalone and
// SharedSentinelSet started in this process, by kind and name, as shared holds
// clusters; CloseShared stops them too.
var sharedSets struct {
	mu    sync.Mutex
	byKey map[string]io.Closer
	errs  map[string]error
	order []io.Closer
}

// SharedStandalone returns the Standalone called name, starting it with cfg the first
// time any test of the test binary asks for it, as Shared does for clusters (same
// rules: cfg is read by the first call only, a failed start fails every later call at
// once, CloseShared or Main stops it, a test that changes it restores it).
func SharedStandalone(tb testing.TB, name string, cfg StandaloneConfig) *Standalone {
	tb.Helper()
	return sharedSet(tb, "standalone", name, func(ctx context.Context) (*Standalone, error) {
		return StartStandalone(ctx, cfg)
	})
}

// SharedSentinelSet returns the SentinelSet called name, starting it with cfg the
// first time any test of the test binary asks for it, as Shared does for clusters. A
// test that fails the primary over need not fail it back, but must leave the set
// healthy (WaitHealthy): the next test takes the primary the Sentinels report.
func SharedSentinelSet(tb testing.TB, name string, cfg SentinelConfig) *SentinelSet {
	tb.Helper()
	return sharedSet(tb, "Sentinel set", name, func(ctx context.Context) (*SentinelSet, error) {
		return StartSentinelSet(ctx, cfg)
	})
}

func sharedSet[T io.Closer](tb testing.TB, kind, name string, start func(context.Context) (T, error)) T {
	tb.Helper()
	key := kind + "/" + name
	sharedSets.mu.Lock()
	defer sharedSets.mu.Unlock()
	if c, ok := sharedSets.byKey[key]; ok {
		return c.(T)
	}
	if err := sharedSets.errs[key]; err != nil {
		tb.Fatalf("redistest: shared %s %q failed to start earlier: %v", kind, name, err)
	}
	if sharedSets.byKey == nil {
		sharedSets.byKey, sharedSets.errs = map[string]io.Closer{}, map[string]error{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedStartTimeout)
	defer cancel()
	c, err := start(ctx)
	if err != nil {
		sharedSets.errs[key] = err
		if errors.Is(err, ErrNoRedisServer) {
			tb.Fatalf("redistest: %v", err)
		}
		tb.Fatalf("redistest: shared %s %q did not start: %v", kind, name, err)
	}
	sharedSets.byKey[key] = c
	sharedSets.order = append(sharedSets.order, c)
	return c
}

// closeSharedSets stops every shared Standalone and SentinelSet, the last started
// first, and forgets them; it returns the first error of a Close.
func closeSharedSets() error {
	sharedSets.mu.Lock()
	cs := sharedSets.order
	sharedSets.byKey, sharedSets.errs, sharedSets.order = nil, nil, nil
	sharedSets.mu.Unlock()
	var first error
	for i := len(cs) - 1; i >= 0; i-- {
		if err := cs[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
