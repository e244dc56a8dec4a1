package systest

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// The reliability suite (TestReliability*): failover, resharding, restarts,
// partitions, topology storms, hostile servers and security. Every test starts its own
// cluster when it changes one, bounds every load loop in count and time, and prints
// its figures as "FIGURE" lines (go test -run TestReliability -v); docs/RELIABILITY.md
// reports them from a run. `make soak` runs the same tests longer (REDLINE_SOAK=1,
// without the race detector).

// replicaOf returns the (first) replica of master in topo.
func replicaOf(t testing.TB, topo *redistest.Topology, master *redistest.Node) *redistest.Node {
	t.Helper()
	rs := topo.ReplicasOf(master.ID())
	if len(rs) == 0 || rs[0].Node == nil {
		t.Fatalf("%v has no replica", master)
	}
	return rs[0].Node
}

// waitRole polls n's own role (on its real port) until it is want, for at most within,
// and returns when.
func waitRole(n *redistest.Node, want string, within time.Duration) (time.Time, error) {
	var role string
	var err error
	if redistest.Poll(within, func() bool {
		role, err = n.Role(context.Background()) // bounded by Node.Do's own 10s
		return err == nil && role == want
	}) {
		return time.Now(), nil
	}
	return time.Time{}, fmt.Errorf("%v never became %s within %v (last: %q %v)", n, want, within, role, err)
}

// probe writes one key every interval and records when writes fail and succeed, to
// measure how long a shard was unavailable.
type probe struct {
	mu       sync.Mutex
	lastFail time.Time // the last failed write
	okAfter  time.Time // the first success after lastFail
	fails    int
}

// run writes key until stop is closed (bounded by the test's end too).
func (p *probe) run(c *redline.Client, key string, timeout time.Duration, stop <-chan struct{}, stats *testkit.CallStats) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-time.After(5 * time.Millisecond):
		}
		err := stats.Timed(timeout, func(ctx context.Context) error { return c.Do(ctx, "SET", key, i).Err() })
		now := time.Now()
		p.mu.Lock()
		if err != nil {
			p.lastFail, p.okAfter = now, time.Time{}
			p.fails++
		} else if !p.lastFail.IsZero() && p.okAfter.IsZero() {
			p.okAfter = now
		}
		p.mu.Unlock()
	}
}

// recovered returns when writes succeeded again after the last failure at or after
// since (since itself when none failed), and whether they did.
func (p *probe) recovered(since time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastFail.Before(since) {
		return since, true
	}
	return p.okAfter, !p.okAfter.IsZero()
}

// clientConns counts, on every running node of cl, the connections named name
// (CLIENT LIST), keyed by node index.
func clientConns(ctx context.Context, cl *redistest.Cluster, name string) (map[int]int, error) {
	out := map[int]int{}
	for _, n := range cl.Nodes() {
		if !n.Running() || n.Paused() {
			continue
		}
		v, err := n.Do(ctx, "CLIENT", "LIST")
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(v.Str), "\n") {
			if strings.Contains(line, " name="+name+" ") {
				out[n.Index()]++
			}
		}
	}
	return out, nil
}

// commandCalls returns the calls counted for each named command (INFO commandstats,
// "cluster|shards") summed over the running nodes of cl.
func commandCalls(ctx context.Context, cl *redistest.Cluster, names ...string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, n := range cl.Nodes() {
		if !n.Running() || n.Paused() {
			continue
		}
		v, err := n.Do(ctx, "INFO", "commandstats")
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(v.Str), "\n") {
			for _, name := range names {
				prefix := "cmdstat_" + name + ":calls="
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
					num, _, _ := strings.Cut(rest, ",")
					k, _ := strconv.ParseInt(num, 10, 64)
					out[name] += k
				}
			}
		}
	}
	return out, nil
}

// percentile returns the p-th percentile (0..100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}
