package cluster

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// p4 is a primary serving no slot (a node being added, or a demoted master).
const p4 = "127.0.0.1:7004"

var withEmptyShard = append(slices.Clone(threeShards), shardSpec{-1, -1, p4, nil, nil})

// intList is an array of integers.
func intList(ns ...int64) resp.Value {
	out := make([]resp.Value, len(ns))
	for i, n := range ns {
		out[i] = intV(n)
	}
	return arrV(out...)
}

// TestFanoutPolicy: fan-out commands go to every primary serving slots (all_shards) or
// every node (all_nodes), each retried on its own node only, and their replies merge per
// the response policy.
func TestFanoutPolicy(t *testing.T) {
	cases := []struct {
		name    string
		specs   []shardSpec
		answers map[string]handler // the others answer "+OK"
		args    []any
		timeout time.Duration
		check   replyCheck
		sent    []string // sorted: the nodes are asked in parallel
	}{
		{
			name:    "agg_sum (DBSIZE): summed over the primaries",
			answers: map[string]handler{p1: always(intV(3)), p2: always(intV(4)), p3: always(intV(5))},
			args:    []any{"DBSIZE"}, check: integer(12),
			sent: []string{p1 + ": DBSIZE", p2 + ": DBSIZE", p3 + ": DBSIZE"},
		},
		{
			name:    "all_shards skips a primary serving no slot",
			specs:   withEmptyShard,
			answers: map[string]handler{p1: always(intV(3)), p2: always(intV(4)), p3: always(intV(5)), p4: always(intV(100))},
			args:    []any{"DBSIZE"}, check: integer(12),
			sent: []string{p1 + ": DBSIZE", p2 + ": DBSIZE", p3 + ": DBSIZE"},
		},
		{
			name:    "default (KEYS): lists concatenated in shard order",
			answers: map[string]handler{p1: always(arrV(bulkV("a"))), p2: always(arrV(bulkV("b"), bulkV("c"))), p3: always(arrV())},
			args:    []any{"KEYS", "*"}, check: list("a", "b", "c"),
			sent: []string{p1 + ": KEYS *", p2 + ": KEYS *", p3 + ": KEYS *"},
		},
		{
			name:    "agg_logical_and (SCRIPT EXISTS): element-wise AND",
			answers: map[string]handler{p1: always(intList(1, 1, 0)), p2: always(intList(1, 0, 0)), p3: always(intList(1, 1, 0))},
			args:    []any{"SCRIPT", "EXISTS", "s1", "s2", "s3"},
			check: func(t *testing.T, r Reply) {
				t.Helper()
				if r.Err() != nil || len(r.Value().Elems) != 3 || r.Value().Elems[0].Int != 1 || r.Value().Elems[1].Int != 0 || r.Value().Elems[2].Int != 0 {
					t.Fatalf("reply %+v, err %v; want [1 0 0]", r.Value(), r.Err())
				}
			},
			sent: []string{p1 + ": SCRIPT EXISTS s1 s2 s3", p2 + ": SCRIPT EXISTS s1 s2 s3", p3 + ": SCRIPT EXISTS s1 s2 s3"},
		},
		{
			name:  "all_nodes (SCRIPT FLUSH): every node, replicas and empty primaries too",
			specs: withEmptyShard,
			args:  []any{"SCRIPT", "FLUSH"}, check: simple("OK"),
			sent: []string{p1 + ": SCRIPT FLUSH", p2 + ": SCRIPT FLUSH", p3 + ": SCRIPT FLUSH", p4 + ": SCRIPT FLUSH",
				r1 + ": SCRIPT FLUSH", r2 + ": SCRIPT FLUSH", r3 + ": SCRIPT FLUSH"},
		},
		{
			name: "one_succeeded (SCRIPT KILL): one success is enough",
			answers: map[string]handler{p1: always(errV("NOTBUSY No scripts in execution right now.")),
				p3: always(errV("NOTBUSY No scripts in execution right now."))},
			args: []any{"SCRIPT", "KILL"}, check: simple("OK"),
			sent: []string{p1 + ": SCRIPT KILL", p2 + ": SCRIPT KILL", p3 + ": SCRIPT KILL"},
		},
		{
			name: "one_succeeded with none: the first node's error",
			answers: map[string]handler{p1: always(errV("NOTBUSY one")), p2: always(errV("NOTBUSY two")),
				p3: always(errV("NOTBUSY three"))},
			args: []any{"SCRIPT", "KILL"}, check: func(t *testing.T, r Reply) {
				t.Helper()
				if r.Value().Err == nil || r.Value().Err.Msg != "NOTBUSY one" {
					t.Fatalf("reply %+v; want the first shard's NOTBUSY", r.Value())
				}
			},
			sent: []string{p1 + ": SCRIPT KILL", p2 + ": SCRIPT KILL", p3 + ": SCRIPT KILL"},
		},
		{
			name:    "an error reply from one node fails the merge",
			answers: map[string]handler{p1: always(intV(3)), p2: always(errV("NOPERM no permission")), p3: always(intV(5))},
			args:    []any{"DBSIZE"}, check: serverErr("NOPERM"),
			sent: []string{p1 + ": DBSIZE", p2 + ": DBSIZE", p3 + ": DBSIZE"},
		},
		{
			name: "a transport failure of one node fails the merge, naming it",
			answers: map[string]handler{p1: always(intV(3)), p2: always(intV(4)),
				p3: script(step{err: transport(p3, rerr.PhaseRead, true, "connection reset by peer")})},
			args: []any{"DBSIZE"}, check: nodeErr(p3, rerr.PhaseRead, true, false),
			sent: []string{p1 + ": DBSIZE", p2 + ": DBSIZE", p3 + ": DBSIZE"},
		},
		{
			name:    "TRYAGAIN: retried on its own node",
			answers: map[string]handler{p1: always(intV(3)), p2: script(step{v: tryagain}, step{v: intV(4)}), p3: always(intV(5))},
			args:    []any{"DBSIZE"}, check: integer(12),
			sent: []string{p1 + ": DBSIZE", p2 + ": DBSIZE", p2 + ": DBSIZE", p3 + ": DBSIZE"},
		},
		{
			name:    "TRYAGAIN: MaxAttempts tries on its node, then the server's answer",
			answers: map[string]handler{p1: always(intV(3)), p2: always(tryagain), p3: always(intV(5))},
			args:    []any{"DBSIZE"}, check: serverErr("TRYAGAIN"),
			sent: append([]string{p1 + ": DBSIZE"}, append(repeat(p2+": DBSIZE", 5), p3+": DBSIZE")...),
		},
		{
			name:    "MOVED: never followed (the copy is for that node)",
			answers: map[string]handler{p1: always(intV(3)), p2: always(movedV(1, p1)), p3: always(intV(5))},
			args:    []any{"DBSIZE"}, check: serverErr("MOVED"),
			sent: []string{p1 + ": DBSIZE", p2 + ": DBSIZE", p3 + ": DBSIZE"},
		},
		{
			name:    "a node that does not answer: the deadline, naming it",
			answers: map[string]handler{p1: always(intV(3)), p2: waitDeadline(p2), p3: always(intV(5))},
			args:    []any{"DBSIZE"}, timeout: 20 * time.Millisecond, check: deadline(p2, rerr.PhaseRead),
			sent: []string{p1 + ": DBSIZE", p2 + ": DBSIZE", p3 + ": DBSIZE"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := newFakeCluster(t)
			specs := tc.specs
			if specs == nil {
				specs = threeShards
			}
			c := newEngine(t, testConfig(fc), specs)
			for addr, h := range tc.answers {
				fc.handle(addr, h)
			}
			ctx, limit := context.Background(), time.Second
			if tc.timeout > 0 {
				ctx, limit = ctxFor(t, tc.timeout), tc.timeout
			}
			start := time.Now()
			r, _ := do(t, c, ctx, tc.args...)
			if el := time.Since(start); el > limit+50*time.Millisecond {
				t.Fatalf("the call took %v; its deadline was %v", el, limit)
			}
			tc.check(t, r)
			got := fc.sent()
			slices.Sort(got)
			if !equalStrings(got, tc.sent) {
				t.Fatalf("sent %q; want %q", got, tc.sent)
			}
		})
	}
}

