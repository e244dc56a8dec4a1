package systest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// TestReliabilityLinearizable records histories of SET, GET, INCR and MGET from 32
// goroutines while the proxies in front of the masters inject client-path faults —
// latency, replies stalled past the deadline, replies cut by an RST, replies dropped
// with the connection closed, replies dribbled in pieces of a few bytes — and checks
// each history with porcupine against a per-key model (linearizable_model_test.go).
// A call the client reports as possibly executed (MayHaveExecuted: the request went
// out, the reply did not come back) is modelled as taking effect at any time after its
// call, or never; a call reported as not sent (SafeToRetry) or refused by the server
// is modelled as never executed, so a client that lost track of a write fails the
// check. Every phase must be linearizable, and a self-test must find the checker
// rejecting the history with two INCR replies swapped. REDLINE_SEED=n replays a run's
// operation and fault choices (the timing is the machine's).
func TestReliabilityLinearizable(t *testing.T) {
	testkit.Heavy(t)
	seed := testkit.Seed(t)
	cl := redistest.Run(t, redistest.Config{Masters: 3})
	const timeout = 150 * time.Millisecond
	c := newTestClient(t, cl, redline.Options{CommandTimeout: timeout, DialTimeout: 300 * time.Millisecond, RefreshMinInterval: 100 * time.Millisecond})

	var stats testkit.CallStats
	dur := testkit.SoakOr(time.Second, 20*time.Second)
	checkTimeout := testkit.SoakOr(time.Minute, 10*time.Minute)
	var total linCounts
	selfTested := false
	for i, ph := range linPhases {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		history, n := runLinPhase(t, c, cl, ph, r, dur, timeout, &stats)
		start := time.Now()
		res, detail := linCheck(history, checkTimeout, ph.name)
		took := time.Since(start)
		switch res {
		case porcupine.Illegal:
			t.Errorf("phase %s (seed %d): the history is not linearizable:%s", ph.name, seed, detail)
		case porcupine.Unknown:
			t.Errorf("phase %s (seed %d): the checker did not finish within %v (%d operations)", ph.name, seed, checkTimeout, len(history))
		}
		self := "no INCR pair to swap"
		if what, err := linSwapSelfTest(history, checkTimeout); err == nil {
			self, selfTested = what+": Illegal, as it must be", true
		} else if what != "" {
			t.Errorf("phase %s: self-test: %v", ph.name, err)
		}
		// What the unknown outcomes are worth: the same history with those writes
		// taken as never executed is often illegal — they did run, and later reads
		// saw them.
		var known []porcupine.Operation
		for _, op := range history {
			if op.Return != linNever {
				known = append(known, op)
			}
		}
		dropped := porcupine.CheckOperationsTimeout(linModel, known, checkTimeout)
		testkit.Figure(t, "%s: %s; %d operations on %d keys checked: %s in %v (with the unknown-outcome writes taken as not executed: %s); self-test: %s",
			ph.name, n, len(history), n.keys, res, took.Round(time.Millisecond), dropped, self)
		total.add(n)
		if n.errSample != "" {
			t.Logf("%s: an error that was neither MayHaveExecuted nor SafeToRetry: %s", ph.name, n.errSample)
		}
	}
	if !selfTested {
		t.Error("self-test: no phase's history had two INCRs to swap, so the checker was never shown to fail")
	}
	stats.Check(t)
	if total.ok.Load() < 1000 {
		t.Errorf("only %d calls succeeded in all: too little traffic to mean anything", total.ok.Load())
	}
	testkit.Figure(t, "all phases: %s; %s (deadline %v)", &total, &stats, timeout)
}

// linPhase is one fault mode of the check: fault picks each injection's mode and how
// long it stays on.
type linPhase struct {
	name  string
	fault func(r *rand.Rand) (redistest.Mode, time.Duration)
}

var linPhases = []linPhase{
	{"none", func(*rand.Rand) (redistest.Mode, time.Duration) { return redistest.Pass, 0 }},
	{"latency", linFault("latency")},
	{"stall", linFault("stall")},
	{"reset-mid-reply", linFault("reset-mid-reply")},
	{"close-after-request", linFault("close-after-request")},
	{"dribble", linFault("dribble")},
	{"mixed", func(r *rand.Rand) (redistest.Mode, time.Duration) {
		return linFault([]string{"latency", "stall", "reset-mid-reply", "close-after-request", "dribble"}[r.IntN(5)])(r)
	}},
}

