// Command report runs redline, go-redis v9 and rueidis side by side on the same local
// Redis Clusters, in the same run, and writes docs/PERFORMANCE.md and
// docs/performance.json: throughput and latency, deadline fidelity in the seed
// scenario, failover, and the in-repo micro-benchmarks.
//
// Run it from bench/ (`make bench` does): go run ./cmd/report.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redline-go/redline/redistest"
)

// Report is everything one run measured (the JSON file).
type Report struct {
	Env            Env          `json:"env"`
	Throughput     *TPResult    `json:"throughput,omitempty"`
	RedisBenchmark []RBRun      `json:"redis_benchmark,omitempty"`
	Seed           *SeedResult  `json:"seed_scenario,omitempty"`
	Failover       *FOResult    `json:"failover,omitempty"`
	Micro          []MicroRun   `json:"micro,omitempty"`
	Scale          *ScaleResult `json:"scale,omitempty"`
	Contention     Contention   `json:"contention"`
	Problems       []string     `json:"problems,omitempty"`
	Sections       []string     `json:"sections"`
}

// clusters is every cluster started, closed at exit whatever happens.
var clusters struct {
	sync.Mutex
	all []*redistest.Cluster
}

func startCluster(ctx context.Context, cfg redistest.Config) (*redistest.Cluster, error) {
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cl, err := redistest.Start(cctx, cfg)
	if err != nil {
		return nil, err
	}
	clusters.Lock()
	clusters.all = append(clusters.all, cl)
	clusters.Unlock()
	log.Printf("cluster up in %v: %d masters, %d replicas each, TLS %v, proxies %v", time.Since(start).Round(time.Millisecond),
		cfg.Masters, cfg.ReplicasPerMaster, cfg.TLS, !cfg.NoProxy)
	return cl, nil
}

