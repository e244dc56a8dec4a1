package redline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/testkit"
)

// Integration tests of the typed command methods (commands_gen.go): at least one real
// round trip per method group, on the shared cluster, with keys of their own. The
// groups whose replies differ between RESP2 and RESP3 run with both.

// forProtocols runs fn against a RESP3 and a RESP2 client, in parallel, each with a key
// prefix of its own carrying a hash tag (keys made from it share a slot).
func forProtocols(t *testing.T, fn func(t *testing.T, c *Client, prefix string)) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			t.Parallel()
			// Named, so that a test can see its blocking calls wait on the server.
			c := newTestClient(t, plain(t), Options{Protocol: proto, ClientName: clientName(t)})
			fn(t, c, fmt.Sprintf("typed:{%s}:", t.Name()))
		})
	}
}

// clientName is the client name forProtocols gives t's client: its name without the
// characters a client name may not hold.
func clientName(t *testing.T) string {
	return strings.NewReplacer(" ", "_", "\n", "_").Replace(t.Name())
}

// check fails the test at once on an error.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eq fails the test at once when got (with err) is not want.
func eq[T comparable](t *testing.T, what string, got T, err error, want T) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// isNil fails the test unless err is Nil.
func isNil(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, Nil) {
		t.Fatalf("%s: got %v, want redline.Nil", what, err)
	}
}

// isCrossSlot fails the test unless err is a *CrossSlotError.
func isCrossSlot(t *testing.T, what string, err error) {
	t.Helper()
	var ce *CrossSlotError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: got %v, want *CrossSlotError", what, err)
	}
}

// otherSlot returns a key in another slot than key.
func otherSlot(key string) string {
	for i := 0; ; i++ {
		k := fmt.Sprintf("typed:other:%d", i)
		if hashslot.Key(k) != hashslot.Key(key) {
			return k
		}
	}
}