// linFault returns the fault picker of the named kind. The modes that end connections
// (reset-mid-reply, close-after-request) stay on a few milliseconds, long enough to cut
// the replies in flight, not so long that the node is only ever seen down.
func linFault(kind string) func(r *rand.Rand) (redistest.Mode, time.Duration) {
	return func(r *rand.Rand) (redistest.Mode, time.Duration) {
		long := time.Duration(50+r.IntN(200)) * time.Millisecond
		short := time.Duration(1+r.IntN(10)) * time.Millisecond
		switch kind {
		case "latency":
			// Round trips of 20ms (well within the deadline), 140ms (at it) and 250ms
			// (past it, the request itself held 125ms: it may execute after the call
			// ended).
			return redistest.Slow([]time.Duration{20, 140, 250}[r.IntN(3)] * time.Millisecond), long
		case "stall":
			return redistest.Stall(400 * time.Millisecond), long
		case "reset-mid-reply":
			return redistest.ResetMidReply(r.IntN(24)), short
		case "close-after-request":
			return redistest.CloseAfterRequest, short
		case "dribble":
			return redistest.Dribble(1+r.IntN(4), 200*time.Microsecond), long
		}
		panic("unknown fault kind " + kind)
	}
}

// linCounts are a phase's figures.
type linCounts struct {
	calls, ok          atomic.Int64
	unknown            atomic.Int64 // writes with an unknown outcome (MayHaveExecuted)
	ambiguous          atomic.Int64 // writes failed with an error neither MayHaveExecuted nor SafeToRetry
	notSent            atomic.Int64 // failed, reported as not executed
	readsFailed        atomic.Int64 // reads that failed (nothing to check)
	faults             atomic.Int64 // fault injections
	keys               int
	mu                 sync.Mutex
	errSample          string
	byOp               [4]atomic.Int64 // SET, GET, INCR, MGET calls
	unknownAfterReturn atomic.Int64    // unknown-outcome calls that ended at their deadline
}

func (n *linCounts) add(o *linCounts) {
	n.calls.Add(o.calls.Load())
	n.ok.Add(o.ok.Load())
	n.unknown.Add(o.unknown.Load())
	n.ambiguous.Add(o.ambiguous.Load())
	n.notSent.Add(o.notSent.Load())
	n.readsFailed.Add(o.readsFailed.Load())
	n.faults.Add(o.faults.Load())
	for i := range n.byOp {
		n.byOp[i].Add(o.byOp[i].Load())
	}
	n.unknownAfterReturn.Add(o.unknownAfterReturn.Load())
}

// String summarizes the counts for a FIGURE line.
func (n *linCounts) String() string {
	return fmt.Sprintf("%d calls (%d SET, %d GET, %d INCR, %d MGET) under %d fault injections: %d succeeded, %d writes of unknown outcome (MayHaveExecuted; %d of them ended by the deadline), %d writes failed with another error (treated as unknown), %d calls failed unsent, %d reads failed",
		n.calls.Load(), n.byOp[0].Load(), n.byOp[1].Load(), n.byOp[2].Load(), n.byOp[3].Load(), n.faults.Load(), n.ok.Load(),
		n.unknown.Load(), n.unknownAfterReturn.Load(), n.ambiguous.Load(), n.notSent.Load(), n.readsFailed.Load())
}

