package redline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// Integration tests of the typed command methods, continued from typed_test.go: sets,
// sorted sets, streams, HyperLogLog, bitmaps, geo, scripting and server commands.

func TestTypedSets(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	p := "typed:{sets}:"
	a, b, d := p+"a", p+"b", p+"dst"
	c.Del(ctx, a, b, d)
	_, err := c.SPop(ctx, a)
	isNil(t, "SPop of a missing key", err)
	_, err = c.SRandMember(ctx, a)
	isNil(t, "SRandMember of a missing key", err)
	n, err := c.SAdd(ctx, a, "x", "y", "z", 1)
	eq(t, "SAdd", n, err, 4)
	c.SAdd(ctx, b, "y", "z", "w")
	n, err = c.SRem(ctx, a, 1, "nope")
	eq(t, "SRem", n, err, 1)
	sorted := func(ss []string, err error) string {
		t.Helper()
		check(t, err)
		slices.Sort(ss)
		return fmt.Sprint(ss)
	}
	if s := sorted(c.SMembers(ctx, a)); s != "[x y z]" {
		t.Fatalf("SMembers = %s", s)
	}
	ok, err := c.SIsMember(ctx, a, "x")
	eq(t, "SIsMember", ok, err, true)
	bs, err := c.SMIsMember(ctx, a, "x", "nope", "z")
	check(t, err)
	if fmt.Sprint(bs) != "[true false true]" {
		t.Fatalf("SMIsMember = %v", bs)
	}
	n, err = c.SCard(ctx, a)
	eq(t, "SCard", n, err, 3)
	if s := sorted(c.SInter(ctx, a, b)); s != "[y z]" {
		t.Fatalf("SInter = %s", s)
	}
	if s := sorted(c.SUnion(ctx, a, b)); s != "[w x y z]" {
		t.Fatalf("SUnion = %s", s)
	}
	if s := sorted(c.SDiff(ctx, a, b)); s != "[x]" {
		t.Fatalf("SDiff = %s", s)
	}
	n, err = c.SInterStore(ctx, d, a, b)
	eq(t, "SInterStore", n, err, 2)
	n, err = c.SUnionStore(ctx, d, a, b)
	eq(t, "SUnionStore", n, err, 4)
	n, err = c.SDiffStore(ctx, d, b, a)
	eq(t, "SDiffStore", n, err, 1)
	ok, err = c.SMove(ctx, a, d, "x")
	eq(t, "SMove", ok, err, true)
	m, err := c.SRandMember(ctx, a)
	if err != nil || m != "y" && m != "z" {
		t.Fatalf("SRandMember = %q %v", m, err)
	}
	if s := sorted(c.SRandMemberCount(ctx, a, 5)); s != "[y z]" {
		t.Fatalf("SRandMemberCount = %s", s)
	}
	if rs, err := c.SRandMemberCount(ctx, a, -5); err != nil || len(rs) != 5 {
		t.Fatalf("SRandMemberCount -5 = %v %v", rs, err)
	}
	m, err = c.SPop(ctx, a)
	if err != nil || m != "y" && m != "z" {
		t.Fatalf("SPop = %q %v", m, err)
	}
	if ps, err := c.SPopCount(ctx, a, 3); err != nil || len(ps) != 1 {
		t.Fatalf("SPopCount = %v %v", ps, err)
	}
	_, err = c.SInter(ctx, a, otherSlot(a))
	isCrossSlot(t, "SInter across slots", err)
	_, err = c.SInterStore(ctx, otherSlot(a), a, b)
	isCrossSlot(t, "SInterStore across slots", err)
}