func TestTypedStrings(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		k := p + "s"
		c.Del(ctx, k)
		_, err := c.Get(ctx, k)
		isNil(t, "Get of a missing key", err)
		check(t, c.Set(ctx, k, "v1", nil))
		v, err := c.Get(ctx, k)
		eq(t, "Get", v, err, "v1")
		isNil(t, "Set NX on an existing key", c.Set(ctx, k, "v2", &SetOptions{NX: true}))
		isNil(t, "Set XX on a missing key", c.Set(ctx, p+"missing", "v", &SetOptions{XX: true}))
		old, err := c.SetGet(ctx, k, "v2", nil)
		eq(t, "SetGet", old, err, "v1")
		_, err = c.SetGet(ctx, p+"fresh", "v", nil)
		isNil(t, "SetGet of a new key", err)

		// A TTL that is not whole seconds goes as PX; whole seconds as EX.
		check(t, c.Set(ctx, k, "v3", &SetOptions{TTL: 1500 * time.Millisecond}))
		if d, err := c.PTTL(ctx, k); err != nil || d <= 1000*time.Millisecond || d > 1500*time.Millisecond {
			t.Fatalf("PTTL after Set with TTL 1.5s: %v %v", d, err)
		}
		check(t, c.Set(ctx, k, "v4", &SetOptions{TTL: 100 * time.Second}))
		check(t, c.Set(ctx, k, "v5", &SetOptions{KeepTTL: true}))
		if d, err := c.TTL(ctx, k); err != nil || d < 90*time.Second || d > 100*time.Second {
			t.Fatalf("TTL after Set with TTL 100s and KeepTTL: %v %v", d, err)
		}
		at := time.Now().Add(time.Hour).Truncate(time.Second)
		check(t, c.Set(ctx, k, "v6", &SetOptions{ExpireAt: at}))
		if d, err := c.TTL(ctx, k); err != nil || d < 3590*time.Second || d > time.Hour {
			t.Fatalf("TTL after Set with ExpireAt: %v %v", d, err)
		}

		v, err = c.GetEx(ctx, k, &GetExOptions{Persist: true})
		eq(t, "GetEx PERSIST", v, err, "v6")
		d, err := c.TTL(ctx, k)
		eq(t, "TTL after GetEx PERSIST", d, err, NoExpiry)
		v, err = c.GetEx(ctx, k, &GetExOptions{TTL: 2500 * time.Millisecond})
		eq(t, "GetEx PX", v, err, "v6")
		if d, err := c.PTTL(ctx, k); err != nil || d <= 2*time.Second || d > 2500*time.Millisecond {
			t.Fatalf("PTTL after GetEx with TTL 2.5s: %v %v", d, err)
		}
		v, err = c.GetDel(ctx, k)
		eq(t, "GetDel", v, err, "v6")
		_, err = c.GetDel(ctx, k)
		isNil(t, "GetDel of a deleted key", err)

		n := p + "n"
		c.Del(ctx, n)
		i, err := c.Incr(ctx, n)
		eq(t, "Incr", i, err, 1)
		i, err = c.IncrBy(ctx, n, 10)
		eq(t, "IncrBy", i, err, 11)
		i, err = c.Decr(ctx, n)
		eq(t, "Decr", i, err, 10)
		i, err = c.DecrBy(ctx, n, 4)
		eq(t, "DecrBy", i, err, 6)
		f, err := c.IncrByFloat(ctx, n, 0.5)
		eq(t, "IncrByFloat", f, err, 6.5)

		s := p + "text"
		c.Del(ctx, s)
		i, err = c.Append(ctx, s, "Hello")
		eq(t, "Append", i, err, 5)
		i, err = c.Append(ctx, s, []byte(" World"))
		eq(t, "Append []byte", i, err, 11)
		i, err = c.StrLen(ctx, s)
		eq(t, "StrLen", i, err, 11)
		v, err = c.GetRange(ctx, s, 0, 4)
		eq(t, "GetRange", v, err, "Hello")
		i, err = c.SetRange(ctx, s, 6, "Redis")
		eq(t, "SetRange", i, err, 11)
		v, err = c.Get(ctx, s)
		eq(t, "Get after SetRange", v, err, "Hello Redis")

		// MSet and MGet across slots: split by the client. Values of every type the
		// codec takes, including those the split path needs converted.
		untagged := strings.NewReplacer("{", "", "}", "").Replace(p)
		a, b := untagged+"a", untagged+"b"
		for hashslot.Key(a) == hashslot.Key(b) {
			b += "x"
		}
		check(t, c.MSet(ctx, map[string]any{a: "x", b: 42, p + "f32": float32(0.1), p + "bool": true, p + "i8": int8(-3)}))
		m, err := c.MGetMap(ctx, a, p+"nothing", b, p+"f32", p+"bool", p+"i8")
		check(t, err)
		want := map[string]string{a: "x", b: "42", p + "f32": "0.1", p + "bool": "1", p + "i8": "-3"}
		if fmt.Sprint(m) != fmt.Sprint(want) {
			t.Fatalf("MGet = %v, want %v", m, want)
		}
	})
}

