// Command cachebench measures client-side caching side by side, redline's
// (Client.Cached) against rueidis's DoCache, on a local 3-master cluster: cached GET
// hit throughput and allocations at several goroutine counts, in interleaved rounds;
// and a mixed workload (90% cached reads of hot keys, 10% writes from a second client)
// with its hit ratio and staleness (from a write's acknowledgement to the last cached
// read of the value it replaced). It writes a marked section of docs/PERFORMANCE.md
// (the rest of the file is kept) and the raw results as JSON.
//
//	cd bench && go run ./cmd/cachebench
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"github.com/redline-go/redline"
	"github.com/redline-go/redline/redistest"
)

// cachedGet is one client's cached GET: the value, whether it was a hit.
type cachedGet func(ctx context.Context, key string) (string, bool, error)

type client struct {
	name  string
	get   cachedGet
	close func()
}

func newRedline(ctx context.Context, addrs []string) (client, error) {
	c, err := redline.NewClient(ctx, redline.Options{Addrs: addrs, Cache: redline.CacheOptions{MaxBytes: 128 << 20}})
	if err != nil {
		return client{}, err
	}
	view := c.Cached(time.Hour)
	// redline reports hits in Stats and hooks, not per call; the hit ratio comes from
	// Stats (see hitRatio).
	return client{name: "redline", close: func() { c.Close() }, get: func(ctx context.Context, key string) (string, bool, error) {
		v, err := view.Get(ctx, key)
		return v, false, err
	}}, nil
}

func newRueidis(addrs []string) (client, error) {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: addrs})
	if err != nil {
		return client{}, err
	}
	return client{name: "rueidis", close: c.Close, get: func(ctx context.Context, key string) (string, bool, error) {
		r := c.DoCache(ctx, c.B().Get().Key(key).Cache(), time.Hour)
		v, err := r.ToString()
		return v, r.IsCacheHit(), err
	}}, nil
}

