package main

import (
	"bytes"
	"context"
	"log"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// ScaleConfig is what the scale scenarios run.
type ScaleConfig struct {
	Masters     []int   `json:"masters"`         // cluster sizes of the one-client scenarios
	IdleS       float64 `json:"idle_s"`          // the idle window, all clients at once
	MovedCapS   float64 `json:"moved_cap_s"`     // how long the moved-slot check waits at most
	StormMaster int     `json:"storm_masters"`   // the storm's cluster size
	StormCount  int     `json:"storm_clients"`   // client instances in the storm
	StormDownS  float64 `json:"storm_outage_s"`  // how long the cluster answers CLUSTERDOWN
	StormAfterS float64 `json:"storm_after_s"`   // how long the storm goes on after it heals
	StormEveryM float64 `json:"storm_every_ms"`  // each instance's call interval
	StormKeys   int     `json:"storm_keys"`      // keys (so masters) each instance calls
	CallTimeout float64 `json:"call_timeout_ms"` // every call's context deadline
}

// ScaleRun is one client library against one cluster size.
type ScaleRun struct {
	Client  string `json:"client"`
	Masters int    `json:"masters"`
	Error   string `json:"error,omitempty"`

	NewClientMS   float64 `json:"new_client_ms"`     // the constructor, median of newClientRuns
	NewClientMax  float64 `json:"new_client_max_ms"` // and the slowest of them
	FirstCallMS   float64 `json:"first_call_ms"`     // the first GET after it
	GetAllMS      float64 `json:"get_all_ms"`        // one GET to every shard, 16 at a time
	ConnsAtNew    int64   `json:"conns_at_new"`      // connections open right after the constructor
	HeapMiB       float64 `json:"heap_mib"`          // heap growth after one GET to every shard (after GC)
	Goroutines    int     `json:"goroutines"`        // goroutine growth, same moment
	ConnsOpen     int64   `json:"conns_open"`        // connections the cluster sees, same moment
	GetAllErrors  int     `json:"get_all_errors"`    // GETs that failed
	IdleCmds      int64   `json:"idle_commands"`     // commands received in the idle window
	IdleTopology  int64   `json:"idle_topology"`     // of which topology requests
	IdlePings     int64   `json:"idle_pings"`        // of which PINGs
	IdleRate      float64 `json:"idle_per_s"`        // commands per second while idle
	MovedMS       float64 `json:"moved_ms"`          // move → first call served by the new owner without MOVED; -1: not within the cap
	MovedCalls    int     `json:"moved_redirects"`   // calls redirected (MOVED) before that
	GoroutinesOut int     `json:"goroutines_left"`   // goroutines left 3s after Close
	ConnsLeft     int64   `json:"conns_left"`        // connections still open 3s after Close
}

// StormRun is one client library in the storm.
type StormRun struct {
	Client        string    `json:"client"`
	Error         string    `json:"error,omitempty"`
	TopoAtStart   int64     `json:"topology_at_start"` // topology requests from construction to the outage
	TopoDuring    int64     `json:"topology_during"`   // during the outage
	TopoPerClient float64   `json:"topology_per_client_per_s"`
	TopoAfter1st  float64   `json:"topology_after_first_per_client_per_s"` // the same without each instance's first
	TopoPeak      float64   `json:"topology_peak_per_client_per_s"`        // the busiest second of the outage
	DataDuring    int64     `json:"data_during"`                           // data commands during the outage
	CallsDuring   int64     `json:"calls_during"`                          // calls the instances made during it
	RecoveryMS    []float64 `json:"recovery_ms"`                           // per instance, sorted: heal → first success
	NotRecovered  int       `json:"not_recovered"`                         // instances with no success after the heal
	ConnsOpen     int64     `json:"conns_open"`
}

// ScaleResult is the scale section.
type ScaleResult struct {
	Config ScaleConfig `json:"config"`
	Runs   []ScaleRun  `json:"runs"`
	Storm  []StormRun  `json:"storm"`
}

// scaleKeys returns, for a cluster of masters masters in its initial layout, one key
// per master (each in a slot the master serves).
func scaleKeys(masters int) []string {
	keys := make([]string, masters)
	left := masters
	for i := 0; left > 0; i++ {
		k := "key:" + strconv.Itoa(i)
		if m := hashslot.Key(k) * masters / hashslot.Count; keys[m] == "" {
			keys[m] = k
			left--
		}
	}
	return keys
}

func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// libPrefix is how each library's functions appear in a goroutine's stack.
var libPrefix = map[string][]byte{
	nameRedline: []byte("\ngithub.com/redline-go/redline"),
	nameGoRedis: []byte("\ngithub.com/redis/go-redis/"),
	nameRueidis: []byte("\ngithub.com/redis/rueidis"),
}

// libGoroutines counts the goroutines running code of client library name: those with
// one of its functions in their stack. Unlike runtime.NumGoroutine, it is not
// disturbed by the other libraries' clients alive in the same process.
func libGoroutines(name string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, libPrefix[name]) {
			count++
		}
	}
	return count
}