func TestTypedSortedSets(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		z, z2 := p+"z", p+"z2"
		c.Del(ctx, z, z2)
		n, err := c.ZAdd(ctx, z, nil, Z{1, "a"}, Z{2, "b"}, Z{3, "c"}, Z{math.Inf(1), "top"})
		eq(t, "ZAdd", n, err, 4)
		n, err = c.ZAdd(ctx, z, &ZAddOptions{NX: true}, Z{10, "a"}, Z{4, "d"})
		eq(t, "ZAdd NX", n, err, 1)
		n, err = c.ZAdd(ctx, z, &ZAddOptions{GT: true, CH: true}, Z{0, "a"}, Z{5, "b"})
		eq(t, "ZAdd GT CH", n, err, 1)
		f, err := c.ZScore(ctx, z, "b")
		eq(t, "ZScore", f, err, 5)
		f, err = c.ZScore(ctx, z, "top")
		eq(t, "ZScore of +inf", f, err, math.Inf(1))
		_, err = c.ZScore(ctx, z, "nope")
		isNil(t, "ZScore of a missing member", err)
		f, err = c.ZIncrBy(ctx, z, 0.5, "a")
		eq(t, "ZIncrBy", f, err, 1.5)
		n, err = c.ZRem(ctx, z, "top", "nope")
		eq(t, "ZRem", n, err, 1)
		n, err = c.ZCard(ctx, z)
		eq(t, "ZCard", n, err, 4)
		n, err = c.ZCount(ctx, z, "-inf", "(4")
		eq(t, "ZCount", n, err, 2)
		n, err = c.ZCount(ctx, z, 3, 5)
		eq(t, "ZCount", n, err, 3)
		n, err = c.ZRank(ctx, z, "c")
		eq(t, "ZRank", n, err, 1)
		n, err = c.ZRevRank(ctx, z, "c")
		eq(t, "ZRevRank", n, err, 2)
		_, err = c.ZRank(ctx, z, "nope")
		isNil(t, "ZRank of a missing member", err)

		// a 1.5, c 3, d 4, b 5
		members, err := c.ZRange(ctx, z, 0, -1, nil)
		check(t, err)
		if fmt.Sprint(members) != "[a c d b]" {
			t.Fatalf("ZRange = %v", members)
		}
		members, err = c.ZRange(ctx, z, "(1.5", "+inf", &ZRangeOptions{ByScore: true, Offset: 1, Count: 2})
		check(t, err)
		if fmt.Sprint(members) != "[d b]" {
			t.Fatalf("ZRange BYSCORE LIMIT = %v", members)
		}
		members, err = c.ZRange(ctx, z, 0, 1, &ZRangeOptions{Rev: true})
		check(t, err)
		if fmt.Sprint(members) != "[b d]" {
			t.Fatalf("ZRange REV = %v", members)
		}
		zs, err := c.ZRangeWithScores(ctx, z, 0, -1, nil)
		check(t, err)
		if fmt.Sprint(zs) != "[{1.5 a} {3 c} {4 d} {5 b}]" {
			t.Fatalf("ZRangeWithScores = %v", zs)
		}
		zs, err = c.ZRangeWithScores(ctx, z, "+inf", 4, &ZRangeOptions{ByScore: true, Rev: true})
		check(t, err)
		if fmt.Sprint(zs) != "[{5 b} {4 d}]" {
			t.Fatalf("ZRangeWithScores BYSCORE REV = %v", zs)
		}
		zs, err = c.ZPopMin(ctx, z, 1)
		check(t, err)
		if fmt.Sprint(zs) != "[{1.5 a}]" {
			t.Fatalf("ZPopMin = %v", zs)
		}
		zs, err = c.ZPopMax(ctx, z, 2)
		check(t, err)
		if fmt.Sprint(zs) != "[{5 b} {4 d}]" {
			t.Fatalf("ZPopMax = %v", zs)
		}
		c.ZAdd(ctx, z, nil, Z{7, "e"}, Z{8, "f"})
		n, err = c.ZRemRangeByScore(ctx, z, 8, "+inf")
		eq(t, "ZRemRangeByScore", n, err, 1)
		key, m, err := c.BZPopMin(ctx, time.Second, z2, z)
		if err != nil || key != z || m != (Z{3, "c"}) {
			t.Fatalf("BZPopMin = %q %v %v", key, m, err)
		}
		key, m, err = c.BZPopMax(ctx, time.Second, z)
		if err != nil || key != z || m != (Z{7, "e"}) {
			t.Fatalf("BZPopMax = %q %v %v", key, m, err)
		}
		_, _, err = c.BZPopMin(ctx, 50*time.Millisecond, z)
		isNil(t, "BZPopMin past its timeout", err)
	})
}

