package redline

import (
	"context"
	"strings"
	"testing"
	"time"
)

// numSub returns the subscribers the node at addr counts for each channel, asking
// PUBSUB NUMSUB (or SHARDNUMSUB) of that node itself.
func numSub(t *testing.T, c *Client, addr, sub string, channels ...string) map[string]int64 {
	t.Helper()
	cmd := []any{"PUBSUB", sub}
	for _, ch := range channels {
		cmd = append(cmd, ch)
	}
	vs, err := c.pipelineTo(t.Context(), addr, [][]any{cmd})
	if err != nil {
		t.Fatal(err)
	}
	r := Result{val: vs[0]}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	e := vs[0].Elems
	for i := 0; i+1 < len(e); i += 2 {
		out[string(e[i].Str)] = e[i+1].Int
	}
	return out
}

// noMessage fails if a message (not a gap) of channel arrives within d.
func noMessage(t *testing.T, sub *Subscription, channel string, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m := <-sub.Messages():
			if m.Kind != KindGap && m.Channel == channel {
				t.Fatalf("a message of %s after its unsubscription: %+v", channel, m)
			}
		case <-timeout:
			return
		}
	}
}

func TestUnsubscribeSome(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	sub, err := c.Subscribe(ctx, "unsub:a", "unsub:b", "unsub:c")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	addr := sub.groups[0].curAddr()
	if got := numSub(t, c, addr, "NUMSUB", "unsub:a", "unsub:b", "unsub:c"); got["unsub:b"] != 1 {
		t.Fatalf("before: NUMSUB %v", got)
	}
	if err := sub.Unsubscribe(ctx, "unsub:b", "unsub:b", "unsub:unknown"); err != nil {
		t.Fatal(err)
	}
	got := numSub(t, c, addr, "NUMSUB", "unsub:a", "unsub:b", "unsub:c")
	if got["unsub:a"] != 1 || got["unsub:b"] != 0 || got["unsub:c"] != 1 {
		t.Fatalf("after unsubscribing unsub:b, the node counts %v", got)
	}
	if _, err := c.Publish(ctx, "unsub:b", "late"); err != nil {
		t.Fatal(err)
	}
	publishUntil(t, c, sub, "PUBLISH", "unsub:a", KindMessage, "still")
	noMessage(t, sub, "unsub:b", 100*time.Millisecond)

	// Wrong kind, no name: clear errors.
	if err := sub.PUnsubscribe(ctx, "unsub:a"); err == nil || !strings.Contains(err.Error(), "PUNSUBSCRIBE") {
		t.Fatalf("PUnsubscribe on a SUBSCRIBE subscription: %v", err)
	}
	if err := sub.Unsubscribe(ctx); err == nil {
		t.Fatal("Unsubscribe of nothing: no error")
	}

	// All of them: the connection ends, the Subscription stays open until Close.
	if err := sub.Unsubscribe(ctx, "unsub:a", "unsub:c"); err != nil {
		t.Fatal(err)
	}
	if got := numSub(t, c, addr, "NUMSUB", "unsub:a", "unsub:c"); got["unsub:a"] != 0 || got["unsub:c"] != 0 {
		t.Fatalf("after unsubscribing all, the node counts %v", got)
	}
	select {
	case m, ok := <-sub.Messages():
		if !ok {
			t.Fatal("Messages closed before Close")
		}
		if m.Kind == KindGap {
			t.Fatalf("a gap after unsubscribing all: %v", m.Err)
		}
	case <-time.After(50 * time.Millisecond):
	}
	sub.Close()
	if err := sub.Unsubscribe(ctx, "unsub:a"); err != ErrClosed {
		t.Fatalf("Unsubscribe after Close: %v", err)
	}
}

func TestPUnsubscribeSome(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	sub, err := c.PSubscribe(ctx, "punsub:a:*", "punsub:b:*")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.PUnsubscribe(ctx, "punsub:a:*"); err != nil {
		t.Fatal(err)
	}
	if n := numPat(t, c, sub.groups[0].curAddr()); n < 1 {
		t.Fatalf("NUMPAT %d after unsubscribing one pattern of two", n)
	}
	if _, err := c.Publish(ctx, "punsub:a:1", "gone"); err != nil {
		t.Fatal(err)
	}
	publishUntil(t, c, sub, "PUBLISH", "punsub:b:1", KindPMessage, "kept")
	noMessage(t, sub, "punsub:a:1", 100*time.Millisecond)
}

