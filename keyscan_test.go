package redline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// TestKeyScans reads a hash, a set and a sorted set big enough to be hashtable-encoded
// (so that HSCAN/SSCAN/ZSCAN take several steps) and small ones (one step), whole and
// with MATCH, on a real cluster over RESP2 and RESP3.
func TestKeyScans(t *testing.T) {
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		const n = 600
		h, s, z := p+"h", p+"s", p+"z"
		fields := make(map[string]any, n)
		members := make([]string, 0, n)
		zs := make([]Z, 0, n+1)
		for i := range n {
			fields[fmt.Sprintf("f%d", i)] = fmt.Sprintf("v%d", i)
			members = append(members, fmt.Sprintf("m%d", i))
			zs = append(zs, Z{Member: fmt.Sprintf("m%d", i), Score: float64(i) + 0.5})
		}
		zs = append(zs, Z{Member: "top", Score: math.Inf(1)})
		if err := c.Do(ctx, hsetArgs(h, fields)...).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SAdd(ctx, s, anys(members)...); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ZAdd(ctx, z, nil, zs...); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Do(context.Background(), "DEL", h, s, z) })

		// HScan: every field with its value, at least once.
		got := map[string]string{}
		it := c.HScan(h, ScanOptions{Count: 50})
		steps := 0
		for it.Next(ctx) {
			got[it.Field()] = it.Value()
			steps++
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("HScan: %d fields, want %d", len(got), n)
		}
		for f, v := range fields {
			if got[f] != v {
				t.Fatalf("HScan: %s = %q, want %q", f, got[f], v)
			}
		}
		if it.s.cursor != "0" || !it.s.done {
			t.Fatalf("HScan ended with cursor %q", it.s.cursor)
		}

		// With MATCH: only the matching fields, all of them.
		got = map[string]string{}
		it = c.HScan(h, ScanOptions{Match: "f1?", Count: 100})
		for it.Next(ctx) {
			got[it.Field()] = it.Value()
		}
		if err := it.Err(); err != nil || len(got) != 10 || got["f17"] != "v17" {
			t.Fatalf("HScan MATCH f1?: %v %v", got, err)
		}

		// SScan.
		seen := map[string]bool{}
		si := c.SScan(s, ScanOptions{Count: 40})
		for si.Next(ctx) {
			seen[si.Member()] = true
		}
		if err := si.Err(); err != nil || len(seen) != n || !seen["m599"] {
			t.Fatalf("SScan: %d members, %v", len(seen), err)
		}

		// ZScan: member and score, +inf included.
		scores := map[string]float64{}
		zi := c.ZScan(z, ScanOptions{Match: "*"})
		for zi.Next(ctx) {
			if zi.Z() != (Z{Member: zi.Member(), Score: zi.Score()}) {
				t.Fatalf("ZScan: Z() %v, Member %q, Score %v", zi.Z(), zi.Member(), zi.Score())
			}
			scores[zi.Member()] = zi.Score()
		}
		if err := zi.Err(); err != nil || len(scores) != n+1 {
			t.Fatalf("ZScan: %d members, %v", len(scores), err)
		}
		if scores["m7"] != 7.5 || !math.IsInf(scores["top"], 1) {
			t.Fatalf("ZScan: m7 %v, top %v", scores["m7"], scores["top"])
		}

		// A small set, read in one step; a missing key, none.
		small := p + "small"
		if _, err := c.SAdd(ctx, small, "a", "b"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Do(context.Background(), "DEL", small) })
		si = c.SScan(small, ScanOptions{})
		k := 0
		for si.Next(ctx) {
			k++
		}
		if k != 2 || si.Err() != nil {
			t.Fatalf("SScan of a small set: %d members, %v", k, si.Err())
		}
		zi = c.ZScan(p+"missing", ScanOptions{})
		if zi.Next(ctx) || zi.Err() != nil {
			t.Fatalf("ZScan of a missing key: %v", zi.Err())
		}

		// A key of another type: WRONGTYPE, as Err.
		hi := c.HScan(s, ScanOptions{})
		var re *RedisError
		if hi.Next(ctx) || !errors.As(hi.Err(), &re) || re.Code != "WRONGTYPE" {
			t.Fatalf("HScan of a set: %v", hi.Err())
		}
	})
}