func TestTypedStreams(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		s, s2 := p+"s", p+"s2"
		c.Del(ctx, s, s2)
		_, err := c.XAdd(ctx, XAddArgs{Stream: s, NoMkStream: true, Values: map[string]any{"f": 1}})
		isNil(t, "XAdd NOMKSTREAM to a missing stream", err)
		id1, err := c.XAdd(ctx, XAddArgs{Stream: s, Values: map[string]any{"b": 2, "a": "1"}})
		check(t, err)
		id2, err := c.XAdd(ctx, XAddArgs{Stream: s, Fields: []any{"z", "26", "y", 25}})
		check(t, err)
		id3, err := c.XAdd(ctx, XAddArgs{Stream: s, ID: "99999999999999-0", Values: map[string]any{"n": 3}})
		eq(t, "XAdd with an ID", id3, err, "99999999999999-0")
		n, err := c.XLen(ctx, s)
		eq(t, "XLen", n, err, 3)

		msgs, err := c.XRange(ctx, s, "-", "+")
		check(t, err)
		if fmt.Sprint(msgs) != fmt.Sprintf("[{%s map[a:1 b:2]} {%s map[y:25 z:26]} {%s map[n:3]}]", id1, id2, id3) {
			t.Fatalf("XRange = %v", msgs)
		}
		msgs, err = c.XRangeN(ctx, s, "("+id1, "+", 1)
		if err != nil || len(msgs) != 1 || msgs[0].ID != id2 {
			t.Fatalf("XRangeN = %v %v", msgs, err)
		}
		msgs, err = c.XRevRange(ctx, s, "+", "-")
		if err != nil || len(msgs) != 3 || msgs[0].ID != id3 {
			t.Fatalf("XRevRange = %v %v", msgs, err)
		}
		msgs, err = c.XRevRangeN(ctx, s, "+", "-", 2)
		if err != nil || len(msgs) != 2 || msgs[1].ID != id2 {
			t.Fatalf("XRevRangeN = %v %v", msgs, err)
		}

		c.XAdd(ctx, XAddArgs{Stream: s2, Values: map[string]any{"k": "v"}})
		streams, err := c.XRead(ctx, XReadArgs{Streams: map[string]string{s: id1, s2: "0"}, Count: 1})
		check(t, err)
		if len(streams) != 2 || streams[0].Stream != s || streams[1].Stream != s2 ||
			len(streams[0].Messages) != 1 || streams[0].Messages[0].ID != id2 || streams[1].Messages[0].Values["k"] != "v" {
			t.Fatalf("XRead = %v", streams)
		}
		_, err = c.XRead(ctx, XReadArgs{Streams: map[string]string{s: "$"}, Block: 50 * time.Millisecond})
		isNil(t, "XRead BLOCK with nothing new", err)
		_, err = c.XRead(ctx, XReadArgs{Streams: map[string]string{s: "0", otherSlot(s): "0"}})
		isCrossSlot(t, "XRead across slots", err)

		var re *RedisError
		if err := c.XGroupCreate(ctx, p+"nostream", "g", "$"); !errors.As(err, &re) {
			t.Fatalf("XGroupCreate on a missing stream: %v", err)
		}
		check(t, c.XGroupCreateMkStream(ctx, p+"nostream", "g", "$"))
		check(t, c.XGroupCreate(ctx, s, "g", "0"))
		streams, err = c.XReadGroup(ctx, "g", "alice", XReadGroupArgs{Streams: map[string]string{s: ">"}, Count: 2})
		check(t, err)
		if len(streams) != 1 || len(streams[0].Messages) != 2 || streams[0].Messages[0].ID != id1 {
			t.Fatalf("XReadGroup = %v", streams)
		}
		sum, err := c.XPending(ctx, s, "g")
		check(t, err)
		if sum.Count != 2 || sum.Lower != id1 || sum.Higher != id2 || sum.Consumers["alice"] != 2 {
			t.Fatalf("XPending = %+v", sum)
		}
		n, err = c.XAck(ctx, s, "g", id1, id2, "0-1")
		eq(t, "XAck", n, err, 2)
		sum, err = c.XPending(ctx, s, "g")
		check(t, err)
		if sum.Count != 0 || sum.Lower != "" || len(sum.Consumers) != 0 {
			t.Fatalf("XPending with nothing pending = %+v", sum)
		}
		streams, err = c.XReadGroup(ctx, "g", "bob", XReadGroupArgs{Streams: map[string]string{s: ">"}, NoAck: true})
		if err != nil || len(streams) != 1 || len(streams[0].Messages) != 1 || streams[0].Messages[0].ID != id3 {
			t.Fatalf("XReadGroup NOACK = %v %v", streams, err)
		}
		_, err = c.XReadGroup(ctx, "g", "bob", XReadGroupArgs{Streams: map[string]string{s: ">"}, Block: 50 * time.Millisecond})
		isNil(t, "XReadGroup BLOCK with nothing new", err)
		ok, err := c.XGroupDestroy(ctx, s, "g")
		eq(t, "XGroupDestroy", ok, err, true)

		n, err = c.XDel(ctx, s, id3, "0-1")
		eq(t, "XDel", n, err, 1)
		for range 3 {
			c.XAdd(ctx, XAddArgs{Stream: s, Values: map[string]any{"x": 1}})
		}
		n, err = c.XTrimMaxLen(ctx, s, 4)
		eq(t, "XTrimMaxLen", n, err, 1)
		n, err = c.XTrimMaxLenApprox(ctx, s, 1)
		if err != nil || n < 0 || n > 3 {
			t.Fatalf("XTrimMaxLenApprox = %d %v", n, err)
		}
		// Entries added after id3 (deleted) still get IDs above it: 99999999999999-1…
		n, err = c.XTrimMinID(ctx, s, "99999999999999-99")
		if err != nil || n < 1 {
			t.Fatalf("XTrimMinID = %d %v", n, err)
		}
		if _, err := c.XTrimMinIDApprox(ctx, s, "0-1"); err != nil {
			t.Fatalf("XTrimMinIDApprox: %v", err)
		}
		n, err = c.XLen(ctx, s)
		eq(t, "XLen after trimming", n, err, 0)
		_, err = c.XAdd(ctx, XAddArgs{Stream: s, MaxLen: 2, Values: map[string]any{"x": 1}})
		check(t, err)
		for range 3 {
			c.XAdd(ctx, XAddArgs{Stream: s, MaxLen: 2, Values: map[string]any{"x": 1}})
		}
		n, err = c.XLen(ctx, s)
		eq(t, "XLen with MAXLEN 2", n, err, 2)
	})
}

