package cluster

import (
	"sync"
	"testing"
)

// TestRefreshRacesClose: Refresh (for tests and tools) beside Close. The refresh's
// goroutines are counted through GoAdd, so Close never waits on a WaitGroup that is
// being added to (before: a race report, or "WaitGroup is reused before previous Wait
// has returned").
func TestRefreshRacesClose(t *testing.T) {
	for range 30 {
		fc := newFakeCluster(t)
		c := newEngine(t, testConfig(fc), threeShards)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); c.Refresh() }()
		go func() { defer wg.Done(); c.Close() }()
		wg.Wait()
	}
}