func TestTypedKeys(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	p := "typed:{keys}:"
	k, k2 := p+"a", p+"b"
	c.Del(ctx, k, k2, p+"copy")
	_, err := c.TTL(ctx, k)
	isNil(t, "TTL of a missing key", err)
	_, err = c.PTTL(ctx, k)
	isNil(t, "PTTL of a missing key", err)
	ok, err := c.Expire(ctx, k, time.Minute)
	eq(t, "Expire of a missing key", ok, err, false)

	check(t, c.Set(ctx, k, "v", nil))
	d, err := c.TTL(ctx, k)
	eq(t, "TTL without expiry", d, err, NoExpiry)
	d, err = c.PTTL(ctx, k)
	eq(t, "PTTL without expiry", d, err, NoExpiry)
	ok, err = c.Expire(ctx, k, 100*time.Second)
	eq(t, "Expire", ok, err, true)
	if d, err := c.TTL(ctx, k); err != nil || d < 99*time.Second || d > 100*time.Second {
		t.Fatalf("TTL after Expire 100s: %v %v", d, err)
	}
	ok, err = c.Expire(ctx, k, 2500*time.Millisecond) // PEXPIRE
	eq(t, "Expire 2.5s", ok, err, true)
	if d, err := c.PTTL(ctx, k); err != nil || d <= 2*time.Second || d > 2500*time.Millisecond {
		t.Fatalf("PTTL after Expire 2.5s: %v %v", d, err)
	}
	ok, err = c.PExpire(ctx, k, 3700*time.Millisecond)
	eq(t, "PExpire", ok, err, true)
	if d, err := c.PTTL(ctx, k); err != nil || d <= 3*time.Second || d > 3700*time.Millisecond {
		t.Fatalf("PTTL after PExpire 3.7s: %v %v", d, err)
	}
	ok, err = c.ExpireAt(ctx, k, time.Now().Add(time.Hour).Truncate(time.Second))
	eq(t, "ExpireAt", ok, err, true)
	if d, err := c.TTL(ctx, k); err != nil || d < 3590*time.Second || d > time.Hour {
		t.Fatalf("TTL after ExpireAt in an hour: %v %v", d, err)
	}
	ok, err = c.ExpireAt(ctx, k, time.Now().Add(5*time.Second+300*time.Millisecond)) // PEXPIREAT
	eq(t, "ExpireAt (ms)", ok, err, true)
	if d, err := c.PTTL(ctx, k); err != nil || d <= 4*time.Second || d > 5300*time.Millisecond {
		t.Fatalf("PTTL after ExpireAt in 5.3s: %v %v", d, err)
	}
	ok, err = c.Persist(ctx, k)
	eq(t, "Persist", ok, err, true)
	ok, err = c.Persist(ctx, k)
	eq(t, "Persist without expiry", ok, err, false)

	typ, err := c.Type(ctx, k)
	eq(t, "Type", typ, err, "string")
	typ, err = c.Type(ctx, p+"none")
	eq(t, "Type of a missing key", typ, err, "none")

	check(t, c.Rename(ctx, k, k2))
	ok, err = c.RenameNX(ctx, k2, k)
	eq(t, "RenameNX", ok, err, true)
	check(t, c.Set(ctx, k2, "w", nil))
	ok, err = c.RenameNX(ctx, k, k2)
	eq(t, "RenameNX onto an existing key", ok, err, false)
	isCrossSlot(t, "Rename across slots", c.Rename(ctx, k, otherSlot(k)))

	ok, err = c.Copy(ctx, k, p+"copy", false)
	eq(t, "Copy", ok, err, true)
	ok, err = c.Copy(ctx, k2, p+"copy", false)
	eq(t, "Copy onto an existing key", ok, err, false)
	ok, err = c.Copy(ctx, k2, p+"copy", true)
	eq(t, "Copy REPLACE", ok, err, true)
	v, err := c.Get(ctx, p+"copy")
	eq(t, "Get of the copy", v, err, "w")

	other := otherSlot(k)
	check(t, c.Set(ctx, other, "o", nil))
	n, err := c.Exists(ctx, k, k2, other, p+"none", k)
	eq(t, "Exists across slots", n, err, 4)
	n, err = c.Touch(ctx, k, other, p+"none")
	eq(t, "Touch across slots", n, err, 2)
	n, err = c.Unlink(ctx, p+"copy", p+"none")
	eq(t, "Unlink", n, err, 1)
	n, err = c.Del(ctx, k, k2, other)
	eq(t, "Del across slots", n, err, 3)
}

