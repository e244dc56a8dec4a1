package redline

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// Adversarial review of the standalone shape on real servers (branch h-std).

// reviewClientDBs returns the db= of every connection named name (CLIENT LIST, asked
// on the server directly), by client id.
func reviewClientDBs(t *testing.T, s *redistest.Standalone, name string) map[string]string {
	t.Helper()
	v, err := s.Primary().Do(t.Context(), "CLIENT", "LIST")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(v.Str), "\n") {
		f := map[string]string{}
		for _, kv := range strings.Fields(line) {
			k, val, _ := strings.Cut(kv, "=")
			f[k] = val
		}
		if f["name"] == name {
			out[f["id"]] = f["db"]
		}
	}
	return out
}

// reviewBlocked reports whether some connection is blocked in BLPOP.
func reviewBlocked(t *testing.T, s *redistest.Standalone) bool {
	v, err := s.Primary().Do(t.Context(), "CLIENT", "LIST")
	return err == nil && strings.Contains(string(v.Str), "cmd=blpop")
}

// Options.DB holds on every connection the client makes — the shared one, Watch's,
// a blocking pop's, a subscription's, a transaction's — and again after the server
// drops them all (CLIENT KILL): each is a new connection, SELECTed at its handshake.
func TestReviewStdStandaloneDBEverywhere(t *testing.T) {
	s := standalone(t)
	ctx := t.Context()
	const name = "rv-db5"
	c := newStandaloneClient(t, s, Options{DB: 5, ClientName: name, CommandTimeout: 2 * time.Second})
	zero := newStandaloneClient(t, s, Options{})
	defer c.Del(context.Background(), "rv:w", "rv:l", "rv:t")

	round := func(r int) {
		t.Helper()
		sub, err := c.Subscribe(ctx, "rv:ch")
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		if err := c.Watch(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, Cmd("SET", "rv:w", r))
			return err
		}, "rv:w"); err != nil {
			t.Fatalf("round %d: Watch: %v", r, err)
		}
		if _, err := c.TxPipelined(ctx, func(p *TxPipe) error { p.Do("SET", "rv:t", r); return nil }); err != nil {
			t.Fatalf("round %d: TxPipelined: %v", r, err)
		}
		done := make(chan error, 1)
		go func() { _, _, err := c.BLPop(ctx, 2*time.Second, "rv:l"); done <- err }()
		// The pop waits on its own connection: push once it is there (bounded).
		// The pop waits on its own connection (blocked: cmd=blpop): push once it is there.
		redistest.Eventually(t, 2*time.Second, func() bool { return reviewBlocked(t, s) }, "the BLPOP to block")
		dbs := reviewClientDBs(t, s, name)
		if err := c.Do(ctx, "RPUSH", "rv:l", "x").Err(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("round %d: BLPop: %v", r, err)
		}
		for id, db := range dbs {
			if db != "5" {
				t.Errorf("round %d: connection %s is on db %s, want 5 (all: %v)", r, id, db, dbs)
			}
		}
		t.Logf("round %d: %d connections, dbs %v", r, len(dbs), dbs)
		for _, k := range []string{"rv:w", "rv:t", "rv:l"} {
			if n, _ := zero.Do(ctx, "EXISTS", k).Int64(); n != 0 {
				t.Errorf("round %d: %s landed in db 0", r, k)
			}
		}
		if v, err := c.Get(ctx, "rv:w"); err != nil || v != string(rune('0'+r)) {
			t.Errorf("round %d: db 5 rv:w = %q, %v", r, v, err)
		}
	}
	round(1)
	// The server drops every connection of the client: they come back, on db 5.
	for id := range reviewClientDBs(t, s, name) {
		s.Primary().Do(ctx, "CLIENT", "KILL", "ID", id)
	}
	redistest.Eventually(t, 5*time.Second, func() bool { return c.Set(ctx, "rv:w", "0", nil) == nil }, "the client to reconnect")
	round(2)

	// Scan walks db 5 only.
	if err := c.Set(ctx, "rv:scan5", "x", nil); err != nil {
		t.Fatal(err)
	}
	defer c.Del(context.Background(), "rv:scan5")
	if err := zero.Set(ctx, "rv:scan0", "x", nil); err != nil {
		t.Fatal(err)
	}
	defer zero.Del(context.Background(), "rv:scan0")
	var keys []string
	it := c.Scan(ScanOptions{Match: "rv:scan*", Count: 10})
	for it.Next(ctx) {
		keys = append(keys, it.Key())
	}
	if it.Err() != nil || len(keys) != 1 || keys[0] != "rv:scan5" {
		t.Fatalf("Scan on db 5: %v, %v", keys, it.Err())
	}
}

