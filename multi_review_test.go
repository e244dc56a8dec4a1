package redline

import (
	"fmt"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// Regression tests for the adversarial review of DoMulti (review1, 912c457): reads from
// replicas keep each slot's order, a bad argument fails only its command, a blocking
// command's wait is the caller's.

// TestDoMultiBadArgFailsAlone: a command with an argument of an unsupported type fails
// alone; the other commands of its node's pipeline run.
func TestDoMultiBadArgFailsAlone(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	c.Do(ctx, "DEL", "ba:{x}1")
	rs := c.DoMulti(ctx,
		Cmd("SET", "ba:{x}1", "v"),
		Cmd("SET", "ba:{x}2", struct{}{}),
		Cmd("GET", "ba:{x}1"),
	)
	if rs[1].Err() == nil {
		t.Fatal("the bad argument was accepted")
	}
	if rs[0].Err() != nil || rs[2].Err() != nil {
		t.Fatalf("a bad argument in command 1 failed its neighbours: %v / %v", rs[0].Err(), rs[2].Err())
	}
	if s, _ := rs[2].Text(); s != "v" {
		t.Fatalf("GET after SET = %q, want v", s)
	}
}

// TestDoMultiReplicaReadKeepsOrder: with ReadFrom a replica, a GET placed before a SET
// of its key in one DoMulti must not see that later SET (it goes to the primary, in its
// place in the primary's pipeline), even when the replica is slow.
func TestDoMultiReplicaReadKeepsOrder(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{ReadFrom: ReadReplicaOnly})
	ctx := t.Context()
	k := "rrw:{k}"
	if err := c.Do(ctx, "SET", k, "old").Err(); err != nil {
		t.Fatal(err)
	}
	waitReplica(t, c, k, "old")
	rn, err := c.e.Pick(hashslot.Key(k), true)
	if err != nil {
		t.Fatal(err)
	}
	nd := cl.NodeByAddr(rn.Addr())
	if err := nd.SetFault(redistest.Slow(200 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	defer nd.SetFault(redistest.Pass)
	rs := c.DoMulti(ctx, Cmd("GET", k), Cmd("SET", k, "new"))
	if got, err := rs[0].Text(); got != "old" || err != nil {
		t.Fatalf("GET placed before SET k new in the same DoMulti returned %q, %v; want old", got, err)
	}
}

// waitReplica waits (bounded) until a replica read of k returns want.
func waitReplica(t *testing.T, c *Client, k, want string) {
	t.Helper()
	redistest.Eventually(t, 5*time.Second, func() bool {
		s, _ := c.Do(t.Context(), "GET", k).Text()
		return s == want
	}, "replica never caught up on %s", k)
}

// TestDoMultiFanoutWriteThenReplicaRead: FLUSHALL then GET in one DoMulti with ReadFrom
// a replica: the GET does not see the value the FLUSHALL removed.
func TestDoMultiFanoutWriteThenReplicaRead(t *testing.T) {
	c := newTestClient(t, plain(t), Options{ReadFrom: ReadReplicaOnly})
	ctx := t.Context()
	k := "frr:{k}"
	bad := 0
	const runs = 10
	for range runs {
		if err := c.Do(ctx, "SET", k, "v").Err(); err != nil {
			t.Fatal(err)
		}
		waitReplica(t, c, k, "v")
		rs := c.DoMulti(ctx, Cmd("FLUSHALL"), Cmd("GET", k))
		if rs[0].Err() != nil {
			t.Fatalf("FLUSHALL: %v", rs[0].Err())
		}
		if !rs[1].IsNil() {
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d/%d runs: a GET after FLUSHALL in the same DoMulti saw the flushed value", bad, runs)
	}
}

// TestDoMultiTxWriteThenReplicaRead: with ReadFrom a replica, a GET after MULTI SET EXEC
// (and after a blocking pop) in the same DoMulti sees the write.
func TestDoMultiTxWriteThenReplicaRead(t *testing.T) {
	c := newTestClient(t, plain(t), Options{ReadFrom: ReadReplicaOnly})
	ctx := t.Context()
	k, q := "txr:{k}", "txr:{k}q"
	stale := 0
	const runs = 100
	for i := range runs {
		v := fmt.Sprint(i)
		rs := c.DoMulti(ctx, Cmd("MULTI"), Cmd("SET", k, v), Cmd("EXEC"), Cmd("GET", k))
		if rs[2].Err() != nil {
			t.Fatalf("EXEC: %v", rs[2].Err())
		}
		if s, _ := rs[3].Text(); s != v {
			stale++
		}
	}
	for range runs / 4 {
		c.Do(ctx, "RPUSH", q, "a", "b")
		rs := c.DoMulti(ctx, Cmd("BLPOP", q, 1), Cmd("LLEN", q))
		if n, err := rs[1].Int64(); n != 1 || err != nil {
			stale++
		}
		c.Do(ctx, "DEL", q)
	}
	if stale > 0 {
		t.Fatalf("%d/%d reads after a transaction's or a blocking pop's write in the same DoMulti missed it", stale, runs+runs/4)
	}
}

// TestDoMultiBlockingWaitIsCallers: a blocking command in DoMulti waits as long as Do
// would (its timeout, bounded by the caller's context, not by CommandTimeout), and the
// commands after it still have their CommandTimeout.
func TestDoMultiBlockingWaitIsCallers(t *testing.T) {
	const ct = 200 * time.Millisecond
	c := newTestClient(t, plain(t), Options{CommandTimeout: ct})
	ctx := t.Context()
	q := "bwc:{q}"
	c.Do(ctx, "DEL", q)
	t0 := time.Now()
	rs := c.DoMulti(ctx, Cmd("BLPOP", q, 1), Cmd("SET", "bwc:{q}k", "v"), Cmd("GET", "bwc:{q}k"))
	d := time.Since(t0)
	if !rs[0].IsNil() {
		t.Fatalf("BLPOP on an empty list for 1s: %v (after %v), want nil", rs[0].Err(), d)
	}
	if d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("DoMulti with BLPOP q 1 took %v; Do waits the command's 1s (CommandTimeout %v)", d, ct)
	}
	if s, err := rs[2].Text(); s != "v" || err != nil {
		t.Fatalf("GET after the blocking command: %q, %v", s, err)
	}
}
