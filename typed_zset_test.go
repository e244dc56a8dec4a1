package redline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/testkit"
)

// Integration tests of the sorted-set methods of issue 18 (typed_zset.go), on RESP3 and
// RESP2.

func TestTypedZSetAlgebra(t *testing.T) {
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		a, b, d := p+"a", p+"b", p+"dst"
		c.Del(ctx, a, b, d)
		check(t, errOf(c.ZAdd(ctx, a, nil, Z{1, "x"}, Z{2, "y"}, Z{3, "z"})))
		check(t, errOf(c.ZAdd(ctx, b, nil, Z{10, "y"}, Z{20, "z"}, Z{30, "w"})))
		keys := []string{a, b}

		ss, err := c.ZUnion(ctx, keys, nil)
		if err != nil || fmt.Sprint(ss) != "[x y z w]" {
			t.Fatalf("ZUnion = %v %v", ss, err)
		}
		zs, err := c.ZUnionWithScores(ctx, keys, &ZAggregateOptions{Weights: []float64{2, 1}, Aggregate: "MAX"})
		if err != nil || fmt.Sprint(zs) != "[{2 x} {10 y} {20 z} {30 w}]" {
			t.Fatalf("ZUnionWithScores = %v %v", zs, err)
		}
		n, err := c.ZUnionStore(ctx, d, keys, nil)
		eq(t, "ZUnionStore", n, err, 4)

		ss, err = c.ZInter(ctx, keys, &ZAggregateOptions{Aggregate: "MIN"})
		if err != nil || fmt.Sprint(ss) != "[y z]" {
			t.Fatalf("ZInter = %v %v", ss, err)
		}
		zs, err = c.ZInterWithScores(ctx, keys, nil)
		if err != nil || fmt.Sprint(zs) != "[{12 y} {23 z}]" {
			t.Fatalf("ZInterWithScores = %v %v", zs, err)
		}
		n, err = c.ZInterStore(ctx, d, keys, &ZAggregateOptions{Weights: []float64{1, 0}})
		eq(t, "ZInterStore", n, err, 2)
		zs, err = c.ZRangeWithScores(ctx, d, 0, -1, nil)
		if err != nil || fmt.Sprint(zs) != "[{2 y} {3 z}]" {
			t.Fatalf("ZInterStore with weights stored %v %v", zs, err)
		}
		n, err = c.ZInterCard(ctx, keys, 0)
		eq(t, "ZInterCard", n, err, 2)
		n, err = c.ZInterCard(ctx, keys, 1)
		eq(t, "ZInterCard LIMIT 1", n, err, 1)

		ss, err = c.ZDiff(ctx, keys)
		if err != nil || fmt.Sprint(ss) != "[x]" {
			t.Fatalf("ZDiff = %v %v", ss, err)
		}
		zs, err = c.ZDiffWithScores(ctx, []string{b, a})
		if err != nil || fmt.Sprint(zs) != "[{30 w}]" {
			t.Fatalf("ZDiffWithScores = %v %v", zs, err)
		}
		n, err = c.ZDiffStore(ctx, d, keys)
		eq(t, "ZDiffStore", n, err, 1)

		n, err = c.ZRangeStore(ctx, d, b, "(10", "+inf", &ZRangeOptions{ByScore: true})
		eq(t, "ZRangeStore", n, err, 2)
		ss, err = c.ZRange(ctx, d, 0, -1, nil)
		if err != nil || fmt.Sprint(ss) != "[z w]" {
			t.Fatalf("ZRangeStore stored %v %v", ss, err)
		}

		_, err = c.ZUnion(ctx, []string{a, otherSlot(a)}, nil)
		isCrossSlot(t, "ZUnion across slots", err)
		_, err = c.ZInterStore(ctx, otherSlot(a), keys, nil)
		isCrossSlot(t, "ZInterStore across slots", err)
	})
}

