package cluster

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redline-go/redline/resp"
)

// TestUnknownSubcommandCacheBounded: every distinct subcommand name of a known
// container that the table lacks is asked of a server with COMMAND INFO, and its answer
// — "unknown" too — cached; a caller passing varying subcommands (typo'd or
// user-supplied CONFIG/OBJECT/XINFO arguments) must not grow the cache without bound.
func TestUnknownSubcommandCacheBounded(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	for _, addr := range []string{p1, p2, p3} {
		fc.handle(addr, func(_ *Waiter, args []string, _ bool) (resp.Value, error) {
			if strings.EqualFold(args[0], "COMMAND") {
				return arrV(resp.Value{Type: resp.TypeNull}), nil
			}
			return okValue(), nil
		})
	}
	const n = 2000
	for i := range n {
		do(t, c, context.Background(), "OBJECT", fmt.Sprintf("nosuch%06d", i), "k")
	}
	entries := 0
	c.cmds.m.Range(func(_, _ any) bool { entries++; return true })
	asked := 0
	for _, s := range fc.sent() {
		if strings.Contains(s, "COMMAND INFO object|nosuch") {
			asked++
		}
	}
	t.Logf("%d calls: %d cache entries, %d COMMAND INFO round trips", n, entries, asked)
	if entries > maxCached {
		t.Fatalf("the command cache holds %d entries after %d distinct unknown subcommands: unbounded", entries, n)
	}
}

// TestUnknownSubcommandRefusedLookup: when the servers refuse COMMAND INFO (an ACL
// without +command|info), the refusal is remembered: calls of a subcommand the table
// lacks do not each pay a COMMAND INFO round trip. (They go as their container would:
// README's "Managed services" says routing such commands needs command|info.)
func TestUnknownSubcommandRefusedLookup(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	for _, addr := range []string{p1, p2, p3} {
		fc.handle(addr, func(_ *Waiter, args []string, _ bool) (resp.Value, error) {
			switch {
			case strings.EqualFold(args[0], "COMMAND"):
				return resp.Value{Type: resp.TypeError, Err: &resp.Error{Code: "NOPERM", Msg: "NOPERM User has no permissions to run the 'command|info' command", Slot: -1}}, nil
			case strings.EqualFold(args[1], "SLOT-STATS"):
				return arrV(bulkV(addr)), nil
			}
			return okValue(), nil
		})
	}
	const calls = 5
	var nodes int
	for range calls {
		r, _ := do(t, c, context.Background(), "CLUSTER", "SLOT-STATS", "SLOTSRANGE", 0, 16383)
		if r.err != nil {
			t.Fatal(r.err)
		}
		nodes = len(r.Value().Elems)
	}
	asked := 0
	for _, s := range fc.sent() {
		if strings.Contains(s, "COMMAND INFO cluster|slot-stats") {
			asked++
		}
	}
	t.Logf("%d calls: %d COMMAND INFO round trips; reply from %d of 3 primaries", calls, asked, nodes)
	if asked != 1 {
		t.Fatalf("COMMAND INFO refused: asked %d times for %d calls; want once", asked, calls)
	}
}

// TestClientSubcommandFromServerStaysRefused: CLIENT is refused as a whole for a
// subcommand the table does not know, whatever a server says of it (an entry without
// the @connection category — a module's or a fork's CLIENT subcommand): the
// container's refusal carries over to its unknown subcommands.
func TestClientSubcommandFromServerStaysRefused(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	info := arrV(arrV(bulkV("client|newstate"), intV(-2), arrV(), intV(0), intV(0), intV(0),
		arrV(bulkV("@slow")), arrV(), arrV(), arrV()))
	for _, addr := range []string{p1, p2, p3} {
		fc.handle(addr, func(_ *Waiter, args []string, _ bool) (resp.Value, error) {
			if strings.EqualFold(args[0], "COMMAND") {
				return info, nil
			}
			return okValue(), nil
		})
	}
	r, _ := do(t, c, context.Background(), "CLIENT", "NEWSTATE", "on")
	sent := 0
	for _, s := range fc.sent() {
		if strings.Contains(strings.ToUpper(s), "CLIENT NEWSTATE") {
			sent++
		}
	}
	if r.err == nil || sent > 0 {
		t.Fatalf("CLIENT NEWSTATE (unknown to the table, a CLIENT subcommand): err %v, sent %d times on a shared connection", r.err, sent)
	}
}
