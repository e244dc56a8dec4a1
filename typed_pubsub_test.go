package redline

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// Integration tests of the pub/sub and geo methods of issue 18, on RESP3 and RESP2.

func TestTypedPubSub(t *testing.T) {
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		ch, sch := p+"ch", p+"sch"
		// Subscriptions need RESP3: they are made by a client of their own.
		subs := newTestClient(t, plain(t), Options{})
		sub, err := subs.Subscribe(ctx, ch)
		check(t, err)
		defer sub.Close()
		ssub, err := subs.SSubscribe(ctx, sch)
		check(t, err)
		defer ssub.Close()

		n, err := c.Publish(ctx, ch, "hello")
		if err != nil || n < 0 || n > 1 {
			t.Fatalf("Publish = %d %v", n, err)
		}
		// The shard channel's subscription is on the node of its slot, where SPublish goes.
		n, err = c.SPublish(ctx, sch, "shard hello")
		eq(t, "SPublish", n, err, 1)
		for _, tc := range []struct {
			sub     *Subscription
			kind    MessageKind
			channel string
			payload string
		}{{sub, KindMessage, ch, "hello"}, {ssub, KindSMessage, sch, "shard hello"}} {
			select {
			case m := <-tc.sub.Messages():
				if m.Kind != tc.kind || m.Channel != tc.channel || m.Payload != tc.payload {
					t.Fatalf("received %+v, want %s %q on %s", m, tc.kind, tc.payload, tc.channel)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no %s on %s within 5s", tc.kind, tc.channel)
			}
		}

		// The introspection commands are answered by one node: only the shape is certain.
		chans, err := c.PubSubChannels(ctx, p+"*")
		if err != nil || len(chans) > 1 || len(chans) == 1 && chans[0] != ch {
			t.Fatalf("PubSubChannels = %v %v", chans, err)
		}
		chans, err = c.PubSubChannels(ctx, "")
		check(t, err)
		counts, err := c.PubSubNumSub(ctx, ch, p+"nobody")
		if err != nil || len(counts) != 2 || counts[ch] > 1 || counts[p+"nobody"] != 0 {
			t.Fatalf("PubSubNumSub = %v %v", counts, err)
		}
		counts, err = c.PubSubNumSub(ctx)
		if err != nil || len(counts) != 0 {
			t.Fatalf("PubSubNumSub of no channel = %v %v", counts, err)
		}
		n, err = c.PubSubNumPat(ctx)
		if err != nil || n < 0 {
			t.Fatalf("PubSubNumPat = %d %v", n, err)
		}
		chans, err = c.PubSubShardChannels(ctx, sch)
		if err != nil || len(chans) > 1 || len(chans) == 1 && chans[0] != sch {
			t.Fatalf("PubSubShardChannels = %v %v", chans, err)
		}
		counts, err = c.PubSubShardNumSub(ctx, sch)
		if err != nil || len(counts) != 1 || counts[sch] > 1 {
			t.Fatalf("PubSubShardNumSub = %v %v", counts, err)
		}
	})
}

func TestTypedGeoMore(t *testing.T) {
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		k, d := p+"geo", p+"dst"
		c.Del(ctx, k, d)
		_, err := c.GeoAdd(ctx, k,
			GeoLocation{Name: "Palermo", Longitude: 13.361389, Latitude: 38.115556},
			GeoLocation{Name: "Catania", Longitude: 15.087269, Latitude: 37.502669})
		check(t, err)
		hs, err := c.GeoHash(ctx, k, "Palermo", "nowhere", "Catania")
		if err != nil || fmt.Sprint(hs) != "[sqc8b49rny0  sqdtr74hyu0]" {
			t.Fatalf("GeoHash = %q %v", hs, err)
		}
		q := GeoSearchQuery{Longitude: 15, Latitude: 37, Radius: 200, Unit: "km", Sort: "ASC"}
		n, err := c.GeoSearchStore(ctx, d, k, q, false)
		eq(t, "GeoSearchStore", n, err, 2)
		ss, err := c.GeoSearch(ctx, d, GeoSearchQuery{Member: "Catania", Radius: 1, Unit: "km"})
		if err != nil || fmt.Sprint(ss) != "[Catania]" {
			t.Fatalf("GeoSearch of the stored index = %v %v", ss, err)
		}
		q.Count = 1
		n, err = c.GeoSearchStore(ctx, d, k, q, true)
		eq(t, "GeoSearchStore STOREDIST COUNT 1", n, err, 1)
		zs, err := c.ZRangeWithScores(ctx, d, 0, -1, nil)
		if err != nil || len(zs) != 1 || zs[0].Member != "Catania" || math.Abs(zs[0].Score-56.4413) > 0.01 {
			t.Fatalf("GeoSearchStore STOREDIST stored %v %v", zs, err)
		}
		_, err = c.GeoSearchStore(ctx, otherSlot(k), k, q, false)
		isCrossSlot(t, "GeoSearchStore across slots", err)
	})
}
