package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	benchkv "github.com/redline-go/redline/bench/internal/kv"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"github.com/redline-go/redline"
	"github.com/redline-go/redline/redistest"
)

// The Sentinel failover section (-only sentinel; not in the default run yet): each
// client writes through a Sentinel set (a primary, 2 replicas, 3 Sentinels, from
// redistest) while its primary is SIGKILLed or SIGSTOPped; what is measured is the
// deadline contract during the failover and how soon writes go to the new primary.

// SentinelSpec is how to build one client library's Sentinel client.
type SentinelSpec struct {
	Name string
	// New connects through the Sentinels at addrs to the primary of master, with the
	// options its documentation recommends for a call timeout.
	New func(ctx context.Context, addrs []string, master string, timeout time.Duration) (kv, error)
	// Config describes, for the report, the options New sets.
	Config string
}

// errNoSentinelMode is New's answer while a client cannot use Sentinel yet.
var errNoSentinelMode = errors.New("no Sentinel mode yet")

var sentinelClients = []SentinelSpec{
	{Name: nameRedline, New: newRedlineSentinel,
		Config: "`redline.Options{Sentinel: {Addrs: sentinels, MasterName}, CommandTimeout: t, DialTimeout: t}`; every call's context has deadline t"},
	{Name: nameGoRedis, New: newGoRedisSentinel,
		Config: "`redis.FailoverOptions{MasterName, SentinelAddrs, DialTimeout: t, ReadTimeout: t, WriteTimeout: t}`; every call's context has deadline t"},
	{Name: nameRueidis, New: newRueidisSentinel,
		Config: "`rueidis.ClientOption{InitAddress: sentinels, Sentinel: {MasterSet, TopologyRefreshInterval: 5s}, Dialer: {Timeout: t}, ConnWriteTimeout: t}`; every call's context has deadline t"},
}

// newRedlineSentinel builds redline's Sentinel client as newRedline builds its cluster
// client: CommandTimeout and DialTimeout t.
func newRedlineSentinel(ctx context.Context, addrs []string, master string, timeout time.Duration) (kv, error) {
	c, err := redline.NewClient(ctx, redline.Options{
		Sentinel:       redline.SentinelOptions{Addrs: addrs, MasterName: master},
		CommandTimeout: timeout,
		DialTimeout:    timeout,
	})
	if err != nil {
		return nil, err
	}
	return benchkv.WrapRedline(c), nil
}

func newGoRedisSentinel(_ context.Context, addrs []string, master string, timeout time.Duration) (kv, error) {
	return benchkv.WrapGoRedis(goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName:    master,
		SentinelAddrs: addrs,
		DialTimeout:   timeout,
		ReadTimeout:   timeout,
		WriteTimeout:  timeout,
	})), nil
}

func newRueidisSentinel(_ context.Context, addrs []string, master string, timeout time.Duration) (kv, error) {
	c, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:      addrs,
		Sentinel:         rueidis.SentinelOption{MasterSet: master, TopologyRefreshInterval: 5 * time.Second},
		Dialer:           net.Dialer{Timeout: timeout},
		ConnWriteTimeout: timeout,
	})
	if err != nil {
		return nil, err
	}
	return benchkv.WrapRueidis(c), nil
}

// SentinelConfig is the Sentinel section's plan.
type SentinelConfig struct {
	Replicas   int      `json:"replicas"`
	Sentinels  int      `json:"sentinels"`
	DownAfter  float64  `json:"down_after_ms"`
	Writers    int      `json:"writers"`
	DeadlineMS float64  `json:"deadline_ms"`
	BeforeMS   float64  `json:"before_fault_ms"`
	MaxMS      float64  `json:"max_loop_ms"`
	StableMS   float64  `json:"stable_after_recovery_ms"`
	Faults     []string `json:"faults"` // "kill" (SIGKILL), "stop" (SIGSTOP)
}

// SentinelRun is one client's run through one fault of the primary.
type SentinelRun struct {
	Client       string  `json:"client"`
	Fault        string  `json:"fault"`
	Skipped      string  `json:"skipped,omitempty"` // why the client did not run
	Calls        int     `json:"calls"`
	Errors       int     `json:"errors"`
	PastDeadline int     `json:"past_deadline"` // elapsed > deadline + 2 ms
	NotReturned  int     `json:"not_returned"`
	MaxMS        float64 `json:"max_elapsed_ms"`
	// fault → every live Sentinel reports the new primary, which says it is a master.
	PromotedMS float64 `json:"promoted_ms"`
	// fault → the end of the first successful write begun after the fault.
	RecoveredMS float64 `json:"recovery_ms"`
	Recovered   bool    `json:"recovered"`
	// promotion → the end of the first successful write begun after it: the goal is
	// ≤ 1 s.
	AfterPromotionMS float64 `json:"first_write_after_promotion_ms"`
	// Keys whose value on the new primary is older than the last write acknowledged
	// for them (asynchronous replication loses some: this counts them; no WAIT).
	LostAcked  int            `json:"acknowledged_writes_lost"`
	FirstErr   string         `json:"first_error,omitempty"`
	ErrorTexts map[string]int `json:"error_texts"`
	CloseNote  string         `json:"close_note,omitempty"`
}