// HitCell is one measurement of cached GET hits.
type HitCell struct {
	Client      string  `json:"client"`
	Goroutines  int     `json:"goroutines"`
	Round       int     `json:"round"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	AllocsPerOp float64 `json:"allocs_per_op"`
}

// MixedResult is the mixed workload's outcome for one client.
type MixedResult struct {
	Client       string  `json:"client"`
	Goroutines   int     `json:"goroutines"`
	Round        int     `json:"round"`
	Reads        int64   `json:"reads"`
	Writes       int64   `json:"writes"`
	OpsPerSec    float64 `json:"ops_per_sec"`
	HitRatio     float64 `json:"hit_ratio"`
	StaleReads   int64   `json:"stale_reads"`
	StaleWrites  int     `json:"stale_writes"` // writes whose old value was read after their ack
	StaleP50us   float64 `json:"staleness_p50_us"`
	StaleP99us   float64 `json:"staleness_p99_us"`
	StaleMaxus   float64 `json:"staleness_max_us"`
	StaleP99Anyu float64 `json:"staleness_p99_of_stale_us"` // among the writes read stale
}

// Report is the JSON output.
type Report struct {
	Date        string        `json:"date"`
	Command     string        `json:"command"`
	Commit      string        `json:"commit"`
	Go          string        `json:"go"`
	CPUs        int           `json:"cpus"`
	Load        [2]string     `json:"loadavg"` // /proc/loadavg at the start and the end
	Keys        int           `json:"keys"`
	CellS       float64       `json:"cell_s"`
	MixedS      float64       `json:"mixed_s"`
	MixedRounds int           `json:"mixed_rounds"`
	Rounds      int           `json:"rounds"`
	Hits        []HitCell     `json:"hits"`
	Mixed       []MixedResult `json:"mixed"`
}

func main() {
	log.SetFlags(log.Ltime)
	out := flag.String("out", "../docs/PERFORMANCE.md", "the Markdown report whose caching section is replaced (appended when absent)")
	jsonOut := flag.String("json", "../docs/performance-cache.json", "the JSON results to write (replaced)")
	rounds := flag.Int("rounds", 3, "interleaved rounds of the hit benchmark")
	cell := flag.Duration("cell", 2*time.Second, "duration of one hit measurement")
	mixedFor := flag.Duration("mixed", 3*time.Second, "duration of one run of the mixed workload")
	mixedRounds := flag.Int("mixed-rounds", 3, "interleaved rounds of the mixed workload")
	par := flag.String("par", "1,16,128", "goroutine counts of the hit benchmark")
	mixedPar := flag.Int("mixed-par", 16, "goroutines of the mixed workload")
	keys := flag.Int("keys", 1000, "hot keys")
	flag.Parse()
	var pars []int
	for _, f := range strings.Split(*par, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			log.Fatalf("-par: bad count %q", f)
		}
		pars = append(pars, n)
	}
	ctx := context.Background()
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	cl, err := redistest.Start(cctx, redistest.Config{Masters: 3, NoProxy: true})
	cancel()
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()
	rep := Report{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Command: "cd bench && go run ./cmd/cachebench " + strings.Join(os.Args[1:], " "),
		Commit: gitCommit(), Go: runtime.Version(), CPUs: runtime.NumCPU(), Keys: *keys, CellS: cell.Seconds(), Rounds: *rounds,
		MixedS: mixedFor.Seconds(), MixedRounds: *mixedRounds}
	rep.Load[0] = loadavg()
	writer, err := redline.NewClient(ctx, redline.Options{Addrs: cl.Addrs()})
	if err != nil {
		log.Fatal(err)
	}
	defer writer.Close()
	for i := range *keys {
		if err := writer.Set(ctx, keyName(i), "0123456789abcdef", nil); err != nil {
			log.Fatal(err)
		}
	}
	rl, err := newRedline(ctx, cl.Addrs())
	if err != nil {
		log.Fatal(err)
	}
	ru, err := newRueidis(cl.Addrs())
	if err != nil {
		log.Fatal(err)
	}
	clients := []client{rl, ru}
	for _, c := range clients {
		for i := range *keys { // warm: every key cached
			if _, _, err := c.get(ctx, keyName(i)); err != nil {
				log.Fatal(c.name, err)
			}
		}
	}
	for r := range *rounds {
		for _, g := range pars {
			order := clients
			if r%2 == 1 {
				order = []client{clients[1], clients[0]}
			}
			for _, c := range order {
				h := hitCell(ctx, c, g, *keys, *cell)
				h.Round = r + 1
				log.Printf("hits %-8s %4d goroutines: %12.0f ops/s, %.2f allocs/op", c.name, g, h.OpsPerSec, h.AllocsPerOp)
				rep.Hits = append(rep.Hits, h)
			}
		}
	}
	for _, c := range clients {
		c.close()
	}
	// The mixed workload, in interleaved rounds, each run with a fresh client (its
	// cache warmed by the workload itself).
	mkRedline := func() (client, func() uint64, error) {
		c, err := redline.NewClient(ctx, redline.Options{Addrs: cl.Addrs(), Cache: redline.CacheOptions{MaxBytes: 128 << 20}})
		if err != nil {
			return client{}, nil, err
		}
		view := c.Cached(time.Hour)
		return client{name: "redline", close: func() { c.Close() }, get: func(ctx context.Context, key string) (string, bool, error) {
			v, err := view.Get(ctx, key)
			return v, false, err
		}}, func() uint64 { return c.Stats().Cache.Hits }, nil
	}
	mkRueidis := func() (client, func() uint64, error) { c, err := newRueidis(cl.Addrs()); return c, nil, err }
	for r := range *mixedRounds {
		order := []func() (client, func() uint64, error){mkRedline, mkRueidis}
		if r%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, mk := range order {
			c, hits, err := mk()
			if err != nil {
				log.Fatal(err)
			}
			m := mixed(ctx, c, hits, writer, *mixedPar, *keys, *mixedFor)
			m.Round = r + 1
			c.close()
			log.Printf("mixed %-8s: %.0f ops/s, hit ratio %.4f, %d stale reads, staleness p50 %.0f µs p99 %.0f µs max %.0f µs, p99 of the stale %.0f µs",
				m.Client, m.OpsPerSec, m.HitRatio, m.StaleReads, m.StaleP50us, m.StaleP99us, m.StaleMaxus, m.StaleP99Anyu)
			rep.Mixed = append(rep.Mixed, m)
		}
	}
	rep.Load[1] = loadavg()
	log.Printf("done in %v", time.Since(start).Round(time.Second))
	js, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(*jsonOut, append(js, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	old, _ := os.ReadFile(*out)
	if err := os.WriteFile(*out, []byte(splice(string(old), render(rep))), 0o644); err != nil {
		log.Fatal(err)
	}
}

func keyName(i int) string { return "hot:" + strconv.Itoa(i) }

// hitCell runs g goroutines of cached GETs of random hot keys for d.
func hitCell(ctx context.Context, c client, g, keys int, d time.Duration) HitCell {
	var ops, misses atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	for w := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 3))
			var n int64
			for !stop.Load() {
				for range 64 {
					if _, _, err := c.get(ctx, keyName(r.IntN(keys))); err != nil {
						misses.Add(1)
					}
				}
				n += 64
			}
			ops.Add(n)
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	el := time.Since(t0)
	runtime.ReadMemStats(&m1)
	n := ops.Load()
	if misses.Load() > 0 {
		log.Printf("%s: %d errors", c.name, misses.Load())
	}
	// keyName allocates (strconv): counted, then taken off, the same for both clients.
	return HitCell{Client: c.name, Goroutines: g, OpsPerSec: float64(n) / el.Seconds(),
		AllocsPerOp: float64(m1.Mallocs-m0.Mallocs)/float64(n) - keyNameAllocs}
}

// keyNameAllocs is what keyName costs per call, measured at start-up.
var keyNameAllocs = func() float64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	const n = 100000
	var sink string
	for i := range n {
		sink = keyName(i % 1000)
	}
	_ = sink
	runtime.ReadMemStats(&m1)
	return float64(m1.Mallocs-m0.Mallocs) / n
}()

// writeLog is what the writer acknowledged for one key: versions in order, their
// acknowledgement times, and per write the longest it was read stale.
type writeLog struct {
	mu    sync.Mutex
	vers  []int64
	acks  []time.Time
	stale []time.Duration
}

// observe records a read at time at that returned version v: every write after v
// acknowledged before the read was read stale for that long.
func (l *writeLog) observe(v int64, at time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, _ := slices.BinarySearch(l.vers, v+1)
	stale := false
	for ; i < len(l.vers) && l.acks[i].Before(at); i++ {
		stale = true
		l.stale[i] = max(l.stale[i], at.Sub(l.acks[i]))
	}
	return stale
}

// mixed runs g goroutines, each doing 90% cached GETs through c and 10% SETs through
// writer (another client), over keys hot keys for d.
func mixed(ctx context.Context, c client, hits func() uint64, writer *redline.Client, g, keys int, d time.Duration) MixedResult {
	logs := make([]writeLog, keys)
	var seq atomic.Int64
	for i := range keys {
		v := seq.Add(1)
		if err := writer.Set(ctx, keyName(i), strconv.FormatInt(v, 10), nil); err != nil {
			log.Fatal(err)
		}
		logs[i].vers, logs[i].acks, logs[i].stale = []int64{v}, []time.Time{time.Now()}, []time.Duration{0}
	}
	var reads, writes, staleReads, hitCount atomic.Int64
	var h0 uint64
	if hits != nil {
		h0 = hits()
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 5))
			for !stop.Load() {
				i := r.IntN(keys)
				l := &logs[i]
				if r.IntN(10) == 0 {
					l.mu.Lock() // writes of one key acknowledged in version order
					v := seq.Add(1)
					err := writer.Set(ctx, keyName(i), strconv.FormatInt(v, 10), nil)
					if err == nil {
						l.vers, l.acks, l.stale = append(l.vers, v), append(l.acks, time.Now()), append(l.stale, 0)
					}
					l.mu.Unlock()
					if err != nil {
						log.Fatal(err)
					}
					writes.Add(1)
					continue
				}
				key := keyName(i)
				at := time.Now() // the read's start: a hit is served within a microsecond of it
				s, hit, err := c.get(ctx, key)
				if err != nil {
					log.Fatal(c.name, err)
				}
				reads.Add(1)
				if hit {
					hitCount.Add(1)
				}
				v, _ := strconv.ParseInt(s, 10, 64)
				if l.observe(v, at) {
					staleReads.Add(1)
				}
			}
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	el := time.Since(t0)
	if hits != nil {
		hitCount.Store(int64(hits() - h0))
	}
	var all, staleOnly []time.Duration
	for i := range logs {
		for j, s := range logs[i].stale {
			if j == 0 {
				continue // the initial value, not a write of the workload
			}
			all = append(all, s)
			if s > 0 {
				staleOnly = append(staleOnly, s)
			}
		}
	}
	slices.Sort(all)
	slices.Sort(staleOnly)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	m := MixedResult{Client: c.name, Goroutines: g, Reads: reads.Load(), Writes: writes.Load(),
		OpsPerSec: float64(reads.Load()+writes.Load()) / el.Seconds(),
		HitRatio:  float64(hitCount.Load()) / float64(max(reads.Load(), 1)), StaleReads: staleReads.Load(), StaleWrites: len(staleOnly),
		StaleP50us: us(quantile(all, 0.5)), StaleP99us: us(quantile(all, 0.99)), StaleMaxus: us(quantile(all, 1)),
		StaleP99Anyu: us(quantile(staleOnly, 0.99))}
	return m
}

func quantile(s []time.Duration, q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func gitCommit() string {
	b, err := os.ReadFile("../.git/HEAD")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// loadavg returns the machine's 1, 5 and 15 minute load averages ("" if unknown).
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
