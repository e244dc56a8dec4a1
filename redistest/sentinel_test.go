package redistest

import (
	"context"
	"testing"
	"time"
)

func TestSentinelSetFailover(t *testing.T) {
	start := time.Now()
	s := RunSentinelSet(t, SentinelConfig{})
	t.Logf("started in %v", time.Since(start))
	ctx := t.Context()
	old, err := s.Primary(ctx)
	if err != nil || old != s.Node(0) {
		t.Fatalf("Primary = %v, %v; want %v", old, err, s.Node(0))
	}
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := s.WaitForFailover(wctx, old)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("promoted %v %v after the kill", p, time.Since(killed))
	if err := old.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	if err := s.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("settled %v after the restart", time.Since(restarted))
}