// SentinelResult is the Sentinel section.
type SentinelResult struct {
	Config SentinelConfig `json:"config"`
	Runs   []*SentinelRun `json:"runs"`
}

// runSentinel runs every client through every fault on one Sentinel set, restoring
// the set (the old primary restarted or resumed, rejoined as a replica) between runs.
func runSentinel(ctx context.Context, cfg SentinelConfig) (*SentinelResult, error) {
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	s, err := redistest.StartSentinelSet(sctx, redistest.SentinelConfig{Replicas: cfg.Replicas, Sentinels: cfg.Sentinels,
		DownAfter: time.Duration(cfg.DownAfter * float64(time.Millisecond))})
	cancel()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	res := &SentinelResult{Config: cfg}
	for _, spec := range sentinelClients {
		for _, fault := range cfg.Faults {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			run, err := sentinelRun(ctx, cfg, s, spec, fault)
			if run != nil {
				res.Runs = append(res.Runs, run)
				log.Printf("sentinel: %s %s: calls %d, errors %d, past deadline %d, promoted %.0f ms, first write after promotion %.0f ms %s",
					spec.Name, fault, run.Calls, run.Errors, run.PastDeadline, run.PromotedMS, run.AfterPromotionMS, run.Skipped)
			}
			if err != nil {
				return res, fmt.Errorf("%s %s: %w", spec.Name, fault, err)
			}
		}
	}
	return res, nil
}

