package redline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/redline-go/redline/resp"
)

// slotStatsReply builds a CLUSTER SLOT-STATS reply: slot, then metric/value pairs;
// map3 makes the statistics a RESP3 map, else a RESP2 flat array.
func slotStatsReply(map3 bool, slots ...[]any) resp.Value {
	out := resp.Value{Type: resp.TypeArray}
	for _, s := range slots {
		m := resp.Value{Type: resp.TypeArray}
		if map3 {
			m.Type = resp.TypeMap
		}
		for i := 1; i+1 < len(s); i += 2 {
			m.Elems = append(m.Elems, resp.Value{Type: resp.TypeBulkString, Str: []byte(s[i].(string))},
				resp.Value{Type: resp.TypeInteger, Int: int64(s[i+1].(int))})
		}
		out.Elems = append(out.Elems, resp.Value{Type: resp.TypeArray, Elems: []resp.Value{
			{Type: resp.TypeInteger, Int: int64(s[0].(int))}, m}})
	}
	return out
}

// TestDecodeSlotStats: both protocols' shapes decode; metrics not sent stay 0, unknown
// ones are skipped; malformed replies are errors, not panics.
func TestDecodeSlotStats(t *testing.T) {
	t.Parallel()
	for _, map3 := range []bool{false, true} {
		v := slotStatsReply(map3,
			[]any{7, "key-count", 3},
			[]any{9, "key-count", 1, "cpu-usec", 20, "network-bytes-in", 30, "network-bytes-out", 40, "future-metric", 5})
		got, err := decodeSlotStats(v)
		if err != nil {
			t.Fatal(err)
		}
		want := []SlotStats{{Slot: 7, KeyCount: 3}, {Slot: 9, KeyCount: 1, CPUUsec: 20, NetworkBytesIn: 30, NetworkBytesOut: 40}}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("map3=%v: got %+v, want %+v", map3, got, want)
		}
	}
	bad := []resp.Value{
		{Type: resp.TypeInteger, Int: 1},
		{Type: resp.TypeArray, Elems: []resp.Value{{Type: resp.TypeInteger, Int: 1}}},
		slotStatsReply(false, []any{16384, "key-count", 1}),
		slotStatsReply(false, []any{-1, "key-count", 1}),
		{Type: resp.TypeArray, Elems: []resp.Value{{Type: resp.TypeArray, Elems: []resp.Value{
			{Type: resp.TypeInteger, Int: 1}, {Type: resp.TypeArray, Elems: []resp.Value{{Type: resp.TypeBulkString, Str: []byte("key-count")}}}}}}},
		{Type: resp.TypeArray, Elems: []resp.Value{{Type: resp.TypeArray, Elems: []resp.Value{
			{Type: resp.TypeInteger, Int: 1}, {Type: resp.TypeArray, Elems: []resp.Value{
				{Type: resp.TypeBulkString, Str: []byte("key-count")}, {Type: resp.TypeBulkString, Str: []byte("x")}}}}}}},
	}
	for i, v := range bad {
		if got, err := decodeSlotStats(v); err == nil {
			t.Errorf("bad reply %d: got %+v, want an error", i, got)
		}
	}
}

// TestSlotStatsErr: every node refusing alike (Redis) is that one reply, still a
// *RedisError; mixed failures name each node.
func TestSlotStatsErr(t *testing.T) {
	t.Parallel()
	addrs := []string{"a:1", "b:2", "c:3"}
	if err := slotStatsErr(addrs, make([]error, 3)); err != nil {
		t.Fatalf("no failure: got %v", err)
	}
	unknown := func(from string) error {
		return &resp.Error{Code: "ERR", Msg: "ERR unknown subcommand 'SLOT-STATS'. Try CLUSTER HELP.", From: from, Slot: -1}
	}
	err := slotStatsErr(addrs, []error{unknown("a:1"), unknown("b:2"), unknown("c:3")})
	var re *RedisError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "unknown subcommand") || strings.Count(err.Error(), "unknown subcommand") != 1 {
		t.Errorf("all refused: got %v", err)
	}
	err = slotStatsErr(addrs, []error{nil, errors.New("boom"), unknown("c:3")})
	if msg := err.Error(); !strings.Contains(msg, "b:2: boom") || !strings.Contains(msg, "(from c:3)") || !strings.Contains(msg, "2 of 3") || strings.Contains(msg, "a:1") {
		t.Errorf("mixed: got %v", err)
	}
	if !errors.As(err, &re) || re.From != "c:3" {
		t.Errorf("mixed: errors.As(*RedisError) = %v", re)
	}
}

