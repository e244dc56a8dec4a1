package redline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// Guards from the adversarial review of DoMulti and transactions (review1, 912c457):
// odd input, cancelled transactions, a migrating slot, a hung node, WAIT.

// TestDoMultiOddInputsNeverHang: odd DoMulti / TxPipelined input never panics or hangs.
func TestDoMultiOddInputsNeverHang(t *testing.T) {
	c := newTestClient(t, plain(t), Options{CommandTimeout: 2 * time.Second})
	ctx := t.Context()
	cases := [][]Command{
		{},
		{Cmd()},
		{Cmd(nil)},
		{Cmd("GET", nil)},
		{Cmd("MULTI")},
		{Cmd("EXEC")},
		{Cmd("DISCARD")},
		{Cmd("MULTI"), Cmd("MULTI"), Cmd("EXEC")},
		{Cmd("MULTI"), Cmd("WATCH", "o:{a}"), Cmd("EXEC")},
		{Cmd("MULTI"), Cmd("SET", "o:{a}", 1), Cmd("SET", "o:{b}", 1), Cmd("EXEC")},
		{Cmd("MULTI"), Cmd(), Cmd("EXEC")},
		{Cmd("MULTI"), Cmd(nil), Cmd("EXEC")},
		{Cmd("MULTI"), Cmd("SET", "o:{a}", struct{}{}), Cmd("EXEC")},
		{Cmd("multi"), Cmd("set", "o:{a}", "1"), Cmd("exec")},
		{Cmd([]byte("Multi")), Cmd("INCR", "o:{a}"), Cmd([]byte("DISCARD"))},
		{Cmd("WATCH", "o:{a}")},
		{Cmd("WATCH", "o:{a}"), Cmd("GET", "o:{a}")},
		{Cmd("WATCH", "o:{a}"), Cmd("MULTI"), Cmd("INCR", "o:{a}"), Cmd("EXEC"), Cmd("EXEC")},
		{Cmd("WATCH", "o:{a}"), Cmd("GET", "o:{b}"), Cmd("MULTI"), Cmd("INCR", "o:{a}"), Cmd("EXEC")},
		{Cmd("EXEC", "x"), Cmd("MULTI"), Cmd("EXEC", "x")},
		{Cmd("MULTI"), Cmd("NOSUCHCMD", "x"), Cmd("EXEC")},
		{Cmd("MULTI"), Cmd("KEYS", "*"), Cmd("EXEC")},
		{Cmd("MULTI"), Cmd("MGET", "o:{a}", "o:{b}"), Cmd("EXEC")},
		{Cmd("MULTI"), Cmd("EXEC")},
		{Cmd("NOSUCHCMD")},
		{Cmd(1, 2)},
		{Cmd("CLIENT", "REPLY", "OFF"), Cmd("client", []byte("reply"), "skip"), Cmd("Client", 5), Cmd("client|reply", "off")},
		{Cmd("SELECT", 0), Cmd("hello", 3), Cmd("SUBSCRIBE", "ch"), Cmd("reset"), Cmd("READONLY"), Cmd("ASKING")},
		{Cmd("PUBLISH"), Cmd("PUBLISH", "ch"), Cmd("PUBLISH", nil, "m")},
		{Cmd("MSET", "o:{a}", "1", "o:{b}"), Cmd("MGET"), Cmd("DEL")},
		{Cmd("BLPOP"), Cmd("BLPOP", "o:{q}", "x")},
	}
	for i, cmds := range cases {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("case %d: panic: %v", i, p)
				}
			}()
			t0 := time.Now()
			rs := c.DoMulti(ctx, cmds...)
			d := time.Since(t0)
			if len(rs) != len(cmds) {
				t.Errorf("case %d: %d results for %d commands", i, len(rs), len(cmds))
			}
			var out []string
			for _, r := range rs {
				if r.Err() != nil {
					out = append(out, "ERR "+r.Err().Error())
				} else {
					out = append(out, fmt.Sprintf("%v", r.val))
				}
			}
			t.Logf("case %d (%v): %q", i, d.Round(time.Millisecond), out)
			if d > 2100*time.Millisecond {
				t.Errorf("case %d took %v", i, d)
			}
		}()
	}
	// The shared connection still answers correctly.
	for i := range 20 {
		k := fmt.Sprintf("o:chk%d", i)
		c.Do(ctx, "SET", k, i)
		if n, err := c.Do(ctx, "GET", k).Int64(); n != int64(i) || err != nil {
			t.Fatalf("after odd inputs: GET %s = %d, %v", k, n, err)
		}
	}
}

