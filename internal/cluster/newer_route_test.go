package cluster

import (
	"context"
	"strings"
	"testing"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/command"
	"github.com/redline-go/redline/internal/command/typedgen"
	"github.com/redline-go/redline/resp"
)

// TestNewerCommandsRouted: the commands newer than the generated table that the typed
// methods send (HEXPIRE, HTTL… of Redis 7.4, HGETEX, HSETEX, HGETDEL of 8.0) are
// routed by their key, from what a server that has them answers to COMMAND INFO (here
// the reply their definitions in newer_commands.json make), asked once per command.
func TestNewerCommandsRouted(t *testing.T) {
	names, err := typedgen.NewerCommands()
	if err != nil {
		t.Fatal(err)
	}
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	for _, addr := range []string{p1, p2, p3} {
		fc.handle(addr, func(_ *Waiter, args []string, _ bool) (resp.Value, error) {
			if strings.EqualFold(args[0], "COMMAND") {
				if v, ok := typedgen.NewerCommandInfo(args[2]); ok {
					return v, nil
				}
				return arrV(resp.Value{Type: resp.TypeNull}), nil
			}
			return arrV(resp.Value{Type: resp.TypeInteger, Int: 1}), nil
		})
	}
	routed := 0
	for name := range names {
		if strings.Contains(name, "|") || command.LookupName(name) != nil {
			continue
		}
		cmd := strings.ToUpper(name)
		for range 2 {
			r, tr := do(t, c, context.Background(), cmd, k2, "FIELDS", "1", "f")
			if err := r.CallErr(); err != nil {
				t.Fatalf("%s: %v", cmd, err)
			}
			if tr.Slot != int(hashslot.Key(k2)) {
				t.Fatalf("%s routed by slot %d; want its key's, %d", cmd, tr.Slot, hashslot.Key(k2))
			}
		}
		routed++
	}
	if routed < 12 {
		t.Fatalf("%d commands routed; want the 12 hash commands at least", routed)
	}
	var asks, toP2 int
	for _, s := range fc.sent() {
		switch {
		case strings.Contains(s, "COMMAND INFO"):
			asks++
		case strings.HasPrefix(s, p2+": "):
			toP2++
		}
	}
	if asks != routed || toP2 != 2*routed {
		t.Fatalf("%d lookups, %d commands sent to %s; want %d and %d (sent: %v)", asks, toP2, p2, routed, 2*routed, fc.sent())
	}
}
