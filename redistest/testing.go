package redistest

import (
	"context"
	"errors"
	"testing"
	"time"
)

// startTimeout bounds Run's cluster start.
const startTimeout = 60 * time.Second

// Run starts a cluster for a test and registers its Close with tb.Cleanup, so every
// process and file is gone when the test ends, whether it passed, failed or panicked.
// It fails the test (never skips it) when the cluster cannot start, with an install
// hint when redis-server is missing. Config.Logf defaults to tb.Logf.
func Run(tb testing.TB, cfg Config) *Cluster {
	tb.Helper()
	if cfg.Logf == nil {
		cfg.Logf = tb.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := Start(ctx, cfg)
	if errors.Is(err, ErrNoRedisServer) {
		tb.Fatalf("redistest: %v", err)
	}
	if err != nil {
		tb.Fatalf("redistest: cluster did not start: %v", err)
	}
	tb.Cleanup(func() {
		c.cfg.Logf = nil // tb.Logf may not be called once the test has ended
		if err := c.Close(); err != nil {
			tb.Errorf("redistest: close: %v", err)
		}
	})
	return c
}
