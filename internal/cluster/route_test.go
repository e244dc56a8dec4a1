package cluster

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// A check of a call's reply.
type replyCheck func(t *testing.T, r Reply)

// value: the call succeeded with the bulk string s.
func value(s string) replyCheck {
	return func(t *testing.T, r Reply) {
		t.Helper()
		if r.Err() != nil || string(r.Value().Str) != s {
			t.Fatalf("reply %q, err %v; want %q", r.Value().Str, r.Err(), s)
		}
	}
}

// serverErr: the call returned the server's error reply with code (no call error).
func serverErr(code string) replyCheck {
	return func(t *testing.T, r Reply) {
		t.Helper()
		if r.CallErr() != nil || r.Value().Err == nil || r.Value().Err.Code != code {
			t.Fatalf("reply %+v, call error %v; want the server's %s", r.Value().Err, r.CallErr(), code)
		}
	}
}

// nodeErr: the call failed with a NodeError (not a deadline) naming addr, phase,
// written and down.
func nodeErr(addr string, phase rerr.Phase, written, down bool) replyCheck {
	return func(t *testing.T, r Reply) {
		t.Helper()
		var ne *rerr.NodeError
		var de *rerr.DeadlineError
		if !errors.As(r.CallErr(), &ne) || errors.As(r.CallErr(), &de) {
			t.Fatalf("error %v; want a NodeError", r.CallErr())
		}
		if ne.Addr != addr || ne.Phase != phase || ne.Written != written || ne.Down != down {
			t.Fatalf("NodeError %+v; want %s %s written=%v down=%v", ne, addr, phase, written, down)
		}
	}
}

// deadline: the call ended with a DeadlineError waiting on addr in phase.
func deadline(addr string, phase rerr.Phase) replyCheck {
	return func(t *testing.T, r Reply) {
		t.Helper()
		var de *rerr.DeadlineError
		if !errors.As(r.CallErr(), &de) || !errors.Is(r.CallErr(), context.DeadlineExceeded) {
			t.Fatalf("error %v; want a DeadlineError", r.CallErr())
		}
		if de.Node == nil || de.Node.Addr != addr || de.Node.Phase != phase {
			t.Fatalf("deadline error %v; want it waiting on %s in %s", de, addr, phase)
		}
	}
}

// callErr: the call failed with an error whose text contains s.
func callErr(s string) replyCheck {
	return func(t *testing.T, r Reply) {
		t.Helper()
		if r.CallErr() == nil || !strings.Contains(r.CallErr().Error(), s) {
			t.Fatalf("error %v; want one saying %q", r.CallErr(), s)
		}
	}
}

// routeCase is one rule of doSlot (and of Do's routing before it).
type routeCase struct {
	name    string
	cfg     func(*Config)
	specs   []shardSpec // nil: threeShards
	setup   func(fc *fakeCluster)
	args    []any
	timeout time.Duration // the caller's; 0: none (CommandTimeout, 1s)
	check   replyCheck
	sent    []string // what the nodes got, in order
	anySent bool     // sent is not checked (after checks it)
	trace   [3]int   // Attempts, Redirects, Asks
	refresh bool     // a topology refresh was asked for
	after   func(t *testing.T, c *Engine, fc *fakeCluster)
}

// engine builds tc's engine on a fresh fake cluster, with specs in place of tc's when
// not nil (tc's nil: threeShards), takes the first install's refresh trigger, and runs
// tc's setup.
func (tc routeCase) engine(t *testing.T, specs []shardSpec) (*fakeCluster, *Engine, Config) {
	fc := newFakeCluster(t)
	cfg := testConfig(fc)
	if tc.cfg != nil {
		tc.cfg(&cfg)
	}
	if specs == nil {
		specs = tc.specs
	}
	if specs == nil {
		specs = threeShards
	}
	c := newEngine(t, cfg, specs)
	c.triggered() // the first install's
	if tc.setup != nil {
		tc.setup(fc)
	}
	return fc, c, cfg
}

var (
	vV        = bulkV("v")
	tryagain  = errV("TRYAGAIN Multiple keys request during rehashing of slot")
	clusterDn = errV("CLUSTERDOWN The cluster is down")
	loading   = errV("LOADING Redis is loading the dataset in memory")
)

