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

// TestReliabilityPartition black-holes one master's client path (its fault proxy: SYNs
// dropped, established connections deliver nothing) for three times the
// cluster-node-timeout, then heals it, while writers run against that shard and a
// healthy one. The cluster bus does not go through the proxy, so the cluster itself
// sees no failure and does not fail over: this is a partition between the client and
// one node. The test documents and asserts what the client does:
//   - calls to the partitioned shard end by their deadline; once the node is known
//     down (its connection overdue by ReplyTimeout, or a dial timed out) they fail at
//     once with a NodeError naming the node, without waiting for their deadline;
//   - the healthy shard keeps answering every call, at normal latency;
//   - a write reported as not sent (SafeToRetry) never executes, even when the
//     partition heals and held traffic is delivered; writes reported as possibly
//     executed (MayHaveExecuted) are counted;
//   - after the heal, writes to the shard succeed again within the reconnection
//     backoff ceiling (2s) plus a second, with no help from the test.
func TestReliabilityPartition(t *testing.T) {
	testkit.Heavy(t)
	cl := redistest.Run(t, redistest.Config{Masters: 3, NodeTimeout: time.Second})
	const timeout = 300 * time.Millisecond
	c := newTestClient(t, cl, redline.Options{CommandTimeout: timeout, DialTimeout: timeout, ReplyTimeout: 500 * time.Millisecond})
	ctx := t.Context()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	victim, healthy := cl.Node(0), cl.Node(1)
	vtag, htag := topo.KeyOn(t, victim, "part"), topo.KeyOn(t, healthy, "part")

	type outcome struct {
		key      string
		err      error
		msg      string // err's text when it happened (a down node's says for how long)
		at       time.Time
		took     time.Duration
		healthy  bool
		duringPt bool
	}
	var (
		mu        sync.Mutex
		outcomes  []outcome
		stats     testkit.CallStats
		stop      = make(chan struct{})
		wg        sync.WaitGroup
		partition struct {
			sync.Mutex
			on bool
		}
	)
	writer := func(tag string, isHealthy bool) {
		defer wg.Done()
		for i := 0; i < 100000; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			key := fmt.Sprintf("{%s}:%d", tag, i)
			start := time.Now()
			err := stats.Timed(timeout, func(ctx context.Context) error { return c.Do(ctx, "SET", key, i).Err() })
			partition.Lock()
			on := partition.on
			partition.Unlock()
			var msg string
			if err != nil {
				msg = err.Error()
			}
			mu.Lock()
			outcomes = append(outcomes, outcome{key: key, err: err, msg: msg, at: start, took: time.Since(start), healthy: isHealthy, duringPt: on})
			mu.Unlock()
		}
	}
	wg.Add(2)
	go writer(vtag, false)
	go writer(htag, true)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	time.Sleep(300 * time.Millisecond)
	hold := time.Duration(testkit.SoakOr(3, 10)) * cl.NodeTimeout()
	partition.Lock()
	partition.on = true
	partition.Unlock()
	if err := victim.SetFault(redistest.Blackhole); err != nil {
		t.Fatal(err)
	}
	time.Sleep(hold)
	partition.Lock()
	partition.on = false
	partition.Unlock()
	healAt := time.Now()
	if err := victim.SetFault(redistest.Pass); err != nil {
		t.Fatal(err)
	}
	// Writes to the shard succeed again: wait for one, bounded.
	var recoveredAt time.Time
	redistest.Poll(15*time.Second, func() bool { // recoveredAt stays zero if not: checked below
		mu.Lock()
		defer mu.Unlock()
		for _, o := range outcomes {
			if !o.healthy && o.err == nil && o.at.After(healAt) {
				recoveredAt = o.at.Add(o.took)
				return true
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	// The cluster saw nothing: the victim is still a master (no failover).
	if role, err := victim.Role(ctx); err != nil || role != "master" {
		t.Errorf("the partitioned node's role is %q (%v): the cluster failed it over, which a client-path partition must not cause", role, err)
	}
	var (
		healthyFail, fastFails, slowFails, unsentExecuted, maybeExecuted, maybeRan int
		fastLat                                                                    []time.Duration
		healthyLat                                                                 []time.Duration
		firstFast                                                                  string
	)
	for _, o := range outcomes {
		if o.healthy {
			healthyLat = append(healthyLat, o.took)
			if o.err != nil {
				healthyFail++
				t.Errorf("a call to the healthy shard failed: %v", o.err)
			}
			continue
		}
		if o.err == nil || !o.duringPt {
			continue
		}
		var ne *redline.NodeError
		if !errors.As(o.err, &ne) || ne.Addr != victim.Addr() {
			t.Errorf("a failure during the partition does not name the node: %v", o.err)
		}
		if o.took < timeout/2 {
			fastFails++
			fastLat = append(fastLat, o.took)
			if firstFast == "" {
				firstFast = o.msg
			}
		} else {
			slowFails++
		}
		n, err := c.Do(ctx, "EXISTS", o.key).Int64()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case redline.MayHaveExecuted(o.err):
			maybeExecuted++
			maybeRan += int(n)
		case n != 0:
			unsentExecuted++
			t.Errorf("%s: reported as not sent (%v), but it executed", o.key, o.err)
		}
	}
	stats.Check(t)
	if recoveredAt.IsZero() {
		t.Fatalf("writes to the partitioned shard did not recover within 15s of the heal")
	}
	if d := recoveredAt.Sub(healAt); d > 3*time.Second {
		t.Errorf("writes recovered %v after the heal, want within 3s", d)
	}
	if fastFails == 0 {
		t.Error("no call failed fast while the node was known down")
	}
	// Calls that waited for their deadline: those in flight when the partition began,
	// and those while the node's state was being learnt (ReplyTimeout, a dial timeout).
	if bound := int(2*time.Second/timeout) + 4; slowFails > bound {
		t.Errorf("%d calls waited for their deadline during the partition, want at most %d: the node's being down was not learnt", slowFails, bound)
	}
	healthyBound := 50 * time.Millisecond
	if testkit.Race {
		healthyBound *= 3
	}
	if p := percentile(healthyLat, 99); p > healthyBound {
		t.Errorf("healthy shard p99 %v during the partition", p)
	}
	testkit.Figure(t, "client-path partition of one master for %v (cluster-node-timeout %v; the cluster bus is not cut, so no failover): %d calls failed fast (p99 %v) with e.g. %q, %d waited for their %v deadline",
		hold, cl.NodeTimeout(), fastFails, percentile(fastLat, 99).Round(10*time.Microsecond), firstFast, slowFails, timeout)
	testkit.Figure(t, "partition: healthy shard %d calls, %d failed, p99 %v; writes reported not sent that executed: %d; reported as possibly executed: %d (of which %d did run once the held traffic was delivered)",
		len(healthyLat), healthyFail, percentile(healthyLat, 99).Round(10*time.Microsecond), unsentExecuted, maybeExecuted, maybeRan)
	testkit.Figure(t, "partition: heal → writes to the shard succeed again %v; %s", recoveredAt.Sub(healAt).Round(time.Millisecond), &stats)
}
