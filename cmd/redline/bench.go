package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/redline-go/redline"
)

// histogram records latencies in log-linear buckets (HDR style): 64 sub-buckets per
// power of two of microseconds, so any value is kept to within ~1.6%.
type histogram struct {
	counts [64 * 40]uint64
	n      uint64
	max    time.Duration
}

const subBuckets = 64

func bucketOf(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	exp := bits.Len64(us) - 7 // us >= 64: top 6 bits after the leading one select the sub-bucket
	return (exp+1)*subBuckets + int(us>>uint(exp)) - subBuckets
}

func valueOf(b int) uint64 {
	if b < subBuckets {
		return uint64(b)
	}
	exp := b/subBuckets - 1
	return uint64(b%subBuckets+subBuckets) << uint(exp)
}

func (h *histogram) record(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	b := min(bucketOf(us), len(h.counts)-1)
	h.counts[b]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the latency at quantile q (0..1).
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	target := uint64(math.Ceil(q * float64(h.n)))
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen >= target && c > 0 {
			return time.Duration(valueOf(b)) * time.Microsecond
		}
	}
	return h.max
}

// benchResult is bench's answer for one workload.
type benchResult struct {
	Workload    string  `json:"workload"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	Ops         uint64  `json:"ops"`
	Errors      uint64  `json:"errors"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	P50Micros   int64   `json:"p50_us"`
	P90Micros   int64   `json:"p90_us"`
	P99Micros   int64   `json:"p99_us"`
	P999Micros  int64   `json:"p999_us"`
	MaxMicros   int64   `json:"max_us"`
	FirstError  string  `json:"first_error,omitempty"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f connFlags
	fs := newFlags("redline bench", benchUsage, stdout, stderr)
	f.register(fs.FlagSet)
	workloads := fs.String("workload", "get,set,mixed", "workloads to run, comma-separated: get, set, mixed (80% GET, 20% SET)")
	keys := fs.Int("keys", 10000, "number of distinct keys (spread over all slots)")
	size := fs.Int("size", 16, "value size in bytes")
	conc := fs.Int("concurrency", 64, "goroutines issuing commands")
	dur := fs.Duration("duration", 5*time.Second, "how long each workload runs")
	if done, code := fs.parse(args); done {
		return code
	}
	if err := f.check(fs.FlagSet); err != nil {
		return fs.usageError("%s", errLine(err))
	}
	switch {
	case fs.NArg() > 0:
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	case *keys < 1 || *keys > 10_000_000:
		return fs.usageError("--keys must be 1..10000000")
	case *size < 0 || *size > 64<<20:
		return fs.usageError("--size must be 0..67108864")
	case *conc < 1 || *conc > 10000:
		return fs.usageError("--concurrency must be 1..10000")
	case *dur <= 0 || *dur > time.Hour:
		return fs.usageError("--duration must be positive, at most 1h")
	}
	var wls []string
	for _, w := range strings.Split(*workloads, ",") {
		switch w = strings.TrimSpace(w); w {
		case "get", "set", "mixed":
			wls = append(wls, w)
		default:
			return fs.usageError("unknown workload %q (want get, set or mixed)", w)
		}
	}
	opts, err := f.options()
	if err != nil {
		return fs.usageError("%s", errLine(err))
	}
	c, err := redline.NewClient(ctx, opts)
	if err != nil {
		return fail(stderr, "redline bench", 1, err)
	}
	defer c.Close()
	value := strings.Repeat("x", *size)
	// Fill the keys first, so GETs find values.
	for i := 0; i < *keys; i += 500 {
		args := []any{"MSET"}
		for k := i; k < min(i+500, *keys); k++ {
			args = append(args, benchKey(k), value)
		}
		if err := c.Do(ctx, args...).Err(); err != nil {
			fmt.Fprintf(stderr, "redline bench: filling keys: %s\n", errLine(err))
			return 1
		}
	}
	var results []benchResult
	for _, w := range wls {
		results = append(results, benchOne(ctx, c, w, *keys, value, *conc, *dur, stderr))
	}
	if f.json {
		printJSON(stdout, results)
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "WORKLOAD\tCONC\tOPS\tOPS/S\tP50\tP90\tP99\tP99.9\tMAX\tERRORS\t")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.Workload, r.Concurrency, r.Ops, r.OpsPerSec,
				us(time.Duration(r.P50Micros)*time.Microsecond), us(time.Duration(r.P90Micros)*time.Microsecond),
				us(time.Duration(r.P99Micros)*time.Microsecond), us(time.Duration(r.P999Micros)*time.Microsecond),
				us(time.Duration(r.MaxMicros)*time.Microsecond), r.Errors)
		}
		tw.Flush()
	}
	for _, r := range results {
		if r.Errors > 0 {
			fmt.Fprintf(stderr, "redline bench: %s: %d errors, first: %s\n", r.Workload, r.Errors, r.FirstError)
			return 1
		}
	}
	return 0
}

func benchKey(i int) string { return fmt.Sprintf("redline-bench:%d", i) }

// benchOne runs one workload for dur with conc goroutines, printing progress once a
// second on stderr.
func benchOne(ctx context.Context, c *redline.Client, workload string, keys int, value string, conc int, dur time.Duration, progress io.Writer) benchResult {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var ops, errs atomic.Uint64
	var firstErr atomic.Value
	hists := make([]*histogram, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range conc {
		hists[g] = &histogram{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := hists[g]
			rng := rand.New(rand.NewPCG(uint64(g), uint64(start.UnixNano())))
			for ctx.Err() == nil {
				k := benchKey(rng.IntN(keys))
				t0 := time.Now()
				var err error
				if workload == "set" || workload == "mixed" && rng.IntN(5) == 0 {
					err = c.Do(context.Background(), "SET", k, value).Err()
				} else {
					err = c.Do(context.Background(), "GET", k).Err()
				}
				h.record(time.Since(t0))
				ops.Add(1)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last uint64
loop:
	for {
		select {
		case <-done:
			break loop
		case <-tick.C:
			n := ops.Load()
			fmt.Fprintf(progress, "\r%-6s %6.1fs  %10d ops  %9.0f ops/s  errors %d   ", workload, time.Since(start).Seconds(), n, float64(n-last), errs.Load())
			last = n
		}
	}
	fmt.Fprint(progress, "\r\033[K")
	elapsed := time.Since(start)
	all := &histogram{}
	for _, h := range hists {
		all.merge(h)
	}
	r := benchResult{
		Workload: workload, Concurrency: conc, Seconds: elapsed.Seconds(), Ops: ops.Load(), Errors: errs.Load(),
		OpsPerSec:  float64(ops.Load()) / elapsed.Seconds(),
		P50Micros:  all.quantile(0.5).Microseconds(),
		P90Micros:  all.quantile(0.9).Microseconds(),
		P99Micros:  all.quantile(0.99).Microseconds(),
		P999Micros: all.quantile(0.999).Microseconds(),
		MaxMicros:  all.max.Microseconds(),
	}
	if e, ok := firstErr.Load().(string); ok {
		r.FirstError = e
	}
	return r
}

// benchUsage is the head of `redline bench --help`.
const benchUsage = `Usage: redline bench [flags]

Measures throughput and latency percentiles of GET, SET and mixed workloads through the
redline client, with a live progress line, then prints a table (or JSON). Keys are
named "redline-bench:<n>" and are left in place.
`
