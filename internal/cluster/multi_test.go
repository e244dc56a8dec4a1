package cluster

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// echo answers GET k with "v:k", SET with OK, and the rest as keyed does.
func echo(w *Waiter, args []string, asking bool) (resp.Value, error) {
	if strings.EqualFold(args[0], "GET") {
		return bulkV("v:" + args[1]), nil
	}
	return keyed(w, args, asking)
}

// movedFor answers MOVED to addr for keys in slot, and the rest as echo does.
func movedFor(slot int, addr string) handler {
	return func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		if len(args) > 1 && hashslot.Key(args[1]) == slot {
			return movedV(slot, addr), nil
		}
		return echo(w, args, asking)
	}
}

// multiCase is one DoMulti rule.
type multiCase struct {
	name  string
	from  ReadFrom
	setup func(fc *fakeCluster)
	cmds  [][]any
	want  []replyCheck
	sent  []string // sorted: the nodes' pipelines run in parallel
	trace [3]int32 // Retried, Redirects, Asks
}

func multiCases() []multiCase {
	return []multiCase{
		{
			name: "one pipeline per node, in the caller's order; results in the caller's order",
			cmds: [][]any{{"GET", k1}, {"GET", k2}, {"SET", k1x, "a"}, {"GET", k3}, {"GET", k1y}},
			want: []replyCheck{value("v:" + k1), value("v:" + k2), simple("OK"), value("v:" + k3), value("v:" + k1y)},
			sent: []string{p1 + ": GET " + k1 + " | SET " + k1x + " a | GET " + k1y, p2 + ": GET " + k2, p3 + ": GET " + k3},
		},
		{
			name:  "MOVED: the moved commands sent again as one pipeline to the new owner",
			setup: func(fc *fakeCluster) { fc.handle(p1, movedFor(s1, p2)) },
			cmds:  [][]any{{"GET", k1x}, {"GET", k2}, {"GET", k1y}},
			want:  []replyCheck{value("v:" + k1x), value("v:" + k2), value("v:" + k1y)},
			sent: []string{p1 + ": GET " + k1x + " | GET " + k1y, p2 + ": GET " + k2,
				p2 + ": GET " + k1x + " | GET " + k1y},
			trace: [3]int32{2, 2, 0},
		},
		{
			name: "ASK: redone on its own, ASKING + command on the importing node",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
					if args[1] == k1x {
						return askV(s1, p3), nil
					}
					return echo(w, args, asking)
				})
			},
			cmds: [][]any{{"GET", k1x}, {"GET", k1y}},
			want: []replyCheck{value("v:" + k1x), value("v:" + k1y)},
			// The single redo follows the ASK the pipeline got: ASKING + command on the
			// importing node at once.
			sent:  []string{p1 + ": GET " + k1x + " | GET " + k1y, p3 + ": ASKING | GET " + k1x},
			trace: [3]int32{1, 1, 1},
		},
		{
			name: "TRYAGAIN: redone on its own",
			setup: func(fc *fakeCluster) {
				fc.handle(p2, script(step{v: tryagain}, step{v: vV}))
			},
			cmds:  [][]any{{"GET", k1}, {"GET", k2}},
			want:  []replyCheck{value("v:" + k1), value("v")},
			sent:  []string{p1 + ": GET " + k1, p2 + ": GET " + k2, p2 + ": GET " + k2},
			trace: [3]int32{1, 0, 0},
		},
		{
			name: "a pipeline whose writes may have executed: reported, not re-sent; its reads re-sent",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, script(step{err: transport(p1, rerr.PhaseRead, true, "connection reset by peer")}, step{v: vV}))
			},
			cmds:  [][]any{{"SET", k1x, "a"}, {"GET", k1y}},
			want:  []replyCheck{nodeErr(p1, rerr.PhaseRead, true, false), value("v")},
			sent:  []string{p1 + ": GET " + k1y, p1 + ": SET " + k1x + " a | GET " + k1y},
			trace: [3]int32{1, 0, 0},
		},
		{
			name: "a pipeline not written: every command sent again",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, script(step{err: transport(p1, rerr.PhaseWrite, false, "broken pipe")}, step{v: okValue()}))
			},
			cmds:  [][]any{{"SET", k1x, "a"}, {"SET", k1y, "b"}},
			want:  []replyCheck{simple("OK"), simple("OK")},
			sent:  []string{p1 + ": SET " + k1x + " a", p1 + ": SET " + k1x + " a | SET " + k1y + " b", p1 + ": SET " + k1y + " b"},
			trace: [3]int32{2, 0, 0},
		},
		{
			name: "split and fan-out commands: their parts in the nodes' pipelines, merged",
			setup: func(fc *fakeCluster) {
				for _, a := range []string{p1, p2, p3} {
					fc.handle(a, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
						if strings.EqualFold(args[0], "DBSIZE") {
							return intV(2), nil
						}
						return echo(w, args, asking)
					})
				}
			},
			cmds: [][]any{{"MGET", k1, k2}, {"DBSIZE"}, {"GET", k3}},
			want: []replyCheck{list("v:"+k1, "v:"+k2), integer(6), value("v:" + k3)},
			sent: []string{p1 + ": MGET " + k1 + " | DBSIZE", p2 + ": MGET " + k2 + " | DBSIZE", p3 + ": DBSIZE | GET " + k3},
		},
		{
			name: "prefer-replica: reads of a slot the DoMulti writes go to its primary, others to replicas",
			from: ReadPreferReplica,
			cmds: [][]any{{"SET", k1, "a"}, {"GET", k1}, {"GET", k2}},
			want: []replyCheck{simple("OK"), value("v:" + k1), value("v:" + k2)},
			sent: []string{p1 + ": SET " + k1 + " a | GET " + k1, r2 + ": GET " + k2},
		},
		{
			name: "a bad command fails alone",
			cmds: [][]any{{}, {"GET", struct{}{}}, {"GET", k1}},
			want: []replyCheck{callErr("empty command"), callErr("unsupported"), value("v:" + k1)},
			sent: []string{p1 + ": GET " + k1},
		},
	}
}

