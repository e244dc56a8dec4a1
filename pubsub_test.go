package redline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// receive waits for a message of kind with payload, skipping gaps and other payloads;
// it fails the test after d.
func receive(t *testing.T, sub *Subscription, kind MessageKind, payload string, d time.Duration) (gaps int) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-sub.Messages():
			if !ok {
				t.Fatal("subscription closed")
			}
			if m.Kind == "gap" {
				gaps++
				continue
			}
			if m.Kind == kind && m.Payload == payload {
				return gaps
			}
		case <-timeout:
			t.Fatalf("no %s %q within %v", kind, payload, d)
		}
	}
}

// publishUntil publishes payload until it is received (a subscription being re-made
// misses messages published meanwhile: that is the gap it reports).
func publishUntil(t *testing.T, c *Client, sub *Subscription, cmd, channel string, kind MessageKind, payload string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	gaps := 0
	for {
		if err := c.Do(t.Context(), cmd, channel, payload).Err(); err != nil && time.Now().After(deadline) {
			t.Fatalf("%s: %v", cmd, err)
		}
		select {
		case m := <-sub.Messages():
			if m.Kind == "gap" {
				gaps++
				continue
			}
			if m.Kind == kind && m.Payload == payload {
				return gaps
			}
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %q never arrived", kind, payload)
		}
	}
}

func TestSubscribe(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	sub, err := c.Subscribe(ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	psub, err := c.PSubscribe(ctx, "ne*")
	if err != nil {
		t.Fatal(err)
	}
	defer psub.Close()
	publishUntil(t, c, sub, "PUBLISH", "news", "message", "hello")
	receive(t, psub, "pmessage", "hello", 5*time.Second)
	sub.Close()
	if _, ok := <-sub.Messages(); ok {
		for range sub.Messages() {
		}
	}
}

// TestShardedSubscriptionFollowsSlot: an SSUBSCRIBE keeps receiving after its slot is
// migrated to another master and after its owner fails over, with a gap event each time.
func TestShardedSubscriptionFollowsSlot(t *testing.T) {
	cl := plain(t)
	needServer(t, cl, 7, 0) // SSUBSCRIBE
	c := newTestClient(t, cl, Options{RefreshMinInterval: 200 * time.Millisecond})
	ctx := t.Context()
	const channel = "{shard}events"
	slot := hashslot.Key(channel)
	sub, err := c.SSubscribe(ctx, channel)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	publishUntil(t, c, sub, "SPUBLISH", channel, "smessage", "before")

	// 1. Migrate the slot to another master.
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := topo.Owner(slot).Node
	dst := topo.OtherMaster(src)
	if err := cl.MigrateSlot(ctx, slot, dst); err != nil {
		t.Fatal(err)
	}
	defer cl.MigrateSlot(t.Context(), slot, src)
	gaps := publishUntil(t, c, sub, "SPUBLISH", channel, "smessage", "after-migration")
	t.Logf("after migration: %d gap event(s)", gaps)

	// 2. Fail the new owner over to its replica.
	topo, err = cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	replica := topo.ReplicasOf(dst.ID())[0].Node
	if err := cl.Failover(ctx, replica, redistest.FailoverDefault); err != nil {
		t.Fatal(err)
	}
	defer cl.Failover(t.Context(), dst, redistest.FailoverDefault)
	gaps = publishUntil(t, c, sub, "SPUBLISH", channel, "smessage", "after-failover")
	t.Logf("after failover: %d gap event(s)", gaps)
}

// TestSubscribeDeadlineNamesNode: a Subscribe whose context ends before its node
// confirms the subscription (here the node hangs) fails, by the deadline, with a
// *DeadlineError naming the node it was waiting on, as other calls do; errors.Is
// still sees context.DeadlineExceeded.
func TestSubscribeDeadlineNamesNode(t *testing.T) {
	cl := plain(t)
	needServer(t, cl, 7, 0) // SSUBSCRIBE
	c := newTestClient(t, cl, Options{CommandTimeout: 5 * time.Second})
	const channel = "{subdl}events"
	nd := keyOwner(t, cl, c, channel)
	if err := nd.SetFault(redistest.Hang); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	sub, err := c.SSubscribe(ctx, channel)
	if late := time.Since(dl); late > 50*time.Millisecond {
		t.Errorf("SSubscribe returned %v after its deadline", late.Round(time.Millisecond))
	}
	if err == nil {
		sub.Close()
		t.Fatal("SSubscribe on a hung node succeeded")
	}
	var de *DeadlineError
	var ne *NodeError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &de) || !errors.As(err, &ne) {
		t.Fatalf("got %v (%T), want a *DeadlineError with the node", err, err)
	}
	if addr := nd.Addr(); ne.Addr != addr || !strings.Contains(err.Error(), addr) {
		t.Fatalf("got %v, want it to name %s", err, addr)
	}
	t.Log(err)
}
