package redline

import (
	"fmt"
	"testing"
	"time"
)

// Integration tests of the stream methods of issue 18 (typed_stream.go), on RESP3 and
// RESP2.

func TestTypedStreamGroups(t *testing.T) {
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		s := p + "s"
		c.Del(ctx, s)
		var ids []string
		for i := range 4 {
			id, err := c.XAdd(ctx, XAddArgs{Stream: s, Values: map[string]any{"n": i}})
			check(t, err)
			ids = append(ids, id)
		}
		check(t, c.XGroupCreate(ctx, s, "g", "0"))
		ok, err := c.XGroupCreateConsumer(ctx, s, "g", "carol")
		eq(t, "XGroupCreateConsumer", ok, err, true)
		ok, err = c.XGroupCreateConsumer(ctx, s, "g", "carol")
		eq(t, "XGroupCreateConsumer again", ok, err, false)
		_, err = c.XReadGroup(ctx, "g", "alice", XReadGroupArgs{Streams: map[string]string{s: ">"}, Count: 3})
		check(t, err)

		pend, err := c.XPendingExt(ctx, s, "g", XPendingExtArgs{Count: 10})
		if err != nil || len(pend) != 3 || pend[0].ID != ids[0] || pend[0].Consumer != "alice" || pend[0].RetryCount != 1 || pend[0].Idle < 0 {
			t.Fatalf("XPendingExt = %+v %v", pend, err)
		}
		pend, err = c.XPendingExt(ctx, s, "g", XPendingExtArgs{Start: ids[1], Count: 10, Consumer: "bob"})
		if err != nil || len(pend) != 0 {
			t.Fatalf("XPendingExt of bob = %+v %v", pend, err)
		}
		pend, err = c.XPendingExt(ctx, s, "g", XPendingExtArgs{Idle: time.Hour, Count: 10})
		if err != nil || len(pend) != 0 {
			t.Fatalf("XPendingExt idle an hour = %+v %v", pend, err)
		}

		msgs, err := c.XClaim(ctx, s, "g", "bob", 0, nil, ids[0])
		if err != nil || len(msgs) != 1 || msgs[0].ID != ids[0] || msgs[0].Values["n"] != "0" {
			t.Fatalf("XClaim = %v %v", msgs, err)
		}
		claimed, err := c.XClaimJustID(ctx, s, "g", "bob", 0, &XClaimOptions{RetryCount: 7, Force: true}, ids[1], ids[3])
		if err != nil || fmt.Sprint(claimed) != fmt.Sprint([]string{ids[1], ids[3]}) {
			t.Fatalf("XClaimJustID FORCE = %v %v", claimed, err)
		}
		pend, err = c.XPendingExt(ctx, s, "g", XPendingExtArgs{Count: 10, Consumer: "bob"})
		if err != nil || len(pend) != 3 || pend[1].RetryCount != 7 || pend[2].ID != ids[3] {
			t.Fatalf("XPendingExt after XClaim = %+v %v", pend, err)
		}
		msgs, err = c.XClaim(ctx, s, "g", "alice", time.Hour, nil, ids[0])
		if err != nil || len(msgs) != 0 {
			t.Fatalf("XClaim of an entry idle less than minIdle = %v %v", msgs, err)
		}

		n, err := c.XDel(ctx, s, ids[3])
		eq(t, "XDel", n, err, 1)
		ac, err := c.XAutoClaim(ctx, s, "g", "carol", 0, "0-0", 2)
		if err != nil || len(ac.Messages) != 2 || ac.Messages[0].ID != ids[0] || ac.Messages[1].Values["n"] != "1" || ac.Next == "" {
			t.Fatalf("XAutoClaim = %+v %v", ac, err)
		}
		acIDs, err := c.XAutoClaimJustID(ctx, s, "g", "carol", 0, ac.Next, 10)
		if err != nil || fmt.Sprint(acIDs.IDs) != fmt.Sprint([]string{ids[2]}) || fmt.Sprint(acIDs.Deleted) != fmt.Sprint([]string{ids[3]}) || acIDs.Next != "0-0" {
			t.Fatalf("XAutoClaimJustID = %+v %v", acIDs, err)
		}

		groups, err := c.XInfoGroups(ctx, s)
		if err != nil || len(groups) != 1 || groups[0].Name != "g" || groups[0].Consumers != 3 || groups[0].Pending != 3 ||
			groups[0].LastDeliveredID != ids[2] || groups[0].EntriesRead != 3 {
			t.Fatalf("XInfoGroups = %+v %v", groups, err)
		}
		cons, err := c.XInfoConsumers(ctx, s, "g")
		if err != nil || len(cons) != 3 {
			t.Fatalf("XInfoConsumers = %+v %v", cons, err)
		}
		pending := map[string]int64{}
		for _, co := range cons {
			pending[co.Name] = co.Pending
			if co.Idle < 0 {
				t.Fatalf("XInfoConsumers: negative idle %+v", co)
			}
		}
		if fmt.Sprint(pending) != "map[alice:0 bob:0 carol:3]" {
			t.Fatalf("XInfoConsumers pending = %v", pending)
		}
		n, err = c.XGroupDelConsumer(ctx, s, "g", "carol")
		eq(t, "XGroupDelConsumer", n, err, 3)

		check(t, c.XGroupSetID(ctx, s, "g", "0"))
		streams, err := c.XReadGroup(ctx, "g", "dave", XReadGroupArgs{Streams: map[string]string{s: ">"}})
		if err != nil || len(streams) != 1 || len(streams[0].Messages) != 3 {
			t.Fatalf("XReadGroup after XGroupSetID 0 = %v %v", streams, err)
		}
	})
}