// integer: the call succeeded with the integer n.
func integer(n int64) replyCheck {
	return func(t *testing.T, r Reply) {
		t.Helper()
		if r.Err() != nil || r.Value().Type != resp.TypeInteger || r.Value().Int != n {
			t.Fatalf("reply %+v, err %v; want %d", r.Value(), r.Err(), n)
		}
	}
}

// simple: the call succeeded with the simple string s.
func simple(s string) replyCheck {
	return func(t *testing.T, r Reply) {
		t.Helper()
		if r.Err() != nil || r.Value().Type != resp.TypeSimpleString || string(r.Value().Str) != s {
			t.Fatalf("reply %+v, err %v; want +%s", r.Value(), r.Err(), s)
		}
	}
}

// list: the call succeeded with an array of these bulk strings (a nil element for "<nil>").
func list(want ...string) replyCheck {
	return func(t *testing.T, r Reply) {
		t.Helper()
		if r.Err() != nil || !r.Value().IsList() || len(r.Value().Elems) != len(want) {
			t.Fatalf("reply %+v, err %v; want %q", r.Value(), r.Err(), want)
		}
		for i, e := range r.Value().Elems {
			got := string(e.Str)
			if e.Type == resp.TypeNull {
				got = "<nil>"
			}
			if got != want[i] {
				t.Fatalf("element %d is %q; want %q (reply %q)", i, got, want[i], want)
			}
		}
	}
}

