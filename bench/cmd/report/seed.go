package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// SeedConfig is the seed scenario's plan.
type SeedConfig struct {
	Masters        int       `json:"masters"`
	TLS            bool      `json:"tls"`
	Modes          []string  `json:"modes"`
	TimeoutsMS     []float64 `json:"timeouts_ms"`
	Calls          int       `json:"calls_per_cell"`
	Parallel       int       `json:"parallel_callers"`
	HealthySamples int       `json:"healthy_samples_min"`
}

// SeedCell is one client × fault mode × timeout.
type SeedCell struct {
	Client    string  `json:"client"`
	Mode      string  `json:"mode"`
	TimeoutMS float64 `json:"timeout_ms"`

	// Constructor to the first successful GET of node 0's key.
	CtorMS       float64 `json:"ctor_to_first_success_ms"`
	CtorOK       bool    `json:"ctor_ok"`
	CtorAttempts int     `json:"ctor_get_attempts"`
	CtorNote     string  `json:"ctor_note,omitempty"`
	CtorFirstErr string  `json:"ctor_first_get_error,omitempty"` // the first failed GET of node 0's key, if any

	// The worst elapsed − t of the GETs of node 0's key (while starting and during the
	// batch), and how many of them did not return.
	HealthyWorstMS     float64 `json:"healthy_worst_overshoot_ms"`
	HealthyNotReturned int     `json:"healthy_not_returned"`

	// The first call to a faulty node.
	FirstMS       float64 `json:"first_call_ms"`
	FirstReturned bool    `json:"first_call_returned"`
	FirstErr      string  `json:"first_call_error"`
	// errors.Is(first error, context.DeadlineExceeded)
	FirstIsDeadline bool `json:"first_call_error_is_deadline_exceeded"`

	// All calls to faulty nodes (the first one and the parallel batch).
	Calls        int     `json:"calls"`
	NotReturned  int     `json:"calls_not_returned"`
	Successes    int     `json:"calls_succeeded"`
	ElapsedP50MS float64 `json:"elapsed_p50_ms"`
	ElapsedP99MS float64 `json:"elapsed_p99_ms"`
	ElapsedMaxMS float64 `json:"elapsed_max_ms"`
	OverP50MS    float64 `json:"overshoot_p50_ms"`
	OverP99MS    float64 `json:"overshoot_p99_ms"`
	OverMaxMS    float64 `json:"overshoot_max_ms"`
	// Median elapsed of the calls after the first failure.
	FastFailMS float64 `json:"fast_fail_median_ms"`

	// GETs to node 0's key while the batch runs.
	HealthyP50MS   float64 `json:"healthy_p50_ms"`
	HealthyCount   int     `json:"healthy_samples"`
	HealthyErrors  int     `json:"healthy_errors"`
	HealthyErrText string  `json:"healthy_error,omitempty"`

	CloseNote string  `json:"close_note,omitempty"`
	WallMS    float64 `json:"wall_ms"`
}

// SeedResult is the seed-scenario section.
type SeedResult struct {
	Config   SeedConfig  `json:"config"`
	Healthy  string      `json:"healthy_node"`
	Keys     []string    `json:"keys"`
	Cells    []*SeedCell `json:"cells"`
	Baseline []*SeedCell `json:"baseline_no_fault"`
}

func seedModes(to time.Duration) []redistest.Mode {
	return []redistest.Mode{redistest.Refuse, redistest.Blackhole, redistest.Hang, redistest.TLSBad, redistest.Slow(2 * to)}
}

func modeName(m redistest.Mode) string {
	if m.Delay() > 0 {
		return "slow(2×t)"
	}
	return m.String()
}

// keysPerNode returns, for each of the cluster's nodes, a key whose slot it owns.
func keysPerNode(ctx context.Context, cl *redistest.Cluster, prefix string) ([]string, error) {
	topo, err := cl.Topology(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(cl.Nodes()))
	left := 0
	for _, n := range cl.Nodes() {
		if topo.ByID(n.ID()) != nil && topo.ByID(n.ID()).SlotCount() > 0 {
			left++
		}
	}
	for i := 0; left > 0 && i < 1_000_000; i++ {
		k := fmt.Sprintf("%s:%d", prefix, i)
		o := topo.Owner(hashslot.Key(k))
		if o == nil || o.Node == nil || keys[o.Node.Index()] != "" {
			continue
		}
		keys[o.Node.Index()] = k
		left--
	}
	if left > 0 {
		return nil, fmt.Errorf("no key found for some masters")
	}
	return keys, nil
}

func setFaults(nodes []*redistest.Node, m redistest.Mode) error {
	for _, n := range nodes {
		if err := n.SetFault(m); err != nil {
			return err
		}
	}
	return nil
}

