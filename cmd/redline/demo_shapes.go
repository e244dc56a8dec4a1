package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/redistest"
)

// runDemoShapes is `redline demo shapes`: one program — typed calls, a typed pipeline
// across slots, a transaction, a subscription — run unchanged on a throwaway cluster, a
// standalone server and a Sentinel-managed primary, only the Options differing; then the
// Sentinel set's primary is killed under writes with deadlines.
func runDemoShapes(ctx context.Context, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout, "Starting a local cluster (3 masters), a standalone server and a Sentinel set (a primary, 2 replicas, 3 Sentinels), each process behind a fault proxy ...")
	startCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var (
		wg         sync.WaitGroup
		cl         *redistest.Cluster
		sa         *redistest.Standalone
		ss         *redistest.SentinelSet
		e1, e2, e3 error
		started    = time.Now()
	)
	wg.Add(3)
	go func() { defer wg.Done(); cl, e1 = redistest.Start(startCtx, redistest.Config{Masters: 3}) }()
	go func() { defer wg.Done(); sa, e2 = redistest.StartStandalone(startCtx, redistest.StandaloneConfig{}) }()
	go func() { defer wg.Done(); ss, e3 = redistest.StartSentinelSet(startCtx, redistest.SentinelConfig{}) }()
	wg.Wait()
	if cl != nil {
		defer cl.Close()
	}
	if sa != nil {
		defer sa.Close()
	}
	if ss != nil {
		defer ss.Close()
	}
	if err := errors.Join(e1, e2, e3); err != nil {
		fmt.Fprintf(stderr, "redline demo shapes: %s\n", errLine(err))
		return 1
	}
	fmt.Fprintf(stdout, "Started in %v.\n\n", time.Since(started).Round(100*time.Millisecond))

	shapes := []struct {
		name string
		opts redline.Options
	}{
		{"cluster", redline.Options{Addrs: cl.Addrs()[:1]}},
		{"standalone", redline.Options{Addrs: []string{sa.Addr()}}},
		{"sentinel", redline.Options{Sentinel: redline.SentinelOptions{Addrs: ss.SentinelAddrs(), MasterName: ss.MasterName()}}},
	}
	fmt.Fprintln(stdout, "The same program on each, only the Options differing:")
	failed := false
	for _, s := range shapes {
		line, err := shapeProgram(ctx, s.opts)
		if err != nil {
			failed = true
			line = "FAILED: " + errLine(err)
		}
		fmt.Fprintf(stdout, "  %-10s  %s\n", s.name, line)
	}
	fmt.Fprintln(stdout)
	if err := sentinelKill(ctx, stdout, ss, shapes[2].opts); err != nil {
		fmt.Fprintf(stderr, "redline demo shapes: %s\n", errLine(err))
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

// shapeProgram connects with opts and runs the program, describing what it saw.
func shapeProgram(ctx context.Context, opts redline.Options) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	t0 := time.Now()
	c, err := redline.NewClient(ctx, opts)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.Set(ctx, "demo:greeting", "hello", nil); err != nil {
		return "", err
	}
	v, err := c.Get(ctx, "demo:greeting")
	if err != nil {
		return "", err
	}
	// Keys in three different slots: grouped by node on a cluster, one pipeline on the
	// others.
	var counts []redline.Future[int64]
	if err := c.Pipelined(ctx, func(p *redline.Pipe) error {
		for _, k := range []string{"demo:a", "demo:b", "demo:c"} {
			counts = append(counts, p.Incr(k))
		}
		return nil
	}); err != nil {
		return "", err
	}
	var visits redline.Future[int64]
	if _, err := c.TxPipelined(ctx, func(p *redline.TxPipe) error {
		p.Set("{demo:u1}:name", "ann", nil)
		visits = p.Incr("{demo:u1}:visits")
		return nil
	}); err != nil {
		return "", err
	}
	sub, err := c.Subscribe(ctx, "demo:news")
	if err != nil {
		return "", err
	}
	defer sub.Close()
	if _, err := c.Publish(ctx, "demo:news", "hi"); err != nil {
		return "", err
	}
	var got string
	select {
	case m := <-sub.Messages():
		got = m.Payload
	case <-ctx.Done():
		return "", fmt.Errorf("no message: %w", ctx.Err())
	}
	n, _ := visits.Result()
	return fmt.Sprintf("GET %q · pipeline INCR ×3 → %d %d %d · MULTI/EXEC visits=%d · SUBSCRIBE got %q · %v",
		v, counts[0].Val(), counts[1].Val(), counts[2].Val(), n, got, time.Since(t0).Round(time.Millisecond)), nil
}

// sentinelKill writes through the Sentinel-managed primary with a 300 ms deadline per
// call while the primary is killed (SIGKILL), and says how the calls fared.
func sentinelKill(ctx context.Context, stdout io.Writer, ss *redistest.SentinelSet, opts redline.Options) error {
	const deadline = 300 * time.Millisecond
	opts.CommandTimeout = deadline
	c, err := redline.NewClient(ctx, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	old, err := ss.Primary(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Sentinel failover: writing with a %v deadline per call; SIGKILL of the primary %s ...\n", deadline, old.Addr())
	var (
		calls, failed, late int
		worst               time.Duration
		firstFail, resumed  time.Time
	)
	stop := time.Now().Add(20 * time.Second)
	killed := time.Time{}
	for i := 0; time.Now().Before(stop); i++ {
		if i == 20 {
			if err := old.Kill(); err != nil {
				return err
			}
			killed = time.Now()
		}
		t0 := time.Now()
		_, err := c.Incr(ctx, "demo:failover")
		took := time.Since(t0)
		calls++
		worst = max(worst, took)
		if took > deadline+2*time.Millisecond {
			late++
		}
		switch {
		case err != nil:
			failed++
			if firstFail.IsZero() {
				firstFail = time.Now()
			}
		case !killed.IsZero() && failed > 0:
			resumed = time.Now()
		}
		if !resumed.IsZero() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resumed.IsZero() {
		return fmt.Errorf("writes did not resume within 20s of the kill (%d of %d calls failed)", failed, calls)
	}
	fmt.Fprintf(stdout, "  %d calls, %d failed while no primary was known, %d past deadline + 2ms (slowest %v);\n",
		calls, failed, late, worst.Round(100*time.Microsecond))
	fmt.Fprintf(stdout, "  writes resumed on the promoted replica %v after the kill (the Sentinels' down-after is 1s).\n",
		resumed.Sub(killed).Round(10*time.Millisecond))
	return nil
}