func TestTypedHyperLogLogBitmapsGeo(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		h1, h2, h3 := p+"h1", p+"h2", p+"h3"
		c.Del(ctx, h1, h2, h3)
		ok, err := c.PFAdd(ctx, h1, "a", "b", "c")
		eq(t, "PFAdd", ok, err, true)
		ok, err = c.PFAdd(ctx, h1, "a")
		eq(t, "PFAdd of a known element", ok, err, false)
		c.PFAdd(ctx, h2, "c", "d")
		n, err := c.PFCount(ctx, h1, h2)
		eq(t, "PFCount", n, err, 4)
		check(t, c.PFMerge(ctx, h3, h1, h2))
		n, err = c.PFCount(ctx, h3)
		eq(t, "PFCount after PFMerge", n, err, 4)
		_, err = c.PFCount(ctx, h1, otherSlot(h1))
		isCrossSlot(t, "PFCount across slots", err)

		b1, b2, b3 := p+"b1", p+"b2", p+"b3"
		c.Del(ctx, b1, b2, b3)
		n, err = c.SetBit(ctx, b1, 7, 1)
		eq(t, "SetBit", n, err, 0)
		n, err = c.SetBit(ctx, b1, 7, 1)
		eq(t, "SetBit again", n, err, 1)
		c.SetBit(ctx, b1, 9, 1)
		n, err = c.GetBit(ctx, b1, 7)
		eq(t, "GetBit", n, err, 1)
		n, err = c.BitCount(ctx, b1, nil)
		eq(t, "BitCount", n, err, 2)
		n, err = c.BitCount(ctx, b1, &BitRange{Start: 1, End: -1})
		eq(t, "BitCount of a byte range", n, err, 1)
		n, err = c.BitCount(ctx, b1, &BitRange{Start: 0, End: 7, Bit: true})
		eq(t, "BitCount of a bit range", n, err, 1)
		n, err = c.BitPos(ctx, b1, 1, nil)
		eq(t, "BitPos", n, err, 7)
		n, err = c.BitPos(ctx, b1, 1, &BitRange{Start: 8, End: -1, Bit: true})
		eq(t, "BitPos in a bit range", n, err, 9)
		c.SetBit(ctx, b2, 7, 1)
		n, err = c.BitOp(ctx, "AND", b3, b1, b2)
		eq(t, "BitOp", n, err, 2)
		n, err = c.BitCount(ctx, b3, nil)
		eq(t, "BitCount after BitOp AND", n, err, 1)

		g := p + "geo"
		c.Del(ctx, g)
		n, err = c.GeoAdd(ctx, g, GeoLocation{"Palermo", 13.361389, 38.115556}, GeoLocation{"Catania", 15.087269, 37.502669})
		eq(t, "GeoAdd", n, err, 2)
		km, err := c.GeoDist(ctx, g, "Palermo", "Catania", "km")
		if err != nil || math.Abs(km-166.2742) > 0.001 {
			t.Fatalf("GeoDist = %v %v", km, err)
		}
		m, err := c.GeoDist(ctx, g, "Palermo", "Catania", "")
		if err != nil || math.Abs(m-166274.15) > 1 {
			t.Fatalf("GeoDist in meters = %v %v", m, err)
		}
		_, err = c.GeoDist(ctx, g, "Palermo", "Rome", "km")
		isNil(t, "GeoDist to a missing member", err)
		pos, err := c.GeoPos(ctx, g, "Palermo", "Rome")
		if err != nil || len(pos) != 2 || pos[1] != nil || math.Abs(pos[0].Longitude-13.361389) > 1e-5 || math.Abs(pos[0].Latitude-38.115556) > 1e-5 {
			t.Fatalf("GeoPos = %v %v", pos, err)
		}
		names, err := c.GeoSearch(ctx, g, GeoSearchQuery{Longitude: 15, Latitude: 37, Radius: 200, Unit: "km", Sort: "ASC"})
		check(t, err)
		if fmt.Sprint(names) != "[Catania Palermo]" {
			t.Fatalf("GeoSearch = %v", names)
		}
		names, err = c.GeoSearch(ctx, g, GeoSearchQuery{Member: "Palermo", Width: 100, Height: 100, Unit: "km", Count: 1})
		check(t, err)
		if fmt.Sprint(names) != "[Palermo]" {
			t.Fatalf("GeoSearch BYBOX = %v", names)
		}
	})
}