// callResult is one watched call.
type callResult struct {
	elapsed  time.Duration
	err      error
	returned bool
}

// watchLimit is how long a call may take before it is recorded as not returned.
func watchLimit(to time.Duration) time.Duration { return 2*to + 5*time.Second }

// timedCall runs f with a context whose deadline is to from now, on its own goroutine,
// and waits at most limit for it: a call still running then is abandoned and recorded
// as not returned.
func timedCall(parent context.Context, to, limit time.Duration, f func(ctx context.Context) error) callResult {
	ch := make(chan callResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(parent, to)
		defer cancel()
		start := time.Now()
		err := f(ctx)
		ch <- callResult{elapsed: time.Since(start), err: err, returned: true}
	}()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case r := <-ch:
		return r
	case <-t.C:
		return callResult{elapsed: limit}
	}
}

// runSeed runs the seed scenario on a 4-master TLS cluster: node 0 healthy and the
// only seed, nodes 1–3 in each fault mode in turn.
func runSeed(ctx context.Context, cfg SeedConfig, cl *redistest.Cluster) (*SeedResult, error) {
	keys, err := keysPerNode(ctx, cl, "seed")
	if err != nil {
		return nil, err
	}
	res := &SeedResult{Config: cfg, Healthy: cl.Node(0).Addr(), Keys: keys}
	faulty := cl.Nodes()[1:]
	// Baseline: no fault, GETs to node 0 (healthy-node latency reference).
	for _, spec := range clients {
		to := 500 * time.Millisecond
		c := seedCell(ctx, cl, spec, redistest.Pass, "none", to, keys, cfg, true)
		res.Baseline = append(res.Baseline, c)
	}
	for _, toMS := range cfg.TimeoutsMS {
		to := time.Duration(toMS * float64(time.Millisecond))
		for _, mode := range seedModes(to) {
			start := time.Now()
			for _, spec := range clients {
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				if err := setFaults(faulty, mode); err != nil {
					return res, err
				}
				c := seedCell(ctx, cl, spec, mode, modeName(mode), to, keys, cfg, false)
				if err := setFaults(faulty, redistest.Pass); err != nil {
					return res, err
				}
				res.Cells = append(res.Cells, c)
			}
			log.Printf("seed scenario: %v, timeout %v: %v", mode, to, time.Since(start).Round(time.Millisecond))
		}
	}
	return res, nil
}

