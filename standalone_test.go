package redline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// The standalone shape on real servers: the same program runs against a cluster and a
// standalone server, only the Options differing; what a standalone server allows
// (keys of different slots together, databases) works; bad configurations fail clearly.

// standalone is a standalone server with one replica, shared by the package's tests.
func standalone(t testing.TB) *redistest.Standalone {
	return redistest.SharedStandalone(t, "plain", redistest.StandaloneConfig{Replicas: 1})
}

// newStandaloneClient connects to s with o (Addrs filled in when empty).
func newStandaloneClient(t testing.TB, s *redistest.Standalone, o Options) *Client {
	t.Helper()
	if len(o.Addrs) == 0 {
		o.Addrs = []string{s.Addr()}
	}
	c, err := NewClient(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// shapeProgram is one program — typed calls, a DoMulti pipeline, a transaction, Watch,
// a script, a subscription, Scan, a blocking pop — that must run unchanged on every
// shape. Keys start with prefix; those a transaction touches share a {hash tag}, as a
// cluster needs.
func shapeProgram(t *testing.T, c *Client, prefix string) {
	ctx := t.Context()
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	a, b, n := prefix+"a", prefix+"b", prefix+"n"
	ta, tb := "{"+prefix+"}a", "{"+prefix+"}b"
	defer c.Del(context.Background(), a, b, n, ta, tb, prefix+"list")

	// Typed calls, multi-key across slots.
	check("Set", c.Set(ctx, a, "1", nil))
	if v, err := c.Get(ctx, a); err != nil || v != "1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	check("MSet", c.MSet(ctx, map[string]any{a: "x", b: "y"}))
	vs, err := c.MGet(ctx, a, b, prefix+"missing")
	if err != nil || len(vs) != 3 || vs[0] == nil || *vs[0] != "x" || *vs[1] != "y" || vs[2] != nil {
		t.Fatalf("MGet = %v, %v", vs, err)
	}

	// A pipeline.
	rs := c.DoMulti(ctx, Cmd("SET", n, 5), Cmd("INCR", n), Cmd("GET", n), Cmd("GET", b))
	for i, r := range rs {
		check(fmt.Sprintf("DoMulti %d", i), r.Err())
	}
	if v, _ := rs[2].Text(); v != "6" {
		t.Fatalf("DoMulti GET = %q", v)
	}

	// A transaction, and an optimistic one.
	trs, err := c.TxPipelined(ctx, func(p *TxPipe) error {
		p.Do("SET", ta, "1")
		p.Do("INCR", ta)
		p.Do("SET", tb, "2")
		return nil
	})
	check("TxPipelined", err)
	if v, _ := trs[1].Int64(); v != 2 {
		t.Fatalf("TxPipelined INCR = %d", v)
	}
	check("Watch", c.Watch(ctx, func(tx *Tx) error {
		v, err := tx.Do(ctx, "GET", ta).Text()
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, Cmd("SET", tb, v+"!"))
		return err
	}, ta))
	if v, _ := c.Get(ctx, tb); v != "2!" {
		t.Fatalf("after Watch: %q", v)
	}

	// A script.
	if v, err := NewScript("return redis.call('GET', KEYS[1])").Run(ctx, c, []string{ta}).Text(); err != nil || v != "2" {
		t.Fatalf("script = %q, %v", v, err)
	}

	// A subscription.
	sub, err := c.Subscribe(ctx, prefix+"ch")
	check("Subscribe", err)
	defer sub.Close()
	deadline := time.Now().Add(5 * time.Second)
	got := false
	for !got && time.Now().Before(deadline) {
		_, err := c.Publish(ctx, prefix+"ch", "hello")
		check("Publish", err)
		select {
		case m := <-sub.Messages():
			got = m.Kind == KindMessage && m.Payload == "hello"
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !got {
		t.Fatal("no message received")
	}

	// Scan finds the keys.
	seen := map[string]bool{}
	it := c.Scan(ScanOptions{Match: prefix + "*", Count: 100})
	for it.Next(ctx) {
		seen[it.Key()] = true
	}
	check("Scan", it.Err())
	if !seen[a] || !seen[b] || !seen[n] {
		t.Fatalf("Scan found %v", seen)
	}

	// Stats name the nodes used.
	if st := c.Stats(); len(st.Nodes) == 0 {
		t.Fatal("Stats list no node")
	}

	// A blocking pop.
	_, err = c.LPush(ctx, prefix+"list", "item")
	check("LPush", err)
	if k, v, err := c.BLPop(ctx, time.Second, prefix+"list"); err != nil || k != prefix+"list" || v != "item" {
		t.Fatalf("BLPop = %q %q %v", k, v, err)
	}
}

func TestShapesSameProgram(t *testing.T) {
	t.Run("cluster", func(t *testing.T) {
		c := newTestClient(t, plain(t), Options{})
		if c.Standalone() {
			t.Fatal("a cluster taken for standalone")
		}
		shapeProgram(t, c, "shape:cluster:")
	})
	t.Run("standalone", func(t *testing.T) {
		c := newStandaloneClient(t, standalone(t), Options{})
		if !c.Standalone() {
			t.Fatal("not detected as standalone")
		}
		shapeProgram(t, c, "shape:standalone:")
	})
	t.Run("standalone forced, RESP2, DB 2", func(t *testing.T) {
		c := newStandaloneClient(t, standalone(t), Options{Shape: ShapeStandalone, Protocol: 2, DB: 2})
		ctx := t.Context()
		// RESP2 has no pub/sub on a shared client: the rest of the program.
		check := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		check(c.MSet(ctx, map[string]any{"shape:r2:a": 1, "shape:r2:b": 2}))
		_, err := c.TxPipelined(ctx, func(p *TxPipe) error { p.Do("INCR", "shape:r2:a"); p.Do("INCR", "shape:r2:b"); return nil })
		check(err)
		c.Del(ctx, "shape:r2:a", "shape:r2:b")
	})
}

// On a standalone server, keys of different slots go together: a transaction, Watch,
// a script, MSET with SplitNone, SUNIONSTORE — nothing refused, nothing split.
func TestStandaloneCrossSlot(t *testing.T) {
	c := newStandaloneClient(t, standalone(t), Options{Split: SplitNone})
	ctx := t.Context()
	a, b := "xs:a", "xs:b" // different slots
	defer c.Del(context.Background(), a, b, "xs:c")
	if err := c.MSet(ctx, map[string]any{a: 1, b: 2}); err != nil {
		t.Fatalf("MSET across slots: %v", err)
	}
	if _, err := c.TxPipelined(ctx, func(p *TxPipe) error { p.Do("INCR", a); p.Do("INCR", b); return nil }); err != nil {
		t.Fatalf("TxPipelined across slots: %v", err)
	}
	err := c.Watch(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, Cmd("INCR", a), Cmd("INCR", b))
		return err
	}, a, b)
	if err != nil {
		t.Fatalf("Watch across slots: %v", err)
	}
	if v, err := c.Eval(ctx, "return redis.call('GET', KEYS[1]) + redis.call('GET', KEYS[2])", []string{a, b}).Int64(); err != nil || v != 3+4 {
		t.Fatalf("EVAL across slots = %d, %v", v, err)
	}
	if err := c.Do(ctx, "SUNIONSTORE", "xs:c", a+"-set", b+"-set").Err(); err != nil {
		t.Fatalf("SUNIONSTORE across slots: %v", err)
	}
}

// Options.DB selects the database on every connection, RESP3 and RESP2, and the
// dedicated ones (transactions, blocking commands).
func TestStandaloneDB(t *testing.T) {
	s := standalone(t)
	ctx := t.Context()
	db0 := newStandaloneClient(t, s, Options{})
	for _, proto := range []int{2, 3} {
		c := newStandaloneClient(t, s, Options{DB: 5, Protocol: proto})
		key := fmt.Sprintf("db:%d", proto)
		if err := c.Set(ctx, key, "in5", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := c.TxPipelined(ctx, func(p *TxPipe) error { p.Do("APPEND", key, "!"); return nil }); err != nil {
			t.Fatal(err)
		}
		if v, err := c.Get(ctx, key); err != nil || v != "in5!" {
			t.Fatalf("RESP%d: DB 5 read %q, %v", proto, v, err)
		}
		if r := db0.Do(ctx, "GET", key); !r.IsNil() {
			t.Fatalf("RESP%d: the key is in database 0 too: %v", proto, r)
		}
		c.Del(ctx, key)
	}
	_, err := NewClient(ctx, Options{Addrs: []string{s.Addr()}, DB: 100000})
	if err == nil || !strings.Contains(err.Error(), "SELECT") {
		t.Fatalf("DB out of range: %v", err)
	}
}

// Bad configurations fail NewClient with an error that says what is wrong.
func TestShapeMisconfiguredReal(t *testing.T) {
	s, cl := standalone(t), plain(t)
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"DB on a cluster", Options{Addrs: cl.Addrs(), DB: 1}, "a cluster has only database 0"},
		{"DB with Shape cluster", Options{Addrs: cl.Addrs(), DB: 1, Shape: ShapeCluster}, "a cluster has only database 0"},
		{"a cluster address given as standalone", Options{Addrs: cl.Addrs()[:1], Shape: ShapeStandalone}, "is a cluster node (INFO cluster: cluster_enabled:1)"},
		{"a standalone server given as cluster", Options{Addrs: []string{s.Addr()}, Shape: ShapeCluster}, "is not a cluster node (cluster support disabled)"},
		{"a standalone server among seeds", Options{Addrs: []string{s.Addr(), s.ReplicaAddrs()[0]}}, "a standalone client takes the server's address alone"},
		{"replicas named for a cluster", Options{Addrs: cl.Addrs(), Replicas: []string{s.ReplicaAddrs()[0]}}, "a cluster's replicas come from its topology"},
		{"replicas named for a cluster node", Options{Addrs: cl.Addrs()[:1], Replicas: []string{s.ReplicaAddrs()[0]}}, "a cluster's replicas come from its topology"},
		{"negative DB", Options{Addrs: []string{s.Addr()}, DB: -1}, "Options.DB must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			c, err := NewClient(ctx, tc.o)
			if err == nil {
				c.Close()
				t.Fatalf("NewClient succeeded; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want %q", err, tc.want)
			}
		})
	}
}

