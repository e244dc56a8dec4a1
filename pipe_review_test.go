package redline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// Adversarial review of typed pipelines (pipe.go). Each TestReviewPipe… test is a
// reproducer of one find; those that pass show what was tried and held.

// TestReviewPipeExecAbortFutures: when a transaction is aborted (EXECABORT: a command
// was rejected when queued, nothing ran), TxPipelined's doc says each Future "reports
// the error returned". The Futures of the commands that were queued fine get the zero
// Result instead: a Set's Future (decodeOK) and a Do's Future report success, an
// IncrBy's a type error, none the EXECABORT.
func TestReviewPipeExecAbortFutures(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k1, k2 := "{rpipe:abort}a", "{rpipe:abort}b"
	c.Do(ctx, "DEL", k1, k2)
	var set Future[struct{}]
	var incr Future[int64]
	var do Future[Result]
	_, err := c.TxPipelined(ctx, func(p *TxPipe) error {
		set = p.Set(k1, "v", nil)
		incr = p.IncrBy(k2, 3)
		do = p.Do("SET", k2, "x")
		p.Do("INCR") // wrong arity: rejected when queued, EXEC answers EXECABORT
		return nil
	})
	var re *RedisError
	if !errors.As(err, &re) || re.Code != "EXECABORT" {
		t.Fatalf("TxPipelined: %v, want EXECABORT", err)
	}
	if n, _ := c.Do(ctx, "EXISTS", k1, k2).Int64(); n != 0 {
		t.Fatalf("the aborted transaction ran: %d keys exist", n)
	}
	for name, ferr := range map[string]error{"Set": set.Err(), "IncrBy": incr.Err(), "Do": do.Err()} {
		if !errors.As(ferr, &re) || re.Code != "EXECABORT" {
			t.Errorf("TxPipelined aborted: the Future of %s reports %v, want the EXECABORT", name, ferr)
		}
	}

	// The same through Tx.Pipelined.
	err = c.Watch(ctx, func(tx *Tx) error {
		return tx.TxPipelined(ctx, func(p *Pipe) error {
			set = p.Set(k1, "v", nil)
			p.Do("INCR")
			return nil
		})
	}, k1)
	if !errors.As(err, &re) || re.Code != "EXECABORT" {
		t.Fatalf("Tx.Pipelined: %v, want EXECABORT", err)
	}
	if ferr := set.Err(); !errors.As(ferr, &re) || re.Code != "EXECABORT" {
		t.Errorf("Tx.Pipelined aborted: the Future of Set reports %v, want the EXECABORT", ferr)
	}
}