func TestTypedScripting(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		k := p + "k"
		src := "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1]) .. ARGV[2]"
		v, err := c.Eval(ctx, src, []string{k}, "a", 1).Text()
		eq(t, "Eval", v, err, "a1")
		v, err = c.EvalRO(ctx, "return redis.call('GET', KEYS[1])", []string{k}).Text()
		eq(t, "EvalRO", v, err, "a")
		n, err := c.Eval(ctx, "return 42", nil).Int64()
		eq(t, "Eval without keys", n, err, 42)
		sha, err := c.ScriptLoad(ctx, src)
		eq(t, "ScriptLoad", sha, err, NewScript(src).Hash())
		v, err = c.EvalSha(ctx, sha, []string{k}, "b", 2).Text()
		eq(t, "EvalSha", v, err, "b2")
		roSHA, err := c.ScriptLoad(ctx, "return redis.call('GET', KEYS[1])")
		check(t, err)
		v, err = c.EvalShaRO(ctx, roSHA, []string{k}).Text()
		eq(t, "EvalShaRO", v, err, "b")
		exists, err := c.ScriptExists(ctx, sha, strings.Repeat("0", 40))
		check(t, err)
		if fmt.Sprint(exists) != "[true false]" {
			t.Fatalf("ScriptExists = %v", exists)
		}
		isCrossSlot(t, "Eval across slots", c.Eval(ctx, "return 1", []string{k, otherSlot(k)}).Err())
	})
}

