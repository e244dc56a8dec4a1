package cluster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// TestDoOnNodes: each node's reply in the order of the addresses asked, retried on its
// own node when the server asks, never redirected; a node that does not answer costs
// only its own reply the deadline; unknown addresses and connection-state commands
// fail unsent.
func TestDoOnNodes(t *testing.T) {
	t.Parallel()
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), withEmptyShard)
	fc.handle(p1, always(bulkV("one")))
	fc.handle(p2, script(step{v: errV("TRYAGAIN later")}, step{v: bulkV("two")}))
	fc.handle(p3, always(errV("MOVED 1 "+p1)))
	fc.handle(r1, waitDeadline(r1))

	if got := c.PrimaryAddrs(); !slices.Equal(got, []string{p1, p2, p3}) {
		t.Fatalf("PrimaryAddrs = %v (the primary serving no slot is not one)", got)
	}
	if got := c.NodeAddrs(); len(got) != 7 || got[0] != p1 {
		t.Fatalf("NodeAddrs = %v", got)
	}
	addrs := []string{r1, p3, p2, "127.0.0.1:1", p1}
	start := time.Now()
	rs := c.DoOnNodes(ctxFor(t, 30*time.Millisecond), addrs, []any{"INFO", "server"})
	if el := time.Since(start); el > 30*time.Millisecond+50*time.Millisecond {
		t.Fatalf("took %v; the deadline was 30ms", el)
	}
	deadline(r1, rerr.PhaseRead)(t, rs[0])
	var re *resp.Error
	if !errors.As(rs[1].Err(), &re) || re.Code != "MOVED" {
		t.Fatalf("p3: %v, want its MOVED, not followed", rs[1].Err())
	}
	if v := rs[2].Value(); rs[2].Err() != nil || string(v.Str) != "two" {
		t.Fatalf("p2: %+v %v", v, rs[2].Err())
	}
	if err := rs[3].Err(); err == nil || !strings.Contains(err.Error(), "not a node of the cluster") {
		t.Fatalf("an unknown address: %v", err)
	}
	if v := rs[4].Value(); rs[4].Err() != nil || string(v.Str) != "one" {
		t.Fatalf("p1: %+v %v", v, rs[4].Err())
	}
	got := fc.sent()
	slices.Sort(got)
	want := []string{p1 + ": INFO server", p2 + ": INFO server", p2 + ": INFO server", p3 + ": INFO server", r1 + ": INFO server"}
	if !equalStrings(got, want) {
		t.Fatalf("sent %q; want %q", got, want)
	}

	for _, args := range [][]any{{"SUBSCRIBE", "ch"}, {"GET", struct{}{}}, {}} {
		rs := c.DoOnNodes(context.Background(), []string{p1, p2}, args)
		if rs[0].Err() == nil || rs[1].Err() == nil {
			t.Fatalf("%v was accepted", args)
		}
	}
	if n := len(fc.sent()); n != len(want) {
		t.Fatalf("refused commands were sent: %q", fc.sent()[len(want):])
	}
}
