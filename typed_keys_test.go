package redline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/testkit"
)

// Round trips of the typed methods of typed_keys.go's families (issue 18) on the shared
// cluster, in RESP3 and RESP2.

// strs fails the test unless got (with err) prints as want.
func strs[T any](t *testing.T, what string, got T, err error, want string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if s := fmt.Sprint(got); s != want {
		t.Fatalf("%s = %s, want %s", what, s, want)
	}
}

func TestTypedStringsMore(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		k, k2 := p+"a", p+"b"
		c.Del(ctx, k, k2)

		ok, err := c.SetNX(ctx, k, "v1")
		eq(t, "SetNX of a missing key", ok, err, true)
		ok, err = c.SetNX(ctx, k, "v2")
		eq(t, "SetNX of an existing key", ok, err, false)
		v, err := c.Get(ctx, k)
		eq(t, "Get after SetNX", v, err, "v1")

		check(t, c.SetEx(ctx, k, 100*time.Second, "v3")) // whole seconds: SETEX
		if d, err := c.TTL(ctx, k); err != nil || d < 90*time.Second || d > 100*time.Second {
			t.Fatalf("TTL after SetEx 100s: %v %v", d, err)
		}
		check(t, c.SetEx(ctx, k, 1500*time.Millisecond, "v4")) // PSETEX
		if d, err := c.PTTL(ctx, k); err != nil || d <= time.Second || d > 1500*time.Millisecond {
			t.Fatalf("PTTL after SetEx 1.5s: %v %v", d, err)
		}
		check(t, c.PSetEx(ctx, k, 2500*time.Millisecond, "v5"))
		if d, err := c.PTTL(ctx, k); err != nil || d <= 2*time.Second || d > 2500*time.Millisecond {
			t.Fatalf("PTTL after PSetEx 2.5s: %v %v", d, err)
		}
		v, err = c.Get(ctx, k)
		eq(t, "Get after PSetEx", v, err, "v5")
		if err := c.SetEx(ctx, k, 0, "v"); err == nil || errors.Is(err, Nil) {
			t.Fatalf("SetEx with a zero ttl: %v, want the server's error", err)
		}

		v, err = c.GetSet(ctx, k, "v6")
		eq(t, "GetSet", v, err, "v5")
		c.Del(ctx, k)
		_, err = c.GetSet(ctx, k, "v7")
		isNil(t, "GetSet of a missing key", err)
		c.Del(ctx, k)
		ok, err = c.MSetNX(ctx, map[string]any{k: "x", k2: 2})
		eq(t, "MSetNX of missing keys", ok, err, true)
		ok, err = c.MSetNX(ctx, map[string]any{k2: "y", p + "c": 3})
		eq(t, "MSetNX with an existing key", ok, err, false)
		if _, err := c.Get(ctx, p+"c"); !errors.Is(err, Nil) {
			t.Fatalf("MSetNX set a key although another existed: %v", err)
		}
		_, err = c.MSetNX(ctx, map[string]any{k: 1, otherSlot(k): 2})
		isCrossSlot(t, "MSetNX across slots", err)

		// LCS, with the example of the command's documentation.
		c.Set(ctx, k, "ohmytext", nil)
		c.Set(ctx, k2, "mynewtext", nil)
		v, err = c.LCS(ctx, k, k2)
		eq(t, "LCS", v, err, "mytext")
		n, err := c.LCSLen(ctx, k, k2)
		eq(t, "LCSLen", n, err, 6)
		m, err := c.LCSIdx(ctx, k, k2, nil)
		strs(t, "LCSIdx", m, err, "{[{{4 7} {5 8} 0} {{2 3} {0 1} 0}] 6}")
		m, err = c.LCSIdx(ctx, k, k2, &LCSIdxOptions{MinMatchLen: 4, WithMatchLen: true})
		strs(t, "LCSIdx MINMATCHLEN 4 WITHMATCHLEN", m, err, "{[{{4 7} {5 8} 4}] 6}")
		_, err = c.LCS(ctx, k, otherSlot(k))
		isCrossSlot(t, "LCS across slots", err)
	})
}

