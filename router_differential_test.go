package redline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// TestRouterDifferential runs random DoMulti batches (differential_gen_test.go:
// single-slot, multi-slot, fan-out, blocking and unknown commands over 9 keys) on a
// cluster under live slot migrations and failovers, and compares each with the same
// commands run one by one with Do from the same starting state: every result and
// every key's final value must match (a pipeline's commands take effect in order per
// key), no MOVED/ASK may reach the caller, DoMulti must return one result per
// command, and no call may end past its deadline beyond the suite's slack (one round
// in eight runs DoMulti under a 10-60ms deadline with a BLPOP of an empty list, which
// waits 200ms on the server, put somewhere in the batch, and checks only that). Rounds where a
// call met a transport error or a "try again" reply (failovers cause them) are
// counted as inconclusive, not compared. One round in ten is a control: the batch run
// one by one twice, which must agree (the harness's own determinism under the chaos).
// REDLINE_SEED replays the batches.
//
// On 28f7dd9 (before DoMulti kept per-key order) 104 of 206 compared rounds diverged:
// multi-slot and fan-out commands ran beside the per-node pipelines. It also found that
// an all-shards command could count a shard twice after a failover.
func TestRouterDifferential(t *testing.T) {
	testkit.Heavy(t)
	seed := testkit.Seed(t)
	cl := redistest.Run(t, redistest.Config{Masters: 3, ReplicasPerMaster: 1})
	const callTimeout, batchTimeout = time.Second, 2 * time.Second
	c := newTestClient(t, cl, Options{CommandTimeout: batchTimeout, DialTimeout: 500 * time.Millisecond, RefreshMinInterval: 100 * time.Millisecond})
	ctx := t.Context()
	keys := newDiffKeys()

	stop := make(chan struct{})
	var chaos diffChaos
	chaosDone := make(chan struct{})
	go func() {
		defer close(chaosDone)
		chaos.run(ctx, t, cl, keys, rand.New(rand.NewPCG(seed, 1)), stop)
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		<-chaosDone
	}()

	var (
		stats                   testkit.CallStats
		rounds, compared, tight int
		controls, tightHit      int
		inconclusive, diverged  int
		inconclusiveWhy         []string
		kinds                   = map[string]int{}
		reports                 []string
	)
	r := rand.New(rand.NewPCG(seed, 0))
	maxRounds, maxTime := testkit.SoakOr(250, 5000), testkit.SoakOr(20*time.Second, 5*time.Minute)
	start := time.Now()
	for ; rounds < maxRounds && time.Since(start) < maxTime; rounds++ {
		batch := genBatch(r, keys, rounds)
		isTight := r.IntN(8) == 0
		tightTimeout := time.Duration(10+r.IntN(50)) * time.Millisecond
		isControl := !isTight && (r.IntN(10) == 0 || diffControlOnly)

		// One by one.
		if err := diffReset(ctx, c, keys); err != nil {
			inconclusive++
			if len(inconclusiveWhy) < 5 {
				inconclusiveWhy = append(inconclusiveWhy, fmt.Sprintf("round %d: reset: %v", rounds, err))
			}
			continue
		}
		seq := make([]diffOutcome, len(batch))
		for i, cmd := range batch {
			stats.Timed(callTimeout, func(ctx context.Context) error {
				res := c.Do(ctx, cmd.args...)
				seq[i] = diffNorm(cmd, res, len(keys.all()))
				return res.Err()
			})
		}
		seqState, seqErr := diffState(ctx, c, keys)

		// As one DoMulti.
		if err := diffReset(ctx, c, keys); err != nil {
			inconclusive++
			if len(inconclusiveWhy) < 5 {
				inconclusiveWhy = append(inconclusiveWhy, fmt.Sprintf("round %d: reset: %v", rounds, err))
			}
			continue
		}
		cmds := make([]Command, len(batch), len(batch)+1)
		for i, cmd := range batch {
			cmds[i] = Cmd(cmd.args...)
		}
		if isTight {
			// A BLPOP that waits on the server past the deadline, somewhere in the
			// batch: the batch must still end by its deadline.
			at := r.IntN(len(cmds) + 1)
			cmds = slices.Insert(cmds, at, Cmd("BLPOP", diffEmptyList, "0.2"))
		}
		timeout := batchTimeout
		if isTight {
			timeout = tightTimeout
		}
		var results []Result
		if isControl {
			// A control round runs the batch one by one again: it must agree with
			// the first run, or the harness (not DoMulti) is nondeterministic.
			controls++
			for _, cmd := range batch {
				stats.Timed(callTimeout, func(ctx context.Context) error {
					res := c.Do(ctx, cmd.args...)
					results = append(results, res)
					return res.Err()
				})
			}
		} else {
			stats.Timed(timeout, func(ctx context.Context) error {
				results = c.DoMulti(ctx, cmds...)
				return nil
			})
		}
		if len(results) != len(cmds) { // control rounds are never tight: cmds is the batch
			kinds["DoMulti returned the wrong number of results"]++
			diverged++
			reports = append(reports, fmt.Sprintf("round %d: %d commands, %d results", rounds, len(cmds), len(results)))
			continue
		}
		if isTight {
			// Only the deadline is checked. What was sent may still run (a BLPOP
			// waits up to 200ms on the server): let it end before the next reset.
			tight++
			for _, res := range results {
				var de *DeadlineError
				if errors.As(res.Err(), &de) {
					tightHit++
					break
				}
			}
			time.Sleep(300 * time.Millisecond)
			continue
		}
		multi := make([]diffOutcome, len(batch))
		for i, cmd := range batch {
			multi[i] = diffNorm(cmd, results[i], len(keys.all()))
		}
		multiState, multiErr := diffState(ctx, c, keys)

		// Compare.
		var found []string
		transient := seqErr != nil || multiErr != nil
		second := "DoMulti"
		if isControl {
			second = "second one-by-one run"
		}
		for i := range batch {
			for j, o := range []diffOutcome{seq[i], multi[i]} {
				transient = transient || o.transient
				side := []string{"one by one", second}[j]
				if o.leak {
					found = append(found, "a redirect reached the caller ("+side+")")
				}
				if o.bad != "" {
					found = append(found, o.bad+" ("+side+")")
				}
			}
		}
		if !transient {
			for i, cmd := range batch {
				if seq[i].text != multi[i].text && seq[i].bad == "" && multi[i].bad == "" {
					found = append(found, fmt.Sprintf("result of a %s command (%v)", cmd.class, cmd.args[0]))
				}
			}
			for _, k := range keys.all() {
				if seqState[k] != multiState[k] {
					found = append(found, "final value of a key")
				}
			}
		}
		if transient && len(found) == 0 {
			inconclusive++
			why := "reading the final values failed"
			for i := range batch {
				for _, o := range []diffOutcome{seq[i], multi[i]} {
					if o.transient {
						why = o.text
					}
				}
			}
			if len(inconclusiveWhy) < 5 {
				inconclusiveWhy = append(inconclusiveWhy, fmt.Sprintf("round %d: %s", rounds, why))
			}
			continue
		}
		compared++
		if len(found) == 0 {
			continue
		}
		if isControl {
			// A reply no order could give is the client's; any other divergence
			// between two one-by-one runs is the harness's.
			for i, f := range found {
				if strings.HasPrefix(f, "result of") || strings.HasPrefix(f, "final value") {
					found[i] = "CONTROL ROUND (one by one twice) diverged: the harness is nondeterministic"
				}
			}
		}
		diverged++
		seen := map[string]bool{}
		newKind := false
		for _, f := range found {
			if !seen[f] {
				newKind = newKind || kinds[f] == 0
				kinds[f]++
				seen[f] = true
			}
		}
		// The first rounds, and the first of every kind of divergence after them.
		if len(reports) < 2 || newKind && len(reports) < 8 {
			reports = append(reports, diffReport(rounds, batch, seq, multi, seqState, multiState, keys, found))
		}
	}
	close(stop)
	<-chaosDone

	stats.Check(t)
	var kindList []string
	for k, n := range kinds {
		kindList = append(kindList, fmt.Sprintf("%s: %d rounds", k, n))
	}
	sort.Strings(kindList)
	testkit.Figure(t, "%d rounds (%d compared, of which %d control rounds; %d under a tight deadline with a BLPOP waiting past it, %d of them ended by it; %d inconclusive: a transport error or try-again reply) during %d slot migrations and %d failovers (%d chaos steps failed): %d rounds diverged; %s",
		rounds, compared, controls, tight, tightHit, inconclusive, chaos.migrations.Load(), chaos.failovers.Load(), chaos.failed.Load(), diverged, &stats)
	if len(inconclusiveWhy) > 0 {
		t.Logf("inconclusive rounds (the first few):\n  %s", strings.Join(inconclusiveWhy, "\n  "))
	}
	if diverged > 0 {
		t.Errorf("seed %d (REDLINE_SEED=%d replays it): DoMulti diverged from the same commands run one by one in %d of %d compared rounds; kinds of divergence (a round can show several):\n  %s\nthe first divergent rounds and the first of each kind:\n%s",
			seed, seed, diverged, compared, strings.Join(kindList, "\n  "), strings.Join(reports, "\n"))
	}
	if compared < rounds/4 {
		t.Errorf("only %d of %d rounds could be compared", compared, rounds)
	}
	if chaos.migrations.Load() == 0 {
		t.Error("no slot migration happened during the test")
	}
}

