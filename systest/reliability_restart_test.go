package systest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// TestReliabilityRestart restarts one node, then the whole cluster (every process
// killed and started again from its saved data), while a client keeps calling. It
// asserts that the client reconnects by itself (writes to every shard succeed again
// within a bound, no call made by the test to help), that no call outlives its
// deadline, that every key is intact, that the servers see exactly one connection from
// the client per node afterwards (CLIENT LIST), and that the process has no more
// goroutines than before the restarts.
//
// Not parallel: it counts the goroutines of the whole process.
func TestReliabilityRestart(t *testing.T) {
	testkit.StartCanary() // before the goroutine baseline
	cl := redistest.Run(t, redistest.Config{Masters: 3, NodeTimeout: time.Second})
	const timeout = 500 * time.Millisecond
	const name = "rel-restart"
	c := newTestClient(t, cl, redline.Options{CommandTimeout: timeout, DialTimeout: timeout, ClientName: name, RefreshMinInterval: 200 * time.Millisecond})
	ctx := t.Context()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nkeys := testkit.SoakOr(2000, 20000)
	for i := 0; i < nkeys; i += 100 {
		args := []any{"MSET"}
		for j := i; j < i+100; j++ {
			args = append(args, fmt.Sprintf("restart:%d", j), j)
		}
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	masters := []*redistest.Node{cl.Node(0), cl.Node(1), cl.Node(2)}
	probeKeys := make([]string, len(masters))
	for i, m := range masters {
		probeKeys[i] = topo.KeyOn(t, m, "restart-probe")
	}
	// Baseline: one call to every shard, then the process at rest.
	for _, k := range probeKeys {
		if err := c.Do(ctx, "SET", k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	before := redistest.SettleGoroutines(0, 300*time.Millisecond)
	conns, err := clientConns(ctx, cl, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range masters {
		if conns[m.Index()] != 1 {
			t.Fatalf("before the restarts, node %d sees %d connections from the client, want 1", m.Index(), conns[m.Index()])
		}
	}

	var stats testkit.CallStats
	// restartAndRecover runs restart under load and returns how long after it returned
	// (the servers answer PING), and after the cluster was healthy again
	// (cluster_state:ok everywhere), every shard took writes again.
	restartAndRecover := func(what string, restart func() error) (time.Duration, time.Duration) {
		t.Helper()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		probes := make([]*probe, len(masters))
		for i := range masters {
			probes[i] = &probe{}
			wg.Add(1)
			go func() { defer wg.Done(); probes[i].run(c, probeKeys[i], timeout, stop, &stats) }()
		}
		wg.Add(1)
		go func() { // reads across the keyspace, bounded
			defer wg.Done()
			for i := range 100000 {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
				k := fmt.Sprintf("restart:%d", (i*7919)%nkeys)
				stats.Timed(timeout, func(ctx context.Context) error {
					n, err := c.Do(ctx, "GET", k).Int64()
					if err == nil && n != int64((i*7919)%nkeys) {
						t.Errorf("GET %s = %d during %s", k, n, what)
					}
					return err
				})
			}
		}()
		defer func() { close(stop); wg.Wait() }()
		time.Sleep(300 * time.Millisecond)
		if err := restart(); err != nil {
			t.Fatal(err)
		}
		back := time.Now()
		if err := cl.WaitHealthy(t.Context()); err != nil {
			t.Fatal(err)
		}
		healthy := time.Now()
		// Every shard takes writes again: no probe failed for the last 500ms.
		limit := time.Now().Add(20 * time.Second)
		for {
			var last time.Time
			ok := true
			for _, p := range probes {
				at, rec := p.recovered(back)
				ok = ok && rec && time.Since(at) > 500*time.Millisecond
				if at.After(last) {
					last = at
				}
			}
			if ok {
				return last.Sub(back), max(0, last.Sub(healthy))
			}
			if time.Now().After(limit) {
				t.Fatalf("after %s, writes did not succeed on every shard within 20s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	save := func(n *redistest.Node) error {
		_, err := n.Do(ctx, "SAVE") // the data survives the restart (dump.rdb)
		return err
	}
	one, oneHealthy := restartAndRecover("a node restart", func() error {
		if err := save(masters[1]); err != nil {
			return err
		}
		return masters[1].Restart(t.Context())
	})
	all, allHealthy := restartAndRecover("a cluster restart", func() error {
		for _, m := range masters {
			if err := save(m); err != nil {
				return err
			}
		}
		for _, m := range masters {
			if err := m.Kill(); err != nil {
				return err
			}
		}
		errs := make([]error, len(masters))
		var wg sync.WaitGroup
		for i, m := range masters {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = m.Restart(t.Context()) }()
		}
		wg.Wait()
		return errors.Join(errs...)
	})
	stats.Check(t)
	// The client's own reconnection adds at most its backoff ceiling (2s) to the
	// cluster's recovery.
	if oneHealthy > 3*time.Second || allHealthy > 3*time.Second {
		t.Errorf("writes recovered %v / %v after the cluster was healthy again, want within 3s", oneHealthy, allHealthy)
	}

	for i := range nkeys {
		k := fmt.Sprintf("restart:%d", i)
		if n, err := c.Do(ctx, "GET", k).Int64(); err != nil || n != int64(i) {
			t.Fatalf("%s after the restarts: %d %v", k, n, err)
		}
	}
	conns, err = clientConns(ctx, cl, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range masters {
		if conns[m.Index()] != 1 {
			t.Errorf("after the restarts, node %d sees %d connections from the client, want 1", m.Index(), conns[m.Index()])
		}
	}
	after := redistest.SettleGoroutines(before, 5*time.Second)
	if after > before {
		t.Errorf("%d goroutines after the restarts, %d before", after, before)
	}
	testkit.Figure(t, "node restart: every shard takes writes again %v after the node answers PING (%v after cluster_state:ok everywhere); cluster-wide restart: %v after the last node answers (%v after cluster_state:ok)",
		one.Round(time.Millisecond), oneHealthy.Round(time.Millisecond), all.Round(time.Millisecond), allHealthy.Round(time.Millisecond))
	testkit.Figure(t, "restarts: %s (deadline %v); %d keys intact; connections seen by the servers afterwards %v (want 1 per node); goroutines %d before, %d after",
		&stats, timeout, nkeys, conns, before, after)
}