// TestTypedServer runs the cluster-wide commands, FLUSHALL and SCRIPT FLUSH among them,
// on a cluster of its own.
func TestTypedServer(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 2, NoProxy: true})
	for _, proto := range []int{3, 2} {
		c := newTestClient(t, cl, Options{Protocol: proto})
		ctx := t.Context()
		check(t, c.Ping(ctx))
		check(t, c.FlushAll(ctx))
		n, err := c.DBSize(ctx)
		eq(t, "DBSize after FlushAll", n, err, 0)
		check(t, c.MSet(ctx, map[string]any{"a": 1, "b": 2, "c": 3, "d": 4}))
		n, err = c.DBSize(ctx)
		eq(t, "DBSize", n, err, 4)
		info, err := c.Info(ctx, "server", "clients")
		if err != nil || !strings.Contains(info, "redis_version:") || !strings.Contains(info, "connected_clients:") || strings.Contains(info, "used_memory:") {
			t.Fatalf("Info: %v %.200q", err, info)
		}
		ci, err := c.ClusterInfo(ctx)
		if err != nil || ci["cluster_state"] != "ok" || ci["cluster_known_nodes"] != "2" {
			t.Fatalf("ClusterInfo = %v %v", ci, err)
		}
		shards, err := c.ClusterShards(ctx).Slice()
		if err != nil || len(shards) != 2 {
			t.Fatalf("ClusterShards = %v %v", shards, err)
		}
		now, err := c.Time(ctx)
		if err != nil || now.Sub(time.Now()).Abs() > time.Minute {
			t.Fatalf("Time = %v %v", now, err)
		}
		sha, err := c.ScriptLoad(ctx, "return 1")
		check(t, err)
		check(t, c.ScriptFlush(ctx))
		exists, err := c.ScriptExists(ctx, sha)
		if err != nil || len(exists) != 1 || exists[0] {
			t.Fatalf("ScriptExists after ScriptFlush = %v %v", exists, err)
		}
	}
}

// BenchmarkTypedGet is BenchmarkClient's GET through the typed method: it allocates what
// Do(ctx, "GET", key) does, the reply, and not the string Text would copy from it (the
// typed method's string is the reply's own bytes: decodeText).
func BenchmarkTypedGet(b *testing.B) {
	cl := redistest.Shared(b, "bench", redistest.Config{Masters: 3, NoProxy: true})
	c := newTestClient(b, cl, Options{})
	ctx := context.Background()
	if err := c.Set(ctx, "bench:typed", "0123456789abcdef", nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, "bench:typed"); err != nil {
			b.Fatal(err)
		}
	}
}
