package redline

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
)

// TestSUnsubscribeLateConfirmationIsNotAMove: an SUnsubscribe whose deadline passes
// before the node confirms (node paused for a moment): the confirmation
// ("sunsubscribe ch") that arrives later is of a channel unsubscribed, not the server
// dropping the slot's channels: no gap, no new connection.
func TestSUnsubscribeLateConfirmationIsNotAMove(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{})
	ctx := t.Context()
	sub, err := c.SSubscribe(ctx, "unsub:{late}a", "unsub:{late}b")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	nd := cl.NodeByAddr(sub.groups[0].curAddr())
	if err := nd.Pause(); err != nil {
		t.Fatal(err)
	}
	uctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err = sub.SUnsubscribe(uctx, "unsub:{late}a")
	cancel()
	if err := nd.Resume(); err != nil {
		t.Fatal(err)
	}
	if err == nil {
		t.Fatal("SUnsubscribe on a paused node confirmed")
	}
	t.Logf("SUnsubscribe: %v", err)
	timeout := time.After(1500 * time.Millisecond)
	for {
		select {
		case m := <-sub.Messages():
			if m.Kind == KindGap {
				t.Fatalf("a gap after a late unsubscribe confirmation, nothing moved: %v", m.Err)
			}
		case <-timeout:
			return
		}
	}
}

// TestSUnsubscribeErrorNamesUnconfirmedNode: an SUnsubscribe of shard channels on two
// nodes, the first of which does not confirm in time: the deadline error names the
// node of the unconfirmed channel, not the last node written to.
func TestSUnsubscribeErrorNamesUnconfirmedNode(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{})
	ctx := t.Context()
	var chans []string
	owners := map[string]bool{}
	for i := 0; len(chans) < 2 && i < 1000; i++ {
		ch := fmt.Sprintf("unsub:{w%d}", i)
		n, err := c.e.Pick(hashslot.Key(ch), false)
		if err != nil {
			t.Fatal(err)
		}
		if !owners[n.Addr()] {
			owners[n.Addr()] = true
			chans = append(chans, ch)
		}
	}
	sub, err := c.SSubscribe(ctx, chans...)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	first := sub.groups[0]
	nd := cl.NodeByAddr(first.curAddr())
	if err := nd.Pause(); err != nil {
		t.Fatal(err)
	}
	uctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	err = sub.SUnsubscribe(uctx, chans...)
	cancel()
	if err := nd.Resume(); err != nil {
		t.Fatal(err)
	}
	var ne *NodeError
	if !errors.As(err, &ne) {
		t.Fatalf("SUnsubscribe with a paused node: %v", err)
	}
	if ne.Addr != first.curAddr() {
		t.Fatalf("the error names %s; the unconfirmed channel %v is on %s: %v", ne.Addr, first.namesNow(), first.curAddr(), err)
	}
}

// TestUnsubscribeRetryAfterDeadline: an Unsubscribe whose deadline passes before
// UNSUBSCRIBE is written removes the channel from the Subscription but leaves it
// subscribed on the server; calling Unsubscribe again — the natural reaction to the
// error — must send it, and return once the server confirmed.
func TestUnsubscribeRetryAfterDeadline(t *testing.T) {
	c := newTestClient(t, plain(t), Options{})
	sub, err := c.Subscribe(t.Context(), "unsubdl:a", "unsubdl:b")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if err := sub.Unsubscribe(ctx, "unsubdl:a"); err == nil {
		t.Skip("the write raced the deadline and won")
	}
	if err := sub.Unsubscribe(t.Context(), "unsubdl:a"); err != nil {
		t.Fatal(err)
	}
	got := numSub(t, c, sub.groups[0].curAddr(), "NUMSUB", "unsubdl:a", "unsubdl:b")
	if got["unsubdl:a"] != 0 {
		t.Fatalf("Unsubscribe retried after a deadline returned nil, yet the node still counts %v", got)
	}
}

// TestSUnsubscribeRetriedWhileUnconfirmed: an SUnsubscribe that timed out on a paused
// node is called again while the node is still paused (the channel is written twice),
// then once more after it resumed: the server confirms each; none is taken for a slot
// move (no gap), the last call returns nil, the other channel still gets its messages.
func TestSUnsubscribeRetriedWhileUnconfirmed(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{})
	ctx := t.Context()
	sub, err := c.SSubscribe(ctx, "unsub:{twice}a", "unsub:{twice}b")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	nd := cl.NodeByAddr(sub.groups[0].curAddr())
	if err := nd.Pause(); err != nil {
		t.Fatal(err)
	}
	var errs [2]error
	for i := range errs {
		uctx, cancel := context.WithTimeout(ctx, 60*time.Millisecond)
		errs[i] = sub.SUnsubscribe(uctx, "unsub:{twice}a")
		cancel()
	}
	if err := nd.Resume(); err != nil {
		t.Fatal(err)
	}
	if errs[0] == nil || errs[1] == nil {
		t.Fatalf("SUnsubscribe on a paused node confirmed: %v", errs)
	}
	if err := sub.SUnsubscribe(ctx, "unsub:{twice}a"); err != nil {
		t.Fatalf("SUnsubscribe after the node resumed: %v", err)
	}
	if err := c.Do(ctx, "SPUBLISH", "unsub:{twice}b", "hello").Err(); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(1500 * time.Millisecond)
	got := false
	for {
		select {
		case m := <-sub.Messages():
			if m.Kind == KindGap {
				t.Fatalf("a gap after repeated unsubscribe confirmations, nothing moved: %v", m.Err)
			}
			if m.Channel == "unsub:{twice}a" {
				t.Fatalf("a message of the unsubscribed channel: %+v", m)
			}
			got = got || m.Channel == "unsub:{twice}b" && m.Payload == "hello"
		case <-timeout:
			if !got {
				t.Fatal("the channel still subscribed got no message")
			}
			return
		}
	}
}
