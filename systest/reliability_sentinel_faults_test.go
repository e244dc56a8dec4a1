package systest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// TestReliabilitySentinelFaults is the seed scenario's fault modes (tls-bad,
// blackhole, refuse, hang) on a Sentinel set with TLS everywhere: each in turn on a
// replica and on one of the three Sentinels, while a client made before the faults and
// one made during them write to the primary and read with ReadPreferReplica. The
// healthy paths keep working at full speed:
//   - every write succeeds, and its latency stays that of the fault-free baseline
//     (p99 within 3× + 25ms; + 250ms under the race detector);
//   - reads fail only while the faulty replica is not yet known down, at most a few per
//     client, and never past their deadline;
//   - a client made during the faults connects at once (one Sentinel of three does not
//     answer: the majority does), and with two of the three faulty it still connects,
//     within DialTimeout + CommandTimeout;
//   - every call returns by its deadline, and the clients leave no goroutine.
func TestReliabilitySentinelFaults(t *testing.T) {
	testkit.Alone(t)
	s := redistest.RunSentinelSet(t, redistest.SentinelConfig{TLS: true})
	redistest.NoClientGoroutineLeak(t)
	ctx := t.Context()
	const timeout = 500 * time.Millisecond
	opts := redline.Options{
		Sentinel:       redline.SentinelOptions{Addrs: s.SentinelAddrs(), MasterName: s.MasterName(), TLSConfig: s.TLSConfig()},
		TLSConfig:      s.TLSConfig(),
		CommandTimeout: timeout,
		DialTimeout:    timeout,
		ReadFrom:       redline.ReadPreferReplica,
		// The replicas the Sentinels list are asked for again this often: a replica a
		// Sentinel left out while it was faulty is read from again once healed.
		RefreshInterval: 200 * time.Millisecond,
	}
	c, err := redline.NewClient(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	primary, err := s.Primary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("data nodes %v, Sentinels %v", s.Nodes(), s.Sentinels())
	var replica *redistest.Node // the faulty one
	for _, n := range s.Nodes() {
		if n != primary {
			replica = n
			break
		}
	}
	before := getCalls(t, s.Nodes())
	base := sentinelHealthyLoad(t, []*redline.Client{c}, timeout, "base", testkit.SoakOr(time.Second, 5*time.Second))
	testkit.Figure(t, "baseline: %v", base)
	// Reads go to the replicas (both), not the primary.
	after := getCalls(t, s.Nodes())
	for i, n := range s.Nodes() {
		if served := after[i] - before[i]; (n == primary) != (served < base.reads/10) {
			t.Errorf("%v served %d of the %d reads", n, served, base.reads)
		}
	}

	for _, mode := range []redistest.Mode{redistest.TLSBad, redistest.Blackhole, redistest.Refuse, redistest.Hang} {
		t.Run(mode.String(), func(t *testing.T) {
			// Healed from the mode before: the Sentinels list the replica again, and the
			// first client reads from it again.
			if err := s.WaitHealthy(ctx); err != nil {
				t.Fatal(err)
			}
			readsReach(t, c, replica)
			faulty := []*redistest.Node{replica, s.Sentinel(0)}
			clear := func() {
				for _, n := range append(faulty, s.Sentinel(1)) {
					if err := n.SetFault(redistest.Pass); err != nil {
						t.Errorf("clear the fault: %v", err)
					}
				}
			}
			defer clear()
			for _, n := range faulty {
				if err := n.SetFault(mode); err != nil {
					t.Fatal(err)
				}
			}
			nc, connect, stall, err := connectTimed(ctx, opts)
			if err != nil {
				t.Fatalf("a new client with %v and %v %v: %v (the process stalled %v meanwhile)", replica, s.Sentinel(0), mode, err, stall)
			}
			defer nc.Close()
			if connect > 100*time.Millisecond+testkit.Slack()+stall {
				t.Errorf("a new client took %v to connect with one Sentinel of three %v (the process stalled %v meanwhile)", connect, mode, stall)
			}
			before := getCalls(t, s.Nodes())
			load := sentinelHealthyLoad(t, []*redline.Client{c, nc}, timeout, mode.String(), testkit.SoakOr(time.Second, 10*time.Second))
			after := getCalls(t, s.Nodes())
			var served []int64
			for i := range after {
				served = append(served, after[i]-before[i])
			}
			if served[slices.Index(s.Nodes(), replica)] > 0 {
				t.Errorf("GETs served by %v: %v; none should reach the faulty replica", s.Nodes(), served)
			}
			if load.writeErrs > 0 {
				t.Errorf("%d writes to the healthy primary failed; first: %v", load.writeErrs, load.firstWriteErr)
			}
			if load.readErrs > 4 {
				t.Errorf("%d reads failed (the faulty replica should be skipped once known down); first: %v", load.readErrs, load.firstReadErr)
			}
			if limit := 3*base.writeP99 + testkit.Slack()/2; load.writeP99 > limit {
				t.Errorf("write p99 %v with the faults, %v without: the healthy path slowed down", load.writeP99, base.writeP99)
			}
			load.stats.Check(t)

			// Two Sentinels of three faulty: no majority answers; the client still
			// connects (the one answering names a primary whose ROLE confirms it).
			if err := s.Sentinel(1).SetFault(mode); err != nil {
				t.Fatal(err)
			}
			nc2, connect2, stall, err := connectTimed(ctx, opts)
			if err != nil {
				t.Errorf("a new client with two Sentinels of three %v: %v (the process stalled %v meanwhile)", mode, err, stall)
			} else {
				if err := nc2.Set(ctx, "sf:two", "v", nil); err != nil {
					t.Errorf("a write through a client made with two Sentinels %v: %v", mode, err)
				}
				nc2.Close()
			}
			if connect2 > opts.DialTimeout+opts.CommandTimeout+testkit.Slack()+stall {
				t.Errorf("a new client took %v to connect with two Sentinels of three %v (the process stalled %v meanwhile)", connect2, mode, stall)
			}
			clear()
			testkit.Figure(t, "%v on a replica and a Sentinel: new client connected in %v (%v with two Sentinels faulty); %v",
				mode, connect.Round(time.Millisecond), connect2.Round(time.Millisecond), load)
		})
	}
}

// healthyLoad is what sentinelHealthyLoad measured.
type healthyLoad struct {
	stats               testkit.CallStats
	writes, reads       int64
	writeErrs, readErrs int64
	firstWriteErr       error
	firstReadErr        error
	stalled             int64 // calls failed or slow while the process itself stalled (left out)
	writeP50, writeP99  time.Duration
	readP50, readP99    time.Duration
}

func (l *healthyLoad) String() string {
	s := fmt.Sprintf("%d writes (%d failed, p50 %v, p99 %v), %d reads (%d failed, p50 %v, p99 %v), %d slow or failed in a process stall left out; %s",
		l.writes, l.writeErrs, l.writeP50.Round(10*time.Microsecond), l.writeP99.Round(10*time.Microsecond),
		l.reads, l.readErrs, l.readP50.Round(10*time.Microsecond), l.readP99.Round(10*time.Microsecond), l.stalled, &l.stats)
	if l.firstWriteErr != nil {
		s += fmt.Sprintf("; first write error: %v", l.firstWriteErr)
	}
	if l.firstReadErr != nil {
		s += fmt.Sprintf("; first read error: %v", l.firstReadErr)
	}
	return s
}

// sentinelHealthyLoad runs, on each client for d, a writer (SET) and a reader (GET, to
// a replica with ReadPreferReplica), and returns the counts and latencies. A call that
// failed or took over 2ms while the test process itself stalled for at least half its
// time (testkit's canary: the machine, not the client) is counted apart.
func sentinelHealthyLoad(t *testing.T, cs []*redline.Client, timeout time.Duration, prefix string, d time.Duration) *healthyLoad {
	l := &healthyLoad{}
	var mu sync.Mutex
	var wl, rl []time.Duration
	var writes, reads, werrs, rerrs, stalled atomic.Int64
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for ci, c := range cs {
		key := fmt.Sprintf("sf:%s:%d", prefix, ci)
		if err := c.Set(t.Context(), key, "v", nil); err != nil {
			t.Fatalf("client %d: SET before the load: %v", ci, err)
		}
		for _, write := range []bool{true, false} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var lat []time.Duration
				for i := 0; i < 1_000_000 && time.Now().Before(end); i++ {
					start := time.Now()
					err := l.stats.Timed(timeout, func(ctx context.Context) error {
						if write {
							return c.Do(ctx, "SET", key, i).Err()
						}
						return c.Do(ctx, "GET", key).Err()
					})
					el := time.Since(start)
					if write {
						writes.Add(1)
					} else {
						reads.Add(1)
					}
					if (err != nil || el > 2*time.Millisecond) && testkit.StallDuring(start, start.Add(el+5*time.Millisecond)) >= el/2 {
						stalled.Add(1)
						continue
					}
					switch {
					case err != nil && write:
						werrs.Add(1)
					case err != nil:
						rerrs.Add(1)
					default:
						lat = append(lat, el)
					}
					if err != nil {
						mu.Lock()
						if write && l.firstWriteErr == nil {
							l.firstWriteErr = err
						} else if !write && l.firstReadErr == nil {
							l.firstReadErr = err
						}
						mu.Unlock()
						time.Sleep(2 * time.Millisecond)
					}
				}
				mu.Lock()
				if write {
					wl = append(wl, lat...)
				} else {
					rl = append(rl, lat...)
				}
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	slices.Sort(wl)
	slices.Sort(rl)
	l.writes, l.reads, l.writeErrs, l.readErrs, l.stalled = writes.Load(), reads.Load(), werrs.Load(), rerrs.Load(), stalled.Load()
	l.writeP50, l.writeP99 = percentile(wl, 50), percentile(wl, 99)
	l.readP50, l.readP99 = percentile(rl, 50), percentile(rl, 99)
	return l
}

// getCalls returns the GET commands each node has served (INFO commandstats), asked
// directly.
func getCalls(t *testing.T, nodes []*redistest.Node) []int64 {
	out := make([]int64, len(nodes))
	for i, n := range nodes {
		v, err := n.Do(t.Context(), "INFO", "commandstats")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(v.Str), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_get:calls="); ok {
				num, _, _ := strings.Cut(rest, ",")
				out[i], _ = strconv.ParseInt(num, 10, 64)
			}
		}
	}
	return out
}