func TestTypedKeysMore(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		k, k2 := p+"k", p+"k2"
		c.Del(ctx, k, k2)

		_, err := c.ExpireTime(ctx, k)
		isNil(t, "ExpireTime of a missing key", err)
		_, err = c.PExpireTime(ctx, k)
		isNil(t, "PExpireTime of a missing key", err)
		ok, err := c.PExpireAt(ctx, k, time.Now().Add(time.Hour))
		eq(t, "PExpireAt of a missing key", ok, err, false)
		c.Set(ctx, k, "v", nil)
		at, err := c.ExpireTime(ctx, k)
		eq(t, "ExpireTime of a key without expiry", at, err, time.Time{})
		want := time.Now().Add(time.Hour).Truncate(time.Millisecond).Add(123 * time.Millisecond)
		ok, err = c.PExpireAt(ctx, k, want)
		eq(t, "PExpireAt", ok, err, true)
		at, err = c.PExpireTime(ctx, k)
		check(t, err)
		if !at.Equal(want) {
			t.Fatalf("PExpireTime = %v, want %v", at, want)
		}
		at, err = c.ExpireTime(ctx, k)
		check(t, err)
		if !at.Equal(want.Truncate(time.Second)) && !at.Equal(want.Truncate(time.Second).Add(time.Second)) {
			t.Fatalf("ExpireTime = %v, want %v to the second", at, want)
		}

		// EXPIRE's conditions, in seconds and (PEXPIRE) in milliseconds.
		c.Set(ctx, k2, "v", nil)
		ok, err = c.ExpireXX(ctx, k2, time.Hour)
		eq(t, "ExpireXX without expiry", ok, err, false)
		ok, err = c.ExpireGT(ctx, k2, time.Hour)
		eq(t, "ExpireGT without expiry", ok, err, false)
		ok, err = c.ExpireNX(ctx, k2, 1500*time.Millisecond)
		eq(t, "ExpireNX 1.5s without expiry", ok, err, true)
		ok, err = c.ExpireNX(ctx, k2, time.Hour)
		eq(t, "ExpireNX with an expiry", ok, err, false)
		ok, err = c.ExpireLT(ctx, k2, time.Hour)
		eq(t, "ExpireLT later", ok, err, false)
		ok, err = c.ExpireGT(ctx, k2, time.Hour)
		eq(t, "ExpireGT later", ok, err, true)
		ok, err = c.ExpireLT(ctx, k2, 100*time.Second)
		eq(t, "ExpireLT sooner", ok, err, true)
		ok, err = c.ExpireXX(ctx, k2, 200*time.Second)
		eq(t, "ExpireXX with an expiry", ok, err, true)
		if d, err := c.TTL(ctx, k2); err != nil || d < 190*time.Second || d > 200*time.Second {
			t.Fatalf("TTL after ExpireXX 200s: %v %v", d, err)
		}
		c.Del(ctx, k2)

		// DUMP and RESTORE, of a list so that the value is not a plain string.
		c.Del(ctx, k)
		c.RPush(ctx, k, "a", "b", 3)
		dump, err := c.Dump(ctx, k)
		check(t, err)
		_, err = c.Dump(ctx, k2)
		isNil(t, "Dump of a missing key", err)
		check(t, c.Restore(ctx, k2, 0, dump, nil))
		l, err := c.LRange(ctx, k2, 0, -1)
		strs(t, "LRange of the restored key", l, err, "[a b 3]")
		if err := c.Restore(ctx, k2, 0, dump, nil); err == nil || !strings.Contains(err.Error(), "BUSYKEY") {
			t.Fatalf("Restore onto an existing key: %v, want BUSYKEY", err)
		}
		check(t, c.Restore(ctx, k2, 1500*time.Millisecond, dump, &RestoreOptions{Replace: true, IdleTime: 100 * time.Second}))
		if d, err := c.PTTL(ctx, k2); err != nil || d <= time.Second || d > 1500*time.Millisecond {
			t.Fatalf("PTTL after Restore with ttl 1.5s: %v %v", d, err)
		}
		idle, err := c.ObjectIdleTime(ctx, k2)
		if err != nil || idle < 100*time.Second || idle > 110*time.Second {
			t.Fatalf("ObjectIdleTime after Restore IDLETIME 100: %v %v", idle, err)
		}
		check(t, c.RestoreAt(ctx, k2, want, dump, &RestoreOptions{Replace: true}))
		at, err = c.PExpireTime(ctx, k2)
		check(t, err)
		if !at.Equal(want) {
			t.Fatalf("PExpireTime after RestoreAt = %v, want %v", at, want)
		}

		// OBJECT.
		c.Set(ctx, k, "12345", nil)
		v, err := c.ObjectEncoding(ctx, k)
		eq(t, "ObjectEncoding of an integer string", v, err, "int")
		_, err = c.ObjectEncoding(ctx, p+"missing")
		isNil(t, "ObjectEncoding of a missing key", err)
		n, err := c.ObjectRefCount(ctx, k)
		if err != nil || n < 1 {
			t.Fatalf("ObjectRefCount = %d %v", n, err)
		}
		idle, err = c.ObjectIdleTime(ctx, k)
		if err != nil || idle < 0 || idle > 10*time.Second {
			t.Fatalf("ObjectIdleTime of a key just written: %v %v", idle, err)
		}
		// The test servers run no LFU policy: the server refuses FREQ, and says why.
		if _, err := c.ObjectFreq(ctx, k); err == nil || !strings.Contains(err.Error(), "LFU") {
			t.Fatalf("ObjectFreq without an LFU policy: %v", err)
		}

		// KEYS on every primary: keys of this test in slots of their own.
		var mine []string
		for i := range 8 {
			key := fmt.Sprintf("typedkeys:%s:{%d}", clientName(t), i)
			mine = append(mine, key)
			check(t, c.Set(ctx, key, i, nil))
		}
		keys, err := c.Keys(ctx, fmt.Sprintf("typedkeys:%s:*", clientName(t)))
		check(t, err)
		slices.Sort(keys)
		slices.Sort(mine)
		if !slices.Equal(keys, mine) {
			t.Fatalf("Keys = %v, want %v", keys, mine)
		}
		// MIGRATE: a missing key is NOKEY before any connection; an unreachable target
		// is the server's IOERR, and the key stays.
		v, err = c.Migrate(ctx, "127.0.0.1", 1, p+"missing", 100*time.Millisecond, nil)
		eq(t, "Migrate of a missing key", v, err, "NOKEY")
		_, err = c.Migrate(ctx, "127.0.0.1", 1, k, 100*time.Millisecond, &MigrateOptions{Copy: true, Replace: true, Username: "u", Password: NewSecret("p")})
		if err == nil || !strings.Contains(err.Error(), "IOERR") {
			t.Fatalf("Migrate to a closed port: %v, want IOERR", err)
		}
		v, err = c.Get(ctx, k)
		eq(t, "Get after a failed Migrate", v, err, "12345")

		// WAIT on every primary: more replicas than there are, so it waits its timeout
		// out (past CommandTimeout) and returns how many acknowledged.
		quick := newTestClient(t, plain(t), Options{Protocol: c.opts.Protocol, CommandTimeout: 100 * time.Millisecond})
		start := time.Now()
		n, err = quick.Wait(ctx, 5, 300*time.Millisecond)
		elapsed := time.Since(start)
		if err != nil || n < 0 || n > 1 || elapsed < 280*time.Millisecond || elapsed > 500*time.Millisecond+testkit.Slack() {
			t.Fatalf("Wait 5 300ms with CommandTimeout 100ms: %d %v after %v", n, err, elapsed)
		}
		n, err = c.Wait(ctx, 0, 0)
		if err != nil || n < 0 {
			t.Fatalf("Wait 0 replicas: %d %v", n, err)
		}
		rk, err := c.RandomKey(ctx)
		if err != nil || rk == "" {
			t.Fatalf("RandomKey = %q %v", rk, err)
		}
		for _, key := range mine {
			c.Del(ctx, key)
		}
	})
}