// diffControlOnly makes every round a control round (REDLINE_DIFF_CONTROL=1): a run
// of the harness alone, to show it reports nothing where nothing is wrong.
var diffControlOnly = os.Getenv("REDLINE_DIFF_CONTROL") != ""

// diffReport shows one divergent round: the batch, each command's two results, the
// keys whose final values differ.
func diffReport(round int, batch []diffCmd, seq, multi []diffOutcome, seqState, multiState map[string]string, keys diffKeys, found []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "round %d (%d commands): %s", round, len(batch), strings.Join(slices.Compact(slices.Sorted(slices.Values(found))), "; "))
	for i, cmd := range batch {
		mark := "  "
		if i >= len(multi) {
			break
		}
		if seq[i].text != multi[i].text || seq[i].bad != "" || multi[i].bad != "" {
			mark = "≠ "
		}
		fmt.Fprintf(&b, "\n  %s%2d %-11s %-45s one by one: %-24s DoMulti: %s", mark, i, cmd.class, cmd, seq[i].text, multi[i].text)
	}
	for _, k := range keys.all() {
		if seqState[k] != multiState[k] {
			fmt.Fprintf(&b, "\n  ≠ final %s: one by one %s, DoMulti %s", k, seqState[k], multiState[k])
		}
	}
	return b.String()
}

