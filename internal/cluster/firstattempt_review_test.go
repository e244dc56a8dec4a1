package cluster

// Review of c803ee9 (Engine.Do makes a single-slot command's first attempt itself and
// hands doSlotFrom only a failure or an error reply, resume.ran): every outcome of a
// first attempt must be judged exactly as when doSlot made every attempt. The
// reference is doLegacy, Engine.Do as it was before (its shape decisions, then doSlot).

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// doLegacy is Engine.Do before c803ee9: every attempt made by doSlot.
func (c *Engine) doLegacy(ctx context.Context, args []any, tr *Trace) Reply {
	if c.closed.Load() {
		return Reply{err: rerr.ErrClosed}
	}
	w := c.Waiter(ctx)
	defer w.Release()
	info, err := c.lookup(&w, args)
	if err != nil {
		return Reply{err: err}
	}
	tr.info, tr.Slot, tr.Attempts = info, -1, 1
	if c.cfg.Cache != nil && info != nil && !info.ReadOnly() {
		defer c.cacheWrote(info, args)
	}
	if info != nil {
		switch {
		case info.ConnState != command.ConnNone:
			return Reply{err: ConnStateErr(info)}
		case info.FansOut():
			return c.fanout(ctx, info, args, tr)
		case info.Splittable() && c.splits(info):
			if r, split := c.split(ctx, info, args, tr); split {
				return r
			}
		}
	}
	slot, err := c.routeSlot(info, args)
	if err != nil {
		return Reply{err: err}
	}
	tr.Slot = slot
	if bw, ok := blockingWait(info, args); ok {
		w.Release()
		w = conn.NewWaiter(ctx, bw.deadline(time.Now(), c.cfg.CommandTimeout))
	}
	return c.doSlot(&w, info, slot, args, tr)
}

// durations in error texts differ from run to run.
var durationRE = regexp.MustCompile(`[0-9][0-9.]*(ns|µs|us|ms|s|m|h)\b`)

// outcome is everything observable of one call: what it returned, its trace, what
// the nodes were sent, and what it left in the engine.
func outcome(c *Engine, fc *fakeCluster, r Reply, tr Trace, timing bool) string {
	var b strings.Builder
	v := r.Value()
	fmt.Fprintf(&b, "value %s", v.String())
	if v.Err != nil {
		fmt.Fprintf(&b, " (server error %s from %q)", v.Err.Code, v.Err.From)
	}
	if err := r.CallErr(); err != nil {
		fmt.Fprintf(&b, "\nerror %T %s", err, durationRE.ReplaceAllString(err.Error(), "D"))
		var ne *rerr.NodeError
		if errors.As(err, &ne) {
			fmt.Fprintf(&b, "\nnode error %s %s written=%v down=%v", ne.Addr, ne.Phase, ne.Written, ne.Down)
		}
		var de *rerr.DeadlineError
		if errors.As(err, &de) && de.Node != nil {
			fmt.Fprintf(&b, "\ndeadline on %s %s", de.Node.Addr, de.Node.Phase)
		}
		fmt.Fprintf(&b, "\nis deadline %v", errors.Is(err, context.DeadlineExceeded))
	}
	if !timing { // a call retried until its deadline: how many tries fit varies
		fmt.Fprintf(&b, "\ntrace attempts=%d redirects=%d asks=%d", tr.Attempts, tr.Redirects, tr.Asks)
		fmt.Fprintf(&b, "\nsent %q", fc.sent())
	}
	fmt.Fprintf(&b, "\ntrace slot=%d node=%q", tr.Slot, tr.NodeAddr())
	fmt.Fprintf(&b, "\nrefresh %v suspect %q", c.triggered(), c.SuspectNode())
	k := c.Counters()
	fmt.Fprintf(&b, "\nmoved %d ask %d", k.Moved, k.Ask)
	if t := c.Topology(); t != nil {
		for _, s := range []int{s1, s2, s3} {
			if sl := t.Slot(s); sl != nil {
				fmt.Fprintf(&b, "\nslot %d: %s", s, sl.Primary.Addr)
			}
		}
	}
	return b.String()
}