func closeClusters() {
	clusters.Lock()
	defer clusters.Unlock()
	for _, cl := range clusters.all {
		if err := cl.Close(); err != nil {
			log.Printf("closing a cluster: %v", err)
		}
	}
	clusters.all = nil
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == fakeChildFlag {
		os.Exit(fakeChildMain(os.Args[2:]))
	}
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench: ")
	out := flag.String("out", "../docs/PERFORMANCE.md", "the Markdown report to write (replaced)")
	jsonOut := flag.String("json", "../docs/performance.json", "the JSON results to write (replaced)")
	repo := flag.String("repo", "..", "the redline repository root (for the micro-benchmarks and git)")
	only := flag.String("only", "", "comma-separated sections to run (throughput,seed,failover,micro,scale), or sentinel alone (its JSON only, see -sentinel-json); empty: all but scale and sentinel. For development: a partial report says which sections it lacks. -only scale replaces only the Scale section of -out")
	scaleJSON := flag.String("scale-json", "../docs/performance-scale.json", "the JSON results of the scale section (replaced when it runs)")
	sentinelJSON := flag.String("sentinel-json", "../docs/performance-sentinel.json", "-only sentinel: the JSON results of the Sentinel failover section (replaced; the Markdown report is left alone)")
	scaleMasters := flag.String("scale-masters", "3,100,500,1000", "scale: the cluster sizes")
	scaleStorm := flag.String("scale-storm", "50x500", "scale: the storm, INSTANCESxMASTERS")
	scaleIdle := flag.Duration("scale-idle", 40*time.Second, "scale: the idle window (longer than the clients' 30s periodic work)")
	rounds := flag.Int("rounds", 5, "throughput rounds (5: this VM's speed swings by up to ~40% over seconds, see docs/PERFORMANCE.md)")
	cell := flag.Duration("cell", 500*time.Millisecond, "throughput: duration of one client in one cell per round")
	tpOps := flag.String("tp-ops", "GET,SET,MIXED", "throughput: the operations (GET, SET, MIXED); fewer for a focused run")
	tpSizes := flag.String("tp-sizes", "16,1024", "throughput: the value sizes in bytes")
	tpGoroutines := flag.String("tp-goroutines", "1,16,128,512", "throughput: the goroutine counts")
	calls := flag.Int("seed-calls", 200, "seed scenario: calls to faulty nodes per cell")
	par := flag.Int("seed-parallel", 67, "seed scenario: parallel callers")
	seedTO := flag.String("seed-timeouts", "100ms,500ms,1s", "seed scenario: the call timeouts")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var finished atomic.Bool
	go func() { // a section stuck in a client that ignores cancellation must not keep the clusters alive
		<-ctx.Done()
		if finished.Load() {
			return
		}
		log.Printf("interrupted: stopping (clusters are closed within 15s at the latest)")
		time.Sleep(15 * time.Second)
		if !finished.Load() {
			closeClusters()
			os.Exit(130)
		}
	}()
	var timeouts []float64
	for _, f := range strings.Split(*seedTO, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			log.Fatalf("-seed-timeouts: bad duration %q", f)
		}
		timeouts = append(timeouts, ms(d))
	}
	scfg := ScaleConfig{IdleS: scaleIdle.Seconds(), MovedCapS: 10, StormMaster: 500, StormCount: 50, StormDownS: 5,
		StormAfterS: 2, StormEveryM: 10, StormKeys: 8, CallTimeout: 1000}
	if _, err := fmt.Sscanf(*scaleStorm, "%dx%d", &scfg.StormCount, &scfg.StormMaster); err != nil || scfg.StormCount < 1 || scfg.StormMaster < 3 {
		log.Fatalf("-scale-storm: bad value %q (want INSTANCESxMASTERS, masters ≥ 3)", *scaleStorm)
	}
	for _, f := range strings.Split(*scaleMasters, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			log.Fatalf("-scale-masters: bad size %q (want 2 or more)", f)
		}
		scfg.Masters = append(scfg.Masters, n)
	}
	tp := TPConfig{Masters: 3, Keys: 10000, Rounds: *rounds, CellMS: ms(*cell), WarmupMS: 600,
		Ops: strings.Split(*tpOps, ","), Sizes: intList("-tp-sizes", *tpSizes), Concurrency: intList("-tp-goroutines", *tpGoroutines)}
	var err error
	if *only == "sentinel" {
		err = runSentinelOnly(ctx, *sentinelJSON, *repo)
	} else {
		err = run(ctx, *out, *jsonOut, *scaleJSON, *repo, *only, tp, *calls, *par, timeouts, scfg)
	}
	closeClusters()
	finished.Store(true)
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

// intList parses a flag's comma-separated positive integers.
func intList(name, v string) []int {
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			log.Fatalf("%s: bad value %q", name, f)
		}
		out = append(out, n)
	}
	return out
}

