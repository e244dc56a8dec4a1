package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// The standalone shape against fake nodes: detected from the seed's refusal of
// CLUSTER SHARDS (or forced), every key on the one server, nothing split or refused
// for being in different slots, nothing polled, no redirect followed.

const disabledMsg = "ERR This instance has cluster support disabled"

// standaloneHandler answers as a standalone server: cluster commands refused, INFO
// cluster saying cluster_enabled:0, the rest from rest (nil: OK).
func standaloneHandler(rest handler) handler {
	return func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		switch strings.ToUpper(args[0]) {
		case "CLUSTER", "READONLY":
			return errV(disabledMsg), nil
		case "INFO":
			return bulkV("# Cluster\r\ncluster_enabled:0\r\n"), nil
		case "EXEC": // the tests' transactions have two commands
			return arrV(okValue(), okValue()), nil
		}
		if rest == nil {
			return okValue(), nil
		}
		return rest(w, args, asking)
	}
}

// newStandalone starts an engine on a fake standalone server at p1 (replicas: cfg's).
func newStandalone(t *testing.T, fc *fakeCluster, tweak func(*Config)) *Engine {
	t.Helper()
	cfg := testConfig(fc)
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := New(ctxFor(t, time.Second), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sentNoCluster fails the test if a CLUSTER command was logged after the first n
// entries.
func sentNoCluster(t *testing.T, fc *fakeCluster, n int) {
	t.Helper()
	for _, s := range fc.sent()[n:] {
		if strings.Contains(s, "CLUSTER") {
			t.Fatalf("sent %q after the shape was known", s)
		}
	}
}

func TestStandaloneDetected(t *testing.T) {
	for _, shape := range []Shape{ShapeAuto, ShapeStandalone} {
		t.Run(shape.String(), func(t *testing.T) {
			fc := newFakeCluster(t)
			fc.handle(p1, standaloneHandler(nil))
			c := newStandalone(t, fc, func(cfg *Config) { cfg.Shape = shape; cfg.RefreshMinInterval = time.Millisecond })
			if !c.Single() {
				t.Fatal("not single")
			}
			if tb := c.Topology(); tb.Covered() != 16384 || tb.Slot(12345).Primary.Addr != p1 {
				t.Fatalf("table: %d slots, slot 12345 on %v", tb.Covered(), tb.Slot(12345))
			}
			start := len(fc.sent())
			// Keys in different slots: sent whole, as written.
			for _, args := range [][]any{
				{"MSET", "a", "1", "b", "2"},
				{"MGET", "a", "b", "c"},
				{"DEL", "a", "b"},
				{"SINTERSTORE", "d", "a", "b"},
				{"EVAL", "return 1", "2", "a", "b"},
			} {
				r, tr := do(t, c, context.Background(), args...)
				if r.Err() != nil {
					t.Fatalf("%v: %v", args, r.Err())
				}
				if tr.Slot != 0 || tr.Attempts != 1 {
					t.Fatalf("%v: slot %d, %d attempts", args, tr.Slot, tr.Attempts)
				}
			}
			rs := c.DoMulti(context.Background(), [][]any{{"SET", "a", "1"}, {"MGET", "a", "b"}, {"MULTI"}, {"SET", "a", "2"}, {"SET", "b", "2"}, {"EXEC"}}, nil)
			for i, r := range rs {
				if r.CallErr() != nil {
					t.Fatalf("DoMulti %d: %v", i, r.CallErr())
				}
			}
			if _, err := c.TxPipelined(context.Background(), [][]any{{"SET", "a", "1"}, {"INCR", "b"}}); err != nil {
				t.Fatalf("TxPipelined across slots: %v", err)
			}
			// Triggers (a failure) poll nothing.
			c.TriggerRefresh()
			time.Sleep(20 * time.Millisecond) // a refresh would run within 1ms
			sentNoCluster(t, fc, start)
			if k := c.Counters(); k.Refreshes != 0 {
				t.Fatalf("%d refreshes", k.Refreshes)
			}
			want := []string{p1 + ": MSET a 1 b 2", p1 + ": MGET a b c", p1 + ": DEL a b", p1 + ": SINTERSTORE d a b", p1 + ": EVAL return 1 2 a b"}
			if got := fc.sent()[start : start+len(want)]; strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// A MOVED (or ASK) from a server taken for standalone is not followed: the error
// names the node, the redirect phase and the reply.
func TestStandaloneRedirectRefused(t *testing.T) {
	for _, red := range []resp.Value{movedV(3, p2), askV(3, p2)} {
		fc := newFakeCluster(t)
		fc.handle(p1, standaloneHandler(always(red)))
		c := newStandalone(t, fc, nil)
		r, _ := do(t, c, context.Background(), "GET", "k")
		var ne *rerr.NodeError
		if !errors.As(r.Err(), &ne) || ne.Addr != p1 || ne.Phase != rerr.PhaseRedirect || !strings.Contains(r.Err().Error(), "standalone") {
			t.Fatalf("%s: %v", red.Str, r.Err())
		}
		for _, s := range fc.sent() {
			if strings.HasPrefix(s, p2) {
				t.Fatalf("followed the redirect: %q", s)
			}
		}
	}
}

// Replicas named for a standalone server serve reads per ReadFrom; writes go to the
// server.
func TestStandaloneReplicas(t *testing.T) {
	fc := newFakeCluster(t)
	fc.handle(p1, standaloneHandler(nil))
	fc.handle(r1, standaloneHandler(nil))
	c := newStandalone(t, fc, func(cfg *Config) { cfg.Replicas = []string{r1}; cfg.ReadFrom = ReadReplicaOnly })
	start := len(fc.sent())
	do(t, c, context.Background(), "GET", "a")
	do(t, c, context.Background(), "SET", "a", "1")
	if got := strings.Join(fc.sent()[start:], "\n"); got != r1+": GET a\n"+p1+": SET a 1" {
		t.Fatalf("sent %q", got)
	}
}

func TestShapeMisconfigured(t *testing.T) {
	clusterNode := func(fc *fakeCluster) {
		fc.setTopo(threeShards)
		fc.handle(p1, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
			if strings.EqualFold(args[0], "INFO") {
				return bulkV("# Cluster\r\ncluster_enabled:1\r\n"), nil
			}
			return okValue(), nil
		})
	}
	for _, tc := range []struct {
		name  string
		setup func(*fakeCluster)
		tweak func(*Config)
		want  string
	}{
		{"cluster forced on a standalone server", func(fc *fakeCluster) { fc.handle(p1, standaloneHandler(nil)) },
			func(cfg *Config) { cfg.Shape = ShapeCluster }, "is not a cluster node (cluster support disabled) but Options.Shape is cluster"},
		{"standalone forced on a cluster node", clusterNode,
			func(cfg *Config) { cfg.Shape = ShapeStandalone }, "is a cluster node (INFO cluster: cluster_enabled:1) but Options.Shape is standalone"},
		{"standalone with two addresses", func(fc *fakeCluster) {
			fc.handle(p1, standaloneHandler(nil))
			fc.handle(p2, standaloneHandler(nil))
		}, func(cfg *Config) { cfg.Addrs = []string{p1, p2} }, "a standalone client takes the server's address alone"},
		{"standalone forced with two addresses", nil,
			func(cfg *Config) { cfg.Addrs = []string{p1, p2}; cfg.Shape = ShapeStandalone }, "a standalone client takes the server's address alone"},
		{"replicas named for a cluster", clusterNode,
			func(cfg *Config) { cfg.Replicas = []string{r1} }, "a cluster's replicas come from its topology"},
		{"DB on a cluster that accepts SELECT (Valkey 9)", clusterNode,
			func(cfg *Config) { cfg.DB = 2 }, "a cluster has only database 0"},
		{"DB on a cluster", func(fc *fakeCluster) {
			fc.handle(p1, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
				return resp.Value{}, &rerr.NodeError{Addr: p1, Phase: rerr.PhaseHandshake, Err: errors.New("SELECT: ERR SELECT is not allowed in cluster mode")}
			})
		}, func(cfg *Config) { cfg.DB = 2 }, "Options.DB is 2, but the server is a cluster node"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeCluster(t)
			if tc.setup != nil {
				tc.setup(fc)
			}
			cfg := testConfig(fc)
			tc.tweak(&cfg)
			_, err := New(ctxFor(t, time.Second), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want %q", err, tc.want)
			}
		})
	}
}

// A transaction whose WATCH (or queued command) a server taken for standalone answers
// MOVED is not sent elsewhere.
func TestStandaloneTxMovedNotFollowed(t *testing.T) {
	fc := newFakeCluster(t)
	exec := standaloneHandler(nil)
	fc.handle(p1, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		switch strings.ToUpper(args[0]) {
		case "SET":
			return movedV(3, p2), nil
		case "EXEC":
			return errV("EXECABORT Transaction discarded because of previous errors."), nil
		}
		return exec(w, args, asking)
	})
	c := newStandalone(t, fc, nil)
	c.TxPipelined(context.Background(), [][]any{{"SET", "a", "1"}})
	for _, s := range fc.sent() {
		if strings.HasPrefix(s, p2) {
			t.Fatalf("followed the MOVED: %q", s)
		}
	}
}

// A DoMulti on a standalone server with replicas: a read of a key the DoMulti writes
// goes to the primary (the written slots are counted as the reads are routed: slot 0).
func TestStandaloneDoMultiReadsItsWrites(t *testing.T) {
	fc := newFakeCluster(t)
	fc.handle(p1, standaloneHandler(nil))
	fc.handle(r1, standaloneHandler(nil))
	c := newStandalone(t, fc, func(cfg *Config) { cfg.Replicas = []string{r1}; cfg.ReadFrom = ReadReplicaOnly })
	start := len(fc.sent())
	c.DoMulti(context.Background(), [][]any{{"SET", "a", "1"}, {"GET", "a"}}, nil)
	for _, s := range fc.sent()[start:] {
		if strings.HasPrefix(s, r1) {
			t.Fatalf("a read of a key the DoMulti writes went to the replica: %q (all: %q)", s, fc.sent()[start:])
		}
	}
}