// TestReviewPipeKeyedFutureSeesCallerSlice: the decoder of a keyed reply (HMGetMap,
// MGetMap) captures the caller's variadic slice, and decodes when the Future is read:
// a caller that reuses its slice after the pipe ran (which the doc allows: arguments
// must not change "until it has run") gets a map keyed by the new names — values under
// fields that were never asked for.
func TestReviewPipeKeyedFutureSeesCallerSlice(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	h := "rpipe:keyed:h"
	c.Do(ctx, "DEL", h)
	c.Do(ctx, "HSET", h, "a", "1", "b", "2")
	fields := []string{"a", "b"}
	var hm Future[map[string]string]
	if err := c.Pipelined(ctx, func(p *Pipe) error {
		hm = p.HMGetMap(h, fields...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fields[0], fields[1] = "x", "y" // the pipe has run: the caller reuses its buffer
	m, err := hm.Result()
	if err != nil {
		t.Fatal(err)
	}
	if m["a"] != "1" || m["b"] != "2" || len(m) != 2 {
		t.Errorf("HMGetMap's Future after the caller reused its fields: %v, want map[a:1 b:2]", m)
	}
}

// TestReviewPipeReusedAfterRun: a Pipe kept past its run (stored from fn) and given a
// command afterwards: reading that command's Future panics (index out of range in
// Pipe.result) instead of returning an error; the command is never sent.
func TestReviewPipeReusedAfterRun(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	var kept *Pipe
	if err := c.Pipelined(ctx, func(p *Pipe) error {
		kept = p
		p.Get("rpipe:reuse")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	late := kept.Get("rpipe:reuse") // after the run: never sent
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("reading the Future of a command queued after the run panicked: %v", r)
			}
		}()
		err = late.Err()
	}()
	if err == nil {
		t.Error("the Future of a command queued after the run (never sent) reports no error")
	}
}

// TestReviewPipeTypedInsideMulti: Pipelined runs as DoMulti, which runs MULTI … EXEC
// written with Pipe.Do. A typed command queued between them gets the server's QUEUED
// as its reply: a Set's Future reports success even when the transaction is aborted
// and nothing ran; an Incr's reports a type error ("QUEUED" is not an integer) even
// when it ran. Fixed by refusing MULTI (EXEC, DISCARD) in Pipelined: nothing sent.
func TestReviewPipeTypedInsideMulti(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k := "{rpipe:multi}k"
	n := "{rpipe:multi}n"
	c.Do(ctx, "DEL", k, n)
	var set Future[struct{}]
	var incr Future[int64]
	err := c.Pipelined(ctx, func(p *Pipe) error {
		p.Do("MULTI")
		set = p.Set(k, "v", nil)
		incr = p.Incr(n)
		p.Do("EXEC")
		return nil
	})
	// Fixed: MULTI in Pipelined refuses the whole pipe, nothing sent (typed Futures
	// inside would decode QUEUED); TxPipelined is the typed transaction.
	var cs *ConnStateError
	if !errors.As(err, &cs) || !errors.As(set.Err(), &cs) || !errors.As(incr.Err(), &cs) {
		t.Fatalf("MULTI in Pipelined: %v; Futures %v, %v", err, set.Err(), incr.Err())
	}
	if ex, _ := c.Do(ctx, "EXISTS", k, n).Int64(); ex != 0 {
		t.Fatalf("a pipe with MULTI was sent: %d keys exist", ex)
	}
}

// TestReviewPipeFnErrorFutures: when fn returns an error nothing is sent; the Futures
// fn made then say "read before its pipe ran (read it after Pipelined returns)" — read
// after Pipelined returned, which misleads. Expected: the pipe is marked as not run
// (fn's error, or "the pipe was not run").
func TestReviewPipeFnErrorFutures(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	mine := errors.New("mine")
	var f Future[string]
	if err := c.Pipelined(ctx, func(p *Pipe) error { f = p.Get("rpipe:fnerr"); return mine }); err != mine {
		t.Fatal(err)
	}
	if err := f.Err(); errors.Is(err, errNotRun) {
		t.Errorf("Pipelined returned fn's error; the Future, read after it returned, says: %v", err)
	}
	if _, err := c.TxPipelined(ctx, func(p *TxPipe) error { f = p.Get("rpipe:fnerr"); return mine }); err != mine {
		t.Fatal(err)
	}
	if err := f.Err(); errors.Is(err, errNotRun) {
		t.Errorf("TxPipelined returned fn's error; the Future, read after it returned, says: %v", err)
	}
}

// pipeKeyNear returns a key of prefix on the node of near (same) or on another one.
func pipeKeyNear(t *testing.T, c *Client, prefix, near string, same bool) string {
	t.Helper()
	nn, _ := c.e.Pick(hashslot.Key(near), false)
	for i := range 1000 {
		k := fmt.Sprintf("%s%d", prefix, i)
		if nk, _ := c.e.Pick(hashslot.Key(k), false); (nk == nn) == same {
			return k
		}
	}
	t.Fatal("no key found")
	return ""
}

// TestReviewPipeMixedShapes (held): refused commands interleaved with split (MGET, DEL,
// MSET over slots), fan-out (DBSIZE), a blocking barrier (BLPOP), Do with a flattened
// list, a 1,000-field HSet, a 1,000-key MSet and MGet (far more than a chunk), many small
// commands across chunk boundaries: every Future gets its own command's reply.
func TestReviewPipeMixedShapes(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	keys := pipeKeys(t, c, "rpipe:mix:", 40)
	h, l := "rpipe:mix:h", "rpipe:mix:l"
	c.Do(ctx, "DEL", h, l)
	c.Do(ctx, "DEL", keys)
	big := make(map[string]any, 1000)
	many := make([]string, 1000)
	manyValues := make(map[string]any, 1000)
	for i := range 1000 {
		big[fmt.Sprint("f", i)] = i
		many[i] = fmt.Sprintf("rpipe:mix:m%d", i)
		manyValues[many[i]] = fmt.Sprint("v", i)
	}
	type check func() error
	var checks []check
	refusedAt := func(p *Pipe) {
		f := p.Set("rpipe:mix:refused", []string{"no"}, nil)
		checks = append(checks, func() error {
			var list *valueListError
			if !errors.As(f.Err(), &list) {
				return fmt.Errorf("refused Set: %v", f.Err())
			}
			return nil
		})
	}
	err := c.Pipelined(ctx, func(p *Pipe) error {
		refusedAt(p)
		for i, k := range keys {
			inc := p.IncrBy(k, int64(i+1))
			want := int64(i + 1)
			checks = append(checks, func() error {
				if n, err := inc.Result(); n != want || err != nil {
					return fmt.Errorf("IncrBy %s: %d, %v, want %d", k, n, err, want)
				}
				return nil
			})
			if i%7 == 0 {
				refusedAt(p)
			}
		}
		mget := p.MGet(keys...)
		checks = append(checks, func() error {
			vs, err := mget.Result()
			if err != nil || len(vs) != len(keys) {
				return fmt.Errorf("MGet: %d, %v", len(vs), err)
			}
			for i, v := range vs {
				if v == nil || *v != fmt.Sprint(i+1) {
					return fmt.Errorf("MGet %d: %v", i, v)
				}
			}
			return nil
		})
		refusedAt(p)
		dbsize := p.DBSize()
		checks = append(checks, func() error {
			if n, err := dbsize.Result(); n < int64(len(keys)) || err != nil {
				return fmt.Errorf("DBSize: %d, %v", n, err)
			}
			return nil
		})
		hset := p.HSet(h, big)
		checks = append(checks, func() error {
			if n, err := hset.Result(); n != 1000 || err != nil {
				return fmt.Errorf("HSet of 1000 fields: %d, %v", n, err)
			}
			return nil
		})
		refusedAt(p)
		lpush := p.Do("RPUSH", l, []string{"a", "b", "c"})
		checks = append(checks, func() error {
			if n, err := lpush.Raw().Int64(); n != 3 || err != nil {
				return fmt.Errorf("RPUSH of a flattened list: %d, %v", n, err)
			}
			return nil
		})
		blpop := p.BLPop(time.Second, l)
		checks = append(checks, func() error {
			if kv, err := blpop.Result(); kv != (KeyValue{l, "a"}) || err != nil {
				return fmt.Errorf("BLPop: %+v, %v", kv, err)
			}
			return nil
		})
		mset := p.MSet(map[string]any{keys[0]: "m0", keys[1]: "m1", keys[2]: "m2"})
		checks = append(checks, func() error { return mset.Err() })
		msetMany := p.MSet(manyValues)
		checks = append(checks, func() error { return msetMany.Err() })
		mgetMany := p.MGet(many...)
		checks = append(checks, func() error {
			vs, err := mgetMany.Result()
			if len(vs) != 1000 || err != nil {
				return fmt.Errorf("MGet of 1000 keys: %d, %v", len(vs), err)
			}
			for i, v := range vs {
				if v == nil || *v != fmt.Sprint("v", i) {
					return fmt.Errorf("MGet of 1000 keys: %d is %v", i, v)
				}
			}
			return nil
		})
		del := p.Del(keys...)
		checks = append(checks, func() error {
			if n, err := del.Result(); n != int64(len(keys)) || err != nil {
				return fmt.Errorf("Del: %d, %v", n, err)
			}
			return nil
		})
		for i := range 3 {
			g := p.HGet(h, fmt.Sprint("f", 999-i))
			want := fmt.Sprint(999 - i)
			checks = append(checks, func() error {
				if v, err := g.Result(); v != want || err != nil {
					return fmt.Errorf("HGet f%d: %q, %v", 999-i, v, err)
				}
				return nil
			})
		}
		refusedAt(p)
		return nil
	})
	var list *valueListError
	if !errors.As(err, &list) {
		t.Fatalf("Pipelined: %v, want the first refused command's error", err)
	}
	for _, ck := range checks {
		if err := ck(); err != nil {
			t.Error(err)
		}
	}
	c.Do(ctx, "DEL", h, l)
	c.Do(ctx, "DEL", many)
}

// TestReviewPipeArenaProperty (held): random sequences of typed and raw commands of
// every length (0 to 200 arguments, refused ones among them): each command's
// arguments are what was queued, capped at their length (an append to one never
// writes into another), after every later command was queued.
func TestReviewPipeArenaProperty(t *testing.T) {
	t.Parallel()
	for seed := range 300 {
		var p Pipe
		var want [][]any // nil: refused
		r := uint64(seed)*2654435761 + 1
		next := func(n int) int { r ^= r << 13; r ^= r >> 7; r ^= r << 17; return int(r % uint64(n)) }
		for range 1 + next(120) {
			switch next(6) {
			case 0:
				k := fmt.Sprint("k", len(want))
				p.Get(k)
				want = append(want, []any{"GET", k})
			case 1:
				n := next(200)
				args := []any{"RPUSH"}
				for j := range n {
					args = append(args, fmt.Sprint(len(want), ".", j))
				}
				p.Do(args...)
				want = append(want, args)
			case 2:
				n := 1 + next(30)
				vals := make([]any, n)
				for j := range vals {
					vals[j] = fmt.Sprint(len(want), ":", j)
				}
				refuse := next(4) == 0
				if refuse {
					vals[next(n)] = []string{"x"}
				}
				p.LPush("l", vals...)
				if refuse {
					want = append(want, nil)
				} else {
					want = append(want, append([]any{"LPUSH", "l"}, vals...))
				}
			case 3:
				p.Do()
				want = append(want, nil)
			case 4:
				k := fmt.Sprint("s", len(want))
				p.Set(k, "v", nil)
				want = append(want, []any{"SET", k, "v"})
			case 5:
				n := 1 + next(5)
				ks := make([]string, n)
				for j := range ks {
					ks[j] = fmt.Sprint("m", len(want), ".", j)
				}
				p.MGet(ks...)
				args := []any{"MGET"}
				for _, k := range ks {
					args = append(args, k)
				}
				want = append(want, args)
			}
		}
		// Every command's arguments, as queued; an append to one stays its own.
		if p.Len() != len(want) {
			t.Fatalf("seed %d: Len %d, want %d", seed, p.Len(), len(want))
		}
		cmds, idx := p.commands()
		k := 0
		for i, w := range want {
			if w == nil {
				if p.refused == nil || p.refused[i] == nil {
					t.Fatalf("seed %d: command %d not refused", seed, i)
				}
				continue
			}
			if idx != nil && idx[k] != i {
				t.Fatalf("seed %d: idx[%d] = %d, want %d", seed, k, idx[k], i)
			}
			got := cmds[k].args
			if fmt.Sprint(got) != fmt.Sprint(w) || cap(got) != len(got) {
				t.Fatalf("seed %d: command %d: %v (cap %d), want %v", seed, i, got, cap(got), w)
			}
			k++
		}
		for k := range cmds {
			_ = append(cmds[k].args, "OVERWRITE")
		}
		for k, c := range cmds {
			for _, a := range c.args {
				if a == "OVERWRITE" {
					t.Fatalf("seed %d: an append to a command wrote into command %d", seed, k)
				}
			}
		}
	}
}

// TestReviewPipeRefusedSpillKeepsChunk: a typed command refused when queued has its
// arguments cleared "to drop what it would keep alive" — but only those of the array
// append moved them to when they outgrew the chunk's room: the ones written in the
// chunk before that stay there, and the pipe (kept alive by every Future) keeps them.
func TestReviewPipeRefusedSpillKeepsChunk(t *testing.T) {
	t.Parallel()
	var p Pipe
	values := map[string]any{"refused": []string{"a list"}}
	for i := range 30 {
		values[fmt.Sprint("f", i)] = make([]byte, 64<<10)
	}
	// HSET key, then pairs appended one by one: the first 7 fill the first chunk (16),
	// the 8th moves them to an array of their own; then the list refuses the command.
	f := p.HSet("rpipe:spill", values)
	var list *valueListError
	if !errors.As(f.Err(), &list) {
		t.Fatalf("HSet with a list as a value: %v", f.Err())
	}
	kept := 0
	for _, a := range p.chunk[len(p.chunk):cap(p.chunk)] {
		if b, ok := a.([]byte); ok && len(b) == 64<<10 {
			kept++
		}
	}
	if kept > 0 {
		t.Errorf("the refused command's values: %d of 64 KiB each still in the pipe's chunk (kept alive by every Future of the pipe)", kept)
	}
}

// TestReviewPipeDeadlineBarrierFaults (held): refused commands, SETs on a hung node and
// a blocking barrier (BLPOP 5 s on an empty list of a healthy node) after them:
// Pipelined returns by its 300 ms deadline; the healthy node's commands before the
// barrier have their replies; every Future of the hung node and the barrier reports a
// deadline.
func TestReviewPipeDeadlineBarrierFaults(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{CommandTimeout: 2 * time.Second})
	ctx := t.Context()
	hk := "rpipe:dl:hung"
	hung := keyOwner(t, cl, c, hk)
	ok := pipeKeyNear(t, c, "rpipe:dl:ok", hk, false)
	list := pipeKeyNear(t, c, "rpipe:dl:l", hk, false)
	c.Do(ctx, "DEL", list)
	if err := hung.SetFault(redistest.Hang); err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var onHung, healthy Future[struct{}]
	var blpop Future[KeyValue]
	var refused Future[int64]
	start := time.Now()
	_ = c.Pipelined(cctx, func(p *Pipe) error {
		refused = p.LPush(list, []string{"x"})
		onHung = p.Set(hk, "v", nil)
		healthy = p.Set(ok, "v", nil)
		blpop = p.BLPop(5*time.Second, list)
		p.Set(ok, "after", nil)
		return nil
	})
	took := time.Since(start)
	if took > timeout+100*time.Millisecond {
		t.Errorf("Pipelined took %v with a %v deadline", took, timeout)
	}
	if err := healthy.Err(); err != nil {
		t.Errorf("SET on a healthy node: %v", err)
	}
	if err := onHung.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SET on the hung node: %v", err)
	}
	if err := blpop.Err(); err == nil || errors.Is(err, Nil) && took < timeout {
		t.Errorf("BLPOP barrier: %v after %v", err, took)
	}
	var lst *valueListError
	if !errors.As(refused.Err(), &lst) {
		t.Errorf("refused: %v", refused.Err())
	}
}