func hsetArgs(key string, fields map[string]any) []any {
	args := []any{"HSET", key}
	for f, v := range fields {
		args = append(args, f, v)
	}
	return args
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// TestKeyScanRestartsOnAnotherNode: a step answered by another node than the previous
// one (as after a failover) drops that reply and starts over from cursor 0, so that no
// field is lost; the fields read before may come again.
func TestKeyScanRestartsOnAnotherNode(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	h := "keyscan:{restart}"
	fields := map[string]any{}
	for i := range 700 { // more than hash-max-listpack-entries (512): a hashtable
		fields[fmt.Sprintf("f%d", i)] = i
	}
	if err := c.Do(ctx, hsetArgs(h, fields)...).Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Do(context.Background(), "DEL", h) })
	it := c.HScan(h, ScanOptions{Count: 20})
	got := map[string]int{}
	for i := 0; it.Next(ctx); i++ {
		got[it.Field()]++
		if i == 30 {
			if it.s.cursor == "0" {
				t.Fatal("the scan ended after one step: no cursor to restart from")
			}
			it.s.node = nil // as if the steps so far were another node's
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if it.Restarts() != 1 {
		t.Fatalf("Restarts %d, want 1", it.Restarts())
	}
	if len(got) != len(fields) {
		t.Fatalf("%d fields after a restart, want %d", len(got), len(fields))
	}
	again := 0
	for _, k := range got {
		if k > 1 {
			again++
		}
	}
	if again == 0 {
		t.Fatal("no field returned twice: did the scan really start over?")
	}
}

// TestKeyScanBadInputAndDeadline: options that do not apply fail clearly, before
// anything is sent; a step whose context has ended returns at once.
func TestKeyScanBadInputAndDeadline(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	it := c.HScan("k", ScanOptions{Type: "hash"})
	if it.Next(t.Context()) || it.Err() == nil || !strings.Contains(it.Err().Error(), "Type") {
		t.Fatalf("HScan with Type: %v", it.Err())
	}
	si := c.SScan("k", ScanOptions{Count: -1})
	if si.Next(t.Context()) || si.Err() == nil {
		t.Fatalf("SScan with Count -1: %v", si.Err())
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	start := time.Now()
	zi := c.ZScan("k", ScanOptions{})
	if zi.Next(ctx) || zi.Err() == nil {
		t.Fatalf("ZScan after the deadline: %v", zi.Err())
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("ZScan after the deadline took %v", d)
	}
}

// TestHScanFollowsMigratedKey: the hash's slot migrates to another master mid-scan; the
// scan goes on there, from cursor 0 (the old node's cursor means nothing on the new
// one), and returns every field.
func TestHScanFollowsMigratedKey(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 2, NoProxy: true})
	c := newTestClient(t, cl, Options{})
	ctx := t.Context()
	h := "keyscan:{migrate}"
	fields := map[string]any{}
	for i := range 700 { // more than hash-max-listpack-entries (512): a hashtable
		fields[fmt.Sprintf("f%d", i)] = i
	}
	if err := c.Do(ctx, hsetArgs(h, fields)...).Err(); err != nil {
		t.Fatal(err)
	}
	slot := hashslot.Key(h)
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := topo.Owner(slot).Node
	dst := topo.OtherMaster(src)
	it := c.HScan(h, ScanOptions{Count: 20})
	got := map[string]int{}
	for i := 0; it.Next(ctx); i++ {
		got[it.Field()]++
		if i == 30 {
			if err := cl.MigrateSlot(ctx, slot, dst); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(fields) {
		t.Fatalf("%d fields across the migration, want %d", len(got), len(fields))
	}
	if it.Restarts() != 1 {
		t.Fatalf("Restarts %d across one migration, want 1", it.Restarts())
	}
	if it.s.node.Addr() != dst.Addr() {
		t.Fatalf("the scan ended on %s, want the new owner %s", it.s.node.Addr(), dst.Addr())
	}
}

// TestKeyScanHooks: each step of an HScan is a command to the hooks, with the node that
// answered and the key's slot.
func TestKeyScanHooks(t *testing.T) {
	if !hooksBuilt {
		t.Skip("hooks compiled out")
	}
	t.Parallel()
	l := newHookLog()
	c := newTestClient(t, plain(t), Options{Hooks: l.hooks()})
	ctx := t.Context()
	h := "keyscan:{hooks}"
	if err := c.Do(ctx, "HSET", h, "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Do(context.Background(), "DEL", h) })
	it := c.HScan(h, ScanOptions{})
	for it.Next(ctx) {
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	end := l.lastEnd(t)
	if end.Name != "hscan" || end.Slot != int(hashslot.Key(h)) || end.Node != it.s.node.Addr() || end.Err != nil {
		t.Fatalf("AfterCommand of an HScan step: %+v (scan node %s)", end, it.s.node.Addr())
	}
}