// readsReach waits (up to 10s) until reads through c reach n.
func readsReach(t *testing.T, c *redline.Client, n *redistest.Node) {
	t.Helper()
	i := []*redistest.Node{n}
	before := getCalls(t, i)[0]
	if !redistest.Poll(10*time.Second, func() bool {
		for range 20 {
			c.Do(t.Context(), "GET", "sf:reach")
		}
		return getCalls(t, i)[0] > before
	}) {
		t.Fatalf("reads never reached %v", n)
	}
}

// connectTimed makes a client and says how long it took and the longest scheduling
// stall of the process meanwhile (testkit's canary). A client that failed to connect
// while the process stalled for over 100ms (a loaded 2-core machine: the budget of
// DialTimeout + CommandTimeout went to the stall), or under the race detector (whose
// TLS handshakes, the fault proxies' included, take tens of ms each), is tried once
// more; the strict run is make test's race-free one.
func connectTimed(ctx context.Context, o redline.Options) (*redline.Client, time.Duration, time.Duration, error) {
	testkit.StartCanary()
	for try := 0; ; try++ {
		start := time.Now()
		c, err := redline.NewClient(ctx, o)
		end := time.Now()
		stall := testkit.StallDuring(start, end.Add(10*time.Millisecond))
		if err != nil && (stall > 100*time.Millisecond || testkit.Race) && try == 0 {
			continue
		}
		return c, end.Sub(start), stall, err
	}
}
