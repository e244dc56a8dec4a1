package main

import (
	"context"
	"fmt"
	"log"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TPConfig is the throughput section's plan.
type TPConfig struct {
	Masters     int      `json:"masters"`
	Keys        int      `json:"keys"`
	Rounds      int      `json:"rounds"`
	CellMS      float64  `json:"cell_ms"`
	WarmupMS    float64  `json:"warmup_ms"`
	Ops         []string `json:"ops"`
	Sizes       []int    `json:"sizes"`
	Concurrency []int    `json:"concurrency"`
}

// TPCell is one client's figures for one (op, size, goroutines) cell over all rounds.
type TPCell struct {
	Op          string    `json:"op"`
	Size        int       `json:"size"`
	Goroutines  int       `json:"goroutines"`
	Client      string    `json:"client"`
	OpsPerSec   []float64 `json:"ops_per_sec_rounds"`
	Median      float64   `json:"ops_per_sec_median"`
	Min         float64   `json:"ops_per_sec_min"`
	Max         float64   `json:"ops_per_sec_max"`
	P50us       float64   `json:"p50_us"`
	P99us       float64   `json:"p99_us"`
	P999us      float64   `json:"p999_us"`
	MaxUs       float64   `json:"max_us"`
	AllocsPerOp []float64 `json:"allocs_per_op_rounds"`
	Allocs      float64   `json:"allocs_per_op_median"`
	BytesPerOp  float64   `json:"bytes_per_op_median"`
	Ops         int64     `json:"ops"`
	// GET and SET calls the servers counted (INFO commandstats) during the cell's
	// runs: a check that every call the client reported was really made.
	ServerCalls int64  `json:"server_calls"`
	Errors      int64  `json:"errors"`
	FirstError  string `json:"first_error,omitempty"`

	hist hist
	bpo  []float64
}

// TPResult is the throughput section.
type TPResult struct {
	Config TPConfig  `json:"config"`
	Cells  []*TPCell `json:"cells"`
}

func (r *TPResult) cell(op string, size, g int, client string) *TPCell {
	for _, c := range r.Cells {
		if c.Op == op && c.Size == size && c.Goroutines == g && c.Client == client {
			return c
		}
	}
	return nil
}

// opMixed is 80% GET, 20% SET.
const opMixed = "MIXED"

func keyName(size, i int) string { return fmt.Sprintf("bench:%d:%05d", size, i) }

// runThroughput runs every cell, rounds × clients interleaved, on one cluster.
func runThroughput(ctx context.Context, cfg TPConfig, cl *redistest.Cluster) (*TPResult, error) {
	addrs := cl.Addrs()
	res := &TPResult{Config: cfg}
	kvs := map[string]kv{}
	defer func() {
		for _, c := range kvs {
			closeWithin(c, 5*time.Second)
		}
	}()
	for _, spec := range clients {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		c, err := spec.New(cctx, addrs, nil, 0) // default options
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec.Name, err)
		}
		kvs[spec.Name] = c
	}
	keys := map[int][]string{}
	vals := map[int]string{}
	for _, size := range cfg.Sizes {
		vals[size] = strings.Repeat("v", size)
		ks := make([]string, cfg.Keys)
		for i := range ks {
			ks[i] = keyName(size, i)
		}
		keys[size] = ks
		// Load the keys (redline, 64 goroutines), so every GET hits.
		if err := fill(ctx, kvs[nameRedline], ks, vals[size]); err != nil {
			return nil, fmt.Errorf("loading %d-byte values: %w", size, err)
		}
	}
	for _, op := range cfg.Ops {
		for _, size := range cfg.Sizes {
			for _, g := range cfg.Concurrency {
				for _, spec := range clients {
					res.Cells = append(res.Cells, &TPCell{Op: op, Size: size, Goroutines: g, Client: spec.Name})
				}
			}
		}
	}
	// Warm-up: connections, pools, code paths.
	warm := time.Duration(cfg.WarmupMS * float64(time.Millisecond))
	for _, spec := range clients {
		for _, g := range []int{1, 512} {
			runLoad(ctx, kvs[spec.Name], opMixed, keys[cfg.Sizes[0]], vals[cfg.Sizes[0]], g, warm/2)
		}
	}
	cell := time.Duration(cfg.CellMS * float64(time.Millisecond))
	for round := range cfg.Rounds {
		start := time.Now()
		order := slices.Clone(clients)
		// Rotate the order each round: no client always runs first or last.
		order = append(order[round%len(order):], order[:round%len(order)]...)
		for _, op := range cfg.Ops {
			for _, size := range cfg.Sizes {
				for _, g := range cfg.Concurrency {
					// At 1 goroutine a client's rate is the round trip, which jitters with
					// the machine by more than the clients differ: the clients take
					// loneTurns turns of a third of the cell each (three cells' time), so
					// that each round compares them over more, and the same, time.
					slices, length := 1, cell
					if g == 1 {
						slices, length = loneTurns, cell/3
					}
					results := map[string]*loadResult{}
					calls := map[string]int64{}
					for sl := range slices {
						for i := range order {
							spec := order[(i+sl)%len(order)]
							if ctx.Err() != nil {
								return res, ctx.Err()
							}
							b := serverCalls(ctx, cl)
							r := runLoad(ctx, kvs[spec.Name], op, keys[size], vals[size], g, length)
							calls[spec.Name] += serverCalls(ctx, cl) - b
							if acc := results[spec.Name]; acc != nil {
								acc.add(r)
							} else {
								results[spec.Name] = &r
							}
						}
					}
					for _, spec := range order {
						r := *results[spec.Name]
						c := res.cell(op, size, g, spec.Name)
						c.ServerCalls += calls[spec.Name]
						c.OpsPerSec = append(c.OpsPerSec, r.opsPerSec)
						c.AllocsPerOp = append(c.AllocsPerOp, r.allocsPerOp)
						c.bpo = append(c.bpo, r.bytesPerOp)
						c.hist.merge(&r.hist)
						c.Ops += r.ops
						c.Errors += r.errors
						if c.FirstError == "" && r.firstErr != "" {
							c.FirstError = r.firstErr
						}
					}
				}
			}
		}
		log.Printf("throughput: round %d/%d done in %v", round+1, cfg.Rounds, time.Since(start).Round(time.Millisecond))
	}
	for _, c := range res.Cells {
		c.Median, c.Min, c.Max = medianMinMax(c.OpsPerSec)
		c.Allocs, _, _ = medianMinMax(c.AllocsPerOp)
		c.BytesPerOp, _, _ = medianMinMax(c.bpo)
		c.P50us = us(c.hist.quantile(0.50))
		c.P99us = us(c.hist.quantile(0.99))
		c.P999us = us(c.hist.quantile(0.999))
		c.MaxUs = us(c.hist.quantile(1))
	}
	return res, nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func medianMinMax(v []float64) (med, lo, hi float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		med = s[len(s)/2]
	} else {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return med, s[0], s[len(s)-1]
}

