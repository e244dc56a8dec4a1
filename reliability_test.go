package redline

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// The reliability suite (TestReliability*): failover, resharding, restarts,
// partitions, topology storms, hostile servers and security. Every test starts its own
// cluster when it changes one, bounds every load loop in count and time, and prints
// its figures as "FIGURE" lines (go test -run TestReliability -v); docs/RELIABILITY.md
// reports them from a run. `make soak` runs the same tests longer (REDLINE_SOAK=1,
// without the race detector).

// soak is set by `make soak`: longer load phases, more keys, more rounds.
var soak = os.Getenv("REDLINE_SOAK") != ""

// soakOr returns long under `make soak`, short otherwise.
func soakOr[T any](short, long T) T {
	if soak {
		return long
	}
	return short
}

// deadlineSlack is how far past its deadline a call may return before a test fails.
// The contract is 2ms; tests report how many calls went past that, but fail only
// beyond this slack, which absorbs the scheduling delays of a loaded 2-core machine
// (and the race detector's several-fold slowdown).
var deadlineSlack = func() time.Duration {
	if raceEnabled {
		return 100 * time.Millisecond
	}
	return 25 * time.Millisecond
}()

// heavy lets one test of the suite run at a time: each loads the 2-core machine by
// itself (clusters, hundreds of clients, the race detector) or measures timing that
// the others' load would blur. They still run in parallel with the package's other
// tests.
var heavy = make(chan struct{}, 1)

// heavyTest marks t parallel and waits for its turn among the heavy tests; the turn
// ends after every other cleanup of t (its cluster is gone by then).
func heavyTest(t *testing.T) {
	t.Parallel()
	heavy <- struct{}{}
	t.Cleanup(func() { <-heavy })
}

// figure logs one measured figure in a form docs/RELIABILITY.md quotes.
func figure(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURE %s: %s", t.Name(), fmt.Sprintf(format, args...))
}

// The canary is a goroutine that sleeps 1ms at a time and records how much later than
// that it woke: the process-wide scheduling stalls (CPU taken by other processes on a
// shared 2-core machine, the race detector, GC) that delay every goroutine alike. A call
// that returns late during such a stall shows the machine, not the client: tests fail
// a call only when it is later than the slack plus the stall seen around it.
var canary struct {
	once   sync.Once
	mu     sync.Mutex
	stalls []stall // the recent ones over 2ms, oldest first
	max    atomic.Int64
}

type stall struct {
	at time.Time // when the canary woke
	d  time.Duration
}

// startCanary starts the canary once per test binary (it runs until the binary exits).
func startCanary() {
	canary.once.Do(func() {
		go func() {
			for {
				t0 := time.Now()
				time.Sleep(time.Millisecond)
				now := time.Now()
				d := now.Sub(t0) - time.Millisecond
				if d <= 2*time.Millisecond {
					continue
				}
				canary.mu.Lock()
				if len(canary.stalls) >= 1<<16 {
					canary.stalls = append(canary.stalls[:0], canary.stalls[1<<15:]...)
				}
				canary.stalls = append(canary.stalls, stall{now, d})
				canary.mu.Unlock()
				if int64(d) > canary.max.Load() {
					canary.max.Store(int64(d))
				}
			}
		}()
	})
}

// stallDuring returns the longest stall the canary saw end in [from, to].
func stallDuring(from, to time.Time) time.Duration {
	canary.mu.Lock()
	defer canary.mu.Unlock()
	var m time.Duration
	for _, s := range canary.stalls {
		if !s.at.Before(from) && !s.at.After(to) && s.d > m {
			m = s.d
		}
	}
	return m
}

// callStats counts the calls of a load phase and how far past its deadline each
// returned.
type callStats struct {
	calls, failed atomic.Int64
	over2ms       atomic.Int64 // returned more than 2ms after the deadline (the contract)
	maxOver       atomic.Int64 // nanoseconds
	mu            sync.Mutex
	late          []lateCall // returned more than deadlineSlack after the deadline
}