func run(ctx context.Context, out, jsonOut, scaleJSON, repo, only string, tp TPConfig, calls, par int, timeouts []float64, scfg ScaleConfig) error {
	begin := time.Now()
	asked := func(s string) bool { return strings.Contains(","+only+",", ","+s+",") }
	want := func(s string) bool { return only == "" || asked(s) }
	rep := &Report{Env: collectEnv(ctx, repo)}
	scaleOnly := only == "scale"
	if scaleOnly {
		rep.Env.Command = "make bench-scale"
	}
	mon := startContentionMonitor()
	between = mon.sampleIfDue
	problem := func(section string, err error) {
		if err != nil {
			msg := fmt.Sprintf("%s: %v", section, err)
			log.Print(msg)
			rep.Problems = append(rep.Problems, msg)
		}
	}

	if want("throughput") {
		rep.Sections = append(rep.Sections, "throughput")
		mon.enter("throughput")
		cl, err := startCluster(ctx, redistest.Config{Masters: 3, NoProxy: true})
		problem("throughput cluster", err)
		if err == nil {
			rep.Throughput, err = runThroughput(ctx, tp, cl)
			problem("throughput", err)
			if ctx.Err() == nil {
				rep.RedisBenchmark = runRedisBenchmark(ctx, cl.Addrs()[0], tp.Keys)
				for _, r := range rep.RedisBenchmark {
					log.Printf("redis-benchmark -P %d: %v", r.Pipeline, r.Results)
				}
			}
			problem("throughput cluster close", cl.Close())
		}
	}
	if want("seed") && ctx.Err() == nil {
		rep.Sections = append(rep.Sections, "seed")
		mon.enter("seed")
		cl, err := startCluster(ctx, redistest.Config{Masters: 4, TLS: true})
		problem("seed cluster", err)
		if err == nil {
			cfg := SeedConfig{Masters: 4, TLS: true, Modes: []string{"refuse", "blackhole", "hang", "tls-bad", "slow(2×t)"},
				TimeoutsMS: timeouts, Calls: calls, Parallel: par, HealthySamples: 50}
			rep.Seed, err = runSeed(ctx, cfg, cl)
			problem("seed scenario", err)
			problem("seed cluster close", cl.Close())
		}
	}
	if want("failover") && ctx.Err() == nil {
		rep.Sections = append(rep.Sections, "failover")
		mon.enter("failover")
		cl, err := startCluster(ctx, redistest.Config{Masters: 3, ReplicasPerMaster: 1})
		problem("failover cluster", err)
		if err == nil {
			cfg := FOConfig{Masters: 3, Replicas: 1, Writers: 4, DeadlineMS: 500, BeforeMS: 1000, MaxMS: 20000, StableMS: 1500}
			rep.Failover, err = runFailover(ctx, cfg, cl)
			problem("failover", err)
			problem("failover cluster close", cl.Close())
		}
	}
	if want("micro") && ctx.Err() == nil {
		rep.Sections = append(rep.Sections, "micro")
		mon.enter("micro")
		log.Printf("micro-benchmarks (go test -bench in %s) ...", repo)
		rep.Micro = runMicro(ctx, repo)
		for _, m := range rep.Micro {
			if m.Error != "" {
				problem("micro-benchmarks", errors.New(m.Command+": "+m.Error))
			}
		}
	}
	if asked("scale") && ctx.Err() == nil {
		mon.enter("scale")
		log.Printf("scale scenarios: fake clusters of %v masters, storm of %d instances at %d ...", scfg.Masters, scfg.StormCount, scfg.StormMaster)
		var err error
		rep.Scale, err = runScale(ctx, scfg)
		problem("scale", err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: no report written: %w", ctx.Err())
	}
	rep.Env.WallTime = time.Since(begin).Round(time.Second).String()
	rep.Contention = mon.stop()
	old, _ := os.ReadFile(out)
	files := map[string][]byte{}
	var md string
	if scaleOnly {
		if rep.Scale == nil {
			return fmt.Errorf("scale: nothing measured: %s", strings.Join(rep.Problems, "; "))
		}
		md = string(old) // only the Scale section changes
	} else {
		md = renderMarkdown(rep)
		js, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		files[jsonOut] = append(js, '\n')
	}
	if rep.Scale != nil {
		var load Load
		for _, l := range rep.Contention.Sections {
			if l.Section == "scale" {
				load = l
			}
		}
		md = spliceScale(md, renderScale(rep.Env, rep.Scale, load))
		js, err := json.MarshalIndent(struct {
			Env   Env          `json:"env"`
			Scale *ScaleResult `json:"scale"`
		}{rep.Env, rep.Scale}, "", "  ")
		if err != nil {
			return err
		}
		files[scaleJSON] = append(js, '\n')
	} else {
		md = spliceScale(md, scaleSection(string(old))) // carried over from its own run
	}
	md = carryCache(md, string(old)) // cmd/cachebench's section, from its own run
	md = spliceMarked(md, markedSection(string(old), notesBegin, notesEnd), notesBegin, notesEnd)
	files[out] = []byte(md)
	for path, data := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
		log.Printf("wrote %s", path)
	}
	log.Printf("done in %v", time.Since(begin).Round(time.Second))
	return nil
}