func fill(ctx context.Context, c kv, keys []string, val string) error {
	var wg sync.WaitGroup
	var firstErr atomic.Value
	const workers = 64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(keys); i += workers {
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := c.Set(cctx, keys[i], val)
				cancel()
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	return nil
}

type loadResult struct {
	ops, errors int64
	opsPerSec   float64
	allocsPerOp float64
	bytesPerOp  float64
	firstErr    string
	hist        hist
	secs        float64 // the run's length
	window      int64   // operations in the allocation window
}

// loneTurns is how many turns each client takes in a 1-goroutine cell's round, each a
// third of the cell.
const loneTurns = 9

// add merges the result of another run of the same client and cell: rates over the
// runs' total time, allocations over their windows' total operations.
func (r *loadResult) add(o loadResult) {
	ok, ook := float64(r.ops-r.errors), float64(o.ops-o.errors)
	if secs := r.secs + o.secs; secs > 0 {
		r.opsPerSec = (ok + ook) / secs
	}
	if w := r.window + o.window; w > 0 {
		r.allocsPerOp = (r.allocsPerOp*float64(r.window) + o.allocsPerOp*float64(o.window)) / float64(w)
		r.bytesPerOp = (r.bytesPerOp*float64(r.window) + o.bytesPerOp*float64(o.window)) / float64(w)
	}
	r.ops += o.ops
	r.errors += o.errors
	r.secs += o.secs
	r.window += o.window
	r.hist.merge(&o.hist)
	if r.firstErr == "" {
		r.firstErr = o.firstErr
	}
}

// worker is one goroutine's state, padded apart from its neighbours.
type worker struct {
	h      hist
	ops    atomic.Int64 // read mid-run, when the allocation window opens
	errs   int64
	errTxt string
	_      [64]byte
}

// runLoad runs op from g goroutines for d and returns what they did. Every call's
// latency goes into its goroutine's histogram; allocations are the process's
// runtime.MemStats.Mallocs delta over the run's last four fifths, divided by the
// operations completed meanwhile.
func runLoad(ctx context.Context, c kv, op string, keys []string, val string, g int, d time.Duration) loadResult {
	workers := make([]*worker, g)
	for i := range workers {
		workers[i] = &worker{}
	}
	var stop atomic.Bool
	startCh := make(chan struct{})
	var wg sync.WaitGroup
	bg := context.Background()
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := uint64(i+1)*0x9E3779B97F4A7C15 ^ uint64(time.Now().UnixNano())
			<-startCh
			for !stop.Load() {
				rng ^= rng << 13
				rng ^= rng >> 7
				rng ^= rng << 17
				k := keys[rng%uint64(len(keys))]
				get := op == "GET" || (op == opMixed && (rng>>40)%10 < 8)
				t0 := time.Now()
				var err error
				if get {
					err = c.Get(bg, k)
				} else {
					err = c.Set(bg, k, val)
				}
				w.h.record(time.Since(t0))
				w.ops.Add(1)
				if err != nil {
					w.errs++
					if w.errTxt == "" {
						w.errTxt = err.Error()
					}
				}
			}
		}()
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	startMeasuring()
	t0 := time.Now()
	close(startCh)
	// Allocations are counted over the cell's steady part: after the first fifth, once
	// every goroutine has blocked in the client at least once. The collection above
	// emptied the runtime's caches (the sudogs a blocked goroutine needs, sync.Pools), and
	// refilling them for hundreds of goroutines is a start-up cost, not a per-call one.
	// Collections during the window, and the refills after them, are counted.
	timer := time.NewTimer(d / 5)
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
	runtime.ReadMemStats(&m0)
	var ops0 int64
	for _, w := range workers {
		ops0 += w.ops.Load()
	}
	timer.Reset(d - d/5)
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
	runtime.ReadMemStats(&m1)
	var ops1 int64
	for _, w := range workers {
		ops1 += w.ops.Load()
	}
	stop.Store(true)
	wg.Wait()
	el := time.Since(t0)
	stopMeasuring()
	if between != nil {
		between()
	}
	var r loadResult
	for _, w := range workers {
		r.ops += w.ops.Load()
		r.errors += w.errs
		r.hist.merge(&w.h)
		if r.firstErr == "" {
			r.firstErr = w.errTxt
		}
	}
	r.secs = el.Seconds()
	if r.ops > 0 {
		r.opsPerSec = float64(r.ops-r.errors) / el.Seconds()
		if n := ops1 - ops0; n > 0 {
			r.window = n
			r.allocsPerOp = float64(m1.Mallocs-m0.Mallocs) / float64(n)
			r.bytesPerOp = float64(m1.TotalAlloc-m0.TotalAlloc) / float64(n)
		}
	}
	return r
}

// closeWithin closes c, giving up (and saying so) after limit.
func closeWithin(c kv, limit time.Duration) string {
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
		return ""
	case <-time.After(limit):
		return fmt.Sprintf("Close did not return within %v: client abandoned", limit)
	}
}

// serverCalls returns the GET and SET calls all nodes have counted (INFO
// commandstats), or -1e15 when a node does not answer (the check then fails loudly).
func serverCalls(ctx context.Context, cl *redistest.Cluster) int64 {
	var total int64
	for _, n := range cl.Nodes() {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		v, err := n.Do(cctx, "INFO", "commandstats")
		cancel()
		if err != nil {
			return -1e15
		}
		for line := range strings.SplitSeq(string(v.Str), "\n") {
			for _, cmd := range []string{"cmdstat_get:calls=", "cmdstat_set:calls="} {
				if rest, ok := strings.CutPrefix(line, cmd); ok {
					num, _, _ := strings.Cut(rest, ",")
					x, _ := strconv.ParseInt(num, 10, 64)
					total += x
				}
			}
		}
	}
	return total
}