func sentinelRun(ctx context.Context, cfg SentinelConfig, s *redistest.SentinelSet, spec SentinelSpec, fault string) (*SentinelRun, error) {
	run := &SentinelRun{Client: spec.Name, Fault: fault, ErrorTexts: map[string]int{}}
	deadline := time.Duration(cfg.DeadlineMS * float64(time.Millisecond))
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := spec.New(cctx, s.SentinelAddrs(), s.MasterName(), deadline)
	cancel()
	if errors.Is(err, errNoSentinelMode) {
		run.Skipped = err.Error()
		return run, nil
	}
	if err != nil {
		return nil, err
	}
	old, err := s.Primary(ctx)
	if err != nil {
		closeWithin(c, 5*time.Second)
		return nil, err
	}
	limit := watchLimit(deadline)
	var (
		mu        sync.Mutex
		faultAt   time.Time
		firstOK   time.Time // first successful write begun after the fault
		promoted  time.Time
		lastOK    time.Time
		lastFail  time.Time
		acked     = map[string]int{} // key → last acknowledged value
		afterProm time.Time          // first successful write begun after the promotion
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range cfg.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("sentinel:%d:%d", w, i%16) // each writer its own keys
				start := time.Now()
				r := timedCall(ctx, deadline, limit, func(ctx context.Context) error { return c.Set(ctx, key, strconv.Itoa(i)) })
				end := time.Now()
				failed := !r.returned || r.err != nil
				mu.Lock()
				run.Calls++
				if !r.returned {
					run.NotReturned++
				}
				if r.elapsed > deadline+2*time.Millisecond {
					run.PastDeadline++
				}
				run.MaxMS = max(run.MaxMS, ms(r.elapsed))
				if failed {
					run.Errors++
					txt := fmt.Sprintf("> %v (did not return)", limit)
					if r.err != nil {
						txt = trunc(r.err.Error())
					}
					if run.FirstErr == "" {
						run.FirstErr = txt
					}
					if n := normalizeErr(txt); len(run.ErrorTexts) < 50 || run.ErrorTexts[n] > 0 {
						run.ErrorTexts[n]++
					}
					lastFail = end
				} else {
					acked[key] = i
					lastOK = end
					if !faultAt.IsZero() && start.After(faultAt) && firstOK.IsZero() {
						firstOK = end
					}
					if !promoted.IsZero() && start.After(promoted) && afterProm.IsZero() {
						afterProm = end
					}
				}
				mu.Unlock()
				if failed {
					time.Sleep(time.Millisecond) // no hot loop on fast failures
				}
			}
		}()
	}
	sleepCtx(ctx, time.Duration(cfg.BeforeMS*float64(time.Millisecond)))
	mu.Lock()
	faultAt = time.Now()
	mu.Unlock()
	switch fault {
	case "kill":
		err = old.Kill()
	case "stop":
		err = old.Pause()
	default:
		err = fmt.Errorf("unknown fault %q", fault)
	}
	var p *redistest.Node
	if err == nil {
		wctx, cancel := context.WithTimeout(ctx, time.Duration(cfg.MaxMS*float64(time.Millisecond)))
		p, err = s.WaitForFailover(wctx, old)
		cancel()
		if err == nil {
			mu.Lock()
			promoted = time.Now()
			run.PromotedMS = ms(promoted.Sub(faultAt))
			mu.Unlock()
		}
	}
	maxEnd := faultAt.Add(time.Duration(cfg.MaxMS * float64(time.Millisecond)))
	stable := time.Duration(cfg.StableMS * float64(time.Millisecond))
	for err == nil && time.Now().Before(maxEnd) && ctx.Err() == nil {
		mu.Lock()
		ok := !afterProm.IsZero() && time.Since(afterProm) > stable && lastOK.After(lastFail) && time.Since(lastFail) > stable
		mu.Unlock()
		if ok {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	run.CloseNote = closeWithin(c, 5*time.Second)
	if !firstOK.IsZero() {
		run.Recovered = true
		run.RecoveredMS = ms(firstOK.Sub(faultAt))
	}
	if !afterProm.IsZero() {
		run.AfterPromotionMS = ms(afterProm.Sub(promoted))
	}
	if p != nil {
		run.LostAcked = lostAcked(ctx, p, acked)
	}
	// Restore: the old primary back, as a replica of the new one.
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var rerr error
	if fault == "stop" {
		rerr = old.Resume()
	} else {
		rerr = old.Restart(rctx)
	}
	return run, errors.Join(err, rerr, s.WaitHealthy(rctx))
}

// lostAcked counts the keys whose value on p is older than the last write
// acknowledged for them.
func lostAcked(ctx context.Context, p *redistest.Node, acked map[string]int) int {
	lost := 0
	for key, want := range acked {
		v, err := p.Do(ctx, "GET", key)
		got, _ := strconv.Atoi(string(v.Str))
		if err != nil || got < want {
			lost++
		}
	}
	return lost
}

// defaultSentinelConfig is the section's plan: 4 writers, calls of 500 ms, the
// primary SIGKILLed and then SIGSTOPped 1 s into each run.
var defaultSentinelConfig = SentinelConfig{Replicas: 2, Sentinels: 3, DownAfter: 1000, Writers: 4, DeadlineMS: 500,
	BeforeMS: 1000, MaxMS: 20000, StableMS: 1500, Faults: []string{"kill", "stop"}}

// runSentinelOnly runs the Sentinel section alone (-only sentinel) and writes its
// JSON (with the environment) to path.
func runSentinelOnly(ctx context.Context, path, repo string) error {
	begin := time.Now()
	res, err := runSentinel(ctx, defaultSentinelConfig)
	if err != nil {
		return err
	}
	env := collectEnv(ctx, repo)
	env.Command = "cd bench && go run ./cmd/report -only sentinel"
	env.WallTime = time.Since(begin).Round(time.Second).String()
	js, err := json.MarshalIndent(struct {
		Env      Env             `json:"env"`
		Sentinel *SentinelResult `json:"sentinel"`
	}{env, res}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(js, '\n'), 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s", path)
	fmt.Print(renderSentinel(res))
	return nil
}

// renderSentinel returns the section as a Markdown table (printed by -only sentinel,
// for docs/RELIABILITY.md).
func renderSentinel(r *SentinelResult) string {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "Sentinel failover: a primary, %d replicas, %d Sentinels (down-after %.0f ms); %d writers, SET with deadline %.0f ms; the primary faulted %.0f ms in.\n\n",
		c.Replicas, c.Sentinels, c.DownAfter, c.Writers, c.DeadlineMS, c.BeforeMS)
	b.WriteString("| client | fault | calls | errors | past deadline + 2 ms | not returned | max ms | promoted ms | first write after promotion ms | acknowledged writes lost |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, run := range r.Runs {
		if run.Skipped != "" {
			fmt.Fprintf(&b, "| %s | %s | — | — | — | — | — | — | — | — (%s) |\n", run.Client, run.Fault, run.Skipped)
			continue
		}
		after := "never"
		if run.AfterPromotionMS > 0 {
			after = fmt.Sprintf("%.0f", run.AfterPromotionMS)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %.0f | %.0f | %s | %d |\n", run.Client, run.Fault, run.Calls, run.Errors,
			run.PastDeadline, run.NotReturned, run.MaxMS, run.PromotedMS, after, run.LostAcked)
	}
	return b.String()
}
