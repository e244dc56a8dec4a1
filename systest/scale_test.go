package systest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// The scale tests run a client against a fake cluster of many masters in this process
// (redistest.FakeCluster): 200 by default, REDLINE_SCALE_MASTERS to change it (the
// figures at 1,000 are in docs/PERFORMANCE.md, from make bench-scale). Their bounds are
// generous: they catch costs that grow with the number of nodes, not small regressions.

func scaleMasters(t *testing.T) int {
	if s := os.Getenv("REDLINE_SCALE_MASTERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("REDLINE_SCALE_MASTERS=%q: want a positive number", s)
		}
		return n
	}
	return 200
}

// keysPerMaster returns, for each master of f, a key whose slot it serves.
func keysPerMaster(f *redistest.FakeCluster) []string {
	keys := make([]string, f.Masters())
	left := f.Masters()
	for i := 0; left > 0; i++ {
		k := "key:" + strconv.Itoa(i)
		if m := f.SlotOwner(hashslot.Key(k)); keys[m] == "" {
			keys[m] = k
			left--
		}
	}
	return keys
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestScaleOneClient: construction, one GET to every shard, memory and goroutines per
// node, idle traffic, a moved slot, Close.
func TestScaleOneClient(t *testing.T) {
	masters := scaleMasters(t)
	f := redistest.RunFake(t, redistest.FakeConfig{Masters: masters})
	keys := keysPerMaster(f)
	goBefore := runtime.NumGoroutine()
	heapBefore := heapInUse()

	start := time.Now()
	c, err := redline.NewClient(t.Context(), redline.Options{Addrs: f.Addrs()[:1]})
	if err != nil {
		t.Fatal(err)
	}
	newClient := time.Since(start)
	defer c.Close()
	if open := f.OpenConns(); open > 1 {
		t.Errorf("NewClient left %d connections open; want only the seed's", open)
	}

	start = time.Now()
	getAll(t, c, keys)
	getAllTime := time.Since(start)
	heap := heapInUse() - heapBefore
	cnt := f.Counts()
	if cnt.Open != int64(masters) {
		t.Errorf("%d connections open after one GET to every shard; want one per master (%d)", cnt.Open, masters)
	}
	// Each connection costs the client 2 goroutines (reader, writer) and the fake
	// cluster 1; the client itself a few.
	goPerNode := float64(runtime.NumGoroutine()-goBefore-int(cnt.Open)) / float64(masters)
	if goPerNode > 2.2 {
		t.Errorf("%.2f client goroutines per node; want at most 2 (reader and writer)", goPerNode)
	}
	heapPerNode := float64(heap) / float64(masters)
	if heapPerNode > 64<<10 { // the fake cluster's side of each connection included
		t.Errorf("heap grew by %d KiB per node (client and fake server together); want ≤ 64 KiB", int(heapPerNode)>>10)
	}

	// Idle: periodic work is a few commands per minute per node at most.
	idle := 2 * time.Second
	before := f.Counts()
	time.Sleep(idle) // the measurement window itself: nothing to wait for
	d := f.Counts().Sub(before)
	idleRate := float64(d.Total()) / idle.Seconds()
	if idleRate > 5+float64(masters)/20 {
		t.Errorf("idle traffic %.0f commands/s (%+v); want ≤ %.0f", idleRate, d, 5+float64(masters)/20)
	}

	// A moved slot: the very next call goes to the new owner.
	slot := hashslot.Key(keys[0])
	if err := f.MoveSlot(slot, masters-1); err != nil {
		t.Fatal(err)
	}
	before = f.Counts()
	movedStart := time.Now()
	for i := range 3 {
		if err := c.Do(t.Context(), "GET", keys[0]).Err(); err != nil && err != redline.Nil {
			t.Fatalf("GET after the move, call %d: %v", i, err)
		}
	}
	movedTime := time.Since(movedStart)
	if moved := f.Counts().Sub(before).Moved; moved != 1 {
		t.Errorf("3 calls after the move got %d MOVED replies; want 1 (the first call), then the new owner", moved)
	}

	t.Logf("%d masters: NewClient %v; one GET to every shard %v; heap +%.1f MiB (%.1f KiB/node, fake server included); %.2f goroutines/node; idle %.1f commands/s; 3 calls after a move %v",
		masters, newClient.Round(time.Microsecond), getAllTime.Round(time.Millisecond), float64(heap)/(1<<20), heapPerNode/1024, goPerNode, idleRate, movedTime.Round(time.Microsecond))

	c.Close()
	if g := redistest.SettleGoroutines(goBefore, 5*time.Second); g > goBefore {
		t.Errorf("%d goroutines after Close, %d before NewClient", g, goBefore)
	}
}

// getAll sends one GET per key, 16 at a time.
func getAll(t *testing.T, c *redline.Client, keys []string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	sem := make(chan struct{}, 16)
	for _, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := c.Do(ctx, "GET", k).Err(); err != nil && err != redline.Nil {
				errs <- fmt.Errorf("GET %s: %w", k, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// stormResult is what a storm run measured.
type stormResult struct {
	topoPerClientPerSec float64         // topology requests during the outage, per client per second
	recoveries          []time.Duration // per client: heal → first successful call, sorted
}

// runStorm runs clients client instances, each with one caller looping over a few keys
// (a call every 10ms), against f; the cluster answers CLUSTERDOWN for outage, then
// heals. It returns topology requests during the outage and each client's recovery.
func runStorm(t *testing.T, f *redistest.FakeCluster, clients int, outage time.Duration) stormResult {
	t.Helper()
	keys := keysPerMaster(f)
	cls := make([]*redline.Client, clients)
	for i := range cls {
		c, err := redline.NewClient(t.Context(), redline.Options{Addrs: f.Addrs()[:3]})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cls[i] = c
	}
	var (
		mu      sync.Mutex
		healed  time.Time
		firstOK = make([]time.Time, clients)
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		warm    sync.WaitGroup // every client has had a first success
	)
	warm.Add(clients)
	for i, c := range cls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			warming := true
			for n := 0; ; n++ {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				err := c.Do(ctx, "GET", keys[(i*7+n%8)%len(keys)]).Err()
				cancel()
				if err == nil || err == redline.Nil {
					now := time.Now()
					mu.Lock()
					if !healed.IsZero() && now.After(healed) && firstOK[i].IsZero() {
						firstOK[i] = now
					}
					mu.Unlock()
					if warming {
						warming = false
						warm.Done()
					}
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
	}
	warm.Wait()
	before := f.Counts()
	until := f.SetClusterDown(outage)
	mu.Lock()
	healed = until
	mu.Unlock()
	time.Sleep(time.Until(until)) // the outage itself: its end is the measured event
	during := f.Counts().Sub(before)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	res := stormResult{topoPerClientPerSec: float64(during.Topology) / float64(clients) / outage.Seconds()}
	for i, at := range firstOK {
		if at.IsZero() {
			t.Errorf("client %d never recovered", i)
			continue
		}
		res.recoveries = append(res.recoveries, at.Sub(until))
	}
	slicesSortDurations(res.recoveries)
	if len(res.recoveries) == 0 {
		t.FailNow()
	}
	t.Logf("storm: %d clients, %d masters, outage %v: %d topology requests (%.2f per client per second), %d data commands, recovery p50 %v max %v",
		clients, f.Masters(), outage, during.Topology, res.topoPerClientPerSec, during.Data,
		res.recoveries[len(res.recoveries)/2].Round(time.Millisecond), res.recoveries[len(res.recoveries)-1].Round(time.Millisecond))
	return res
}

func slicesSortDurations(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// TestScaleStorm: clients facing a cluster in CLUSTERDOWN send about one topology
// request per second each, and go through as soon as it heals.
func TestScaleStorm(t *testing.T) {
	f := redistest.RunFake(t, redistest.FakeConfig{Masters: scaleMasters(t)})
	goBefore := runtime.NumGoroutine()
	res := runStorm(t, f, 10, 3*time.Second)
	if res.topoPerClientPerSec > 1.5 {
		t.Errorf("%.2f topology requests per client per second during the outage; want about 1 at most", res.topoPerClientPerSec)
	}
	// The callers retry CLUSTERDOWN at most 100ms apart (RetryBackoffMax) and call
	// every 10ms: recovery is well under a second even on a loaded machine.
	if p50, worst := res.recoveries[len(res.recoveries)/2], res.recoveries[len(res.recoveries)-1]; p50 > 250*time.Millisecond || worst > time.Second {
		t.Errorf("recovery after the cluster healed: p50 %v, worst %v; want ≤ 250ms and ≤ 1s", p50, worst)
	}
	if g := redistest.SettleGoroutines(goBefore, 5*time.Second); g > goBefore {
		t.Errorf("%d goroutines after the clients closed, %d before", g, goBefore)
	}
}

// Listing every node as a seed costs a few connections, not one per node.
func TestScaleEveryNodeAsSeed(t *testing.T) {
	f := redistest.RunFake(t, redistest.FakeConfig{Masters: scaleMasters(t)})
	c, err := redline.NewClient(t.Context(), redline.Options{Addrs: f.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Seeds are asked 3 at once, one more every 50ms without an answer: even a slow
	// first answer (race detector, loaded machine) leaves most seeds alone.
	if n := f.Counts().Accepted; n > 20 {
		t.Errorf("NewClient with %d seeds opened %d connections; want a few", f.Masters(), n)
	}
}