func TestTypedXInfoStream(t *testing.T) {
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		s, e := p+"s", p+"empty"
		c.Del(ctx, s, e)
		id1, err := c.XAdd(ctx, XAddArgs{Stream: s, Values: map[string]any{"a": 1}})
		check(t, err)
		id2, err := c.XAdd(ctx, XAddArgs{Stream: s, Values: map[string]any{"b": 2}})
		check(t, err)
		check(t, c.XGroupCreate(ctx, s, "g", "$"))
		info, err := c.XInfoStream(ctx, s)
		if err != nil || info.Length != 2 || info.Groups != 1 || info.LastGeneratedID != id2 || info.EntriesAdded != 2 ||
			info.RecordedFirstEntryID != id1 || info.MaxDeletedEntryID != "0-0" || info.RadixTreeKeys < 1 || info.RadixTreeNodes < 1 ||
			info.FirstEntry == nil || info.FirstEntry.ID != id1 || info.FirstEntry.Values["a"] != "1" ||
			info.LastEntry == nil || info.LastEntry.ID != id2 {
			t.Fatalf("XInfoStream = %+v %v", info, err)
		}

		check(t, c.XGroupSetID(ctx, s, "g", "0"))
		_, err = c.XReadGroup(ctx, "g", "alice", XReadGroupArgs{Streams: map[string]string{s: ">"}})
		check(t, err)
		before := time.Now().Add(-time.Minute)
		full, err := c.XInfoStreamFull(ctx, s, 0)
		if err != nil || full.Length != 2 || full.LastGeneratedID != id2 || full.EntriesAdded != 2 || len(full.Entries) != 2 ||
			full.Entries[1].Values["b"] != "2" || len(full.Groups) != 1 {
			t.Fatalf("XInfoStreamFull = %+v %v", full, err)
		}
		g := full.Groups[0]
		if g.Name != "g" || g.LastDeliveredID != id2 || g.EntriesRead != 2 || g.Lag != 0 || g.PelCount != 2 || len(g.Pending) != 2 ||
			g.Pending[0].ID != id1 || g.Pending[0].Consumer != "alice" || g.Pending[0].DeliveryCount != 1 || g.Pending[0].DeliveryTime.Before(before) ||
			len(g.Consumers) != 1 || g.Consumers[0].Name != "alice" || g.Consumers[0].PelCount != 2 || g.Consumers[0].SeenTime.Before(before) ||
			len(g.Consumers[0].Pending) != 2 || g.Consumers[0].Pending[1].ID != id2 || g.Consumers[0].Pending[1].Consumer != "" {
			t.Fatalf("XInfoStreamFull group = %+v", g)
		}
		full, err = c.XInfoStreamFull(ctx, s, 1)
		if err != nil || len(full.Entries) != 1 || len(full.Groups[0].Pending) != 1 {
			t.Fatalf("XInfoStreamFull COUNT 1 = %+v %v", full, err)
		}

		check(t, c.XGroupCreateMkStream(ctx, e, "g", "$"))
		info, err = c.XInfoStream(ctx, e)
		if err != nil || info.Length != 0 || info.FirstEntry != nil || info.LastEntry != nil {
			t.Fatalf("XInfoStream of an empty stream = %+v %v", info, err)
		}
		check(t, c.XSetID(ctx, e, "100-5"))
		info, err = c.XInfoStream(ctx, e)
		if err != nil || info.LastGeneratedID != "100-5" {
			t.Fatalf("XInfoStream after XSetID = %+v %v", info, err)
		}
		if err := c.XSetID(ctx, s, "0-1"); err == nil {
			t.Fatal("XSetID below the last entry: no error")
		}
		groups, err := c.XInfoGroups(ctx, e)
		if err != nil || len(groups) != 1 || groups[0].EntriesRead != -1 && groups[0].EntriesRead != 0 {
			t.Fatalf("XInfoGroups of an empty stream = %+v %v", groups, err)
		}
	})
}