// TestMergePolicies: merge and the aggregations on replies made up (no nodes).
func TestMergePolicies(t *testing.T) {
	ok := func(vs ...resp.Value) []Reply {
		out := make([]Reply, len(vs))
		for i, v := range vs {
			out[i] = Reply{val: v}
		}
		return out
	}
	cases := []struct {
		name   string
		policy command.ResponsePolicy
		rs     []Reply
		check  replyCheck
	}{
		{"no node", command.ResponseDefault, nil, callErr("no node")},
		{"agg_min", command.ResponseAggMin, ok(intV(3), intV(-2), intV(7)), integer(-2)},
		{"agg_max", command.ResponseAggMax, ok(intV(3), intV(-2), intV(7)), integer(7)},
		{"agg_sum of a non-integer", command.ResponseAggSum, ok(intV(3), bulkV("x")), callErr("")},
		{"agg_logical_or of integers", command.ResponseAggLogicalOr, ok(intV(0), intV(1), intV(0)), integer(1)},
		{"agg_logical_and of integers", command.ResponseAggLogicalAnd, ok(intV(1), intV(1), intV(0)), integer(0)},
		{"agg_logical_and of arrays of different lengths", command.ResponseAggLogicalAnd,
			ok(intList(1, 1), intList(1)), callErr("different lengths")},
		{"all_succeeded: the first", command.ResponseAllSucceeded, ok(bulkV("a"), bulkV("b")), value("a")},
		{"default, not lists: a non-null one", command.ResponseDefault, ok(resp.Value{Type: resp.TypeNull}, bulkV("b")), value("b")},
		{"default, not lists, all alike: that answer", command.ResponseDefault, ok(bulkV("a"), bulkV("a")), value("a")},
		{"default, maps: merged", command.ResponseDefault,
			ok(resp.Value{Type: resp.TypeMap, Elems: []resp.Value{bulkV("k1"), bulkV("v1")}},
				resp.Value{Type: resp.TypeMap, Elems: []resp.Value{bulkV("k2"), bulkV("v2")}}),
			func(t *testing.T, r Reply) {
				if r.Value().Type != resp.TypeMap || len(r.Value().Elems) != 4 || string(r.Value().Elems[2].Str) != "k2" {
					t.Fatalf("reply %+v; want both maps' pairs", r.Value())
				}
			}},
		{"a call error first wins over later success", command.ResponseAggSum,
			[]Reply{{val: intV(1)}, {err: transport(p2, rerr.PhaseDial, false, "refused")}, {val: errV("ERR x")}},
			nodeErr(p2, rerr.PhaseDial, false, false)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, merge(tc.policy, tc.rs)) })
	}
}