// A replica blackholed, reads preferring replicas, the primary healthy: how many reads
// fail, on a standalone server with Options.Replicas and, for comparison, on a
// one-shard cluster (the same fault, the same Options otherwise). Reported as FIGURE
// lines; the standalone case fails when it does worse than the cluster.
func TestReviewStdStandaloneReplicaBlackhole(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	const timeout = 300 * time.Millisecond
	o := Options{ReadFrom: ReadPreferReplica, CommandTimeout: timeout, DialTimeout: timeout}

	s, err := redistest.StartStandalone(ctx, redistest.StandaloneConfig{Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	so := o
	so.Replicas = s.ReplicaAddrs()
	sc := newStandaloneClient(t, s, so)
	single := reviewReplicaBlackhole(t, "standalone", sc, s.Replicas()[0])

	cl, err := redistest.Start(ctx, redistest.Config{Masters: 1, ReplicasPerMaster: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	co := o
	co.Addrs = cl.Addrs()
	cc, err := NewClient(ctx, co)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	var replica *redistest.Node
	for _, n := range cl.Nodes() {
		if r, _ := n.Role(ctx); r == "slave" {
			replica = n
		}
	}
	clus := reviewReplicaBlackhole(t, "cluster", cc, replica)
	if single > clus+2 {
		t.Errorf("standalone: %d reads failed, cluster: %d", single, clus)
	}
}

// reviewReplicaBlackhole blackholes replica under reads from c and returns how many of
// 40 reads failed.
func reviewReplicaBlackhole(t *testing.T, what string, c *Client, replica *redistest.Node) int {
	ctx := t.Context()
	const timeout = 300 * time.Millisecond
	if err := c.Set(ctx, "rb:k", "v", nil); err != nil {
		t.Fatal(err)
	}
	c.Do(ctx, "WAIT", 1, 1000)
	for range 3 { // the replica's connection made
		if _, err := c.Get(ctx, "rb:k"); err != nil {
			t.Fatal(err)
		}
	}
	if err := replica.SetFault(redistest.Blackhole); err != nil {
		t.Fatal(err)
	}
	defer replica.SetFault(redistest.Pass)
	var slow, failed int
	start := time.Now()
	for i := 0; i < 40 && time.Since(start) < 20*time.Second; i++ {
		t0 := time.Now()
		_, err := c.Get(ctx, "rb:k")
		el := time.Since(t0)
		if el > timeout+50*time.Millisecond {
			t.Errorf("%s: read %d took %v", what, i, el)
		}
		if el > timeout/2 {
			slow++
		}
		if err != nil {
			failed++
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("FIGURE %s, replica blackholed, ReadPreferReplica: %d of 40 reads slow (> %v), %d failed, in %v", what, slow, timeout/2, failed, time.Since(start).Round(time.Millisecond))
	return failed
}

// A standalone server with CLUSTER disabled by rename-command (as hosted services
// do): ShapeAuto cannot tell it from the cluster command's error. NewClient should
// either take it as standalone or fail with an error that points at Options.Shape.
// ShapeStandalone works.
func TestStandaloneClusterCommandRenamed(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	s, err := redistest.StartStandalone(ctx, redistest.StandaloneConfig{ServerArgs: []string{"--rename-command", "CLUSTER", ""}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := NewClient(ctx, Options{Addrs: []string{s.Addr()}})
	if err == nil {
		defer c.Close()
		if !c.Standalone() {
			t.Fatal("not standalone")
		}
	} else if !strings.Contains(err.Error(), "Shape") {
		t.Errorf("ShapeAuto: the error gives no hint of Options.Shape: %v", err)
	}
	c2 := newStandaloneClient(t, s, Options{Shape: ShapeStandalone})
	if err := c2.Set(ctx, "rn:k", "v", nil); err != nil {
		t.Fatal(err)
	}
}

// The seed given as a standalone server is in fact a replica: taken, every write would
// fail with READONLY. Options.Replicas naming a server that is not a replica of it
// (another primary): taken, reads would return another data set's values. NewClient
// checks the roles and refuses both.
func TestStandaloneRolesChecked(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	s, err := redistest.StartStandalone(ctx, redistest.StandaloneConfig{Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := redistest.StartStandalone(ctx, redistest.StandaloneConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	t.Run("seed is a replica", func(t *testing.T) {
		c, err := NewClient(ctx, Options{Addrs: s.ReplicaAddrs()})
		if err != nil {
			if !strings.Contains(err.Error(), s.ReplicaAddrs()[0]+" is a replica") {
				t.Errorf("refused at NewClient, not naming the replica: %v", err)
			}
			return
		}
		defer c.Close()
		err = c.Set(ctx, "rr:k", "v", nil)
		t.Errorf("NewClient took the replica %s as the server; a write then fails: %v", s.ReplicaAddrs()[0], err)
	})
	t.Run("replica of another server", func(t *testing.T) {
		if _, err := other.Primary().Do(ctx, "SET", "rr:k", "other"); err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(ctx, Options{Addrs: []string{s.Addr()}, Replicas: []string{other.Addr()}, ReadFrom: ReadReplicaOnly})
		if err != nil {
			if !strings.Contains(err.Error(), "names "+other.Addr()+", which is a primary") {
				t.Errorf("refused at NewClient, not naming the primary given as a replica: %v", err)
			}
			return
		}
		defer c.Close()
		if err := c.Set(ctx, "rr:k", "mine", nil); err != nil {
			t.Fatal(err)
		}
		v, err := c.Get(ctx, "rr:k")
		t.Errorf("Options.Replicas named %s, not a replica of %s: NewClient accepted it, and a read returns %q, %v (written: \"mine\")", other.Addr(), s.Addr(), v, err)
	})
}