// diffReset sets the keys to the starting state: strings "0".."5", lists [a b c].
func diffReset(ctx context.Context, c *Client, k diffKeys) error {
	do := func(args ...any) error {
		var err error
		for range 3 {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			err = c.Do(cctx, args...).Err()
			cancel()
			if err == nil {
				return nil
			}
		}
		return err
	}
	args := []any{"DEL"}
	for _, key := range k.all() {
		args = append(args, key)
	}
	if err := do(args...); err != nil {
		return err
	}
	args = []any{"MSET"}
	for i, s := range k.strs {
		args = append(args, s, i)
	}
	if err := do(args...); err != nil {
		return err
	}
	for _, l := range k.lists {
		if err := do(append([]any{"RPUSH", l}, diffInitList...)...); err != nil {
			return err
		}
	}
	return nil
}

// diffState reads every key's value.
func diffState(ctx context.Context, c *Client, k diffKeys) (map[string]string, error) {
	out := map[string]string{}
	for _, key := range k.all() {
		args := []any{"GET", key}
		if strings.HasPrefix(key, "diff:l") {
			args = []any{"LRANGE", key, 0, -1}
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		v, err := c.Do(cctx, args...).Value()
		cancel()
		if err != nil {
			return nil, err
		}
		out[key] = diffText(v)
	}
	return out, nil
}

// diffChaos moves the test keys' slots between masters (each migration held open
// 100-300ms before and after its keys move, so batches meet ASK and MOVED) and, every
// third step, fails a master over to its replica. Each step is bounded (30s): a step
// that fails is counted and logged, and the chaos goes on.
type diffChaos struct {
	migrations, failovers, failed atomic.Int64
}

func (ch *diffChaos) run(ctx context.Context, t *testing.T, cl *redistest.Cluster, keys diffKeys, r *rand.Rand, stop <-chan struct{}) {
	pause := func() bool {
		select {
		case <-stop:
			return false
		case <-time.After(time.Duration(100+r.IntN(200)) * time.Millisecond):
			return true
		}
	}
	for i := 0; i < 10_000 && pause(); i++ {
		topo, err := cl.Topology(ctx)
		if err != nil {
			ch.failed.Add(1)
			t.Logf("chaos: topology: %v", err)
			continue
		}
		masters := topo.Masters()
		if i%3 == 2 {
			m := masters[r.IntN(len(masters))]
			reps := topo.ReplicasOf(m.ID)
			if len(reps) == 0 || reps[0].Node == nil {
				continue
			}
			// A coordinated failover needs the replica's link up (the last failover's
			// new replica may still be syncing) and is aborted by the server after 5s
			// otherwise: wait for health first, and bound the step.
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := cl.WaitHealthy(sctx)
			if err == nil {
				err = cl.Failover(sctx, reps[0].Node, redistest.FailoverDefault)
			}
			cancel()
			if err != nil {
				ch.failed.Add(1)
				t.Logf("chaos: failover of %v: %v", m.Node, err)
				continue
			}
			ch.failovers.Add(1)
			continue
		}
		all := keys.all()
		slot := hashslot.Key(all[r.IntN(len(all))])
		owner := topo.Owner(slot)
		var targets []*redistest.Node
		for _, m := range masters {
			if m.Node != nil && (owner == nil || m.ID != owner.ID) {
				targets = append(targets, m.Node)
			}
		}
		if len(targets) == 0 {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = ch.migrate(sctx, cl, slot, targets[r.IntN(len(targets))], pause, t)
		cancel()
		if err != nil {
			ch.failed.Add(1)
			t.Logf("chaos: migration of slot %d: %v", slot, err)
			continue
		}
		ch.migrations.Add(1)
	}
}

// migrate moves slot to target, held open a pause before and after its keys move.
func (ch *diffChaos) migrate(ctx context.Context, cl *redistest.Cluster, slot int, target *redistest.Node, pause func() bool, t *testing.T) error {
	mig, err := cl.BeginMigration(ctx, slot, target)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	pause()
	if _, err := mig.MoveKeys(ctx, 10); err != nil {
		t.Logf("chaos: move keys of slot %d: %v", slot, err) // Finish moves what is left
	}
	pause()
	if err := mig.Finish(ctx); err != nil {
		return fmt.Errorf("finish: %w", err)
	}
	return nil
}