func routeCases() []routeCase {
	return []routeCase{
		{
			name:  "hit",
			setup: func(fc *fakeCluster) { fc.handle(p1, always(vV)) },
			args:  []any{"GET", k1}, check: value("v"),
			sent: []string{p1 + ": GET " + k1}, trace: [3]int{1, 0, 0},
		},
		{
			name: "MOVED: followed, table updated, refresh asked",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, always(movedV(s1, p2)))
				fc.handle(p2, always(vV))
			},
			args: []any{"GET", k1}, check: value("v"),
			sent:  []string{p1 + ": GET " + k1, p2 + ": GET " + k1},
			trace: [3]int{2, 1, 0}, refresh: true,
			after: func(t *testing.T, c *Engine, fc *fakeCluster) {
				if got := c.Topology().Slot(s1).Primary.Addr; got != p2 {
					t.Fatalf("slot %d on %s after MOVED to %s", s1, got, p2)
				}
				if got := c.Topology().Slot(s1 + 1).Primary.Addr; got != p1 {
					t.Fatalf("slot %d moved to %s: only %d did", s1+1, got, s1)
				}
				if k := c.Counters(); k.Moved != 1 || k.Ask != 0 {
					t.Fatalf("counters %+v; want 1 moved", k)
				}
				// The next call goes straight to the new owner.
				do(t, c, context.Background(), "GET", k1)
				if got := fc.sentTo(p2); len(got) != 2 {
					t.Fatalf("%s got %q; want the second GET too", p2, got)
				}
			},
		},
		{
			name: "MOVED then ASK: ASKING + command on the importing node; the table keeps the MOVED owner",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, always(movedV(s1, p2)))
				fc.handle(p2, always(askV(s1, p3)))
				fc.handle(p3, func(_ *Waiter, _ []string, asking bool) (resp.Value, error) {
					if !asking {
						return movedV(s1, p2), nil
					}
					return vV, nil
				})
			},
			args: []any{"GET", k1}, check: value("v"),
			sent:  []string{p1 + ": GET " + k1, p2 + ": GET " + k1, p3 + ": ASKING | GET " + k1},
			trace: [3]int{3, 2, 1}, refresh: true,
			after: func(t *testing.T, c *Engine, fc *fakeCluster) {
				if got := c.Topology().Slot(s1).Primary.Addr; got != p2 {
					t.Fatalf("slot %d on %s; want %s (an ASK moves nothing)", s1, got, p2)
				}
				if k := c.Counters(); k.Moved != 1 || k.Ask != 1 {
					t.Fatalf("counters %+v; want 1 moved, 1 ask", k)
				}
			},
		},
		{
			name: "ASK: one command only; the next goes to the owner again",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, script(step{v: askV(s1, p3)}, step{v: vV}))
				fc.handle(p3, always(vV))
			},
			args: []any{"SET", k1, "x"}, check: value("v"),
			sent:  []string{p1 + ": SET " + k1 + " x", p3 + ": ASKING | SET " + k1 + " x"},
			trace: [3]int{2, 1, 1},
			after: func(t *testing.T, c *Engine, fc *fakeCluster) {
				do(t, c, context.Background(), "GET", k1)
				if got := fc.sentTo(p1); len(got) != 2 {
					t.Fatalf("%s got %q; want the next GET (ASK is not remembered)", p1, got)
				}
			},
		},
		{
			name: "MOVED with an empty host: the sender's host",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, always(errV("MOVED "+strconv.Itoa(s1)+" :7002")))
				fc.handle(p2, always(vV))
			},
			args: []any{"GET", k1}, check: value("v"),
			sent:  []string{p1 + ": GET " + k1, p2 + ": GET " + k1},
			trace: [3]int{2, 1, 0}, refresh: true,
		},
		{
			name:  "malformed MOVED: returned, not followed",
			setup: func(fc *fakeCluster) { fc.handle(p1, always(errV("MOVED 99999 127.0.0.1:7002"))) },
			args:  []any{"GET", k1}, check: serverErr("MOVED"),
			sent: []string{p1 + ": GET " + k1}, trace: [3]int{1, 0, 0},
		},
		{
			name: "redirect loop: bounded by MaxAttempts, the last MOVED returned",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, always(movedV(s1, p2)))
				fc.handle(p2, always(movedV(s1, p1)))
			},
			args: []any{"GET", k1}, check: serverErr("MOVED"),
			sent:  []string{p1 + ": GET " + k1, p2 + ": GET " + k1, p1 + ": GET " + k1, p2 + ": GET " + k1, p1 + ": GET " + k1},
			trace: [3]int{5, 4, 0}, refresh: true,
		},
		{
			name:  "TRYAGAIN: retried on the same node, no refresh",
			setup: func(fc *fakeCluster) { fc.handle(p1, script(step{v: tryagain}, step{v: tryagain}, step{v: vV})) },
			args:  []any{"GET", k1}, check: value("v"),
			sent:  []string{p1 + ": GET " + k1, p1 + ": GET " + k1, p1 + ": GET " + k1},
			trace: [3]int{3, 0, 0},
		},
		{
			name:  "TRYAGAIN: MaxAttempts tries, then the server's answer",
			setup: func(fc *fakeCluster) { fc.handle(p1, always(tryagain)) },
			args:  []any{"SET", k1, "x"}, check: serverErr("TRYAGAIN"),
			sent: repeat(p1+": SET "+k1+" x", 5), trace: [3]int{5, 0, 0},
		},
		{
			name:  "CLUSTERDOWN: retried with a refresh asked",
			setup: func(fc *fakeCluster) { fc.handle(p1, script(step{v: clusterDn}, step{v: vV})) },
			args:  []any{"GET", k1}, check: value("v"),
			sent: repeat(p1+": GET "+k1, 2), trace: [3]int{2, 0, 0}, refresh: true,
		},
		{
			name: "MASTERDOWN: retried with a refresh asked",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, script(step{v: errV("MASTERDOWN Link with MASTER is down")}, step{v: vV}))
			},
			args: []any{"GET", k1}, check: value("v"),
			sent: repeat(p1+": GET "+k1, 2), trace: [3]int{2, 0, 0}, refresh: true,
		},
		{
			name:  "LOADING on the primary (ReadPrimary): retried there",
			setup: func(fc *fakeCluster) { fc.handle(p1, script(step{v: loading}, step{v: vV})) },
			args:  []any{"GET", k1}, check: value("v"),
			sent: repeat(p1+": GET "+k1, 2), trace: [3]int{2, 0, 0},
		},
		{
			name: "other error replies: returned at once",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, always(errV("WRONGTYPE Operation against a key holding the wrong kind of value")))
			},
			args: []any{"GET", k1}, check: serverErr("WRONGTYPE"),
			sent: []string{p1 + ": GET " + k1}, trace: [3]int{1, 0, 0},
		},
		{
			name: "a write whose request was written: reported, never re-sent",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, script(step{err: transport(p1, rerr.PhaseRead, true, "connection reset by peer")}, step{v: okValue()}))
			},
			args: []any{"SET", k1, "x"}, check: nodeErr(p1, rerr.PhaseRead, true, false),
			sent: []string{p1 + ": SET " + k1 + " x"}, trace: [3]int{1, 0, 0}, refresh: true,
		},
		{
			name: "a write that was not written: sent again",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, script(step{err: transport(p1, rerr.PhaseWrite, false, "broken pipe")}, step{v: vV}))
			},
			args: []any{"SET", k1, "x"}, check: value("v"),
			sent: repeat(p1+": SET "+k1+" x", 2), trace: [3]int{2, 0, 0}, refresh: true,
		},
		{
			name: "a write never written: MaxAttempts tries, then the first failure",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, script(step{err: transport(p1, rerr.PhaseDial, false, "first")}, step{err: transport(p1, rerr.PhaseDial, false, "later")}))
			},
			args: []any{"SET", k1, "x"}, check: callErr("first"),
			sent: repeat(p1+": SET "+k1+" x", 5), trace: [3]int{5, 0, 0}, refresh: true,
		},
		{
			name: "a read whose request was written: sent again",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, script(step{err: transport(p1, rerr.PhaseRead, true, "connection reset by peer")}, step{v: vV}))
			},
			args: []any{"GET", k1}, check: value("v"),
			sent: repeat(p1+": GET "+k1, 2), trace: [3]int{2, 0, 0}, refresh: true,
		},
		{
			name:  "a write to a node known down: fails fast with the cause",
			setup: func(fc *fakeCluster) { fc.node(p1).setState(StateDown); fc.handle(p1, downHandler(p1)) },
			args:  []any{"SET", k1, "x"}, check: nodeErr(p1, rerr.PhaseDial, false, true),
			sent: []string{p1 + ": SET " + k1 + " x"}, trace: [3]int{1, 0, 0}, refresh: true,
		},
		{
			name:  "no reply by the deadline: a DeadlineError naming the node, not retried",
			setup: func(fc *fakeCluster) { fc.handle(p1, waitDeadline(p1)) },
			args:  []any{"GET", k1}, timeout: 20 * time.Millisecond, check: deadline(p1, rerr.PhaseRead),
			sent: []string{p1 + ": GET " + k1}, trace: [3]int{1, 0, 0}, refresh: true,
			after: func(t *testing.T, c *Engine, fc *fakeCluster) {
				if got := c.SuspectNode(); got != p1 {
					t.Fatalf("suspect node %q; want %s (refreshes ask it last)", got, p1)
				}
			},
		},
		{
			name: "the deadline passes before a MOVED is followed: redirect phase, target named",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, func(w *Waiter, _ []string, _ bool) (resp.Value, error) {
					untilDeadline(w, p1)
					return movedV(s1, p2), nil
				})
			},
			args: []any{"GET", k1}, timeout: 20 * time.Millisecond, check: deadline(p2, rerr.PhaseRedirect),
			sent: []string{p1 + ": GET " + k1}, trace: [3]int{1, 0, 0}, refresh: true,
		},
		{
			name: "the deadline passes before an ASK is followed: redirect phase, target named",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, func(w *Waiter, _ []string, _ bool) (resp.Value, error) {
					untilDeadline(w, p1)
					return askV(s1, p3), nil
				})
			},
			args: []any{"GET", k1}, timeout: 20 * time.Millisecond, check: deadline(p3, rerr.PhaseRedirect),
			sent: []string{p1 + ": GET " + k1}, trace: [3]int{1, 0, 0},
		},
		{
			name: "the deadline passes before a LOADING replica's read moves: the replica named",
			cfg:  func(c *Config) { c.ReadFrom = ReadPreferReplica },
			setup: func(fc *fakeCluster) {
				fc.handle(r1, func(w *Waiter, _ []string, _ bool) (resp.Value, error) {
					untilDeadline(w, r1)
					return loading, nil
				})
			},
			args: []any{"GET", k1}, timeout: 20 * time.Millisecond, check: deadline(r1, rerr.PhaseRead),
			sent: []string{r1 + ": GET " + k1}, trace: [3]int{1, 0, 0},
		},
		{
			name: "the deadline passes before a failure is retried: the failure named",
			setup: func(fc *fakeCluster) {
				fc.handle(p1, func(w *Waiter, _ []string, _ bool) (resp.Value, error) {
					untilDeadline(w, p1)
					return resp.Value{}, transport(p1, rerr.PhaseWrite, false, "broken pipe")
				})
			},
			args: []any{"SET", k1, "x"}, timeout: 20 * time.Millisecond, check: deadline(p1, rerr.PhaseWrite),
			sent: []string{p1 + ": SET " + k1 + " x"}, trace: [3]int{1, 0, 0}, refresh: true,
		},
		{
			name: "TRYAGAIN until the deadline: the server's answer, before the deadline",
			cfg: func(c *Config) {
				c.MaxAttempts, c.RetryBackoff, c.RetryBackoffMax = 1000, 10*time.Millisecond, 10*time.Millisecond
			},
			setup: func(fc *fakeCluster) { fc.handle(p1, always(tryagain)) },
			args:  []any{"GET", k1}, timeout: 40 * time.Millisecond, check: serverErr("TRYAGAIN"),
			trace: [3]int{-1, 0, 0}, anySent: true, // as many as fit
			after: func(t *testing.T, c *Engine, fc *fakeCluster) {
				if n := len(fc.sentTo(p1)); n < 2 || n > 9 {
					t.Fatalf("%d tries in 40ms with a 5-10ms backoff", n)
				}
			},
		},
		{
			name:  "a slot nobody serves: an error, a refresh, nothing sent",
			specs: []shardSpec{{0, 5460, p1, nil, nil}, {10923, 16383, p3, nil, nil}},
			args:  []any{"GET", k2}, check: callErr("not served by any node"),
			trace: [3]int{1, 0, 0}, refresh: true,
		},
		{
			name: "keys in two slots, not splittable: CrossSlotError, nothing sent",
			args: []any{"MSETNX", k1, "x", k2, "y"},
			check: func(t *testing.T, r Reply) {
				var ce *CrossSlotError
				if !errors.As(r.CallErr(), &ce) || ce.Slots != [2]int{s1, s2} {
					t.Fatalf("error %v; want a CrossSlotError for slots %d and %d", r.CallErr(), s1, s2)
				}
			},
		},
		{
			name:  "an error that is not the node's (encoding): returned, not retried",
			setup: func(fc *fakeCluster) { fc.handle(p1, script(step{err: errors.New("encoding failed")}, step{v: vV})) },
			args:  []any{"GET", k1}, check: callErr("encoding failed"),
			sent: []string{p1 + ": GET " + k1}, trace: [3]int{1, 0, 0},
		},
		{
			name: "keyless: a primary not known down",
			setup: func(fc *fakeCluster) {
				fc.node(p1).setState(StateDown)
				fc.node(p2).setState(StateDown)
				fc.handle(p3, always(vV))
			},
			args: []any{"INFO"}, check: value("v"),
			sent: []string{p3 + ": INFO"}, trace: [3]int{1, 0, 0},
		},
		{
			name:  "an argument of an unsupported type: refused, nothing sent",
			args:  []any{"GET", struct{}{}},
			check: callErr("unsupported type"),
		},
	}
}

