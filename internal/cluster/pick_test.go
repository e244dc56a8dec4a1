package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/rerr"
)

// r1b is a second replica of the first shard.
const r1b = "127.0.0.1:7201"

var twoReplicas = []shardSpec{
	{0, 5460, p1, []string{r1, r1b}, nil},
	{5461, 10922, p2, []string{r2}, nil},
	{10923, 16383, p3, []string{r3}, nil},
}

// TestReadFromPolicy: where Pick (and doSlot around it) sends reads and writes for each
// ReadFrom, and where a read goes when its node fails or is loading.
func TestReadFromPolicy(t *testing.T) {
	noReplica := func(t *testing.T, r Reply) {
		t.Helper()
		var e errNoReplica
		if !errors.As(r.CallErr(), &e) || int(e) != s1 {
			t.Fatalf("error %v; want errNoReplica(%d)", r.CallErr(), s1)
		}
	}
	cases := []struct {
		name    string
		from    ReadFrom
		specs   []shardSpec
		setup   func(fc *fakeCluster)
		args    []any
		check   replyCheck
		sent    []string
		oneOf   [][]string // instead of sent: any of these (a random choice)
		attempt int
		refresh bool
	}{
		{name: "primary: reads to the primary", from: ReadPrimary,
			args: []any{"GET", k1}, sent: []string{p1 + ": GET " + k1}},
		{name: "prefer-replica: reads to the replica", from: ReadPreferReplica,
			args: []any{"GET", k1}, sent: []string{r1 + ": GET " + k1}},
		{name: "prefer-replica: writes to the primary", from: ReadPreferReplica,
			args: []any{"SET", k1, "x"}, sent: []string{p1 + ": SET " + k1 + " x"}},
		{name: "prefer-replica: replica known down, the primary", from: ReadPreferReplica,
			setup: func(fc *fakeCluster) { fc.node(r1).setState(StateDown) },
			args:  []any{"GET", k1}, sent: []string{p1 + ": GET " + k1}},
		{name: "prefer-replica: replica failed in the topology, the primary", from: ReadPreferReplica,
			specs: []shardSpec{{0, 16383, p1, []string{r1}, []string{r1}}},
			args:  []any{"GET", k1}, sent: []string{p1 + ": GET " + k1}},
		{name: "prefer-replica: one of two replicas down, the other", from: ReadPreferReplica, specs: twoReplicas,
			setup: func(fc *fakeCluster) { fc.node(r1).setState(StateDown) },
			args:  []any{"GET", k1}, sent: []string{r1b + ": GET " + k1}},
		{name: "prefer-replica: both replicas in turn", from: ReadPreferReplica, specs: twoReplicas,
			args: []any{"GET", k1}, oneOf: [][]string{{r1 + ": GET " + k1}, {r1b + ": GET " + k1}}},
		{name: "prefer-replica: LOADING on the replica, the primary", from: ReadPreferReplica,
			setup: func(fc *fakeCluster) { fc.handle(r1, always(loading)) },
			args:  []any{"GET", k1}, sent: []string{r1 + ": GET " + k1, p1 + ": GET " + k1}, attempt: 2},
		{name: "prefer-replica: LOADING on one of two replicas, the other", from: ReadPreferReplica, specs: twoReplicas,
			setup: func(fc *fakeCluster) { fc.handle(r1, always(loading)) },
			args:  []any{"GET", k1}, oneOf: [][]string{
				{r1 + ": GET " + k1, r1b + ": GET " + k1},
				{r1b + ": GET " + k1}}},
		{name: "prefer-replica: a read failing on the replica, the primary", from: ReadPreferReplica,
			setup: func(fc *fakeCluster) {
				fc.handle(r1, downHandler(r1))
			},
			args: []any{"GET", k1}, sent: []string{r1 + ": GET " + k1, p1 + ": GET " + k1}, attempt: 2, refresh: true},
		{name: "replica-only: replica known down, an error and a refresh", from: ReadReplicaOnly,
			setup: func(fc *fakeCluster) { fc.node(r1).setState(StateDown) },
			args:  []any{"GET", k1}, check: noReplica, refresh: true},
		{name: "replica-only: a shard without replicas, an error", from: ReadReplicaOnly,
			specs: []shardSpec{{0, 16383, p1, nil, nil}},
			args:  []any{"GET", k1}, check: noReplica, refresh: true},
		{name: "replica-only: the replica fails, its failure (not the primary)", from: ReadReplicaOnly,
			setup: func(fc *fakeCluster) {
				fc.handle(r1, script(step{err: transport(r1, rerr.PhaseRead, true, "connection reset by peer")}))
			},
			args: []any{"GET", k1}, check: nodeErr(r1, rerr.PhaseRead, true, false),
			sent: []string{r1 + ": GET " + k1}, attempt: 1, refresh: true},
		{name: "replica-only: writes to the primary", from: ReadReplicaOnly,
			args: []any{"SET", k1, "x"}, sent: []string{p1 + ": SET " + k1 + " x"}},
		{name: "nearest: the replica when it is nearer", from: ReadNearest,
			setup: func(fc *fakeCluster) {
				fc.node(p1).setLatency(5 * time.Millisecond)
				fc.node(r1).setLatency(time.Millisecond)
			},
			args: []any{"GET", k1}, sent: []string{r1 + ": GET " + k1}},
		{name: "nearest: the primary when it is nearer", from: ReadNearest,
			setup: func(fc *fakeCluster) {
				fc.node(p1).setLatency(time.Millisecond)
				fc.node(r1).setLatency(5 * time.Millisecond)
			},
			args: []any{"GET", k1}, sent: []string{p1 + ": GET " + k1}},
		{name: "nearest: the nearest of two replicas", from: ReadNearest, specs: twoReplicas,
			setup: func(fc *fakeCluster) {
				fc.node(p1).setLatency(9 * time.Millisecond)
				fc.node(r1).setLatency(5 * time.Millisecond)
				fc.node(r1b).setLatency(2 * time.Millisecond)
			},
			args: []any{"GET", k1}, sent: []string{r1b + ": GET " + k1}},
		{name: "nearest: a nearer replica known down is skipped", from: ReadNearest,
			setup: func(fc *fakeCluster) {
				fc.node(p1).setLatency(5 * time.Millisecond)
				fc.node(r1).setLatency(time.Millisecond)
				fc.node(r1).setState(StateDown)
			},
			args: []any{"GET", k1}, sent: []string{p1 + ": GET " + k1}},
		{name: "nearest: the primary known down, a slower replica", from: ReadNearest,
			setup: func(fc *fakeCluster) {
				fc.node(p1).setLatency(time.Millisecond)
				fc.node(p1).setState(StateDown)
				fc.node(r1).setLatency(5 * time.Millisecond)
			},
			args: []any{"GET", k1}, sent: []string{r1 + ": GET " + k1}},
		{name: "nearest: LOADING on the nearer replica, the primary", from: ReadNearest,
			setup: func(fc *fakeCluster) {
				fc.node(p1).setLatency(5 * time.Millisecond)
				fc.node(r1).setLatency(time.Millisecond)
				fc.handle(r1, always(loading))
			},
			args: []any{"GET", k1}, sent: []string{r1 + ": GET " + k1, p1 + ": GET " + k1}, attempt: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := newFakeCluster(t)
			cfg := testConfig(fc)
			cfg.ReadFrom = tc.from
			specs := tc.specs
			if specs == nil {
				specs = threeShards
			}
			c := newEngine(t, cfg, specs)
			c.triggered()
			for _, n := range c.Nodes() { // every node answers "v" unless told otherwise
				fc.handle(n.Addr(), always(vV))
			}
			if tc.setup != nil {
				tc.setup(fc)
			}
			r, tr := do(t, c, context.Background(), tc.args...)
			check := tc.check
			if check == nil {
				check = value("v")
			}
			check(t, r)
			if tc.oneOf != nil {
				got := fc.sent()
				ok := false
				for _, want := range tc.oneOf {
					ok = ok || equalStrings(got, want)
				}
				if !ok {
					t.Fatalf("sent %q; want one of %q", got, tc.oneOf)
				}
			} else {
				fc.wantSent(tc.sent...)
			}
			if tc.attempt != 0 && tr.Attempts != tc.attempt {
				t.Fatalf("%d attempts; want %d", tr.Attempts, tc.attempt)
			}
			if got := c.triggered(); got != tc.refresh {
				t.Fatalf("refresh asked: %v; want %v", got, tc.refresh)
			}
		})
	}
}