// Replicas named for a standalone server serve reads per ReadFrom; a replica that
// fails is the read's error with ReplicaOnly, and skipped with PreferReplica.
func TestStandaloneReplicaReads(t *testing.T) {
	s := standalone(t)
	ctx := t.Context()
	c := newStandaloneClient(t, s, Options{Replicas: s.ReplicaAddrs(), ReadFrom: ReadReplicaOnly})
	if err := c.Set(ctx, "rr:k", "v", nil); err != nil {
		t.Fatal(err)
	}
	defer c.Del(context.Background(), "rr:k")
	if n, err := c.Do(ctx, "WAIT", 1, 2000).Int64(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v", n, err)
	}
	if v, err := c.Get(ctx, "rr:k"); err != nil || v != "v" {
		t.Fatalf("replica read %q, %v", v, err)
	}
	r := s.Replicas()[0]
	t.Cleanup(func() { r.SetFault(redistest.Pass) })
	if err := r.SetFault(redistest.Refuse); err != nil {
		t.Fatal(err)
	}
	// The read fails: naming the replica (its failure), or, once it is known down,
	// saying no replica is healthy.
	for range 2 {
		_, err := c.Get(ctx, "rr:k")
		var ne *NodeError
		if !(errors.As(err, &ne) && ne.Addr == r.Addr()) && (err == nil || !strings.Contains(err.Error(), "no healthy replica")) {
			t.Fatalf("replica-only read with the replica refusing: %v", err)
		}
	}
	p := newStandaloneClient(t, s, Options{Replicas: s.ReplicaAddrs(), ReadFrom: ReadPreferReplica})
	p.Do(ctx, "GET", "rr:k")
	if v, err := p.Get(ctx, "rr:k"); err != nil || v != "v" {
		t.Fatalf("prefer-replica read with the replica refusing: %q, %v", v, err)
	}
}