// downHandler answers every command with the fast failure of a node known down.
func downHandler(addr string) handler {
	return func(*Waiter, []string, bool) (resp.Value, error) { return resp.Value{}, downErr(addr) }
}

// waitDeadline is a node that never answers: the call's deadline ends the wait.
func waitDeadline(addr string) handler {
	return func(w *Waiter, _ []string, _ bool) (resp.Value, error) { return resp.Value{}, untilDeadline(w, addr) }
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestRoutePolicy runs every rule of Do/doSlot against fake nodes: the reply or error,
// what each node was sent in order, the trace, the refresh triggers, and the deadline.
func TestRoutePolicy(t *testing.T) {
	for _, tc := range routeCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc, c, cfg := tc.engine(t, nil)
			ctx := context.Background()
			limit := cfg.CommandTimeout
			if tc.timeout > 0 {
				ctx, limit = ctxFor(t, tc.timeout), tc.timeout
			}
			start := time.Now()
			r, tr := do(t, c, ctx, tc.args...)
			if el := time.Since(start); el > limit+50*time.Millisecond {
				t.Fatalf("the call took %v; its deadline was %v", el, limit)
			}
			tc.check(t, r)
			if !tc.anySent {
				fc.wantSent(tc.sent...)
			}
			// Nothing is sent once the deadline has passed: an attempt starts only
			// while time is left. (It is stamped when the fake node runs it, which a
			// busy machine's scheduler may delay past the check: one -race run saw a
			// send stamped 40.16ms into a 40ms call. 2ms is the deadline contract's slack.)
			for _, e := range fc.entries() {
				if e.at.Sub(start) > limit+2*time.Millisecond {
					t.Fatalf("%s sent %v after the call's start; its deadline was %v", e, e.at.Sub(start), limit)
				}
			}
			if tc.trace != [3]int{} {
				want := tc.trace
				if want[0] < 0 {
					want[0] = tr.Attempts
				}
				if got := [3]int{tr.Attempts, tr.Redirects, tr.Asks}; got != want {
					t.Fatalf("trace attempts/redirects/asks %v; want %v", got, want)
				}
			}
			if got := c.triggered(); got != tc.refresh {
				t.Fatalf("refresh asked: %v; want %v", got, tc.refresh)
			}
			if tc.after != nil {
				tc.after(t, c, fc)
			}
		})
	}
}