// TestFanoutRandomKey: RANDOMKEY goes to every primary; the answer is a key from a
// shard that has one (not the first shard's nil), and not always the same shard's.
func TestFanoutRandomKey(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	fc.handle(p1, always(resp.Value{Type: resp.TypeNull}))
	fc.handle(p2, always(bulkV("k2")))
	fc.handle(p3, always(bulkV("k3")))
	seen := map[string]int{}
	for range 200 {
		r, _ := do(t, c, context.Background(), "RANDOMKEY")
		if r.Value().IsNull() {
			t.Fatal("RANDOMKEY answered nil while two shards have keys")
		}
		seen[string(r.Value().Str)]++
	}
	if seen["k2"] == 0 || seen["k3"] == 0 {
		t.Fatalf("answers %v: one shard's keys never chosen", seen)
	}
}

// TestFanoutKillTellsUnkillable: SCRIPT KILL goes to every primary and needs one
// success; when none succeeds, the answer is the node that has a script it cannot
// kill (UNKILLABLE), not the first node's NOTBUSY.
func TestFanoutKillTellsUnkillable(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	fc.handle(p1, always(errV("NOTBUSY No scripts in execution right now.")))
	fc.handle(p2, always(errV("UNKILLABLE Sorry the script already executed write commands against the dataset.")))
	fc.handle(p3, always(errV("NOTBUSY No scripts in execution right now.")))
	r, _ := do(t, c, context.Background(), "SCRIPT", "KILL")
	if e := r.Value().Err; e == nil || e.Code != "UNKILLABLE" {
		t.Fatalf("reply %v (err %v); want UNKILLABLE", r.Value(), r.CallErr())
	}
}

// TestFanoutPartialFailureRan: FLUSHALL on three primaries, one refusing connections:
// the other two ran it, so the error is neither safe to retry nor "not executed" (the
// refused node's own error says both); a fan-out no node ran keeps its node's error.
func TestFanoutPartialFailureRan(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	refused := func(addr string) handler {
		return func(*Waiter, []string, bool) (resp.Value, error) {
			return resp.Value{}, transport(addr, rerr.PhaseDial, false, "connect: connection refused")
		}
	}
	fc.handle(p2, refused(p2))
	r, _ := do(t, c, context.Background(), "FLUSHALL")
	err := r.Err()
	var fe *FanoutError
	if !errors.As(err, &fe) || fe.Ran != 2 || fe.Nodes != 3 {
		t.Fatalf("error %v; want a FanoutError: ran on 2 of 3", err)
	}
	if rerr.SafeToRetry(err) || !rerr.MayHaveExecuted(err) {
		t.Fatalf("error %v: SafeToRetry %v, MayHaveExecuted %v; want false, true", err, rerr.SafeToRetry(err), rerr.MayHaveExecuted(err))
	}
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Addr != p2 {
		t.Fatalf("error %v; want the refused node's NodeError inside", err)
	}
	fc.handle(p1, refused(p1))
	fc.handle(p3, refused(p3))
	r, _ = do(t, c, context.Background(), "FLUSHALL")
	if err := r.Err(); errors.As(err, &fe) || !rerr.SafeToRetry(err) {
		t.Fatalf("error %v; no node ran it: the node's own error, safe to retry", err)
	}
}
