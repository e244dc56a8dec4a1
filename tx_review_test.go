package redline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// Regression tests for the adversarial review of transactions and Watch (review1,
// 912c457): a failed WATCH stops its transaction, a fan-out command is refused in a
// transaction, Watch and Tx calls end by their deadline.

// TestDoMultiWatchFailedTxNotRun: in DoMulti, a WATCH answered with an error (here ASK:
// its key is missing from a migrating slot's source) stops the transaction after it:
// nothing of it runs and its results say why.
func TestDoMultiWatchFailedTxNotRun(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{})
	ctx := t.Context()
	tag := "{wfx3}"
	slot := hashslot.Key(tag)
	a, b := tag+"a", tag+"b"
	c.Do(ctx, "SET", a, "1")
	c.Do(ctx, "DEL", b)
	src, _ := c.e.Pick(slot, false)
	srcNode := cl.NodeByAddr(src.Addr())
	var dst *redistest.Node
	for _, n := range cl.Nodes() {
		if r, _ := n.Role(ctx); r == "master" && n != srcNode {
			dst = n
			break
		}
	}
	m, err := cl.BeginMigration(ctx, slot, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Finish(ctx); err != nil {
			t.Error(err)
		}
		if err := cl.MigrateSlot(ctx, slot, srcNode); err != nil {
			t.Error(err)
		}
	}()
	rs := c.DoMulti(ctx, Cmd("WATCH", b), Cmd("MULTI"), Cmd("SET", a, "2"), Cmd("EXEC"))
	if rs[0].Err() == nil {
		t.Fatalf("WATCH of a key missing from a migrating slot's source answered OK")
	}
	if rs[3].Err() == nil {
		t.Fatalf("WATCH failed (%v) but EXEC ran the transaction: %v", rs[0].Err(), rs[3].val)
	}
	var nr *TxNotRunError
	for i := 1; i < 4; i++ {
		if !errors.As(rs[i].Err(), &nr) || !SafeToRetry(rs[i].Err()) {
			t.Errorf("result %d: %v, want a *TxNotRunError", i, rs[i].Err())
		}
	}
	if s, _ := c.Do(ctx, "GET", a).Text(); s != "1" {
		t.Fatalf("the transaction ran: %s = %q", a, s)
	}
}

// TestTxRefusesFanout: a command that runs on every node is refused inside a
// transaction (DoMulti, TxPipelined, Tx.Exec), nothing sent; PING is still accepted.
func TestTxRefusesFanout(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k := "txf:{k}"
	rs := c.DoMulti(ctx, Cmd("MULTI"), Cmd("SET", k, "1"), Cmd("KEYS", "*"), Cmd("EXEC"))
	for i, r := range rs {
		if r.Err() == nil || !strings.Contains(r.Err().Error(), "every node") {
			t.Errorf("DoMulti MULTI SET KEYS EXEC: result %d: %v %v", i, r.val, r.Err())
		}
	}
	if _, err := c.TxPipelined(ctx, func(p *TxPipe) error { p.Do("DBSIZE"); return nil }); err == nil {
		t.Error("TxPipelined accepted DBSIZE")
	}
	err := c.Watch(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, Cmd("SET", k, "1"), Cmd("FLUSHALL"))
		return err
	}, k)
	if err == nil || !strings.Contains(err.Error(), "every node") {
		t.Errorf("Tx.Exec with FLUSHALL: %v", err)
	}
	rs = c.DoMulti(ctx, Cmd("MULTI"), Cmd("PING"), Cmd("SET", k, "2"), Cmd("EXEC"))
	if err := rs[3].Err(); err != nil {
		t.Fatalf("MULTI PING SET EXEC: %v", err)
	}
}

// TestWatchReturnsByDeadline: when the node stops answering after fn ran, Watch's
// cleanup (UNWATCH) does not hold the caller past its context's deadline.
func TestWatchReturnsByDeadline(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{CommandTimeout: 3 * time.Second})
	k := "wd:{k}"
	nd := keyOwner(t, cl, c, k)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	err := c.Watch(ctx, func(tx *Tx) error {
		if r := tx.Do(ctx, "GET", k); r.Err() != nil && !errors.Is(r.Err(), Nil) {
			return r.Err()
		}
		return nd.SetFault(redistest.Hang) // the node stops answering
	}, k)
	if late := time.Since(dl); late > 50*time.Millisecond {
		t.Fatalf("Watch (%v) returned %v after its context's deadline", err, late.Round(time.Millisecond))
	}
}

// TestTxDoBoundedByCommandTimeout: in a Watch without keys, the first Tx.Do with a key
// takes its connection within CommandTimeout when the node hangs (not DialTimeout).
func TestTxDoBoundedByCommandTimeout(t *testing.T) {
	cl := plain(t)
	const ct = 300 * time.Millisecond
	c := newTestClient(t, cl, Options{CommandTimeout: ct})
	k := "td:{k}"
	if err := keyOwner(t, cl, c, k).SetFault(redistest.Hang); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context() // no near deadline: CommandTimeout bounds the call
	var d time.Duration
	t0 := time.Now()
	c.Watch(ctx, func(tx *Tx) error {
		t0 := time.Now()
		tx.Do(ctx, "GET", k)
		d = time.Since(t0)
		return nil
	})
	if total := time.Since(t0); d > ct+50*time.Millisecond || total > 2*ct+50*time.Millisecond {
		t.Fatalf("Tx.Do took %v, Watch %v; CommandTimeout is %v", d.Round(time.Millisecond), total.Round(time.Millisecond), ct)
	}
}
