package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// TestDoEntryRules: what Do decides before routing: a closed engine, commands that
// change the connection's state, PUBLISH by its channel, SPUBLISH by its shard channel.
func TestDoEntryRules(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	for _, n := range c.Nodes() {
		fc.handle(n.Addr(), always(intV(1)))
	}

	r, _ := do(t, c, context.Background(), "MULTI")
	var cse *ConnStateError
	if !errors.As(r.CallErr(), &cse) || cse.Command != "MULTI" {
		t.Fatalf("MULTI: error %v; want a ConnStateError", r.CallErr())
	}
	ch := keyIn("ch", 10923, 16383)
	r, tr := do(t, c, context.Background(), "PUBLISH", ch, "hello")
	integer(1)(t, r)
	if tr.Slot != hashslot.Key(ch) {
		t.Fatalf("PUBLISH routed by slot %d; want its channel's, %d", tr.Slot, hashslot.Key(ch))
	}
	do(t, c, context.Background(), "SPUBLISH", k2, "hello")
	fc.wantSent(p3+": PUBLISH "+ch+" hello", p2+": SPUBLISH "+k2+" hello")

	c.Close()
	if r, _ := do(t, c, context.Background(), "GET", k1); !errors.Is(r.CallErr(), rerr.ErrClosed) {
		t.Fatalf("after Close: %v; want ErrClosed", r.CallErr())
	}
}

// TestUnknownCommand: a command the table does not know is looked up once with COMMAND
// INFO; one the server does not know either is sent keyless, and not looked up again; a
// lookup that fails is not remembered.
func TestUnknownCommand(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), []shardSpec{{0, 16383, p1, nil, nil}})
	flakyAsks := 0
	fc.handle(p1, func(_ *Waiter, args []string, _ bool) (resp.Value, error) {
		if strings.EqualFold(args[0], "COMMAND") {
			if args[2] == "flaky.cmd" {
				flakyAsks++
			}
			if args[2] == "flaky.cmd" && flakyAsks == 1 {
				return errV("ERR try later"), nil
			}
			return arrV(resp.Value{Type: resp.TypeNull}), nil
		}
		return okValue(), nil
	})
	for range 2 {
		r, tr := do(t, c, context.Background(), "MOD.CMD", k1)
		simple("OK")(t, r)
		if tr.Slot != -1 {
			t.Fatalf("an unknown command routed by slot %d; want keyless", tr.Slot)
		}
	}
	do(t, c, context.Background(), "FLAKY.CMD", k1)
	do(t, c, context.Background(), "FLAKY.CMD", k1)
	fc.wantSent(p1+": COMMAND INFO mod.cmd", p1+": MOD.CMD "+k1, p1+": MOD.CMD "+k1,
		p1+": COMMAND INFO flaky.cmd", p1+": FLAKY.CMD "+k1,
		p1+": COMMAND INFO flaky.cmd", p1+": FLAKY.CMD "+k1)
}

// TestUnknownCommandDeadline: the lookup of an unknown command is bounded by the call's
// deadline, and its error says what the call was waiting for.
func TestUnknownCommandDeadline(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), []shardSpec{{0, 16383, p1, nil, nil}})
	fc.handle(p1, waitDeadline(p1))
	start := time.Now()
	r, _ := do(t, c, ctxFor(t, 20*time.Millisecond), "MOD.CMD", k1)
	if el := time.Since(start); el > 70*time.Millisecond {
		t.Fatalf("took %v with a 20ms deadline", el)
	}
	deadline(p1, rerr.PhaseRead)(t, r)
	if !strings.Contains(r.CallErr().Error(), "COMMAND INFO mod.cmd") {
		t.Fatalf("error %v; want it to name the lookup", r.CallErr())
	}
	fc.wantSent(p1 + ": COMMAND INFO mod.cmd")
}

// TestResolveAddr: a redirect without a host takes the sender's.
func TestResolveAddr(t *testing.T) {
	for _, c := range []struct{ addr, from, want string }{
		{":7002", "10.0.0.1:7001", "10.0.0.1:7002"},
		{"10.0.0.2:7002", "10.0.0.1:7001", "10.0.0.2:7002"},
		{":7002", "[::1]:7001", "[::1]:7002"},
		{"garbage", "10.0.0.1:7001", "garbage"},
	} {
		if got := ResolveAddr(c.addr, c.from); got != c.want {
			t.Errorf("ResolveAddr(%q, %q) = %q; want %q", c.addr, c.from, got, c.want)
		}
	}
}

// TestUnknownSubcommand: a subcommand the generated table lacks (a newer server's) is
// looked up on the servers under its container|subcommand name, and its tips route it
// (request_policy:all_shards: every primary, the lists concatenated); a subcommand the
// servers do not know either goes as its container would, asked once.
func TestUnknownSubcommand(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	info := arrV(arrV(bulkV("cluster|slot-stats"), resp.Value{Type: resp.TypeInteger, Int: -4},
		arrV(), resp.Value{Type: resp.TypeInteger}, resp.Value{Type: resp.TypeInteger}, resp.Value{Type: resp.TypeInteger},
		arrV(), arrV(bulkV("request_policy:all_shards"), bulkV("nondeterministic_output")), arrV(), arrV()))
	for _, addr := range []string{p1, p2, p3} {
		fc.handle(addr, func(_ *Waiter, args []string, _ bool) (resp.Value, error) {
			switch {
			case strings.EqualFold(args[0], "COMMAND") && args[2] == "cluster|slot-stats":
				return info, nil
			case strings.EqualFold(args[0], "COMMAND"):
				return arrV(resp.Value{Type: resp.TypeNull}), nil
			case strings.EqualFold(args[1], "SLOT-STATS"):
				return arrV(bulkV(addr)), nil
			}
			return okValue(), nil
		})
	}
	r, _ := do(t, c, context.Background(), "CLUSTER", "SLOT-STATS", "SLOTSRANGE", 0, 16383)
	if n := len(r.Value().Elems); n != 3 {
		t.Fatalf("reply %v: %d nodes' slots; want every primary's (3)", r.Value(), n)
	}
	for range 2 {
		r, tr := do(t, c, context.Background(), "CLUSTER", "NO-SUCH-SUB")
		simple("OK")(t, r)
		if tr.Slot != -1 {
			t.Fatalf("slot %d; want keyless, as CLUSTER goes", tr.Slot)
		}
	}
	asked := 0
	for _, s := range fc.sent() {
		if strings.Contains(s, "COMMAND INFO cluster|no-such-sub") {
			asked++
		}
	}
	if asked != 1 {
		t.Fatalf("the unknown subcommand was looked up %d times; want once (cached)", asked)
	}
}