// lateCall is a call that returned more than deadlineSlack after its deadline.
type lateCall struct {
	end  time.Time
	over time.Duration
	err  string
}

// timed runs fn with a context that ends after timeout and records how the call ended.
func (s *callStats) timed(timeout time.Duration, fn func(ctx context.Context) error) error {
	startCanary()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	err := fn(ctx)
	end := time.Now()
	over := end.Sub(start) - timeout
	s.calls.Add(1)
	if err != nil {
		s.failed.Add(1)
	}
	if over > 2*time.Millisecond {
		s.over2ms.Add(1)
	}
	if over > deadlineSlack {
		s.mu.Lock()
		s.late = append(s.late, lateCall{end, over, fmt.Sprint(err)})
		s.mu.Unlock()
	}
	for {
		m := s.maxOver.Load()
		if int64(over) <= m || s.maxOver.CompareAndSwap(m, int64(over)) {
			break
		}
	}
	return err
}

// check fails the test if a call went past its deadline by more than the slack plus
// the longest process-wide stall the canary saw while that call was ending.
func (s *callStats) check(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var bad int
	var first string
	for _, l := range s.late {
		st := stallDuring(l.end.Add(-l.over-50*time.Millisecond), l.end.Add(50*time.Millisecond))
		if l.over > deadlineSlack+st {
			bad++
			if first == "" {
				first = fmt.Sprintf("%v past the deadline (process stall around it: %v): %s", l.over, st, l.err)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d calls returned more than %v after their deadline, beyond any scheduling stall of the process; first: %s", bad, deadlineSlack, first)
	}
}

// String summarizes the calls for a FIGURE line.
func (s *callStats) String() string {
	s.mu.Lock()
	late := len(s.late)
	s.mu.Unlock()
	return fmt.Sprintf("%d calls, %d failed, %d past deadline+2ms (%d past deadline+%v), max past deadline %v, longest process stall seen by the canary %v",
		s.calls.Load(), s.failed.Load(), s.over2ms.Load(), late, deadlineSlack, max(0, time.Duration(s.maxOver.Load())).Round(10*time.Microsecond),
		time.Duration(canary.max.Load()).Round(100*time.Microsecond))
}

// keyOnSlotOf returns a key with prefix whose slot the node n owns in topo.
func keyOnNode(t testing.TB, topo *redistest.Topology, n *redistest.Node, prefix string) string {
	t.Helper()
	for i := range 200000 {
		k := prefix + ":" + strconv.Itoa(i)
		if o := topo.Owner(hashslot.Key(k)); o != nil && o.Node == n {
			return k
		}
	}
	t.Fatalf("no key found on %v", n)
	return ""
}

// replicaOf returns the (first) replica of master in topo.
func replicaOf(t testing.TB, topo *redistest.Topology, master *redistest.Node) *redistest.Node {
	t.Helper()
	rs := topo.ReplicasOf(master.ID())
	if len(rs) == 0 || rs[0].Node == nil {
		t.Fatalf("%v has no replica", master)
	}
	return rs[0].Node
}

// waitRole polls n's own role (on its real port) until it is want, and returns when.
func waitRole(ctx context.Context, n *redistest.Node, want string) (time.Time, error) {
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		role, err := n.Role(rctx)
		cancel()
		if err == nil && role == want {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%v never became %s (last: %q %v)", n, want, role, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
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
func (p *probe) run(c *Client, key string, timeout time.Duration, stop <-chan struct{}, stats *callStats) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-time.After(5 * time.Millisecond):
		}
		err := stats.timed(timeout, func(ctx context.Context) error { return c.Do(ctx, "SET", key, i).Err() })
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

// goroutinesSettle waits until the process has at most limit goroutines, and returns
// the count it saw last.
func goroutinesSettle(limit int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= limit || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
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
