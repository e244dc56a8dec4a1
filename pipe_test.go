package redline

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// TestPipeFuturesBeforeRun: a Future read before its pipe ran, a zero Future and a
// command refused when queued each say so; the arena keeps each command's arguments to
// itself.
func TestPipeFuturesBeforeRun(t *testing.T) {
	t.Parallel()
	var p Pipe
	get := p.Get("k")
	if _, err := get.Result(); !errors.Is(err, errNotRun) {
		t.Fatalf("before the run: %v, want errNotRun", err)
	}
	var zero Future[string]
	if err := zero.Err(); err == nil {
		t.Fatal("zero Future: no error")
	}
	bad := p.Set("k", []string{"v", "NX"}, nil)
	var list *valueListError
	if err := bad.Err(); !errors.As(err, &list) {
		t.Fatalf("a list as Set's value: %v, want a *valueListError", err)
	}
	empty := p.Do()
	if err := empty.Err(); err == nil {
		t.Fatal("Do(): no error")
	}
	p.HSet("h", map[string]any{"f": 1})
	p.Do("SET", "a", []string{"b", "c"}) // Do flattens: not refused
	if p.Len() != 5 {
		t.Fatalf("Len %d, want 5", p.Len())
	}
	cmds, idx := p.commands()
	want := [][]any{{"GET", "k"}, {"HSET", "h", "f", 1}, {"SET", "a", []string{"b", "c"}}}
	if len(cmds) != len(want) || fmt.Sprint(idx) != "[0 3 4]" {
		t.Fatalf("commands %v, idx %v", cmds, idx)
	}
	for i, c := range cmds {
		if fmt.Sprint(c.args) != fmt.Sprint(want[i]) || cap(c.args) != len(c.args) {
			t.Fatalf("command %d: %v (cap %d), want %v", i, c.args, cap(c.args), want[i])
		}
	}
}

// pipeKeys returns n keys with prefix, spread over every primary of c.
func pipeKeys(t *testing.T, c *Client, prefix string, n int) []string {
	t.Helper()
	keys := make([]string, n)
	nodes := map[string]bool{}
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%d", prefix, i)
		nd, err := c.e.Pick(hashslot.Key(keys[i]), false)
		if err != nil {
			t.Fatal(err)
		}
		nodes[nd.Addr()] = true
	}
	if len(nodes) < 2 {
		t.Fatalf("keys on %d nodes", len(nodes))
	}
	return keys
}