func TestTypedHashes(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		h := p + "h"
		c.Del(ctx, h)
		m, err := c.HGetAll(ctx, h)
		if err != nil || len(m) != 0 {
			t.Fatalf("HGetAll of a missing key: %v %v", m, err)
		}
		n, err := c.HSet(ctx, h, map[string]any{"a": "1", "b": 2, "c": 3.5})
		eq(t, "HSet", n, err, 3)
		v, err := c.HGet(ctx, h, "b")
		eq(t, "HGet", v, err, "2")
		_, err = c.HGet(ctx, h, "zz")
		isNil(t, "HGet of a missing field", err)
		_, err = c.HGet(ctx, p+"none", "a")
		isNil(t, "HGet of a missing key", err)
		m, err = c.HMGetMap(ctx, h, "a", "zz", "c")
		check(t, err)
		if fmt.Sprint(m) != "map[a:1 c:3.5]" {
			t.Fatalf("HMGetMap = %v", m)
		}
		vs, err := c.HMGet(ctx, h, "c", "zz", "a", "c")
		check(t, err)
		if len(vs) != 4 || vs[0] == nil || *vs[0] != "3.5" || vs[1] != nil || vs[2] == nil || *vs[2] != "1" || vs[3] == nil || *vs[3] != "3.5" {
			t.Fatalf("HMGet = %v, want [3.5 nil 1 3.5] in order", vs)
		}
		vs, err = c.HMGet(ctx, p+"none", "a", "b")
		if err != nil || len(vs) != 2 || vs[0] != nil || vs[1] != nil {
			t.Fatalf("HMGet of a missing key = %v %v, want [nil nil]", vs, err)
		}
		m, err = c.HGetAll(ctx, h)
		check(t, err)
		if fmt.Sprint(m) != "map[a:1 b:2 c:3.5]" {
			t.Fatalf("HGetAll = %v", m)
		}
		ok, err := c.HSetNX(ctx, h, "a", "x")
		eq(t, "HSetNX of an existing field", ok, err, false)
		ok, err = c.HSetNX(ctx, h, "d", "4")
		eq(t, "HSetNX", ok, err, true)
		ok, err = c.HExists(ctx, h, "d")
		eq(t, "HExists", ok, err, true)
		i, err := c.HIncrBy(ctx, h, "b", 5)
		eq(t, "HIncrBy", i, err, 7)
		f, err := c.HIncrByFloat(ctx, h, "c", 0.25)
		eq(t, "HIncrByFloat", f, err, 3.75)
		keys, err := c.HKeys(ctx, h)
		check(t, err)
		slices.Sort(keys)
		if fmt.Sprint(keys) != "[a b c d]" {
			t.Fatalf("HKeys = %v", keys)
		}
		vals, err := c.HVals(ctx, h)
		check(t, err)
		slices.Sort(vals)
		if fmt.Sprint(vals) != "[1 3.75 4 7]" {
			t.Fatalf("HVals = %v", vals)
		}
		n, err = c.HDel(ctx, h, "a", "zz")
		eq(t, "HDel", n, err, 1)
		n, err = c.HLen(ctx, h)
		eq(t, "HLen", n, err, 3)
	})
}