// TestTxCancelledGivesConnectionsBack: transactions of every kind cut by tiny deadlines (and a
// panicking Watch) give back their dedicated connections: afterwards MaxDedicated (16)
// Watches on the slot's node can hold a connection at once.
func TestTxCancelledGivesConnectionsBack(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	k := "lk:{k}"
	for i := range 400 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*300*time.Microsecond)
		switch i % 5 {
		case 0:
			c.DoMulti(ctx, Cmd("WATCH", k), Cmd("GET", k), Cmd("MULTI"), Cmd("INCR", k), Cmd("EXEC"))
		case 1:
			c.TxPipelined(ctx, func(p *TxPipe) error { p.Do("INCR", k); p.Do("INCR", k); return nil })
		case 2:
			c.Watch(ctx, func(tx *Tx) error {
				tx.Do(ctx, "GET", k)
				_, err := tx.Exec(ctx, Cmd("INCR", k))
				return err
			}, k)
		case 3:
			c.Watch(ctx, func(tx *Tx) error {
				tx.Do(ctx, "PING")
				tx.Do(ctx, "GET", k)
				_, err := tx.Exec(ctx, Cmd("INCR", k))
				return err
			})
		case 4:
			func() {
				defer func() { recover() }()
				c.Watch(ctx, func(tx *Tx) error { tx.Do(ctx, "GET", k); panic("boom") }, k)
			}()
		}
		cancel()
	}
	ctx := t.Context()
	const hold = 16
	var got, failed atomic.Int32
	all := make(chan struct{})
	var wg sync.WaitGroup
	for range hold {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Watch(ctx, func(tx *Tx) error {
				if got.Add(1) == hold {
					close(all)
				}
				select {
				case <-all:
				case <-ctx.Done():
				}
				return nil
			}, k)
			if err != nil {
				failed.Add(1)
				t.Logf("Watch: %v", err)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 || got.Load() != hold {
		t.Fatalf("%d of %d Watches got a connection after the storm (%d failed)", got.Load(), hold, failed.Load())
	}
}

// TestDoMultiMigrationKeepsOrder: DoMulti of INCR/GET per key and MULTI…EXEC on a slot
// that migrates back and forth (MoveKeys one key at a time): each INCR's value must be
// the previous + 1, each GET the latest INCR, each EXEC's pair consecutive; no error.
func TestDoMultiMigrationKeepsOrder(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{})
	ctx := t.Context()
	tag := "{mig7}"
	slot := hashslot.Key(tag)
	const keys = 12
	key := func(i int) string { return fmt.Sprintf("%s:%d", tag, i) }
	for i := range keys {
		c.Do(ctx, "DEL", key(i))
	}
	src0, _ := c.e.Pick(slot, false)
	var masters []*redistest.Node
	for _, n := range cl.Nodes() {
		if r, _ := n.Role(ctx); r == "master" {
			masters = append(masters, n)
		}
	}
	srcNode := cl.NodeByAddr(src0.Addr())
	var dst *redistest.Node
	for _, n := range masters {
		if n != srcNode {
			dst = n
			break
		}
	}
	stop := make(chan struct{})
	migErr := make(chan error, 1)
	go func() {
		var err error
		defer func() { migErr <- err }()
		from, to := srcNode, dst
		for round := 0; round < 4; round++ {
			var m *redistest.Migration
			if m, err = cl.BeginMigration(ctx, slot, to); err != nil {
				return
			}
			for {
				var n int
				if n, err = m.MoveKeys(ctx, 1); err != nil {
					return
				}
				if n == 0 {
					break
				}
				time.Sleep(3 * time.Millisecond)
			}
			if err = m.Finish(ctx); err != nil {
				return
			}
			from, to = to, from
			_ = from
		}
		close(stop)
	}()
	want := make([]int64, keys)
	bad, errs, calls := 0, 0, 0
	var firstErr error
loop:
	for calls < 3000 {
		select {
		case <-stop:
			break loop
		default:
		}
		calls++
		var cmds []Command
		for i := range keys {
			cmds = append(cmds, Cmd("INCR", key(i)), Cmd("GET", key(i)))
		}
		cmds = append(cmds, Cmd("MULTI"), Cmd("INCR", key(0)), Cmd("INCR", key(0)), Cmd("EXEC"))
		rs := c.DoMulti(ctx, cmds...)
		for i := range keys {
			v, err := rs[2*i].Int64()
			g, gerr := rs[2*i+1].Int64()
			if err != nil || gerr != nil {
				errs++
				if firstErr == nil {
					firstErr = errors.Join(err, gerr)
				}
				want[i], _ = c.Do(ctx, "GET", key(i)).Int64()
				continue
			}
			if v != want[i]+1 || g != v {
				bad++
				t.Logf("call %d key %d: INCR=%d GET=%d, want %d", calls, i, v, g, want[i]+1)
			}
			want[i] = v
		}
		ex := rs[len(rs)-1]
		if ex.Err() != nil {
			t.Logf("call %d: transaction: MULTI %v, INCR %v, EXEC %v", calls, rs[len(rs)-4].Err(), rs[len(rs)-3].Err(), ex.Err())
			want[0], _ = c.Do(ctx, "GET", key(0)).Int64()
		} else if len(ex.val.Elems) != 2 || ex.val.Elems[0].Int != want[0]+1 || ex.val.Elems[1].Int != want[0]+2 {
			bad++
			t.Logf("call %d: EXEC %v, want [%d %d]", calls, ex.val, want[0]+1, want[0]+2)
			want[0], _ = c.Do(ctx, "GET", key(0)).Int64()
		} else {
			want[0] += 2
		}
	}
	if err := <-migErr; err != nil {
		t.Fatalf("migration: %v", err)
	}
	for i := range keys {
		if n, _ := c.Do(ctx, "GET", key(i)).Int64(); n != want[i] {
			t.Errorf("key %d: %d at the end, want %d", i, n, want[i])
		}
	}
	st := c.Stats()
	t.Logf("%d DoMulti calls, %d order violations, %d errors (first %v); %d MOVED %d ASK", calls, bad, errs, firstErr, st.Moved, st.Ask)
	if bad > 0 {
		t.Fatalf("%d order violations", bad)
	}
}