func TestTypedZSetMore(t *testing.T) {
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		k, lex, e := p+"k", p+"lex", p+"empty"
		c.Del(ctx, k, lex, e)
		check(t, errOf(c.ZAdd(ctx, k, nil, Z{1, "a"}, Z{2, "b"}, Z{3, "c"}, Z{4, "d"}, Z{5.5, "e"})))
		check(t, errOf(c.ZAdd(ctx, lex, nil, Z{0, "a"}, Z{0, "b"}, Z{0, "c"}, Z{0, "d"})))

		scores, err := c.ZMScore(ctx, k, "a", "nope", "e")
		if err != nil || len(scores) != 3 || scores[0] == nil || *scores[0] != 1 || scores[1] != nil || scores[2] == nil || *scores[2] != 5.5 {
			t.Fatalf("ZMScore = %v %v", scores, err)
		}
		n, err := c.ZLexCount(ctx, lex, "[b", "+")
		eq(t, "ZLexCount", n, err, 3)
		n, err = c.ZRemRangeByLex(ctx, lex, "(a", "[c")
		eq(t, "ZRemRangeByLex", n, err, 2)
		n, err = c.ZRemRangeByRank(ctx, k, 0, 1)
		eq(t, "ZRemRangeByRank", n, err, 2)

		m, err := c.ZRandMember(ctx, k)
		if err != nil || !slices.Contains([]string{"c", "d", "e"}, m) {
			t.Fatalf("ZRandMember = %q %v", m, err)
		}
		_, err = c.ZRandMember(ctx, e)
		isNil(t, "ZRandMember of a missing key", err)
		ss, err := c.ZRandMemberCount(ctx, k, 5)
		slices.Sort(ss)
		if err != nil || fmt.Sprint(ss) != "[c d e]" {
			t.Fatalf("ZRandMemberCount = %v %v", ss, err)
		}
		zs, err := c.ZRandMemberWithScores(ctx, k, -4)
		if err != nil || len(zs) != 4 {
			t.Fatalf("ZRandMemberWithScores = %v %v", zs, err)
		}
		for _, z := range zs {
			if want := map[string]float64{"c": 3, "d": 4, "e": 5.5}[z.Member]; z.Score != want {
				t.Fatalf("ZRandMemberWithScores = %v: wrong score", zs)
			}
		}

		key, zs, err := c.ZMPop(ctx, []string{e, k}, ZMax, 2)
		if err != nil || key != k || fmt.Sprint(zs) != "[{5.5 e} {4 d}]" {
			t.Fatalf("ZMPop = %q %v %v", key, zs, err)
		}
		key, zs, err = c.ZMPop(ctx, []string{k}, ZMin, 10)
		if err != nil || key != k || fmt.Sprint(zs) != "[{3 c}]" {
			t.Fatalf("ZMPop MIN = %q %v %v", key, zs, err)
		}
		_, _, err = c.ZMPop(ctx, []string{k, e}, ZMin, 1)
		isNil(t, "ZMPop of empty sets", err)
		_, _, err = c.ZMPop(ctx, []string{k, otherSlot(k)}, ZMin, 1)
		isCrossSlot(t, "ZMPop across slots", err)
	})
}

func TestTypedBZMPop(t *testing.T) {
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		k := p + "bz"
		c.Del(ctx, k)
		start := time.Now()
		_, _, err := c.BZMPop(ctx, 100*time.Millisecond, []string{k}, ZMin, 1)
		isNil(t, "BZMPop timing out", err)
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("BZMPop with a 100ms timeout took %v", el)
		}
		// A deadline before the timeout ends the wait at the deadline.
		dctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		start = time.Now()
		_, _, err = c.BZMPop(dctx, 0, []string{k}, ZMin, 1)
		el := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || el < 150*time.Millisecond || el > 150*time.Millisecond+testkit.Slack() {
			t.Fatalf("BZMPop with no timeout and a 150ms deadline: %v after %v", err, el)
		}
		check(t, errOf(c.ZAdd(ctx, k, nil, Z{1, "a"}, Z{2, "b"})))
		key, zs, err := c.BZMPop(ctx, time.Second, []string{k}, ZMax, 1)
		if err != nil || key != k || fmt.Sprint(zs) != "[{2 b}]" {
			t.Fatalf("BZMPop = %q %v %v", key, zs, err)
		}
	})
}

// errOf drops a typed method's value, keeping its error.
func errOf[T any](_ T, err error) error { return err }