// settle waits up to d for library name's goroutine count to fall to n; it returns the
// count.
func settle(name string, n int, d time.Duration) int {
	end := time.Now().Add(d)
	for {
		g := libGoroutines(name)
		if g <= n || time.Now().After(end) {
			return g
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scaleSubject is one client under test with its own fake cluster.
type scaleSubject struct {
	run  *ScaleRun
	fake *fakeProc
	kv   kv
	keys []string
}

func runScale(ctx context.Context, cfg ScaleConfig) (*ScaleResult, error) {
	if err := redistest.RaiseOpenFileLimit(); err != nil {
		log.Printf("scale: raising the open-files limit: %v", err)
	}
	res := &ScaleResult{Config: cfg}
	timeout := time.Duration(cfg.CallTimeout * float64(time.Millisecond))
	var subjects []*scaleSubject
	defer func() {
		for _, s := range subjects {
			if s.kv != nil {
				s.kv.Close()
			}
			s.fake.Close()
		}
	}()

	// Phase 1, each client alone (no other client in the process): construction, one
	// GET to every shard, memory, goroutines, a moved slot, Close.
	for _, masters := range cfg.Masters {
		keys := scaleKeys(masters)
		for _, spec := range clients {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			between()
			run := &ScaleRun{Client: spec.Name, Masters: masters}
			fake, err := startFakeProc(masters)
			if err != nil {
				return nil, err
			}
			s := &scaleSubject{run: run, fake: fake, keys: keys}
			subjects = append(subjects, s)
			alone(ctx, spec, s, timeout, time.Duration(cfg.MovedCapS*float64(time.Second)))
		}
	}

	// Phase 2, every client at once (a new one per cluster), after one GET to every
	// shard: idle traffic.
	for i, s := range subjects {
		c, err := clients[i%len(clients)].New(ctx, s.fake.addrs[:1], nil, 0)
		if err != nil {
			s.run.Error = err.Error()
			continue
		}
		s.kv = c
		getEvery(ctx, c, s.keys, timeout)
	}
	log.Printf("scale: every client idle for %.0fs ...", cfg.IdleS)
	before := make([]redistest.FakeCounts, len(subjects))
	for i, s := range subjects {
		before[i] = s.fake.counts()
	}
	idle := time.Duration(cfg.IdleS * float64(time.Second))
	t := time.NewTimer(idle)
	select {
	case <-ctx.Done():
		t.Stop()
		return nil, ctx.Err()
	case <-t.C:
	}
	for i, s := range subjects {
		d := s.fake.counts().Sub(before[i])
		s.run.IdleCmds, s.run.IdleTopology, s.run.IdlePings = d.Total(), d.Topology, d.Pings
		s.run.IdleRate = float64(d.Total()) / idle.Seconds()
		res.Runs = append(res.Runs, *s.run)
		if s.kv != nil {
			s.kv.Close()
			s.kv = nil
		}
		s.fake.Close()
	}
	subjects = nil

	// Phase 5: the storm, one client library at a time.
	for _, spec := range clients {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		between()
		res.Storm = append(res.Storm, runStorm(ctx, cfg, spec))
	}
	return res, nil
}

// newClientRuns is how many times each client is constructed for its NewClient figure.
const newClientRuns = 5

// alone measures one client with no other in the process: construction, one GET to
// every shard (heap, goroutines, connections), a moved slot, and Close (goroutines
// and connections left).
func alone(ctx context.Context, spec clientSpec, s *scaleSubject, timeout, movedCap time.Duration) {
	run, fake, keys := s.run, s.fake, s.keys
	goBefore := libGoroutines(spec.Name)
	// Construction alone, a few times (one figure would be at the mercy of a moment's
	// load on the machine): the median and the slowest.
	var times []float64
	for range newClientRuns - 1 {
		start := time.Now()
		c, err := spec.New(ctx, fake.addrs[:1], nil, 0)
		times = append(times, ms(time.Since(start)))
		if err != nil {
			run.Error = err.Error()
			return
		}
		c.Close()
	}
	for end := time.Now().Add(3 * time.Second); fake.counts().Open > 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond) // the cluster sees the closed connections go
	}
	heapBefore := heapNow()
	start := time.Now()
	c, err := spec.New(ctx, fake.addrs[:1], nil, 0) // the library's defaults
	times = append(times, ms(time.Since(start)))
	if err != nil {
		run.Error = err.Error()
		return
	}
	slices.Sort(times)
	run.NewClientMS, run.NewClientMax = times[len(times)/2], times[len(times)-1]
	s.kv = c
	run.ConnsAtNew = fake.counts().Open
	cctx, cancel := context.WithTimeout(ctx, timeout)
	start = time.Now()
	if err := c.Get(cctx, keys[0]); err != nil {
		run.Error = "first GET: " + err.Error()
	}
	run.FirstCallMS = ms(time.Since(start))
	cancel()
	start = time.Now()
	run.GetAllErrors = getEvery(ctx, c, keys, timeout)
	run.GetAllMS = ms(time.Since(start))
	run.HeapMiB = float64(int64(heapNow())-int64(heapBefore)) / (1 << 20)
	run.Goroutines = libGoroutines(spec.Name) - goBefore
	run.ConnsOpen = fake.counts().Open
	run.MovedMS, run.MovedCalls = movedSlot(ctx, s, timeout, movedCap)
	c.Close()
	s.kv = nil
	run.GoroutinesOut = max(0, settle(spec.Name, goBefore, 3*time.Second)-goBefore)
	end := time.Now().Add(3 * time.Second)
	for run.ConnsLeft = fake.counts().Open; run.ConnsLeft > 0 && time.Now().Before(end); run.ConnsLeft = fake.counts().Open {
		time.Sleep(20 * time.Millisecond)
	}
	log.Printf("scale: %s, %d masters: NewClient %.1fms, first GET %.1fms, GET every shard %.0fms (%d errors), heap +%.1f MiB, +%d goroutines, %d connections; moved slot %.1fms (%d redirected); %d goroutines and %d connections left after Close",
		spec.Name, run.Masters, run.NewClientMS, run.FirstCallMS, run.GetAllMS, run.GetAllErrors, run.HeapMiB, run.Goroutines, run.ConnsOpen,
		run.MovedMS, run.MovedCalls, run.GoroutinesOut, run.ConnsLeft)
}

// getEvery sends one GET per key, 16 at a time; it returns how many failed.
func getEvery(ctx context.Context, c kv, keys []string, timeout time.Duration) int {
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, k := range keys {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if c.Get(cctx, k) != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(failed.Load())
}

// movedSlot moves the slot of master 0's key to the last master, then calls GET on
// that key every millisecond until a call gets no MOVED (it went to the new owner at once). It
// returns the time from the move to the end of that call (-1 past capAt) and how many
// calls were redirected before.
func movedSlot(ctx context.Context, s *scaleSubject, timeout, capAt time.Duration) (float64, int) {
	key := s.keys[0]
	slot := hashslot.Key(key)
	if err := s.fake.move(slot, s.run.Masters-1); err != nil {
		log.Printf("scale: move: %v", err)
		return -1, 0
	}
	start := time.Now()
	redirected := 0
	for time.Since(start) < capAt && ctx.Err() == nil {
		before := s.fake.counts().Moved
		cctx, cancel := context.WithTimeout(ctx, timeout)
		err := s.kv.Get(cctx, key)
		cancel()
		if s.fake.counts().Moved == before && err == nil {
			return ms(time.Since(start)), redirected
		}
		redirected++
		time.Sleep(time.Millisecond) // the call interval of the scenario
	}
	return -1, redirected
}

// runStorm: cfg.StormCount instances of one client library, each calling GET on a few
// keys every StormEveryM ms, against a cluster of StormMaster masters that answers
// CLUSTERDOWN for StormDownS seconds.
func runStorm(ctx context.Context, cfg ScaleConfig, spec clientSpec) StormRun {
	run := StormRun{Client: spec.Name}
	fake, err := startFakeProc(cfg.StormMaster)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer fake.Close()
	keys := scaleKeys(cfg.StormMaster)
	timeout := time.Duration(cfg.CallTimeout * float64(time.Millisecond))
	every := time.Duration(cfg.StormEveryM * float64(time.Millisecond))
	inst := make([]kv, cfg.StormCount)
	defer func() {
		for _, c := range inst {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range inst {
		c, err := spec.New(ctx, fake.addrs[:3], nil, 0)
		if err != nil {
			run.Error = err.Error()
			return run
		}
		inst[i] = c
	}
	var (
		mu      sync.Mutex
		healed  time.Time // zero until the outage starts
		downAt  time.Time
		firstOK = make([]time.Time, len(inst))
		calls   atomic.Int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		warm    sync.WaitGroup
	)
	warm.Add(len(inst))
	for i, c := range inst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			warming := true
			for n := 0; ; n++ {
				// Instance i calls cfg.StormKeys keys spread over the cluster.
				k := keys[(i*cfg.StormKeys+n%cfg.StormKeys)*7919%len(keys)]
				cctx, cancel := context.WithTimeout(ctx, timeout)
				err := c.Get(cctx, k)
				cancel()
				now := time.Now()
				mu.Lock()
				if !downAt.IsZero() && now.After(downAt) && (healed.IsZero() || now.Before(healed)) {
					calls.Add(1)
				}
				if err == nil && !healed.IsZero() && now.After(healed) && firstOK[i].IsZero() {
					firstOK[i] = now
				}
				mu.Unlock()
				if err == nil && warming {
					warming = false
					warm.Done()
				}
				select {
				case <-stop:
					if warming {
						warm.Done()
					}
					return
				case <-tick.C:
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	warmed := make(chan struct{})
	go func() { warm.Wait(); close(warmed) }()
	select {
	case <-warmed:
	case <-time.After(20 * time.Second):
		run.Error = "not every instance made a successful call within 20s"
		return run
	}
	start := fake.counts()
	run.TopoAtStart = start.Topology
	outage := time.Duration(cfg.StormDownS * float64(time.Second))
	mu.Lock()
	downAt = time.Now()
	mu.Unlock()
	until, err := fake.down(outage)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	mu.Lock()
	healed = until
	mu.Unlock()
	// Sample the topology requests every 250ms for the busiest second.
	var samples []int64
	for time.Now().Before(until) {
		samples = append(samples, fake.counts().Topology)
		time.Sleep(min(250*time.Millisecond, time.Until(until)))
	}
	end := fake.counts()
	samples = append(samples, end.Topology)
	d := end.Sub(start)
	run.TopoDuring, run.DataDuring, run.ConnsOpen = d.Topology, d.Data, end.Open
	run.TopoPerClient = float64(d.Topology) / float64(len(inst)) / outage.Seconds()
	run.TopoAfter1st = float64(max(0, d.Topology-int64(len(inst)))) / float64(len(inst)) / outage.Seconds()
	for i := 4; i < len(samples); i++ {
		run.TopoPeak = max(run.TopoPeak, float64(samples[i]-samples[i-4])/float64(len(inst)))
	}
	after := time.NewTimer(time.Duration(cfg.StormAfterS * float64(time.Second)))
	select {
	case <-ctx.Done():
	case <-after.C:
	}
	mu.Lock()
	run.CallsDuring = calls.Load()
	for _, at := range firstOK {
		if at.IsZero() {
			run.NotRecovered++
			continue
		}
		run.RecoveryMS = append(run.RecoveryMS, ms(at.Sub(until)))
	}
	mu.Unlock()
	slices.Sort(run.RecoveryMS)
	log.Printf("scale: storm, %s: %d topology requests during the %v outage (%.2f per instance per second, busiest second %.2f), %d data commands, recovery p50 %s p99 %s, %d not recovered",
		spec.Name, run.TopoDuring, outage, run.TopoPerClient, run.TopoPeak, run.DataDuring,
		fmtMS(pctl(run.RecoveryMS, 0.5)), fmtMS(pctl(run.RecoveryMS, 0.99)), run.NotRecovered)
	return run
}

// pctl returns the q quantile of sorted values (nearest rank), or -1 when empty.
func pctl(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return -1
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
