package redline

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/testkit"
)

// TestScanSpeed measures Scan's keys per second on a quiet cluster of 100,000 keys
// (REDLINE_SCAN_SPEED=1 to run it; docs/PERFORMANCE.md quotes it).
func TestScanSpeed(t *testing.T) {
	if os.Getenv("REDLINE_SCAN_SPEED") == "" {
		t.Skip("set REDLINE_SCAN_SPEED=1 to measure")
	}
	scanClusterMu.Lock()
	defer scanClusterMu.Unlock()
	cl := scanCluster(t)
	ctx := t.Context()
	c := newTestClient(t, cl, Options{})
	const n = 100_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("speed:%d", i)
	}
	scanFillKeys(t, ctx, cl, c, keys)
	for _, o := range []ScanOptions{{}, {Count: 100}, {Count: 1000}, {Count: 10000}, {Match: "speed:1*", Count: 1000}} {
		best := time.Duration(1 << 62)
		var got int
		for range 3 {
			start := time.Now()
			got = 0
			it := c.Scan(o)
			for it.Next(ctx) {
				got++
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		testkit.Figure(t, "Scan %+v over %d keys: %d keys in %v, %.0f keys/s scanned", o, n, got, best.Round(time.Millisecond), float64(n)/best.Seconds())
	}
}