// TestPipelinedTyped: a typed pipeline across slots and nodes returns each command's
// decoded reply in its Future, in the caller's order per key, with the reply kinds of
// the Client methods (int, string, bool, map, list, scored members, a struct, a split
// MGET, a null as Nil).
func TestPipelinedTyped(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	keys := pipeKeys(t, c, "pipe:typed:", 12)
	if err := c.Pipelined(ctx, func(p *Pipe) error {
		p.Del(keys...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var (
		incr    []Future[int64]
		gets    []Future[string]
		set     Future[struct{}]
		setnx   Future[bool]
		hset    Future[int64]
		hgetall Future[map[string]string]
		zadd    Future[int64]
		zrange  Future[[]Z]
		lpush   Future[int64]
		blpop   Future[KeyValue]
		mget    Future[[]*string]
		missing Future[string]
		expire  Future[bool]
		ttl     Future[time.Duration]
	)
	err := c.Pipelined(ctx, func(p *Pipe) error {
		for _, k := range keys[:6] {
			incr = append(incr, p.IncrBy(k, 2))
			gets = append(gets, p.Get(k))
		}
		set = p.Set(keys[6], "v6", nil)
		setnx = p.SetNX(keys[6], "again")
		hset = p.HSet(keys[7], map[string]any{"a": 1, "b": "two"})
		hgetall = p.HGetAll(keys[7])
		zadd = p.ZAdd(keys[8], nil, Z{Score: 2, Member: "b"}, Z{Score: 1, Member: "a"})
		zrange = p.ZRangeWithScores(keys[8], 0, -1, nil)
		lpush = p.LPush(keys[9], "x", "y")
		blpop = p.BLPop(time.Second, keys[9])
		mget = p.MGet(keys[0], keys[11], keys[6])
		missing = p.Get(keys[11])
		expire = p.Expire(keys[6], 1500*time.Millisecond)
		ttl = p.PTTL(keys[6])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range incr {
		if n, err := incr[i].Result(); n != 2 || err != nil {
			t.Fatalf("IncrBy %d: %d, %v", i, n, err)
		}
		if v, err := gets[i].Result(); v != "2" || err != nil {
			t.Fatalf("Get %d: %q, %v", i, v, err)
		}
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	if ok, err := setnx.Result(); ok || err != nil {
		t.Fatalf("SetNX on an existing key: %v, %v", ok, err)
	}
	if n, err := hset.Result(); n != 2 || err != nil {
		t.Fatalf("HSet: %d, %v", n, err)
	}
	if m, err := hgetall.Result(); err != nil || m["a"] != "1" || m["b"] != "two" || len(m) != 2 {
		t.Fatalf("HGetAll: %v, %v", m, err)
	}
	if n, err := zadd.Result(); n != 2 || err != nil {
		t.Fatalf("ZAdd: %d, %v", n, err)
	}
	if zs, err := zrange.Result(); err != nil || fmt.Sprint(zs) != "[{1 a} {2 b}]" {
		t.Fatalf("ZRangeWithScores: %v, %v", zs, err)
	}
	if n, err := lpush.Result(); n != 2 || err != nil {
		t.Fatalf("LPush: %d, %v", n, err)
	}
	if kv, err := blpop.Result(); err != nil || kv != (KeyValue{Key: keys[9], Value: "y"}) {
		t.Fatalf("BLPop: %+v, %v", kv, err)
	}
	if vs, err := mget.Result(); err != nil || len(vs) != 3 || vs[0] == nil || *vs[0] != "2" || vs[1] != nil || vs[2] == nil || *vs[2] != "v6" {
		t.Fatalf("MGet: %v, %v", vs, err)
	}
	if _, err := missing.Result(); !errors.Is(err, Nil) {
		t.Fatalf("Get of a missing key: %v, want Nil", err)
	}
	if !missing.Raw().IsNil() {
		t.Fatal("Raw of a missing key is not a null")
	}
	if ok, err := expire.Result(); !ok || err != nil {
		t.Fatalf("Expire: %v, %v", ok, err)
	}
	if d, err := ttl.Result(); err != nil || d <= 0 || d > 1500*time.Millisecond {
		t.Fatalf("PTTL: %v, %v", d, err)
	}
}

// TestPipelinedReportsFirstError: Pipelined returns the first failed command's error
// (a Nil reply is not one), each Future its own; a command refused when queued is not
// sent and the others run.
func TestPipelinedReportsFirstError(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	keys := pipeKeys(t, c, "pipe:err:", 4)
	c.Do(ctx, "DEL", keys[0], keys[1])
	var nilGet, wrong, after Future[string]
	var refused Future[struct{}]
	var incr Future[int64]
	err := c.Pipelined(ctx, func(p *Pipe) error {
		nilGet = p.Get(keys[0])
		refused = p.Set(keys[1], []any{"x"}, nil)
		p.HSet(keys[2], map[string]any{"f": "v"})
		wrong = p.Get(keys[2]) // WRONGTYPE
		incr = p.Incr(keys[3])
		after = p.Get(keys[1])
		return nil
	})
	var list *valueListError
	if !errors.As(err, &list) {
		t.Fatalf("Pipelined: %v, want the refused command's error first", err)
	}
	if !errors.Is(nilGet.Err(), Nil) || !errors.As(refused.Err(), &list) {
		t.Fatalf("Futures: %v, %v", nilGet.Err(), refused.Err())
	}
	if err := wrong.Err(); err == nil {
		t.Fatal("GET of a hash: no error")
	}
	if _, err := incr.Result(); err != nil {
		t.Fatal(err)
	}
	if _, err := after.Result(); !errors.Is(err, Nil) {
		t.Fatalf("the refused SET was sent: GET after it: %v", err)
	}
	fnErr := errors.New("mine")
	if err := c.Pipelined(ctx, func(p *Pipe) error { p.Incr(keys[3]); return fnErr }); err != fnErr {
		t.Fatalf("fn's error: %v", err)
	}
	if n, _ := c.Do(ctx, "GET", keys[3]).Int64(); n != 1 {
		t.Fatalf("a pipeline whose fn failed was sent: %d", n)
	}
}

// TestPipelinedFollowsMoved: a typed pipeline sent to the wrong node follows MOVED in the
// caller's order; each Future gets its command's reply.
func TestPipelinedFollowsMoved(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k, other := twoSlotKeys(t, c, "pipe:mv:")
	wrong, _ := c.e.Pick(hashslot.Key(other), false)
	c.Do(ctx, "DEL", k)
	c.e.ApplyMoved(hashslot.Key(k), wrong.Addr())
	var incrs []Future[int64]
	var gets []Future[Result]
	err := c.Pipelined(ctx, func(p *Pipe) error {
		for range 20 {
			incrs = append(incrs, p.Incr(k))
			gets = append(gets, p.Do("GET", k))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range incrs {
		if n, err := incrs[i].Result(); n != int64(i+1) || err != nil {
			t.Fatalf("INCR %d: %d, %v", i, n, err)
		}
		if n, err := gets[i].Raw().Int64(); n != int64(i+1) || err != nil {
			t.Fatalf("GET after INCR %d: %d, %v", i, n, err)
		}
	}
}

// TestPipelinedDeadlineFaultyNode: a typed pipeline with commands on a hung node returns
// by its deadline; the commands on healthy nodes have their replies, those on the hung
// node a deadline error naming it.
func TestPipelinedDeadlineFaultyNode(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{CommandTimeout: 2 * time.Second})
	ctx := t.Context()
	keys := pipeKeys(t, c, "pipe:hung:", 9)
	hung := keyOwner(t, cl, c, keys[0])
	if err := hung.SetFault(redistest.Hang); err != nil {
		t.Fatal(err)
	}
	var sets []Future[struct{}]
	var onHung []bool
	const timeout = 300 * time.Millisecond
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	_ = c.Pipelined(cctx, func(p *Pipe) error {
		for _, k := range keys {
			nd, _ := c.e.Pick(hashslot.Key(k), false)
			onHung = append(onHung, nd.Addr() == hung.Addr())
			sets = append(sets, p.Set(k, "v", nil))
		}
		return nil
	})
	if took := time.Since(start); took > timeout+100*time.Millisecond {
		t.Fatalf("Pipelined took %v with a %v deadline", took, timeout)
	}
	healthy := 0
	for i, f := range sets {
		err := f.Err()
		switch {
		case onHung[i] && !errors.Is(err, context.DeadlineExceeded):
			t.Fatalf("SET %s on the hung node: %v, want a deadline error", keys[i], err)
		case !onHung[i] && err != nil:
			t.Fatalf("SET %s on a healthy node: %v", keys[i], err)
		case !onHung[i]:
			healthy++
		}
	}
	if healthy == 0 {
		t.Fatal("no key on a healthy node")
	}
}

// TestTxPipelinedTyped: typed commands in TxPipelined run in one MULTI/EXEC and their
// Futures hold the decoded replies; a list given as a value fails the transaction,
// nothing sent, every Future reporting it.
func TestTxPipelinedTyped(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k1, k2 := "{pipe:tx}a", "{pipe:tx}b"
	c.Do(ctx, "DEL", k1, k2)
	var incr Future[int64]
	var get Future[string]
	var hset Future[int64]
	var hget Future[map[string]string]
	rs, err := c.TxPipelined(ctx, func(p *TxPipe) error {
		incr = p.IncrBy(k1, 5)
		get = p.Get(k1)
		hset = p.HSet(k2, map[string]any{"f": "v"})
		hget = p.HGetAll(k2)
		return nil
	})
	if err != nil || len(rs) != 4 {
		t.Fatalf("TxPipelined: %d results, %v", len(rs), err)
	}
	if n, err := incr.Result(); n != 5 || err != nil {
		t.Fatalf("IncrBy: %d, %v", n, err)
	}
	if v, err := get.Result(); v != "5" || err != nil {
		t.Fatalf("Get: %q, %v", v, err)
	}
	if n, err := hset.Result(); n != 1 || err != nil {
		t.Fatalf("HSet: %d, %v", n, err)
	}
	if m, err := hget.Result(); m["f"] != "v" || err != nil {
		t.Fatalf("HGetAll: %v, %v", m, err)
	}

	var before Future[int64]
	_, err = c.TxPipelined(ctx, func(p *TxPipe) error {
		before = p.Incr(k1)
		p.Set(k2, []string{"x"}, nil)
		return nil
	})
	var list *valueListError
	if !errors.As(err, &list) || !errors.As(before.Err(), &list) {
		t.Fatalf("a refused command: %v; the other's Future: %v", err, before.Err())
	}
	if n, _ := c.Do(ctx, "GET", k1).Int64(); n != 5 {
		t.Fatalf("the refused transaction ran: %s is %d", k1, n)
	}

	// Cross-slot: refused, nothing sent, the Futures say why.
	var cross Future[int64]
	_, err = c.TxPipelined(ctx, func(p *TxPipe) error {
		cross = p.Incr(k1)
		p.Incr("pipe:tx:elsewhere")
		return nil
	})
	var cs *CrossSlotError
	if !errors.As(err, &cs) || !errors.As(cross.Err(), &cs) {
		t.Fatalf("cross-slot transaction: %v; Future: %v", err, cross.Err())
	}
}

// TestTxPipelinedTypedFollowsMoved: a typed transaction sent to the wrong node (MOVED
// while queuing, nothing ran) is followed once and its Futures hold the replies.
func TestTxPipelinedTypedFollowsMoved(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k, other := twoSlotKeys(t, c, "pipe:txmv:")
	wrong, _ := c.e.Pick(hashslot.Key(other), false)
	c.Do(ctx, "DEL", k)
	c.e.ApplyMoved(hashslot.Key(k), wrong.Addr())
	var incr Future[int64]
	var get Future[string]
	if _, err := c.TxPipelined(ctx, func(p *TxPipe) error {
		incr = p.Incr(k)
		get = p.Get(k)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := incr.Result(); n != 1 || err != nil {
		t.Fatalf("Incr: %d, %v", n, err)
	}
	if v, err := get.Result(); v != "1" || err != nil {
		t.Fatalf("Get: %q, %v", v, err)
	}
}

// TestWatchPipelined: under Watch, Tx.Pipelined reads typed at once on the
// transaction's connection and Tx.TxPipelined runs typed commands as the watched
// transaction; when a watched key changed, TxPipelined returns ErrTxFailed and every
// Future reports it. Commands Do refuses are refused in Pipelined too, nothing sent.
func TestWatchPipelined(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k, k2 := "{pipe:watch}k", "{pipe:watch}h"
	c.Do(ctx, "SET", k, "10")
	c.Do(ctx, "DEL", k2)
	c.Do(ctx, "HSET", k2, "f", "v")
	var incr Future[int64]
	err := c.Watch(ctx, func(tx *Tx) error {
		var get Future[string]
		var h Future[map[string]string]
		if err := tx.Pipelined(ctx, func(p *Pipe) error {
			get = p.Get(k)
			h = p.HGetAll(k2)
			return nil
		}); err != nil {
			return err
		}
		if m, err := h.Result(); err != nil || m["f"] != "v" {
			t.Errorf("HGetAll under WATCH: %v, %v", m, err)
		}
		v, err := get.Result()
		if err != nil {
			return err
		}
		var n int64
		fmt.Sscan(v, &n)
		return tx.TxPipelined(ctx, func(p *Pipe) error {
			incr = p.IncrBy(k, n)
			return nil
		})
	}, k)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := incr.Result(); n != 20 || err != nil {
		t.Fatalf("IncrBy: %d, %v", n, err)
	}
	err = c.Watch(ctx, func(tx *Tx) error {
		c.Do(ctx, "SET", k, "changed") // another writer
		return tx.TxPipelined(ctx, func(p *Pipe) error {
			incr = p.Incr(k)
			return nil
		})
	}, k)
	if !errors.Is(err, ErrTxFailed) || !errors.Is(incr.Err(), ErrTxFailed) {
		t.Fatalf("watched key changed: %v; Future: %v", err, incr.Err())
	}
	err = c.Watch(ctx, func(tx *Tx) error {
		var get Future[string]
		err := tx.Pipelined(ctx, func(p *Pipe) error {
			get = p.Get(k)
			p.Do("MULTI")
			return nil
		})
		var cs *ConnStateError
		if !errors.As(err, &cs) || !errors.As(get.Err(), &cs) {
			t.Errorf("MULTI in Tx.Pipelined: %v; the GET's Future: %v", err, get.Err())
		}
		err = tx.Pipelined(ctx, func(p *Pipe) error {
			get = p.Get("pipe:watch:elsewhere")
			return nil
		})
		var xs *CrossSlotError
		if !errors.As(err, &xs) {
			t.Errorf("another slot in Tx.Pipelined: %v", err)
		}
		return nil
	}, k)
	if err != nil {
		t.Fatal(err)
	}
}