func TestTypedSort(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		l, dst := p+"l", p+"dst"
		c.Del(ctx, l, dst)
		c.RPush(ctx, l, 3, 1, 2, 10)
		s, err := c.Sort(ctx, l, nil)
		strs(t, "Sort", s, err, "[1 2 3 10]")
		s, err = c.Sort(ctx, l, &SortOptions{Alpha: true, Desc: true})
		strs(t, "Sort ALPHA DESC", s, err, "[3 2 10 1]")
		s, err = c.Sort(ctx, l, &SortOptions{Offset: 1, Count: 2})
		strs(t, "Sort LIMIT 1 2", s, err, "[2 3]")
		s, err = c.Sort(ctx, l, &SortOptions{Offset: 2})
		strs(t, "Sort LIMIT 2 (all)", s, err, "[3 10]")
		s, err = c.Sort(ctx, l, &SortOptions{By: "nosort", Offset: 1, Count: 2})
		strs(t, "Sort BY nosort LIMIT 1 2", s, err, "[1 2]")
		// BY and GET patterns with the key's hash tag: weights and names in its slot.
		// Redis 7.4 and Valkey 8 accept them in a cluster; earlier versions refuse them.
		for i, w := range map[int]int{1: 30, 2: 10, 3: 20, 10: 0} {
			c.Set(ctx, fmt.Sprintf("%sw_%d", p, i), w, nil)
			c.Set(ctx, fmt.Sprintf("%sname_%d", p, i), fmt.Sprintf("n%d", i), nil)
		}
		s, err = c.Sort(ctx, l, &SortOptions{By: p + "w_*", Get: []string{"#", p + "name_*", p + "none_*"}})
		if err == nil || !strings.Contains(err.Error(), "denied in Cluster mode") {
			strs(t, "Sort BY GET", s, err, "[10 n10  2 n2  3 n3  1 n1 ]")
		}
		s, err = c.SortRO(ctx, l, &SortOptions{By: p + "w_*", Desc: true})
		if err == nil || !strings.Contains(err.Error(), "denied in Cluster mode") {
			strs(t, "SortRO BY DESC", s, err, "[1 3 2 10]")
		}
		s, err = c.SortRO(ctx, l, &SortOptions{Alpha: true})
		strs(t, "SortRO ALPHA", s, err, "[1 10 2 3]")
		n, err := c.SortStore(ctx, l, &SortOptions{Desc: true}, dst)
		eq(t, "SortStore", n, err, 4)
		s, err = c.LRange(ctx, dst, 0, -1)
		strs(t, "LRange of SortStore's list", s, err, "[10 3 2 1]")
		_, err = c.SortStore(ctx, l, nil, otherSlot(l))
		isCrossSlot(t, "SortStore across slots", err)
	})
}