// firstAttemptCases are cases beyond routeCases' where the first attempt's outcome
// decides: replica reads (the excluded set), ReadFrom choices, standalone redirects,
// MaxAttempts 1.
func firstAttemptCases() []routeCase {
	rf := func(r ReadFrom) func(*Config) { return func(c *Config) { c.ReadFrom = r } }
	return []routeCase{
		{
			name: "replica read fails, written: another node (the primary)", cfg: rf(ReadPreferReplica),
			setup: func(fc *fakeCluster) {
				fc.handle(r1, func(*Waiter, []string, bool) (resp.Value, error) {
					return resp.Value{}, transport(r1, rerr.PhaseRead, true, "reset")
				})
				fc.handle(p1, always(vV))
			},
			args: []any{"GET", k1},
		},
		{
			name: "replica down: read fails fast there, then the primary", cfg: rf(ReadPreferReplica),
			setup: func(fc *fakeCluster) {
				fc.handle(r1, downHandler(r1))
				fc.handle(p1, always(vV))
			},
			args: []any{"GET", k1},
		},
		{
			name: "replica LOADING: the primary", cfg: rf(ReadPreferReplica),
			setup: func(fc *fakeCluster) {
				fc.handle(r1, always(loading))
				fc.handle(p1, always(vV))
			},
			args: []any{"GET", k1},
		},
		{
			name: "replica-only, the replica LOADING: no other replica", cfg: rf(ReadReplicaOnly),
			setup: func(fc *fakeCluster) { fc.handle(r1, always(loading)) },
			args:  []any{"GET", k1},
		},
		{
			name: "replica-only, no replica: pick fails", cfg: rf(ReadReplicaOnly),
			specs: []shardSpec{{0, 5460, p1, nil, nil}, {5461, 10922, p2, []string{r2}, nil}, {10923, 16383, p3, []string{r3}, nil}},
			args:  []any{"GET", k1},
		},
		{
			name: "nearest: the replica's failure, then the primary", cfg: rf(ReadNearest),
			setup: func(fc *fakeCluster) {
				fc.node(p1).setLatency(time.Second)
				fc.handle(r1, func(*Waiter, []string, bool) (resp.Value, error) {
					return resp.Value{}, transport(r1, rerr.PhaseWrite, false, "broken pipe")
				})
				fc.handle(p1, always(vV))
			},
			args: []any{"GET", k1},
		},
		{
			name: "local zone: MOVED from a replica", cfg: rf(ReadLocalZone),
			setup: func(fc *fakeCluster) {
				fc.handle(r1, always(movedV(s1, p2)))
				fc.handle(p2, always(vV))
			},
			args: []any{"GET", k1},
		},
		{
			name: "a write on a replica config goes to the primary: READONLY", cfg: rf(ReadPreferReplica),
			setup: func(fc *fakeCluster) {
				fc.handle(p1, script(step{v: errV("READONLY You can't write against a read only replica.")}, step{v: okValue()}))
			},
			args: []any{"SET", k1, "x"},
		},
		{
			name: "MaxAttempts 1: TRYAGAIN returned", cfg: func(c *Config) { c.MaxAttempts = 1 },
			setup: func(fc *fakeCluster) { fc.handle(p1, always(tryagain)) },
			args:  []any{"GET", k1},
		},
		{
			name: "MaxAttempts 1: MOVED returned, table patched", cfg: func(c *Config) { c.MaxAttempts = 1 },
			setup: func(fc *fakeCluster) { fc.handle(p1, always(movedV(s1, p2))) },
			args:  []any{"GET", k1},
		},
		{
			name: "MaxAttempts 1: a read failure, not retried", cfg: func(c *Config) { c.MaxAttempts = 1 },
			setup: func(fc *fakeCluster) {
				fc.handle(p1, func(*Waiter, []string, bool) (resp.Value, error) {
					return resp.Value{}, transport(p1, rerr.PhaseRead, true, "reset")
				})
			},
			args: []any{"GET", k1},
		},
		{
			name: "a read on a down primary: excluded, then the only node again", args: []any{"GET", k1},
			setup: func(fc *fakeCluster) { fc.node(p1).setState(StateDown); fc.handle(p1, downHandler(p1)) },
		},
		{
			name: "keyless on one shard: MOVED", args: []any{"PING"},
			specs: []shardSpec{{0, 16383, p1, nil, nil}},
			setup: func(fc *fakeCluster) {
				fc.handle(p1, script(step{v: movedV(0, p2)}, step{v: vV}))
				fc.handle(p2, always(vV))
			},
		},
		{
			name: "an error reply that is not an error: nil Err with TypeError", args: []any{"GET", k1},
			setup: func(fc *fakeCluster) {
				fc.handle(p1, always(resp.Value{Type: resp.TypeError, Str: []byte("ERR x"), Err: resp.ParseError("ERR x")}))
			},
		},
	}
}

// TestReviewFirstAttemptSameAsDoSlot: for every routing case (TestRoutePolicy's and
// the first-attempt ones above), Engine.Do and doLegacy, on identical fresh fakes,
// return the same, trace the same, send the same and leave the engine the same; also
// as standalone (c.single: a redirect is an error).
func TestReviewFirstAttemptSameAsDoSlot(t *testing.T) {
	cases := append(routeCases(), firstAttemptCases()...)
	for _, single := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("single=%v/%s", single, tc.name), func(t *testing.T) {
				t.Parallel()
				run := func(legacy bool) string {
					var specs []shardSpec // tc's
					if single {
						specs = []shardSpec{{0, 16383, p1, []string{r1}, nil}}
					}
					fc, c, _ := tc.engine(t, specs)
					c.single = single
					ctx := context.Background()
					if tc.timeout > 0 {
						ctx = ctxFor(t, tc.timeout)
					}
					var tr Trace
					var r Reply
					if legacy {
						r = c.doLegacy(ctx, tc.args, &tr)
					} else {
						r = c.Do(ctx, tc.args, &tr)
					}
					return outcome(c, fc, r, tr, tc.anySent)
				}
				if got, want := run(false), run(true); got != want {
					t.Fatalf("Engine.Do:\n%s\n\nbefore c803ee9 (doSlot for every attempt):\n%s", got, want)
				}
			})
		}
	}
}