// TestRedirectsCountFollowed: the trace's Redirects counts the MOVED and ASK replies
// followed (CommandEnd's documentation), not one the call had no attempt or time left
// to follow.
func TestRedirectsCountFollowed(t *testing.T) {
	t.Skip("defect: doSlot counts a redirect when the reply comes, not when it is followed: with MaxAttempts 2 and " +
		"MOVED p1->p2->p1, one MOVED is followed and Redirects says 2 (and 1 for a MOVED the deadline stopped)")
	fc := newFakeCluster(t)
	cfg := testConfig(fc)
	cfg.MaxAttempts = 2
	c := newEngine(t, cfg, threeShards)
	fc.handle(p1, always(movedV(s1, p2)))
	fc.handle(p2, always(movedV(s1, p1)))
	_, tr := do(t, c, context.Background(), "GET", k1)
	fc.wantSent(p1+": GET "+k1, p2+": GET "+k1)
	if tr.Redirects != 1 {
		t.Fatalf("Redirects %d; one MOVED was followed", tr.Redirects)
	}
}

// TestAskingRefused: a node that refuses ASKING (an ACL user without +asking) makes the
// command answer ASK again; the caller gets the refusal, which says what to fix, not
// the raw ASK redirect.
func TestAskingRefused(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	refused := errV("NOPERM this user has no permissions to run the 'asking' command")
	fc.askingRefused = &refused
	fc.handle(p1, always(askV(s1, p3)))
	fc.handle(p3, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		if !asking {
			return askV(s1, p3), nil // the key is not here unless ASKING came first
		}
		return echo(w, args, asking)
	})
	r, _ := do(t, c, context.Background(), "GET", k1)
	if e := r.Value().Err; e == nil || e.Code != "NOPERM" {
		t.Fatalf("reply %v, err %v; want the NOPERM for ASKING", r.Value(), r.CallErr())
	}
}