func TestTypedListsMore(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		l, l2 := p+"l", p+"l2"
		c.Del(ctx, l, l2)

		n, err := c.LPushX(ctx, l, "a")
		eq(t, "LPushX of a missing list", n, err, 0)
		n, err = c.RPushX(ctx, l, "a")
		eq(t, "RPushX of a missing list", n, err, 0)
		c.RPush(ctx, l, "b")
		n, err = c.LPushX(ctx, l, "a")
		eq(t, "LPushX", n, err, 2)
		n, err = c.RPushX(ctx, l, "c", "b")
		eq(t, "RPushX", n, err, 4)
		n, err = c.LInsertBefore(ctx, l, "c", "x")
		eq(t, "LInsertBefore", n, err, 5)
		n, err = c.LInsertAfter(ctx, l, "c", 7)
		eq(t, "LInsertAfter", n, err, 6)
		n, err = c.LInsertAfter(ctx, l, "nope", 7)
		eq(t, "LInsertAfter a missing pivot", n, err, -1)
		s, err := c.LRange(ctx, l, 0, -1)
		strs(t, "LRange", s, err, "[a b x c 7 b]")

		n, err = c.LPos(ctx, l, "b", nil)
		eq(t, "LPos", n, err, 1)
		n, err = c.LPos(ctx, l, "b", &LPosOptions{Rank: -1})
		eq(t, "LPos RANK -1", n, err, 5)
		_, err = c.LPos(ctx, l, "b", &LPosOptions{Rank: 2, MaxLen: 3})
		isNil(t, "LPos RANK 2 MAXLEN 3", err)
		_, err = c.LPos(ctx, l, "zz", nil)
		isNil(t, "LPos of a missing element", err)
		ns, err := c.LPosCount(ctx, l, "b", 0, nil)
		strs(t, "LPosCount 0", ns, err, "[1 5]")
		ns, err = c.LPosCount(ctx, l, "zz", 1, nil)
		strs(t, "LPosCount of a missing element", ns, err, "[]")

		c.RPush(ctx, l2, "p")
		v, err := c.RPopLPush(ctx, l2, l2)
		eq(t, "RPopLPush of a list onto itself", v, err, "p")
		v, err = c.BRPopLPush(ctx, l2, l, time.Second)
		eq(t, "BRPopLPush", v, err, "p")
		_, err = c.BRPopLPush(ctx, l2, l, 50*time.Millisecond)
		isNil(t, "BRPopLPush past its timeout", err)
		v, err = c.LPop(ctx, l)
		eq(t, "LPop of BRPopLPush's element", v, err, "p")
		_, err = c.RPopLPush(ctx, l2, l)
		isNil(t, "RPopLPush of an empty list", err)

		key, vs, err := c.LMPop(ctx, []string{l2, l}, Right, 2)
		if err != nil || key != l || fmt.Sprint(vs) != "[b 7]" {
			t.Fatalf("LMPop = %q %v %v", key, vs, err)
		}
		_, _, err = c.LMPop(ctx, []string{l2}, Left, 1)
		isNil(t, "LMPop of empty lists", err)
		_, _, err = c.LMPop(ctx, []string{l, otherSlot(l)}, Left, 1)
		isCrossSlot(t, "LMPop across slots", err)

		// BLMPOP: data ready, pushed while waiting, the server's timeout, the deadline.
		key, vs, err = c.BLMPop(ctx, time.Second, []string{l2, l}, Left, 10)
		if err != nil || key != l || fmt.Sprint(vs) != "[a b x c]" {
			t.Fatalf("BLMPop = %q %v %v", key, vs, err)
		}
		got := make(chan string, 1)
		go func() {
			key, vs, err := c.BLMPop(ctx, 5*time.Second, []string{l, l2}, Right, 1)
			got <- fmt.Sprintf("%s %v %v", strings.TrimPrefix(key, p), vs, err)
		}()
		plain(t).WaitBlocked(t, clientName(t), 5*time.Second)
		c.RPush(ctx, l2, "late")
		if s := <-got; s != "l2 [late] <nil>" {
			t.Fatalf("BLMPop of an element pushed while waiting: %s", s)
		}
		_, _, err = c.BLMPop(ctx, 100*time.Millisecond, []string{l}, Left, 1)
		isNil(t, "BLMPop past its timeout", err)
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, _, err = c.BLMPop(short, 0, []string{p + "never"}, Left, 1)
		elapsed := time.Since(start)
		if !errors.Is(err, context.DeadlineExceeded) || elapsed > 100*time.Millisecond+testkit.Slack() {
			t.Fatalf("BLMPop with a 100ms deadline: %v after %v", err, elapsed)
		}
	})
}

