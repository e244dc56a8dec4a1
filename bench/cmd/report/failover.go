package main

import (
	"context"
	"fmt"
	"log"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// FOConfig is the failover section's plan.
type FOConfig struct {
	Masters    int     `json:"masters"`
	Replicas   int     `json:"replicas_per_master"`
	Writers    int     `json:"writers"`
	DeadlineMS float64 `json:"deadline_ms"`
	BeforeMS   float64 `json:"before_kill_ms"`
	MaxMS      float64 `json:"max_loop_ms"`
	StableMS   float64 `json:"stable_after_recovery_ms"`
}

// FORun is one client's failover run.
type FORun struct {
	Client       string  `json:"client"`
	Calls        int     `json:"calls"`
	Errors       int     `json:"errors"`
	VictimErrors int     `json:"errors_on_killed_master_slots"`
	OtherErrors  int     `json:"errors_on_other_slots"`
	PastDeadline int     `json:"past_deadline"` // elapsed > deadline + 2 ms
	NotReturned  int     `json:"not_returned"`
	MaxMS        float64 `json:"max_elapsed_ms"`
	RecoveredMS  float64 `json:"recovery_ms"` // kill → first successful write to the killed master's slots
	Recovered    bool    `json:"recovered"`
	LastFailMS   float64 `json:"last_victim_failure_ms"` // kill → end of the last failed write to those slots
	// kill → the first time the cluster (CLUSTER NODES of a running node, polled every
	// 50 ms) names another owner of slot 0: the server side of the failover.
	PromotedMS     float64 `json:"cluster_promoted_ms"`
	FirstErr       string  `json:"first_error,omitempty"`
	OtherFirstErr  string  `json:"first_error_other_slots,omitempty"`
	CloseNote      string  `json:"close_note,omitempty"`
	RestoreNote    string  `json:"restore_note,omitempty"`
	LoopMS         float64 `json:"loop_ms"`
	PromotedNodeIx int     `json:"promoted_node"`
	// Writes to the killed master's slots per second after the kill: [ok, failed].
	Timeline [][2]int `json:"victim_writes_per_second_after_kill"`
	// Distinct error texts (first 160 characters, numbers replaced by N) and how
	// often each came.
	ErrorTexts map[string]int `json:"error_texts"`
}

// FOResult is the failover section.
type FOResult struct {
	Config FOConfig `json:"config"`
	Runs   []*FORun `json:"runs"`
}

// runFailover runs a bounded write loop with each client in turn on a 3+3 cluster,
// kills the master of slot 0 and measures; the cluster is restored between clients.
func runFailover(ctx context.Context, cfg FOConfig, cl *redistest.Cluster) (*FOResult, error) {
	res := &FOResult{Config: cfg}
	for _, spec := range clients {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		start := time.Now()
		run, err := failoverRun(ctx, cfg, cl, spec)
		if run != nil {
			res.Runs = append(res.Runs, run)
		}
		if err != nil {
			return res, fmt.Errorf("%s: %w", spec.Name, err)
		}
		log.Printf("failover: %s: %v (recovery %.0f ms)", spec.Name, time.Since(start).Round(time.Millisecond), run.RecoveredMS)
	}
	return res, nil
}

func failoverRun(ctx context.Context, cfg FOConfig, cl *redistest.Cluster, spec clientSpec) (*FORun, error) {
	run := &FORun{Client: spec.Name, PromotedNodeIx: -1, ErrorTexts: map[string]int{}}
	topo, err := cl.Topology(ctx)
	if err != nil {
		return nil, err
	}
	victim := topo.Owner(0)
	if victim == nil || victim.Node == nil {
		return nil, fmt.Errorf("no owner of slot 0")
	}
	vnode := victim.Node
	// 32 keys on the victim's slots, 32 elsewhere.
	var vkeys, okeys []string
	for i := 0; len(vkeys) < 32 || len(okeys) < 32; i++ {
		k := fmt.Sprintf("fo:%d", i)
		o := topo.Owner(hashslot.Key(k))
		if o != nil && o.ID == victim.ID {
			if len(vkeys) < 32 {
				vkeys = append(vkeys, k)
			}
		} else if len(okeys) < 32 {
			okeys = append(okeys, k)
		}
	}
	deadline := time.Duration(cfg.DeadlineMS * float64(time.Millisecond))
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := spec.New(cctx, cl.Addrs(), nil, deadline)
	cancel()
	if err != nil {
		return nil, err
	}
	limit := watchLimit(deadline)

	var (
		mu          sync.Mutex
		killedAt    time.Time
		recoveredAt time.Time
		lastFail    time.Time
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	loopStart := time.Now()
	for w := range cfg.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				onVictim := (w+i)%2 == 0
				key := okeys[(w*7+i)%len(okeys)]
				if onVictim {
					key = vkeys[(w*7+i)%len(vkeys)]
				}
				start := time.Now()
				r := timedCall(ctx, deadline, limit, func(ctx context.Context) error { return c.Set(ctx, key, "v") })
				end := time.Now()
				mu.Lock()
				run.Calls++
				if !r.returned {
					run.NotReturned++
				}
				if r.elapsed > deadline+2*time.Millisecond {
					run.PastDeadline++
				}
				run.MaxMS = max(run.MaxMS, ms(r.elapsed))
				failed := !r.returned || r.err != nil
				if failed {
					run.Errors++
					txt := fmt.Sprintf("> %v (did not return)", limit)
					if r.err != nil {
						txt = trunc(r.err.Error())
					}
					if onVictim {
						run.VictimErrors++
						if run.FirstErr == "" {
							run.FirstErr = txt
						}
					} else {
						run.OtherErrors++
						if run.OtherFirstErr == "" {
							run.OtherFirstErr = txt
						}
					}
				}
				if failed {
					txt := fmt.Sprintf("> %v (did not return)", limit)
					if r.err != nil {
						txt = trunc(r.err.Error())
					}
					if n := normalizeErr(txt); len(run.ErrorTexts) < 50 || run.ErrorTexts[n] > 0 {
						run.ErrorTexts[n]++
					}
				}
				if onVictim && !killedAt.IsZero() && start.After(killedAt) {
					sec := int(end.Sub(killedAt) / time.Second)
					for len(run.Timeline) <= sec {
						run.Timeline = append(run.Timeline, [2]int{})
					}
					if failed {
						run.Timeline[sec][1]++
					} else {
						run.Timeline[sec][0]++
					}
					if failed {
						lastFail = end
					} else if recoveredAt.IsZero() {
						recoveredAt = end
					}
				}
				mu.Unlock()
				if failed {
					time.Sleep(time.Millisecond) // no hot loop on fast failures
				}
			}
		}()
	}
	// Healthy for a while, then kill the master of slot 0.
	sleepCtx(ctx, time.Duration(cfg.BeforeMS*float64(time.Millisecond)))
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	if err := vnode.Kill(); err != nil {
		close(stop)
		wg.Wait()
		closeWithin(c, 5*time.Second)
		return run, err
	}
	promoted := make(chan time.Duration, 1)
	go func() { // when does the cluster itself name a new owner?
		for time.Since(killedAt) < time.Duration(cfg.MaxMS*float64(time.Millisecond)) && ctx.Err() == nil {
			tctx, cancel := context.WithTimeout(ctx, time.Second)
			t, err := cl.Topology(tctx)
			cancel()
			if err == nil {
				if o := t.Owner(0); o != nil && o.ID != victim.ID {
					promoted <- time.Since(killedAt)
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		promoted <- -1
	}()
	maxEnd := loopStart.Add(time.Duration(cfg.MaxMS * float64(time.Millisecond)))
	stable := time.Duration(cfg.StableMS * float64(time.Millisecond))
	for time.Now().Before(maxEnd) && ctx.Err() == nil {
		mu.Lock()
		ok := !recoveredAt.IsZero() && time.Since(recoveredAt) > stable && time.Since(lastFail) > stable
		mu.Unlock()
		if ok {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	run.LoopMS = ms(time.Since(loopStart))
	if d := <-promoted; d >= 0 {
		run.PromotedMS = ms(d)
	}
	run.CloseNote = closeWithin(c, 5*time.Second)
	if !recoveredAt.IsZero() {
		run.Recovered = true
		run.RecoveredMS = ms(recoveredAt.Sub(killedAt))
	}
	if !lastFail.IsZero() {
		run.LastFailMS = ms(lastFail.Sub(killedAt))
	}

	// Restore: restart the killed node, let it rejoin as a replica, fail back.
	rctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if t, err := cl.Topology(rctx); err == nil {
		if o := t.Owner(0); o != nil && o.Node != nil {
			run.PromotedNodeIx = o.Node.Index()
		}
	}
	if err := vnode.Restart(rctx); err != nil {
		return run, fmt.Errorf("restart: %w", err)
	}
	if err := cl.WaitHealthy(rctx); err != nil {
		return run, err
	}
	if t, err := cl.Topology(rctx); err == nil {
		if o := t.Owner(0); o != nil && o.ID != victim.ID {
			if err := cl.Failover(rctx, vnode, redistest.FailoverDefault); err != nil {
				run.RestoreNote = "fail back: " + err.Error()
				return run, err
			}
		}
	}
	return run, cl.WaitHealthy(rctx)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

var (
	loopback = regexp.MustCompile(`127\.0\.0\.1`)
	number   = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)
)

// normalizeErr replaces the numbers in an error text (ports, durations) by N, so
// that texts differing only in them are counted together.
func normalizeErr(s string) string {
	s = loopback.ReplaceAllString(s, "\x00")
	s = number.ReplaceAllString(s, "N")
	return strings.ReplaceAll(s, "\x00", "127.0.0.1")
}