// TestSlotStatsBadInput: arguments the server would refuse fail at once, unsent.
func TestSlotStatsBadInput(t *testing.T) {
	t.Parallel()
	c := &Client{} // never reached: the checks come first
	ctx := context.Background()
	for _, r := range [][2]int{{-1, 5}, {5, 16384}, {10, 9}} {
		if _, err := c.ClusterSlotStats(ctx, r[0], r[1]); err == nil || !strings.Contains(err.Error(), "start <= end") {
			t.Errorf("ClusterSlotStats(%d, %d): got %v", r[0], r[1], err)
		}
	}
	if _, err := c.ClusterSlotStatsOrderBy(ctx, "keys", nil); err == nil || !strings.Contains(err.Error(), "unknown metric") {
		t.Errorf("unknown metric: got %v", err)
	}
	for _, l := range []int{-1, 16385} {
		if _, err := c.ClusterSlotStatsOrderBy(ctx, SlotStatsKeyCount, &SlotStatsOrder{Limit: l}); err == nil || !strings.Contains(err.Error(), "limit") {
			t.Errorf("limit %d: got %v", l, err)
		}
	}
}

// TestMergeSlotStats: the nodes' ordered lists merge into one in order (by slot, or by
// value), each slot once: a slot two nodes report (while it moves) is the topology
// owner's report, whichever node answered first.
func TestMergeSlotStats(t *testing.T) {
	t.Parallel()
	addrs := []string{"a:1", "b:2", "c:3"}
	lists := func() [][]SlotStats { // in slot order, as SLOTSRANGE sends them
		return [][]SlotStats{
			{{Slot: 1, KeyCount: 1}, {Slot: 5, KeyCount: 50}, {Slot: 6, KeyCount: 60}},
			{{Slot: 5, KeyCount: 51}, {Slot: 6, KeyCount: 61}, {Slot: 9, KeyCount: 9}},
			{{Slot: 2, KeyCount: 60}, {Slot: 12, KeyCount: 0}},
		}
	}
	owner := map[int]string{1: "a:1", 2: "c:3", 5: "b:2", 6: "a:1", 9: "b:2", 12: "c:3"}
	ownerOf := func(slot int) string { return owner[slot] }
	if got, want := slotsAndCounts(mergeSlotStats(addrs, lists(), ownerOf, bySlot)), "1:1 2:60 5:51 6:60 9:9 12:0"; got != want {
		t.Errorf("by slot: got %s, want %s", got, want)
	}
	byCount := func(a, b *SlotStats) int { // descending, then by slot
		if a.KeyCount != b.KeyCount {
			return int(b.KeyCount - a.KeyCount)
		}
		return a.Slot - b.Slot
	}
	per := lists()
	for _, l := range per {
		slices.SortFunc(l, valueOrder(byCount))
	}
	if got, want := slotsAndCounts(mergeSlotStats(addrs, per, ownerOf, byCount)), "2:60 6:60 5:51 9:9 1:1 12:0"; got != want {
		t.Errorf("by count: got %s, want %s", got, want)
	}
	if got := mergeSlotStats(addrs, [][]SlotStats{nil, nil, nil}, ownerOf, bySlot); len(got) != 0 {
		t.Errorf("no slots: got %+v", got)
	}
}