func TestTypedLists(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		l, l2 := p+"l", p+"l2"
		c.Del(ctx, l, l2)
		_, err := c.LPop(ctx, l)
		isNil(t, "LPop of a missing key", err)
		_, err = c.LPopCount(ctx, l, 2)
		isNil(t, "LPopCount of a missing key", err)
		n, err := c.RPush(ctx, l, "b", "c", 4)
		eq(t, "RPush", n, err, 3)
		n, err = c.LPush(ctx, l, "a")
		eq(t, "LPush", n, err, 4)
		all, err := c.LRange(ctx, l, 0, -1)
		check(t, err)
		if fmt.Sprint(all) != "[a b c 4]" {
			t.Fatalf("LRange = %v", all)
		}
		n, err = c.LLen(ctx, l)
		eq(t, "LLen", n, err, 4)
		v, err := c.LIndex(ctx, l, -1)
		eq(t, "LIndex", v, err, "4")
		_, err = c.LIndex(ctx, l, 99)
		isNil(t, "LIndex out of range", err)
		check(t, c.LSet(ctx, l, 1, "B"))
		n, err = c.RPush(ctx, l, "c", "c")
		eq(t, "RPush", n, err, 6)
		n, err = c.LRem(ctx, l, 0, "c")
		eq(t, "LRem", n, err, 3)
		check(t, c.LTrim(ctx, l, 0, 1))
		all, err = c.LRange(ctx, l, 0, -1)
		check(t, err)
		if fmt.Sprint(all) != "[a B]" {
			t.Fatalf("LRange after LTrim = %v", all)
		}
		v, err = c.LMove(ctx, l, l2, Left, Right)
		eq(t, "LMove", v, err, "a")
		v, err = c.RPop(ctx, l)
		eq(t, "RPop", v, err, "B")
		c.RPush(ctx, l, 1, 2, 3)
		all, err = c.RPopCount(ctx, l, 2)
		check(t, err)
		if fmt.Sprint(all) != "[3 2]" {
			t.Fatalf("RPopCount = %v", all)
		}
		all, err = c.LPopCount(ctx, l, 5)
		check(t, err)
		if fmt.Sprint(all) != "[1]" {
			t.Fatalf("LPopCount = %v", all)
		}

		// Blocking: data ready, data pushed while waiting, the server's timeout, the
		// caller's deadline.
		key, v, err := c.BLPop(ctx, time.Second, l, l2)
		if err != nil || key != l2 || v != "a" {
			t.Fatalf("BLPop = %q %q %v", key, v, err)
		}
		got := make(chan string, 1)
		go func() {
			_, v, err := c.BRPop(ctx, 5*time.Second, l)
			got <- fmt.Sprintf("%s %v", v, err)
		}()
		plain(t).WaitBlocked(t, clientName(t), 5*time.Second) // the push meets a waiting BRPOP
		c.RPush(ctx, l, "late")
		if s := <-got; s != "late <nil>" {
			t.Fatalf("BRPop of an element pushed while waiting: %s", s)
		}
		_, _, err = c.BLPop(ctx, 100*time.Millisecond, l)
		isNil(t, "BLPop past its timeout", err)

		// The caller's deadline ends a wait without timeout, and one whose timeout is
		// longer (CommandTimeout). Each on a key of its own: the server may still hold the
		// abandoned wait for a moment after the client closed its connection.
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, _, err = c.BLPop(short, 0, p+"never")
		elapsed := time.Since(start)
		var de *DeadlineError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &de) {
			t.Fatalf("BLPop with a 100ms deadline: %v", err)
		}
		if elapsed < 90*time.Millisecond || elapsed > 100*time.Millisecond+testkit.Slack() {
			t.Fatalf("BLPop with a 100ms deadline returned after %v", elapsed)
		}
		// CommandTimeout does not bound the server's own wait: a 1h wait ends at the
		// context's deadline, a 300ms one with the server's Nil.
		quick := newTestClient(t, plain(t), Options{Protocol: c.opts.Protocol, CommandTimeout: 200 * time.Millisecond})
		short2, cancel2 := context.WithTimeout(ctx, 400*time.Millisecond)
		defer cancel2()
		start = time.Now()
		_, _, err = quick.BRPop(short2, time.Hour, p+"never2")
		elapsed = time.Since(start)
		if !errors.Is(err, context.DeadlineExceeded) || elapsed < 390*time.Millisecond || elapsed > 400*time.Millisecond+testkit.Slack() {
			t.Fatalf("BRPop 1h with a 200ms CommandTimeout and a 400ms deadline: %v after %v", err, elapsed)
		}
		start = time.Now()
		_, _, err = quick.BRPop(ctx, 300*time.Millisecond, p+"never3")
		elapsed = time.Since(start)
		if !errors.Is(err, Nil) || elapsed < 290*time.Millisecond || elapsed > 400*time.Millisecond+testkit.Slack() { // the server checks timeouts every 100ms
			t.Fatalf("BRPop 300ms with a 200ms CommandTimeout: %v after %v, want Nil at 300ms", err, elapsed)
		}

		c.RPush(ctx, l, "x")
		v, err = c.BLMove(ctx, l, l2, Right, Left, time.Second)
		eq(t, "BLMove", v, err, "x")
		_, err = c.BLMove(ctx, l, l2, Right, Left, 50*time.Millisecond)
		isNil(t, "BLMove past its timeout", err)
		_, _, err = c.BLPop(ctx, time.Second, l, otherSlot(l))
		isCrossSlot(t, "BLPop across slots", err)
	})
}