func TestTypedHashesSetsBitfield(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		h := p + "h"
		c.Del(ctx, h)
		_, err := c.HRandField(ctx, h)
		isNil(t, "HRandField of a missing key", err)
		c.HSet(ctx, h, map[string]any{"f": "hello", "g": 12})
		n, err := c.HStrLen(ctx, h, "f")
		eq(t, "HStrLen", n, err, 5)
		n, err = c.HStrLen(ctx, h, "missing")
		eq(t, "HStrLen of a missing field", n, err, 0)
		f, err := c.HRandField(ctx, h)
		if err != nil || f != "f" && f != "g" {
			t.Fatalf("HRandField = %q %v", f, err)
		}
		fs, err := c.HRandFieldCount(ctx, h, 5)
		check(t, err)
		slices.Sort(fs)
		strs(t, "HRandFieldCount 5", fs, nil, "[f g]")
		fvs, err := c.HRandFieldWithValues(ctx, h, 2)
		check(t, err)
		slices.SortFunc(fvs, func(a, b FieldValue) int { return strings.Compare(a.Field, b.Field) })
		strs(t, "HRandFieldWithValues 2", fvs, nil, "[{f hello} {g 12}]")
		fvs, err = c.HRandFieldWithValues(ctx, h, -5) // repeats allowed
		if err != nil || len(fvs) != 5 {
			t.Fatalf("HRandFieldWithValues -5 = %v %v", fvs, err)
		}
		for _, fv := range fvs {
			if fv != (FieldValue{"f", "hello"}) && fv != (FieldValue{"g", "12"}) {
				t.Fatalf("HRandFieldWithValues -5 returned %v", fv)
			}
		}

		s1, s2 := p+"s1", p+"s2"
		c.Del(ctx, s1, s2)
		c.SAdd(ctx, s1, 1, 2, 3, 4)
		c.SAdd(ctx, s2, 2, 3, 4, 5)
		n, err = c.SInterCard(ctx, []string{s1, s2}, 0)
		eq(t, "SInterCard", n, err, 3)
		n, err = c.SInterCard(ctx, []string{s1, s2}, 2)
		eq(t, "SInterCard LIMIT 2", n, err, 2)
		_, err = c.SInterCard(ctx, []string{s1, otherSlot(s1)}, 0)
		isCrossSlot(t, "SInterCard across slots", err)

		b := p + "bits"
		c.Del(ctx, b)
		rs, err := c.BitField(ctx, b, "SET", "u8", 0, 200, "GET", "u8", 0, "INCRBY", "u8", 0, 50)
		strs(t, "BitField SET GET INCRBY", derefs(rs), err, "[0 200 250]")
		rs, err = c.BitField(ctx, b, "OVERFLOW", "FAIL", "INCRBY", "u8", 0, 10, "OVERFLOW", "SAT", "INCRBY", "u8", 0, 10)
		strs(t, "BitField OVERFLOW FAIL, SAT", derefs(rs), err, "[<nil> 255]")
		ns, err := c.BitFieldRO(ctx, b, "GET", "u4", 0, "GET", "i8", 0)
		strs(t, "BitFieldRO", ns, err, "[15 -1]")
	})
}

// derefs prints a []*int64 as BitField's results: numbers, and <nil> for a nil.
func derefs(ps []*int64) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		if p != nil {
			out[i] = *p
		}
	}
	return out
}