// seedCell measures one client in one mode with one timeout. With baseline, no call
// goes to nodes 1–3: only the start and the healthy-node latency are measured.
func seedCell(ctx context.Context, cl *redistest.Cluster, spec clientSpec, mode redistest.Mode, name string, to time.Duration, keys []string, cfg SeedConfig, baseline bool) *SeedCell {
	cellStart := time.Now()
	cell := &SeedCell{Client: spec.Name, Mode: name, TimeoutMS: ms(to), HealthyWorstMS: -ms(to)}
	defer func() { cell.WallMS = ms(time.Since(cellStart)) }()
	limit := watchLimit(to)
	seed := []string{cl.Node(0).Addr()}
	notReturned := fmt.Sprintf("> %v (did not return)", limit)
	healthyCall := func(r callResult) {
		cell.HealthyWorstMS = max(cell.HealthyWorstMS, ms(r.elapsed-to))
		if !r.returned {
			cell.HealthyNotReturned++
		}
	}

	// The constructor, under the watchdog.
	type ctorResult struct {
		c   kv
		err error
	}
	ch := make(chan ctorResult, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, to)
		defer cancel()
		c, err := spec.New(cctx, seed, cl.TLSConfig(), to)
		ch <- ctorResult{c, err}
	}()
	var c kv
	select {
	case r := <-ch:
		if r.err != nil {
			cell.CtorMS = ms(time.Since(cellStart))
			cell.CtorNote = "constructor failed: " + trunc(r.err.Error())
			return cell
		}
		c = r.c
	case <-time.After(limit):
		cell.CtorMS = ms(limit)
		cell.CtorNote = "constructor " + notReturned
		go func() { // close it if it ever comes
			if r := <-ch; r.c != nil {
				closeWithin(r.c, 10*time.Second)
			}
		}()
		return cell
	}
	defer func() { cell.CloseNote = closeWithin(c, 5*time.Second) }()

	// Then GETs of node 0's key, each under the watchdog, until one succeeds; for at
	// most ctorBudget, and not after a GET that did not return.
	const ctorBudget = 5 * time.Second
	for time.Since(cellStart) < ctorBudget && ctx.Err() == nil {
		cell.CtorAttempts++
		r := timedCall(ctx, to, limit, func(ctx context.Context) error { return c.Get(ctx, keys[0]) })
		healthyCall(r)
		if r.returned && r.err == nil {
			cell.CtorOK = true
			break
		}
		if cell.CtorFirstErr == "" {
			if r.err != nil {
				cell.CtorFirstErr = trunc(fmt.Sprintf("after %v: %s", r.elapsed.Round(100*time.Microsecond), r.err))
			} else {
				cell.CtorFirstErr = notReturned
			}
		}
		if !r.returned {
			cell.CtorNote = "a GET " + notReturned
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cell.CtorMS = ms(time.Since(cellStart))
	if !cell.CtorOK && cell.CtorNote == "" {
		cell.CtorNote = fmt.Sprintf("no success in %v", ctorBudget)
	}
	// Without a first success the client is measured all the same: its calls to
	// the faulty nodes still say how it keeps their deadlines.

	var (
		mu      sync.Mutex
		elapsed []time.Duration
		batch   []time.Duration
	)
	record := func(r callResult, first bool) {
		mu.Lock()
		defer mu.Unlock()
		cell.Calls++
		elapsed = append(elapsed, r.elapsed)
		if !first {
			batch = append(batch, r.elapsed)
		}
		switch {
		case !r.returned:
			cell.NotReturned++
		case r.err == nil:
			cell.Successes++
		}
	}
	call := func(key string) callResult {
		return timedCall(ctx, to, limit, func(ctx context.Context) error { return c.Get(ctx, key) })
	}

	if !baseline {
		// One first call to each faulty node, at the same time; node 1's is the one
		// reported. The batch then measures calls after each node's first failure.
		var fw sync.WaitGroup
		for _, k := range keys[2:4] {
			fw.Add(1)
			go func() { defer fw.Done(); record(call(k), true) }()
		}
		r := call(keys[1])
		fw.Wait()
		record(r, true)
		cell.FirstMS = ms(r.elapsed)
		cell.FirstReturned = r.returned
		switch {
		case !r.returned:
			cell.FirstErr = notReturned
		case r.err == nil:
			cell.FirstErr = "(no error: the call succeeded)"
		default:
			cell.FirstErr = trunc(r.err.Error())
			cell.FirstIsDeadline = errors.Is(r.err, context.DeadlineExceeded)
		}
	}

	// The batch: Parallel callers, staggered over half a timeout so their deadlines
	// do not all fall at once, cycling over the keys of nodes 1–3, while a sampler
	// GETs node 0's key. New calls start during budget only.
	batchStart := time.Now()
	budget := 5*to + 3*time.Second
	var issued atomic.Int64
	var wg sync.WaitGroup
	batchDone := make(chan struct{})
	if !baseline {
		for i := range cfg.Parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-time.After(time.Duration(i) * to / time.Duration(2*cfg.Parallel)):
				case <-ctx.Done():
					return
				}
				for {
					n := issued.Add(1)
					if n > int64(cfg.Calls) || time.Since(batchStart) > budget || ctx.Err() != nil {
						return
					}
					record(call(keys[1+int(n)%3]), false)
				}
			}()
		}
	}
	go func() { wg.Wait(); close(batchDone) }()
	var healthy []time.Duration
	for done := false; !done; {
		select {
		case <-batchDone:
			done = len(healthy) >= cfg.HealthySamples
		default:
		}
		if time.Since(batchStart) > budget+limit || ctx.Err() != nil {
			break
		}
		r := call(keys[0])
		healthyCall(r)
		if !r.returned || r.err != nil {
			cell.HealthyErrors++
			if cell.HealthyErrText == "" {
				if r.err != nil {
					cell.HealthyErrText = trunc(r.err.Error())
				} else {
					cell.HealthyErrText = notReturned
				}
			}
		} else {
			healthy = append(healthy, r.elapsed)
		}
		if !done {
			time.Sleep(2 * time.Millisecond)
		}
	}
	<-batchDone
	cell.HealthyCount = len(healthy)
	cell.HealthyP50MS = ms(quantile(healthy, 0.5))
	if len(elapsed) > 0 {
		cell.ElapsedP50MS = ms(quantile(elapsed, 0.5))
		cell.ElapsedP99MS = ms(quantile(elapsed, 0.99))
		cell.ElapsedMaxMS = ms(quantile(elapsed, 1))
		cell.OverP50MS = cell.ElapsedP50MS - ms(to)
		cell.OverP99MS = cell.ElapsedP99MS - ms(to)
		cell.OverMaxMS = cell.ElapsedMaxMS - ms(to)
	}
	cell.FastFailMS = ms(quantile(batch, 0.5))
	return cell
}

// quantile returns the nearest-rank quantile of d (q = 1: the maximum); 0 for none.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// trunc shortens an error text for the tables.
func trunc(s string) string {
	const n = 160
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