// TestDoMultiPolicy: DoMulti's pipelines against fakes.
func TestDoMultiPolicy(t *testing.T) {
	for _, tc := range multiCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := newFakeCluster(t)
			cfg := testConfig(fc)
			cfg.ReadFrom = tc.from
			c := newEngine(t, cfg, threeShards)
			for _, n := range c.Nodes() {
				fc.handle(n.Addr(), echo)
			}
			if tc.setup != nil {
				tc.setup(fc)
			}
			var mt MultiTrace
			rs := c.DoMulti(context.Background(), tc.cmds, &mt)
			for i, check := range tc.want {
				check(t, rs[i])
			}
			got := fc.sent()
			slices.Sort(got)
			if want := sorted(slices.Clone(tc.sent)...); !equalStrings(got, want) {
				t.Fatalf("sent:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
			}
			if got := [3]int32{mt.Retried.Load(), mt.Redirects.Load(), mt.Asks.Load()}; got != tc.trace {
				t.Fatalf("trace retried/redirects/asks %v; want %v", got, tc.trace)
			}
		})
	}
}

// TestDoMultiDeadline: a node that does not answer costs its own commands their
// deadline; the others' results stand, and DoMulti returns by the deadline.
func TestDoMultiDeadline(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	fc.handle(p1, echo)
	fc.handle(p2, waitDeadline(p2))
	start := time.Now()
	rs := c.DoMulti(ctxFor(t, 20*time.Millisecond), [][]any{{"GET", k1}, {"SET", k2, "a"}}, nil)
	if el := time.Since(start); el > 70*time.Millisecond {
		t.Fatalf("DoMulti took %v with a 20ms deadline", el)
	}
	value("v:"+k1)(t, rs[0])
	deadline(p2, rerr.PhaseRead)(t, rs[1])
	if got := fc.sentTo(p2); len(got) != 1 {
		t.Fatalf("%s got %q; a written write is sent once", p2, got)
	}
}

// TestDoMultiMaxAttempts: MaxAttempts bounds the tries of one command in a DoMulti as it
// does in Do ("1 disables retries and redirects").
func TestDoMultiMaxAttempts(t *testing.T) {
	t.Skip("defect: DoMulti's pipelined tries and the single redo that follows each count MaxAttempts afresh: " +
		"a MOVED loop p1<->p2 is tried 9 times with MaxAttempts 5 (Do: 5), TRYAGAIN 6 times, and MaxAttempts 1 still tries twice")
	for _, tc := range []struct {
		name  string
		max   int
		setup func(fc *fakeCluster)
	}{
		{"MOVED loop", 5, func(fc *fakeCluster) {
			fc.handle(p1, always(movedV(s1, p2)))
			fc.handle(p2, always(movedV(s1, p1)))
		}},
		{"TRYAGAIN", 5, func(fc *fakeCluster) { fc.handle(p1, always(tryagain)) }},
		{"TRYAGAIN, MaxAttempts 1", 1, func(fc *fakeCluster) { fc.handle(p1, always(tryagain)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeCluster(t)
			cfg := testConfig(fc)
			cfg.MaxAttempts = tc.max
			c := newEngine(t, cfg, threeShards)
			tc.setup(fc)
			c.DoMulti(context.Background(), [][]any{{"SET", k1, "x"}}, nil)
			if got := len(fc.sent()); got > tc.max {
				t.Fatalf("the command was tried %d times with MaxAttempts %d: %q", got, tc.max, fc.sent())
			}
		})
	}
}
