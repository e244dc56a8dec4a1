package redline

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestDoMultiTransaction: MULTI … EXEC written in DoMulti runs as one atomic
// transaction: its results are the server's, and a concurrent reader never sees half
// of it (issue 15 item 2).
func TestDoMultiTransaction(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	x, y := "txm:{t}x", "txm:{t}y"
	rs := c.DoMulti(ctx, Cmd("DEL", x), Cmd("MULTI"), Cmd("SET", x, "1"), Cmd("INCR", x), Cmd("EXEC"), Cmd("GET", x))
	for i, want := range []string{"", "OK", "QUEUED", "QUEUED"} {
		if s, err := rs[i].Text(); i > 0 && (s != want || err != nil) {
			t.Fatalf("result %d: %q, %v; want %q", i, s, err, want)
		}
	}
	if arr := rs[4].val; !isList(arr) || len(arr.Elems) != 2 || string(arr.Elems[0].Str) != "OK" || arr.Elems[1].Int != 2 {
		t.Fatalf("EXEC: %+v, %v", arr, rs[4].Err())
	}
	if s, _ := rs[5].Text(); s != "2" {
		t.Fatalf("GET after the transaction: %q", s)
	}

	// Atomic: the reader sees x == y always.
	if err := c.Do(ctx, "MSET", x, "start", y, "start").Err(); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads, torn atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			vs, err := c.Do(ctx, "MGET", x, y).Strings()
			if err != nil {
				t.Error(err)
				return
			}
			reads.Add(1)
			if vs[0] != vs[1] {
				torn.Add(1)
			}
		}
	}()
	for i := range 300 {
		v := fmt.Sprint(i)
		rs := c.DoMulti(ctx, Cmd("MULTI"), Cmd("SET", x, v), Cmd("GET", x), Cmd("SET", y, v), Cmd("EXEC"))
		if err := rs[4].Err(); err != nil {
			t.Fatalf("EXEC %d: %v", i, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if torn.Load() > 0 {
		t.Fatalf("%d of %d concurrent reads saw half a transaction", torn.Load(), reads.Load())
	}

	// Keys in two slots: refused before sending.
	rs = c.DoMulti(ctx, Cmd("MULTI"), Cmd("SET", "txm:a", "1"), Cmd("SET", "txm:b", "1"), Cmd("EXEC"), Cmd("GET", x))
	for i := range 4 {
		if !errors.As(rs[i].Err(), new(*CrossSlotError)) {
			t.Fatalf("cross-slot transaction, result %d: %v", i, rs[i].Err())
		}
	}
	if rs[4].Err() != nil {
		t.Fatalf("GET after a refused transaction: %v", rs[4].Err())
	}
	// A WATCH before the transaction belongs to it: EXEC answers nil when a watched key
	// changed after WATCH (here by the pipeline itself).
	rs = c.DoMulti(ctx, Cmd("WATCH", x), Cmd("GET", x), Cmd("MULTI"), Cmd("SET", x, "w"), Cmd("EXEC"))
	if s, _ := rs[0].Text(); s != "OK" || !isList(rs[4].val) || len(rs[4].val.Elems) != 1 {
		t.Fatalf("WATCH … EXEC: %q, EXEC %+v %v", s, rs[4].val, rs[4].Err())
	}
	rs = c.DoMulti(ctx, Cmd("WATCH", x), Cmd("SET", x, "changed"), Cmd("MULTI"), Cmd("SET", x, "w2"), Cmd("EXEC"))
	if !rs[4].IsNil() {
		t.Fatalf("EXEC after a watched key changed: %+v, %v", rs[4].val, rs[4].Err())
	}
	if s, _ := c.Do(ctx, "GET", x).Text(); s != "changed" {
		t.Fatalf("x = %q after an aborted transaction", s)
	}

	// DISCARD ends it too; nothing ran.
	rs = c.DoMulti(ctx, Cmd("MULTI"), Cmd("SET", x, "discarded"), Cmd("DISCARD"), Cmd("GET", x))
	if s, _ := rs[3].Text(); s == "discarded" || rs[2].Err() != nil {
		t.Fatalf("MULTI … DISCARD: %v, GET %q", rs[2].Err(), s)
	}
}

// TestTxPipelined: MULTI … EXEC without WATCH through TxPipelined.
func TestTxPipelined(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k := "txp:{p}k"
	rs, err := c.TxPipelined(ctx, func(p *TxPipe) error {
		p.Do("SET", k, "10")
		p.Do("INCRBY", k, 5)
		p.Do("GET", k)
		return nil
	})
	if err != nil || len(rs) != 3 {
		t.Fatalf("TxPipelined: %v, %d results", err, len(rs))
	}
	if s, _ := rs[2].Text(); s != "15" {
		t.Fatalf("GET in the transaction: %q", s)
	}
	_, err = c.TxPipelined(ctx, func(p *TxPipe) error {
		p.Do("SET", "txp:a", "1")
		p.Do("SET", "txp:b", "1")
		return nil
	})
	if !errors.As(err, new(*CrossSlotError)) {
		t.Fatalf("cross-slot TxPipelined: %v", err)
	}
	boom := errors.New("boom")
	if _, err := c.TxPipelined(ctx, func(p *TxPipe) error { p.Do("SET", k, "no"); return boom }); err != boom {
		t.Fatalf("fn's error: %v", err)
	}
	if s, _ := c.Do(ctx, "GET", k).Text(); s != "15" {
		t.Fatalf("a TxPipelined whose fn failed wrote: %q", s)
	}
	// A rejected command aborts all of it.
	rs, err = c.TxPipelined(ctx, func(p *TxPipe) error {
		p.Do("SET", k, "aborted")
		p.Do("INCR") // wrong arity: rejected when queued
		return nil
	})
	if err == nil || rs == nil || rs[1].Err() == nil {
		t.Fatalf("EXECABORT: %v, %v", err, rs)
	}
	if s, _ := c.Do(ctx, "GET", k).Text(); s != "15" {
		t.Fatalf("an aborted transaction wrote: %q", s)
	}
}