// runLinPhase runs 32 goroutines of random operations on fresh keys for dur while a
// goroutine injects ph's faults on random masters (each followed by 50-150ms off), and
// returns the history.
func runLinPhase(t *testing.T, c *redline.Client, cl *redistest.Cluster, ph linPhase, r *rand.Rand, dur, timeout time.Duration, stats *testkit.CallStats) ([]porcupine.Operation, *linCounts) {
	t.Helper()
	const workers = 32
	ntags := testkit.SoakOr(12, 48)
	var keys []string
	for i := range ntags {
		keys = append(keys, fmt.Sprintf("{lin-%s-%d}a", ph.name, i), fmt.Sprintf("{lin-%s-%d}b", ph.name, i))
	}
	n := &linCounts{keys: len(keys)}
	base := time.Now()
	end := base.Add(dur)
	stop := make(chan struct{})
	faultsDone := make(chan struct{})
	fr := rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
	go func() {
		defer close(faultsDone)
		masters := []*redistest.Node{cl.Node(0), cl.Node(1), cl.Node(2)}
		for i := 0; i < 100_000; i++ {
			m, on := ph.fault(fr)
			node := masters[fr.IntN(len(masters))]
			if m != redistest.Pass {
				if err := node.SetFault(m); err != nil {
					t.Errorf("set %v on %v: %v", m, node, err)
					return
				}
				n.faults.Add(1)
			}
			select {
			case <-stop:
			case <-time.After(on):
			}
			if err := node.SetFault(redistest.Pass); err != nil {
				t.Errorf("restore pass on %v: %v", node, err)
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(50+fr.IntN(100)) * time.Millisecond):
			}
		}
	}()

	histories := make([][]porcupine.Operation, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wr := rand.New(rand.NewPCG(r.Uint64(), uint64(g)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; seq < 200_000 && time.Now().Before(end); seq++ {
				histories[g] = linOne(c, wr, g, seq, keys, base, timeout, stats, n, histories[g])
				// Paced (1-4ms between a goroutine's calls): 32 goroutines calling
				// back to back saturate the 2 cores, and deadlines then measure the
				// scheduler; the histories stay small enough to check in seconds.
				time.Sleep(time.Duration(1000+wr.IntN(3000)) * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-faultsDone
	var history []porcupine.Operation
	for _, h := range histories {
		history = append(history, h...)
	}
	return history, n
}

// linOne runs one random operation and appends what it did to h.
func linOne(c *redline.Client, r *rand.Rand, g, seq int, keys []string, base time.Time, timeout time.Duration, stats *testkit.CallStats, n *linCounts, h []porcupine.Operation) []porcupine.Operation {
	k := keys[r.IntN(len(keys))]
	var args []any
	var opKeys []string
	var op byte
	var value int64
	switch x := r.IntN(100); {
	case x < 30:
		op, value = 's', int64(g*1_000_000+seq)*1000 // unique, and INCRs of it stay unique
		args, opKeys = []any{"SET", k, value}, []string{k}
		n.byOp[0].Add(1)
	case x < 55:
		op, args, opKeys = 'g', []any{"GET", k}, []string{k}
		n.byOp[1].Add(1)
	case x < 80:
		op, args, opKeys = 'i', []any{"INCR", k}, []string{k}
		n.byOp[2].Add(1)
	default:
		// Two keys of one slot (one MGET on one node) or of different slots (split).
		op = 'm'
		i := r.IntN(len(keys))
		j := i ^ 1
		if r.IntN(2) == 0 {
			for j = r.IntN(len(keys)); j == i; j = r.IntN(len(keys)) {
			}
		}
		opKeys = []string{keys[i], keys[j]}
		args = []any{"MGET", keys[i], keys[j]}
		n.byOp[3].Add(1)
	}
	call := time.Since(base).Nanoseconds()
	var res redline.Result
	err := stats.Timed(timeout, func(ctx context.Context) error {
		res = c.Do(ctx, args...)
		return res.Err()
	})
	ret := time.Since(base).Nanoseconds()
	n.calls.Add(1)
	record := func(in linInput, out linOutput, ret int64) {
		h = append(h, porcupine.Operation{ClientId: g, Input: in, Call: call, Output: out, Return: ret})
	}
	if err != nil {
		switch {
		case op == 'g' || op == 'm':
			n.readsFailed.Add(1) // a read that returned nothing constrains nothing
		case redline.MayHaveExecuted(err):
			n.unknown.Add(1)
			var de *redline.DeadlineError
			if errors.As(err, &de) {
				n.unknownAfterReturn.Add(1)
			}
			record(linInput{op: op, key: k, value: value}, linOutput{unknown: true}, linNever)
		case redline.SafeToRetry(err) || isRedisError(err):
			n.notSent.Add(1) // the client says it did not run: the model holds it to that
		default:
			n.ambiguous.Add(1)
			n.mu.Lock()
			if n.errSample == "" {
				n.errSample = err.Error()
			}
			n.mu.Unlock()
			record(linInput{op: op, key: k, value: value}, linOutput{unknown: true}, linNever)
		}
		return h
	}
	n.ok.Add(1)
	switch op {
	case 's':
		record(linInput{op: 's', key: k, value: value}, linOutput{}, ret)
	case 'i':
		v, _ := res.Int64()
		record(linInput{op: 'i', key: k}, linOutput{value: v}, ret)
	case 'g':
		record(linInput{op: 'g', key: k}, linGetOutput(res), ret)
	case 'm':
		elems, _ := res.Slice()
		for i, key := range opKeys {
			out := linOutput{exists: true, value: linAbsent + 1} // missing from the reply: no write made it
			if i < len(elems) {
				out = linGetOutput(elems[i])
			}
			record(linInput{op: 'g', key: key}, out, ret)
		}
	}
	return h
}

// linGetOutput is a GET's reply as the model sees it; a value that is not an integer
// (no SET or INCR writes one) is recorded as a value no operation wrote.
func linGetOutput(res redline.Result) linOutput {
	if res.IsNil() {
		return linOutput{}
	}
	v, err := res.Int64()
	if err != nil {
		return linOutput{exists: true, value: linAbsent + 1}
	}
	return linOutput{exists: true, value: v}
}

// isRedisError reports whether err is the server's error reply: the command was refused.
func isRedisError(err error) bool {
	var re *redline.RedisError
	return errors.As(err, &re)
}