// TestReviewPipeTxPaths (held): TxPipe.Do flattens a list, a typed method refuses it
// (nothing sent); Tx.Pipelined after its Watch returned fails with every Future
// reporting it; a Future of another pipe's index stays with its own pipe.
func TestReviewPipeTxPaths(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	l := "{rpipe:tx}l"
	c.Do(ctx, "DEL", l)
	var push Future[Result]
	rs, err := c.TxPipelined(ctx, func(p *TxPipe) error {
		push = p.Do("RPUSH", l, []string{"a", "b"})
		return nil
	})
	if err != nil || len(rs) != 1 {
		t.Fatalf("TxPipelined: %v, %v", rs, err)
	}
	if n, err := push.Raw().Int64(); n != 2 || err != nil {
		t.Fatalf("TxPipe.Do with a list: %d, %v", n, err)
	}
	var typed Future[int64]
	_, err = c.TxPipelined(ctx, func(p *TxPipe) error {
		p.Do("RPUSH", l, "c")
		typed = p.RPush(l, []string{"d"})
		return nil
	})
	var list *valueListError
	if !errors.As(err, &list) || !errors.As(typed.Err(), &list) {
		t.Fatalf("typed RPush of a list in a transaction: %v, %v", err, typed.Err())
	}
	if n, _ := c.Do(ctx, "LLEN", l).Int64(); n != 2 {
		t.Fatalf("the refused transaction was sent: LLEN %d", n)
	}
	var kept *Tx
	if err := c.Watch(ctx, func(tx *Tx) error { kept = tx; return nil }, l); err != nil {
		t.Fatal(err)
	}
	var late Future[int64]
	err = kept.Pipelined(ctx, func(p *Pipe) error { late = p.RPush(l, "z"); return nil })
	if !errors.Is(err, errTxDone) || !errors.Is(late.Err(), errTxDone) {
		t.Fatalf("Tx.Pipelined after Watch returned: %v, Future %v", err, late.Err())
	}
	if n, _ := c.Do(ctx, "LLEN", l).Int64(); n != 2 {
		t.Fatalf("a Tx used after Watch returned sent: LLEN %d", n)
	}
	// Futures read from many goroutines at once (run with -race).
	var gets []Future[[]string]
	if err := c.Pipelined(ctx, func(p *Pipe) error {
		for range 4 {
			gets = append(gets, p.LRange(l, 0, -1))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 8)
	for i := range 8 {
		go func() {
			vs, err := gets[i%4].Result()
			if err == nil && strings.Join(vs, ",") != "a,b" {
				err = fmt.Errorf("LRange: %v", vs)
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestReviewPipeFutureKeepsArgsAlive: a Future holds its *Pipe, which keeps every
// command's arguments (p.cmds, p.chunk) after the run: one small Future kept (an
// INCR's count, say) keeps an 8 MiB SET value of the same pipe alive, and every other
// command's reply (p.results). The arguments are needed only until the run.
func TestReviewPipeFutureKeepsArgsAlive(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k, n := "{rpipe:alive}v", "{rpipe:alive}n"
	defer c.Do(ctx, "DEL", k, n)
	big := make([]byte, 8<<20)
	w := weak.Make(&big[0])
	var f Future[int64]
	if err := c.Pipelined(ctx, func(p *Pipe) error {
		p.Set(k, big, nil)
		f = p.Incr(n)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	big = nil
	runtime.GC()
	runtime.GC()
	if w.Value() != nil {
		t.Errorf("after the run, a kept Future of an INCR keeps the pipe's 8 MiB SET value alive")
	}
	if _, err := f.Result(); err != nil {
		t.Fatal(err)
	}
	f = Future[int64]{}
	runtime.GC()
	runtime.GC()
	if w.Value() != nil {
		t.Log("the value is alive without the Future too: something else keeps it")
	} else {
		t.Log("control: without the Future the value is collected")
	}
}

// TestReviewPipeAskMidPipeline (held): during a migration of a slot, a typed pipeline
// whose commands on the slot's keys answer ASK (the keys moved to the target, or are
// missing) among refused commands and commands on other nodes: each Future gets its
// command's reply, in the caller's order per key.
func TestReviewPipeAskMidPipeline(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{})
	ctx := t.Context()
	tag := "{rpipe:ask}"
	slot := hashslot.Key(tag)
	a, b := tag+"a", tag+"b"
	other := pipeKeyNear(t, c, "rpipe:ask:other", a, false)
	c.Do(ctx, "SET", a, "1")
	c.Do(ctx, "DEL", b, other)
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
	if _, err := m.MoveKeys(ctx, 100); err != nil {
		t.Fatal(err)
	}
	var incrA, incrOther Future[int64]
	var getA, getB Future[string]
	var setB Future[struct{}]
	var refused []Future[int64]
	err = c.Pipelined(ctx, func(p *Pipe) error {
		refused = append(refused, p.LPush(a, []string{"x"}))
		incrA = p.Incr(a)
		refused = append(refused, p.LPush(b, []any{"x"}))
		incrOther = p.Incr(other)
		getA = p.Get(a)
		setB = p.Set(b, "B", nil)
		refused = append(refused, p.LPush(b, []any{"y"}))
		getB = p.Get(b)
		return nil
	})
	var list *valueListError
	if !errors.As(err, &list) {
		t.Fatalf("Pipelined: %v", err)
	}
	if n, err := incrA.Result(); n != 2 || err != nil {
		t.Errorf("INCR of a moved key (ASK): %d, %v", n, err)
	}
	if v, err := getA.Result(); v != "2" || err != nil {
		t.Errorf("GET of a moved key (ASK) after its INCR: %q, %v", v, err)
	}
	if err := setB.Err(); err != nil {
		t.Errorf("SET of a missing key (ASK): %v", err)
	}
	if v, err := getB.Result(); v != "B" || err != nil {
		t.Errorf("GET after SET of a missing key (ASK): %q, %v", v, err)
	}
	if n, err := incrOther.Result(); n != 1 || err != nil {
		t.Errorf("INCR on another node: %d, %v", n, err)
	}
	for i, f := range refused {
		if !errors.As(f.Err(), &list) {
			t.Errorf("refused %d: %v", i, f.Err())
		}
	}
	c.Do(ctx, "DEL", other)
}

// TestReviewPipeLostReplies (held): replies held past the deadline (Stall) and cut
// mid-reply (ResetMidReply) on one node, in typed pipelines with refused commands:
// Pipelined returns by its deadline; the lost writes' Futures say they may have
// executed; none is sent twice; the next pipeline on the same node gets its own
// replies, not the late ones.
func TestReviewPipeLostReplies(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{CommandTimeout: 2 * time.Second})
	ctx := t.Context()
	keys := pipeKeys(t, c, "rpipe:lost:", 12)
	node := keyOwner(t, cl, c, keys[0])
	c.Do(ctx, "DEL", keys)
	var mine []string
	var other string
	for _, k := range keys {
		nd, _ := c.e.Pick(hashslot.Key(k), false)
		if nd.Addr() == node.Addr() {
			mine = append(mine, k)
		} else {
			other = k
		}
	}
	if err := node.SetFault(redistest.Stall(800 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var incrs []Future[int64]
	var otherIncr Future[int64]
	start := time.Now()
	_ = c.Pipelined(cctx, func(p *Pipe) error {
		for _, k := range mine {
			p.LPush(k, []string{"refused"})
			incrs = append(incrs, p.Incr(k))
		}
		otherIncr = p.Incr(other)
		return nil
	})
	if took := time.Since(start); took > timeout+100*time.Millisecond {
		t.Errorf("Pipelined took %v with a %v deadline", took, timeout)
	}
	for i, f := range incrs {
		if err := f.Err(); !errors.Is(err, context.DeadlineExceeded) || !MayHaveExecuted(err) {
			t.Errorf("INCR %s, reply held: %v (may have executed: %v)", mine[i], err, MayHaveExecuted(err))
		}
	}
	if n, err := otherIncr.Result(); n != 1 || err != nil {
		t.Errorf("INCR on a healthy node: %d, %v", n, err)
	}
	if err := node.SetFault(redistest.Pass); err != nil {
		t.Fatal(err)
	}
	var again []Future[int64]
	var gets []Future[string]
	if err := c.Pipelined(ctx, func(p *Pipe) error {
		for _, k := range mine {
			again = append(again, p.Incr(k))
			gets = append(gets, p.Get(k))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if n, err := again[i].Result(); n != 2 || err != nil {
			t.Errorf("INCR %s after the held one: %d, %v, want 2 (once each)", mine[i], n, err)
		}
		if v, err := gets[i].Result(); v != "2" || err != nil {
			t.Errorf("GET %s: %q, %v", mine[i], v, err)
		}
	}

	if err := node.SetFault(redistest.ResetMidReply(3)); err != nil {
		t.Fatal(err)
	}
	var cut Future[int64]
	_ = c.Pipelined(ctx, func(p *Pipe) error {
		p.Set(mine[0], []any{"refused"}, nil)
		cut = p.Incr(mine[0])
		return nil
	})
	if err := cut.Err(); err == nil || !MayHaveExecuted(err) {
		t.Errorf("INCR whose reply was cut: %v (may have executed: %v)", err, MayHaveExecuted(err))
	}
	if err := node.SetFault(redistest.Pass); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Do(ctx, "GET", mine[0]).Int64(); n != 3 || err != nil {
		t.Errorf("after a cut INCR: %s is %d, %v, want 3 (executed once, not resent)", mine[0], n, err)
	}
	c.Do(ctx, "DEL", keys)
}

// TestReviewPipeEmptyTxPipelinedDropsWatch: Tx.Pipelined with nothing queued still sends
// MULTI and EXEC (TxPipelined sends nothing); EXEC ends the WATCH, so a later
// Tx.Pipelined in the same Watch function runs even though a watched key changed in
// between: a lost update where ErrTxFailed was due. (tx.Exec with no commands does the
// same; a Pipe whose fn queues conditionally makes it likely.)
func TestReviewPipeEmptyTxPipelinedDropsWatch(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k := "{rpipe:emptytx}k"
	c.Do(ctx, "SET", k, "0")
	err := c.Watch(ctx, func(tx *Tx) error {
		if err := tx.TxPipelined(ctx, func(p *Pipe) error { return nil }); err != nil { // nothing to do yet
			return err
		}
		c.Do(ctx, "SET", k, "changed by another writer")
		return tx.TxPipelined(ctx, func(p *Pipe) error {
			p.Set(k, "mine", nil)
			return nil
		})
	}, k)
	v, _ := c.Do(ctx, "GET", k).Text()
	if !errors.Is(err, ErrTxFailed) || v != "changed by another writer" {
		t.Errorf("watched key changed before the second Tx.Pipelined: Watch returned %v, %s is %q (the other writer's update lost)", err, k, v)
	}
}

// TestReviewPipeHooksSeePipeline: Pipelined's sent commands are one "pipeline" call for
// the hooks (held); the refused ones were not counted in it, and AfterCommand's Err was
// nil when only a refused command failed, while Pipelined returned that error (fixed:
// counted, and their error seen).
func TestReviewPipeHooksSeePipeline(t *testing.T) {
	t.Parallel()
	var starts []CommandStart
	var ends []CommandEnd
	c := newTestClient(t, plain(t), Options{Hooks: Hooks{
		BeforeCommand: func(ctx context.Context, s CommandStart) context.Context { starts = append(starts, s); return ctx },
		AfterCommand:  func(_ context.Context, e CommandEnd) { ends = append(ends, e) },
	}})
	ctx := t.Context()
	starts, ends = nil, nil
	err := c.Pipelined(ctx, func(p *Pipe) error {
		p.Incr("rpipe:hooks:a")
		p.Set("rpipe:hooks:b", []string{"refused"}, nil)
		p.Incr("rpipe:hooks:c")
		return nil
	})
	if len(starts) != 1 || starts[0].Name != "pipeline" || starts[0].Commands != 3 || len(ends) != 1 {
		t.Fatalf("hooks: %+v, %+v", starts, ends)
	}
	if err != nil && ends[0].Err == nil {
		t.Errorf("Pipelined returned %v; AfterCommand saw Err nil", err)
	}
	c.Do(ctx, "DEL", "rpipe:hooks:a", "rpipe:hooks:c")
}

// TestReviewPipeNoGoroutineLeak (held): typed pipelines and transactions that end every
// way — a blocking barrier cut by the deadline, a hung node, a transaction, a refused
// one, fn's error — leave no goroutine once the client is closed. Not parallel: it
// counts goroutines.
func TestReviewPipeNoGoroutineLeak(t *testing.T) {
	cl := plain(t)
	probe := newTestClient(t, cl, Options{})
	hk := "rpipe:leak:hung"
	hung := keyOwner(t, cl, probe, hk)
	list := pipeKeyNear(t, probe, "rpipe:leak:l", hk, false)
	probe.Do(t.Context(), "DEL", list, "{rpipe:leak}n")
	probe.DBSize(t.Context()) // every primary dialed before the count
	probe.Close()
	redistest.NoGoroutineLeak(t)
	c := newTestClient(t, cl, Options{CommandTimeout: time.Second})
	ctx := t.Context()
	if err := hung.SetFault(redistest.Hang); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		cctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		_ = c.Pipelined(cctx, func(p *Pipe) error {
			p.Set(hk, "v", nil)
			p.BLPop(5*time.Second, list)
			p.LPush(list, []string{"refused"})
			p.Get(list)
			return nil
		})
		_, _ = c.TxPipelined(cctx, func(p *TxPipe) error { p.Incr("{rpipe:leak}n"); return nil })
		_, _ = c.TxPipelined(cctx, func(p *TxPipe) error { p.Incr(hk); return nil })
		_, _ = c.TxPipelined(cctx, func(p *TxPipe) error { p.Incr("{rpipe:leak}n"); return errors.New("mine") })
		cancel()
	}
	if err := hung.SetFault(redistest.Pass); err != nil {
		t.Fatal(err)
	}
	c.Do(ctx, "DEL", "{rpipe:leak}n")
	c.Close()
}

// TestReviewPipeDeadlineDialFaults (held): a fresh client whose pipeline needs new
// connections to a blackholed (connect hangs) or slow node — shared for the plain
// commands, dedicated for a blocking barrier and a transaction — returns by the
// deadline each time.
func TestReviewPipeDeadlineDialFaults(t *testing.T) {
	cl := plain(t)
	probe := newTestClient(t, cl, Options{})
	hk := "rpipe:dial:x"
	node := keyOwner(t, cl, probe, hk)
	other := pipeKeyNear(t, probe, "rpipe:dial:o", hk, false)
	for _, mode := range []redistest.Mode{redistest.Blackhole, redistest.Slow(2 * time.Second), redistest.Hang} {
		c := newTestClient(t, cl, Options{CommandTimeout: 5 * time.Second})
		if err := node.SetFault(mode); err != nil {
			t.Fatal(err)
		}
		const timeout = 300 * time.Millisecond
		for _, tx := range []bool{false, true} {
			cctx, cancel := context.WithTimeout(t.Context(), timeout)
			start := time.Now()
			var ok Future[struct{}]
			if tx {
				_, _ = c.TxPipelined(cctx, func(p *TxPipe) error { p.Incr(hk); return nil })
			} else {
				_ = c.Pipelined(cctx, func(p *Pipe) error {
					ok = p.Set(other, "v", nil)
					p.Set(hk, "v", nil)
					p.BLPop(5*time.Second, hk+"l")
					return nil
				})
			}
			cancel()
			if took := time.Since(start); took > timeout+100*time.Millisecond {
				t.Errorf("%v, transaction %v: took %v with a %v deadline", mode, tx, took, timeout)
			}
			if !tx && ok.Err() != nil {
				t.Errorf("%v: SET on a healthy node: %v", mode, ok.Err())
			}
		}
		if err := node.SetFault(redistest.Pass); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}