// TestReadFromAllReplicasLoading: with ReadPreferReplica, a read that every replica of
// its shard answers LOADING goes to the primary, as it does when the shard's only
// replica is loading.
func TestReadFromAllReplicasLoading(t *testing.T) {
	fc := newFakeCluster(t)
	cfg := testConfig(fc)
	cfg.ReadFrom = ReadPreferReplica
	c := newEngine(t, cfg, twoReplicas)
	fc.handle(r1, always(loading))
	fc.handle(r1b, always(loading))
	fc.handle(p1, always(vV))
	r, _ := do(t, c, context.Background(), "GET", k1)
	value("v")(t, r)
	if got := fc.sentTo(p1); len(got) != 1 {
		t.Fatalf("the primary got %q; sent: %q", got, fc.sent())
	}
}

// TestPickPrimaryForced: a read the caller pins to the primary (a DoMulti read of a
// slot it writes) goes there whatever ReadFrom says.
func TestPickPrimaryForced(t *testing.T) {
	fc := newFakeCluster(t)
	cfg := testConfig(fc)
	cfg.ReadFrom = ReadReplicaOnly
	c := newEngine(t, cfg, threeShards)
	fc.handle(p1, always(vV))
	w := c.Waiter(context.Background())
	defer w.Release()
	tr := Trace{primary: true}
	r := c.doSlot(&w, lookupInfo(t, "GET", k1), s1, []any{"GET", k1}, &tr)
	value("v")(t, r)
	fc.wantSent(p1 + ": GET " + k1)
}

// lookupInfo is the command table's entry for args.
func lookupInfo(t testing.TB, args ...any) *command.Info {
	t.Helper()
	in := command.Lookup(args)
	if in == nil {
		t.Fatalf("no command %v", args)
	}
	return in
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