// TestTxShapesEndByDeadlineHungNode: every DoMulti/TxPipelined/Watch shape returns by
// CommandTimeout (+ slack) when the slot's node hangs (a blocking command adds its own).
func TestTxShapesEndByDeadlineHungNode(t *testing.T) {
	cl := plain(t)
	const ct = 300 * time.Millisecond
	c := newTestClient(t, cl, Options{CommandTimeout: ct})
	k := "dl:{k}"
	ctx := t.Context()
	c.Do(ctx, "SET", k, 1)
	if err := keyOwner(t, cl, c, k).SetFault(redistest.Hang); err != nil {
		t.Fatal(err)
	}
	shapes := []struct {
		name string
		fn   func() error
	}{
		{"DoMulti GET SET", func() error { return c.DoMulti(ctx, Cmd("GET", k), Cmd("SET", k, 2))[1].Err() }},
		{"DoMulti MULTI", func() error {
			return c.DoMulti(ctx, Cmd("MULTI"), Cmd("INCR", k), Cmd("EXEC"))[2].Err()
		}},
		{"DoMulti WATCH MULTI", func() error {
			return c.DoMulti(ctx, Cmd("WATCH", k), Cmd("GET", k), Cmd("MULTI"), Cmd("INCR", k), Cmd("EXEC"))[4].Err()
		}},
		{"DoMulti BLPOP barrier", func() error {
			return c.DoMulti(ctx, Cmd("SET", k, 3), Cmd("BLPOP", "dl:{k}q", 0), Cmd("GET", k))[2].Err()
		}},
		{"TxPipelined", func() error {
			_, err := c.TxPipelined(ctx, func(p *TxPipe) error { p.Do("INCR", k); return nil })
			return err
		}},
		{"Watch", func() error {
			return c.Watch(ctx, func(tx *Tx) error { _, err := tx.Exec(ctx, Cmd("INCR", k)); return err }, k)
		}},
		{"Watch keyless", func() error {
			return c.Watch(ctx, func(tx *Tx) error { return tx.Do(ctx, "GET", k).Err() })
		}},
	}
	for _, s := range shapes {
		limit := ct + 50*time.Millisecond
		if s.name == "DoMulti BLPOP barrier" {
			// A blocking command's time is not counted in CommandTimeout, as with Do: its
			// connection attempt takes CommandTimeout, and the commands after it get theirs.
			limit += ct
		}
		t0 := time.Now()
		err := s.fn()
		d := time.Since(t0)
		t.Logf("%s: %v after %v", s.name, err, d.Round(time.Millisecond))
		if d > limit {
			t.Errorf("%s took %v (CommandTimeout %v)", s.name, d.Round(time.Millisecond), ct)
		}
	}
}

// TestDoMultiWaitLeavesSharedConn: WAIT is not flagged blocking in the table (it is a
// fan-out: all_shards/agg_min), so DoMulti (and Do) send it on every primary's SHARED
// connection, where it holds up every other caller's replies until its timeout.
// multi.go's doc says WAIT runs like Do on a dedicated connection.
func TestDoMultiWaitLeavesSharedConn(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{ClientName: t.Name()})
	ctx := t.Context()
	done := make(chan []Result, 1)
	go func() { done <- c.DoMulti(ctx, Cmd("WAIT", 5, 1500)) }() // 5 replicas: none has so many
	cl.WaitBlocked(t, t.Name(), 5*time.Second)                   // the GETs below meet a waiting WAIT
	var worst time.Duration
	for i := range 5 {
		t0 := time.Now()
		c.Do(ctx, "GET", fmt.Sprintf("wt:%d", i))
		if d := time.Since(t0); d > worst {
			worst = d
		}
	}
	rs := <-done
	t.Logf("WAIT: %v; slowest GET beside it: %v", rs[0].Err(), worst)
	if worst > 500*time.Millisecond {
		t.Fatalf("a GET of another caller waited %v behind a pipelined WAIT", worst)
	}
}
