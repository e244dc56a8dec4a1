package redline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
)

// twoSlotKeys returns two keys with prefix in slots owned by different primaries of c.
func twoSlotKeys(t *testing.T, c *Client, prefix string) (string, string) {
	t.Helper()
	a := prefix + "a"
	na, _ := c.e.Pick(hashslot.Key(a), false)
	for i := range 1000 {
		b := fmt.Sprintf("%sb%d", prefix, i)
		if nb, _ := c.e.Pick(hashslot.Key(b), false); nb != na {
			return a, b
		}
	}
	t.Fatal("no key on another node")
	return "", ""
}

// TestDoMultiKeepsOrder: a split command and the commands around it take effect in the
// caller's order (issue 16 item 3: DEL a b, SET a new, MGET a b left a missing in 293
// of 300 runs).
func TestDoMultiKeepsOrder(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	a, b := twoSlotKeys(t, c, "ord:")
	for run := range 100 {
		val := fmt.Sprintf("new%d", run)
		rs := c.DoMulti(ctx,
			Cmd("SET", b, "old"),
			Cmd("DEL", a, b),
			Cmd("SET", a, val),
			Cmd("MGET", a, b),
			Cmd("EXISTS", a, b),
			Cmd("MSET", a, val+"x", b, "bb"),
			Cmd("GET", b),
			Cmd("KEYS", "ord:*"), // a fan-out: every primary, after the MSET
			Cmd("DEL", a, b),
			Cmd("KEYS", "ord:*"),
			Cmd("SET", a, val+"x"),
		)
		for i, r := range rs {
			if r.Err() != nil {
				t.Fatalf("run %d: command %d: %v", run, i, r.Err())
			}
		}
		vs, _ := rs[3].Strings()
		if len(vs) != 2 || vs[0] != val || vs[1] != "" {
			t.Fatalf("run %d: MGET after DEL and SET = %q, want [%s \"\"]", run, vs, val)
		}
		if n, _ := rs[4].Int64(); n != 1 {
			t.Fatalf("run %d: EXISTS = %d, want 1", run, n)
		}
		if s, _ := rs[6].Text(); s != "bb" {
			t.Fatalf("run %d: GET after MSET = %q", run, s)
		}
		if ks, _ := rs[7].Strings(); len(ks) != 2 {
			t.Fatalf("run %d: KEYS after MSET = %q", run, ks)
		}
		if ks, _ := rs[9].Strings(); len(ks) != 0 {
			t.Fatalf("run %d: KEYS after DEL = %q", run, ks)
		}
		if s, err := c.Do(ctx, "GET", a).Text(); s != val+"x" || err != nil {
			t.Fatalf("run %d: a = %q, %v after the pipeline", run, s, err)
		}
	}
}

// TestDoMultiBlockingCommand: a blocking command in DoMulti holds up nobody else on its
// node's shared connection, and is a barrier: it sees what the commands before it did
// (issue 16 item 1).
func TestDoMultiBlockingCommand(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{ClientName: t.Name()})
	ctx := t.Context()
	q := "blk:{q}"
	c.Do(ctx, "DEL", q)
	var wg sync.WaitGroup
	wg.Add(1)
	var rs []Result
	start := time.Now()
	go func() {
		defer wg.Done()
		rs = c.DoMulti(ctx, Cmd("BLPOP", q, "2"))
	}()
	cl.WaitBlocked(t, t.Name(), 5*time.Second) // the GETs below run beside a waiting BLPOP
	for i := range 20 {
		t0 := time.Now()
		if err := c.Do(ctx, "GET", fmt.Sprintf("{q}other%d", i)).Err(); err != nil && !errors.Is(err, Nil) {
			t.Fatalf("GET beside a pipelined BLPOP: %v", err)
		}
		if d := time.Since(t0); d > 500*time.Millisecond {
			t.Fatalf("GET beside a pipelined BLPOP took %v", d)
		}
	}
	wg.Wait()
	if !rs[0].IsNil() || time.Since(start) < 1500*time.Millisecond {
		t.Fatalf("BLPOP: %v after %v, want nil after ~2s", rs[0].Err(), time.Since(start))
	}
	rs = c.DoMulti(ctx, Cmd("RPUSH", q, "x"), Cmd("BLPOP", q, "1"), Cmd("LLEN", q))
	if vs, _ := rs[1].Strings(); len(vs) != 2 || vs[1] != "x" {
		t.Fatalf("BLPOP after RPUSH in one DoMulti: %q, %v", vs, rs[1].Err())
	}
	if n, _ := rs[2].Int64(); n != 0 {
		t.Fatalf("LLEN after the BLPOP: %d", n)
	}
}

// TestDoMultiReadsItsWrites: with ReadFrom a replica, a read of a key the same DoMulti
// wrote before it goes to the primary and sees the write.
func TestDoMultiReadsItsWrites(t *testing.T) {
	c := newTestClient(t, plain(t), Options{ReadFrom: ReadPreferReplica})
	ctx := t.Context()
	for i := range 50 {
		k, v := fmt.Sprintf("ryw:%d", i%7), fmt.Sprint(i)
		rs := c.DoMulti(ctx, Cmd("SET", k, v), Cmd("GET", k))
		if s, err := rs[1].Text(); s != v || err != nil {
			t.Fatalf("GET after SET in one DoMulti: %q, %v; want %q", s, err, v)
		}
	}
}

// TestDoMultiFollowsMovedInOrder: commands answered MOVED (the client's map is wrong
// for their slot) are sent again to the right node in the caller's order, and the
// hooks count the redirects.
func TestDoMultiFollowsMovedInOrder(t *testing.T) {
	var redirects, attempts int
	c := newTestClient(t, plain(t), Options{Hooks: Hooks{AfterCommand: func(_ context.Context, e CommandEnd) {
		if e.Name == "pipeline" {
			redirects, attempts = e.Redirects, e.Attempts
		}
	}}})
	ctx := t.Context()
	k, other := twoSlotKeys(t, c, "mv:")
	owner, _ := c.e.Pick(hashslot.Key(k), false)
	wrong, _ := c.e.Pick(hashslot.Key(other), false)
	c.Do(ctx, "DEL", k)
	c.e.ApplyMoved(hashslot.Key(k), wrong.Addr()) // the client now believes wrong owns k's slot
	var cmds []Command
	for range 20 {
		cmds = append(cmds, Cmd("INCR", k), Cmd("GET", k))
	}
	rs := c.DoMulti(ctx, cmds...)
	for i := 0; i < len(rs); i += 2 {
		want := int64(i/2 + 1)
		if n, err := rs[i].Int64(); n != want || err != nil {
			t.Fatalf("INCR %d: %d, %v; want %d", i/2, n, err, want)
		}
		if n, err := rs[i+1].Int64(); n != want || err != nil {
			t.Fatalf("GET after INCR %d: %d, %v; want %d", i/2, n, err, want)
		}
	}
	if n, _ := c.e.Pick(hashslot.Key(k), false); n != owner {
		t.Fatalf("the slot's owner was not corrected: %s, want %s", n.Addr(), owner.Addr())
	}
	if redirects != len(cmds) || attempts < len(cmds) {
		t.Fatalf("hooks: %d redirects, %d attempts; want %d redirects", redirects, attempts, len(cmds))
	}
}
