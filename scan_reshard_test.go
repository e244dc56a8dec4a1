package redline

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// scanCluster is the cluster the Scan tests reshard and fail over (3 masters with a
// replica each), so the package's other tests never meet a moving slot of theirs. The
// tests that change it restore it, and run one at a time (scanClusterMu).
func scanCluster(t testing.TB) *redistest.Cluster {
	return redistest.Shared(t, "scan", redistest.Config{Masters: 3, ReplicasPerMaster: 1})
}

var scanClusterMu sync.Mutex

// scanFill empties the scan cluster and writes keys to it: untagged ones spread over all
// slots, and perTag keys under each of tags (a few slots with many keys each).
func scanFill(t *testing.T, ctx context.Context, cl *redistest.Cluster, c *Client, untagged int, tags []string, perTag int) map[string]bool {
	t.Helper()
	var keys []string
	for i := range untagged {
		keys = append(keys, fmt.Sprintf("scan:%d", i))
	}
	for _, tag := range tags {
		for i := range perTag {
			keys = append(keys, fmt.Sprintf("%s:%d", tag, i))
		}
	}
	scanFillKeys(t, ctx, cl, c, keys)
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	return want
}

// scanFillKeys empties the scan cluster and sets keys (to "v").
func scanFillKeys(t *testing.T, ctx context.Context, cl *redistest.Cluster, c *Client, keys []string) {
	t.Helper()
	for _, n := range scanMasters(t, ctx, cl) {
		if _, err := n.Do(ctx, "FLUSHALL"); err != nil {
			t.Fatal(err)
		}
	}
	for start := 0; start < len(keys); start += 10_000 {
		cmds := make([]Command, 0, 10_000)
		for _, k := range keys[start:min(start+10_000, len(keys))] {
			cmds = append(cmds, Cmd("SET", k, "v"))
		}
		for _, r := range c.DoMulti(ctx, cmds...) {
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// scanMasters returns the nodes of the scan cluster that are masters now.
func scanMasters(t *testing.T, ctx context.Context, cl *redistest.Cluster) []*redistest.Node {
	t.Helper()
	var out []*redistest.Node
	for _, n := range cl.Nodes() {
		role, err := n.Role(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if role == "master" {
			out = append(out, n)
		}
	}
	return out
}

// scanCheck runs one full Scan and returns a description of what it got wrong against
// want ("" when every key came exactly once and nothing else came).
func scanCheck(ctx context.Context, c *Client, opts ScanOptions, want map[string]bool) (problem string, restarts int, err error) {
	problem, it, err := scanCheckIt(ctx, c, opts, want)
	return problem, it.Restarts(), err
}

// scanCheckIt is scanCheck returning the iterator.
func scanCheckIt(ctx context.Context, c *Client, opts ScanOptions, want map[string]bool) (problem string, it *ScanIterator, err error) {
	seen := make(map[string]int, len(want))
	it = c.Scan(opts)
	for it.Next(ctx) {
		seen[it.Key()]++
	}
	if err := it.Err(); err != nil {
		return "", it, err
	}
	var missed, twice, extra []string
	for k := range want {
		if seen[k] == 0 {
			missed = append(missed, k)
		}
	}
	for k, n := range seen {
		if n > 1 {
			twice = append(twice, k)
		}
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(missed)+len(twice)+len(extra) == 0 {
		return "", it, nil
	}
	sort.Strings(missed)
	sort.Strings(twice)
	return fmt.Sprintf("%d of %d keys missed (e.g. %v), %d returned more than once (e.g. %v), %d not expected (e.g. %v)",
		len(missed), len(want), head(missed), len(twice), head(twice), len(extra), head(extra)), it, nil
}

func head(s []string) []string { return s[:min(3, len(s))] }

// scanWhile runs full scans back to back until busy is closed (and one more after),
// checking each. It keeps scanning after a wrong scan, so the change under way can
// finish (and the cluster be restored), and returns the first problem.
func scanWhile(ctx context.Context, c *Client, opts ScanOptions, want map[string]bool, busy <-chan struct{}) (scans, bad, restarts, fromTarget int, first string) {
	for ctx.Err() == nil {
		done := false
		select {
		case <-busy:
			done = true
		default:
		}
		problem, it, err := scanCheckIt(ctx, c, opts, want)
		scans++
		restarts += it.Restarts()
		fromTarget += it.fromTarget
		if err != nil {
			problem = err.Error()
		}
		if problem != "" {
			bad++
			if first == "" {
				first = fmt.Sprintf("scan %d: %s", scans, problem)
			}
		}
		if done {
			return
		}
	}
	<-busy // the change is bounded by ctx too
	return scans, bad, restarts, fromTarget, "scans did not finish: " + ctx.Err().Error()
}

// TestScanDuringResharding moves slots holding many keys between masters, key batch by
// key batch (MIGRATE), while full scans run back to back; every scan must return every
// key exactly once. Three runs move the slots around the three masters and back. One
// slot holds more keys than one read asks for.
func TestScanDuringResharding(t *testing.T) {
	scanClusterMu.Lock()
	defer scanClusterMu.Unlock()
	cl := scanCluster(t)
	ctx := t.Context()
	c := newTestClient(t, cl, Options{CommandTimeout: 2 * time.Second})
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Tags in slots of master 0, so each run moves them one master on.
	var tags []string
	for i := 0; len(tags) < 8; i++ {
		tag := fmt.Sprintf("{scanmig%d}", i)
		if o := topo.Owner(hashslot.Key(tag)); o != nil && o.Node == cl.Node(0) {
			tags = append(tags, tag)
		}
	}
	want := scanFill(t, ctx, cl, c, 1500, tags, 250)
	// One slot bigger than a read asks for (Count 100: 256 keys), so that its source or
	// its target, half-way, holds more than that.
	var more []Command
	for i := 250; i < 700; i++ {
		k := fmt.Sprintf("%s:%d", tags[0], i)
		want[k] = true
		more = append(more, Cmd("SET", k, "v"))
	}
	for _, r := range c.DoMulti(ctx, more...) {
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
	}
	opts := ScanOptions{Count: 100}
	if problem, _, err := scanCheck(ctx, c, opts, want); err != nil || problem != "" {
		t.Fatalf("quiet cluster: %v %s", err, problem)
	}
	for run := range 3 {
		busy := make(chan struct{})
		var migErr error
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(busy)
			for _, tag := range tags {
				m, err := cl.BeginMigration(ctx, hashslot.Key(tag), cl.Node((run+1)%3))
				if err != nil {
					migErr = err
					return
				}
				for range 100 {
					n, err := m.MoveKeys(ctx, 10)
					if err != nil {
						migErr = err
						return
					}
					if n == 0 {
						break
					}
					time.Sleep(time.Millisecond) // scans meet a half-moved slot
				}
				if err := m.Finish(ctx); err != nil {
					migErr = err
					return
				}
			}
		}()
		scans, bad, restarts, fromTarget, first := scanWhile(ctx, c, opts, want, busy)
		wg.Wait()
		if migErr != nil {
			t.Fatal(migErr)
		}
		t.Logf("run %d: %d scans of %d keys during the moves of %d slots, %d wrong; %d restarts, %d half-moved slots read from both sides",
			run+1, scans, len(want), len(tags), bad, restarts, fromTarget)
		if fromTarget == 0 {
			t.Errorf("run %d: no scan met a half-moved slot", run+1)
		}
		if bad > 0 {
			t.Errorf("run %d: %d of %d scans wrong; first: %s", run+1, bad, scans, first)
		}
		if scans < 3 {
			t.Errorf("run %d: only %d scans overlapped the resharding", run+1, scans)
		}
	}
}

// TestScanDuringFailover fails a master over to its replica while full scans run back
// to back; every scan must return every key exactly once. It fails back afterwards.
func TestScanDuringFailover(t *testing.T) {
	scanClusterMu.Lock()
	defer scanClusterMu.Unlock()
	cl := scanCluster(t)
	ctx := t.Context()
	c := newTestClient(t, cl, Options{CommandTimeout: 2 * time.Second})
	want := scanFill(t, ctx, cl, c, 3000, nil, 0)
	opts := ScanOptions{Count: 100}
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	master := topo.Masters()[0]
	reps := topo.ReplicasOf(master.ID)
	if len(reps) == 0 || reps[0].Node == nil || master.Node == nil {
		t.Fatal("master without a replica")
	}
	for i, to := range []*redistest.Node{reps[0].Node, master.Node} { // over, and back
		busy := make(chan struct{})
		var foErr error
		go func() {
			defer close(busy)
			foErr = cl.Failover(ctx, to, redistest.FailoverDefault)
		}()
		// Traffic meanwhile, so the client learns of the failover (MOVED) mid-scan.
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-busy:
					return
				case <-time.After(time.Millisecond):
				}
				c.Do(ctx, "GET", fmt.Sprintf("scan:%d", i%3000))
			}
		}()
		scans, bad, restarts, _, first := scanWhile(ctx, c, opts, want, busy)
		wg.Wait()
		if foErr != nil {
			t.Fatal(foErr)
		}
		t.Logf("failover %d: %d scans of %d keys, %d wrong; %d restarts", i+1, scans, len(want), bad, restarts)
		if bad > 0 {
			t.Errorf("failover %d: %d of %d scans wrong; first: %s", i+1, bad, scans, first)
		}
	}
}

// TestScanOptionsAgreeWithServer compares Scan with MATCH, TYPE and COUNT against the
// servers' own SCAN on a quiet cluster, including a slot with more keys than one read
// asks for and a pattern that fixes the slot.
func TestScanOptionsAgreeWithServer(t *testing.T) {
	scanClusterMu.Lock()
	defer scanClusterMu.Unlock()
	cl := scanCluster(t)
	ctx := t.Context()
	c := newTestClient(t, cl, Options{})
	var keys []string
	for i := range 2000 {
		keys = append(keys, fmt.Sprintf("opt:%d", i), fmt.Sprintf("other:%d", i))
	}
	for i := range 3000 {
		keys = append(keys, fmt.Sprintf("{opt:big}:%d", i))
	}
	scanFillKeys(t, ctx, cl, c, keys)
	var cmds []Command
	for i := range 300 {
		cmds = append(cmds, Cmd("RPUSH", fmt.Sprintf("opt:list:%d", i), "x"),
			Cmd("HSET", fmt.Sprintf("opt:hash:%d", i), "f", "v"),
			Cmd("SADD", fmt.Sprintf("{opt:big}:set:%d", i), "m"))
	}
	for _, r := range c.DoMulti(ctx, cmds...) {
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
	}
	masters := scanMasters(t, ctx, cl)
	resp2 := newTestClient(t, cl, Options{Protocol: 2})
	for _, o := range []ScanOptions{
		{},
		{Count: 10},
		{Match: "opt:*"},
		{Match: "opt:1?", Count: 50},
		{Match: "opt:[1-3]*[^0]"},
		{Match: "{opt:big}:*", Count: 100},
		{Match: "{opt:big}:set:*"},
		{Type: "list"},
		{Type: "hash", Match: "opt:hash:1*"},
		{Type: "set", Count: 100},
		{Type: "string", Match: "*:1*"},
		{Match: "nothing:*"},
	} {
		want := map[string]bool{}
		for _, n := range masters {
			cursor := "0"
			for range 100_000 {
				args := []any{"SCAN", cursor, "COUNT", 1000}
				if o.Match != "" {
					args = append(args, "MATCH", o.Match)
				}
				if o.Type != "" {
					args = append(args, "TYPE", o.Type)
				}
				v, err := n.Do(ctx, args...)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range v.Elems[1].Elems {
					want[string(e.Str)] = true
				}
				if cursor = string(v.Elems[0].Str); cursor == "0" {
					break
				}
			}
		}
		for _, cl := range []*Client{c, resp2} {
			problem, restarts, err := scanCheck(ctx, cl, o, want)
			if err != nil || problem != "" || restarts != 0 {
				t.Errorf("%+v (RESP%d): %v %s (%d restarts)", o, cl.opts.Protocol, err, problem, restarts)
			}
		}
	}
}

func TestScanOnClosedClient(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	c.Close()
	it := c.Scan(ScanOptions{})
	if it.Next(t.Context()) || !errors.Is(it.Err(), ErrClosed) {
		t.Fatalf("Scan on a closed client: %v, want ErrClosed", it.Err())
	}
}

// TestScanDeadlineOnFaultyNode checks that Next returns by its deadline, with an error
// naming the node, when a master hangs or refuses connections.
func TestScanDeadlineOnFaultyNode(t *testing.T) {
	scanClusterMu.Lock()
	defer scanClusterMu.Unlock()
	cl := scanCluster(t)
	ctx := t.Context()
	c := newTestClient(t, cl, Options{CommandTimeout: 5 * time.Second})
	want := scanFill(t, ctx, cl, c, 1000, nil, 0)
	masters := scanMasters(t, ctx, cl)
	faulty := masters[len(masters)-1]
	for _, mode := range []redistest.Mode{redistest.Hang, redistest.Refuse} {
		if err := faulty.SetFault(mode); err != nil {
			t.Fatal(err)
		}
		const deadline = 300 * time.Millisecond
		cctx, cancel := context.WithTimeout(ctx, deadline)
		start := time.Now()
		it := c.Scan(ScanOptions{})
		n := 0
		for it.Next(cctx) {
			n++
		}
		el := time.Since(start)
		cancel()
		var ne *NodeError
		if err := it.Err(); err == nil || !errors.As(err, &ne) || ne.Addr != faulty.Addr() {
			t.Errorf("%v: scan ended with %v after %d keys, want an error naming %s", mode, err, n, faulty.Addr())
		}
		if el > deadline+testkit.DeadlineSlack+50*time.Millisecond {
			t.Errorf("%v: Next returned %v after a %v deadline", mode, el, deadline)
		}
		t.Logf("%v: %d of %d keys, then after %v: %v", mode, n, len(want), el.Round(time.Millisecond), it.Err())
		if err := faulty.SetFault(redistest.Pass); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScanPermissions checks the permissions ScanIterator's doc names: a user that may
// not run SCAN or KEYS and whose key pattern covers none of the keys still scans them
// all with CLUSTER GETKEYSINSLOT and CLUSTER NODES; without CLUSTER NODES the scan ends
// with the server's NOPERM.
func TestScanPermissions(t *testing.T) {
	scanClusterMu.Lock()
	defer scanClusterMu.Unlock()
	cl := scanCluster(t)
	ctx := t.Context()
	c := newTestClient(t, cl, Options{})
	want := scanFill(t, ctx, cl, c, 500, nil, 0)
	setUser := func(rules ...any) {
		for _, n := range cl.Nodes() {
			if _, err := n.Do(ctx, append([]any{"ACL", "SETUSER", "scanner", "reset", "on", ">pw"}, rules...)...); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() {
		for _, n := range cl.Nodes() {
			n.Do(context.Background(), "ACL", "DELUSER", "scanner")
		}
	})
	setUser("~other:*", "+@all", "-scan", "-keys")
	u := newTestClient(t, cl, Options{Username: "scanner", Password: NewSecret("pw")})
	if problem, _, err := scanCheck(ctx, u, ScanOptions{}, want); err != nil || problem != "" {
		t.Fatalf("without SCAN and key access: %v %s", err, problem)
	}
	setUser("~*", "+@all", "-cluster|nodes")
	var re *RedisError
	if _, _, err := scanCheck(ctx, u, ScanOptions{}, want); !errors.As(err, &re) || re.Code != "NOPERM" {
		t.Fatalf("without CLUSTER NODES: %v, want NOPERM", err)
	}
}