func numPat(t *testing.T, c *Client, addr string) int64 {
	vs, err := c.pipelineTo(t.Context(), addr, [][]any{{"PUBSUB", "NUMPAT"}})
	if err != nil || vs[0].Err != nil {
		t.Fatal(err, vs[0].Err)
	}
	return vs[0].Int
}

// TestSUnsubscribeSome: a shard channel unsubscribed on its node, the other (another
// slot, maybe another node) still received; our own SUNSUBSCRIBE confirmation is not
// taken for the server dropping the channel (no gap, no re-subscription).
func TestSUnsubscribeSome(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	sub, err := c.SSubscribe(ctx, "sunsub:{x}", "sunsub:{y}")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var gx *subGroup
	for _, g := range sub.groups {
		if g.namesNow()[0] == "sunsub:{x}" {
			gx = g
		}
	}
	if err := sub.SUnsubscribe(ctx, "sunsub:{x}"); err != nil {
		t.Fatal(err)
	}
	if got := numSub(t, c, gx.curAddr(), "SHARDNUMSUB", "sunsub:{x}"); got["sunsub:{x}"] != 0 {
		t.Fatalf("after SUnsubscribe the node counts %v", got)
	}
	if _, err := c.SPublish(ctx, "sunsub:{x}", "gone"); err != nil {
		t.Fatal(err)
	}
	if gaps := publishUntil(t, c, sub, "SPUBLISH", "sunsub:{y}", KindSMessage, "kept"); gaps != 0 {
		t.Fatalf("%d gaps after SUnsubscribe", gaps)
	}
	noMessage(t, sub, "sunsub:{x}", 100*time.Millisecond)
	if err := sub.Unsubscribe(ctx, "sunsub:{y}"); err == nil {
		t.Fatal("Unsubscribe on an SSUBSCRIBE subscription: no error")
	}
}

// TestUnsubscribeDeadline: an Unsubscribe whose context has ended returns at once
// with an error, and the channel is dropped from the Subscription all the same.
func TestUnsubscribeDeadline(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	sub, err := c.Subscribe(t.Context(), "unsubdl:a", "unsubdl:b")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	start := time.Now()
	err = sub.Unsubscribe(ctx, "unsubdl:a")
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("Unsubscribe after the deadline took %v", d)
	}
	if err == nil {
		t.Log("Unsubscribe after the deadline succeeded (the lock and the write raced the deadline)")
	}
	if names := sub.groups[0].namesNow(); len(names) != 1 || names[0] != "unsubdl:b" {
		t.Fatalf("names after an Unsubscribe past its deadline: %v", names)
	}
}

// TestUnsubscribeSurvivesReconnect: once unsubscribed, a channel is not subscribed
// again when the Subscription re-makes its lost connection.
func TestUnsubscribeSurvivesReconnect(t *testing.T) {
	t.Parallel()
	name := "unsub-reconnect"
	c := newTestClient(t, plain(t), Options{ClientName: name})
	ctx := t.Context()
	sub, err := c.Subscribe(ctx, "unsubre:a", "unsubre:b")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.Unsubscribe(ctx, "unsubre:a"); err != nil {
		t.Fatal(err)
	}
	// Kill the subscription's connection (flag P, our name) on its node.
	addr := sub.groups[0].curAddr()
	vs, err := c.pipelineTo(ctx, addr, [][]any{{"CLIENT", "LIST", "TYPE", "pubsub"}})
	if err != nil || vs[0].Err != nil {
		t.Fatal(err, vs[0].Err)
	}
	var id string
	for _, line := range strings.Split(string(vs[0].Str), "\n") {
		if strings.Contains(line, " name="+name+" ") {
			id, _, _ = strings.Cut(strings.TrimPrefix(line, "id="), " ")
		}
	}
	if id == "" {
		t.Fatalf("no pubsub connection named %s on %s:\n%s", name, addr, vs[0].Str)
	}
	if vs, err := c.pipelineTo(ctx, addr, [][]any{{"CLIENT", "KILL", "ID", id}}); err != nil || vs[0].Err != nil {
		t.Fatal(err, vs[0].Err)
	}
	if gaps := publishUntil(t, c, sub, "PUBLISH", "unsubre:b", KindMessage, "after"); gaps == 0 {
		t.Fatal("no gap reported for the lost connection")
	}
	got := numSub(t, c, sub.groups[0].curAddr(), "NUMSUB", "unsubre:a", "unsubre:b")
	if got["unsubre:a"] != 0 || got["unsubre:b"] != 1 {
		t.Fatalf("after the reconnect the node counts %v", got)
	}
}
