package cluster

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// keyed answers the multi-key commands as a server holding every key would: MGET with
// "v:<key>" per key (nil for keys starting with "none"), DEL/UNLINK/EXISTS/TOUCH with
// the number of keys, MSET with OK.
func keyed(_ *Waiter, args []string, _ bool) (resp.Value, error) {
	switch strings.ToUpper(args[0]) {
	case "MGET":
		var out []resp.Value
		for _, k := range args[1:] {
			if strings.HasPrefix(k, "none") {
				out = append(out, resp.Value{Type: resp.TypeNull})
			} else {
				out = append(out, bulkV("v:"+k))
			}
		}
		return arrV(out...), nil
	case "DEL", "UNLINK", "EXISTS", "TOUCH":
		return intV(int64(len(args) - 1)), nil
	}
	return okValue(), nil
}

// Two keys in the slot of k1, one with nothing stored.
var (
	k1x  = "{" + k1 + "}x"
	k1y  = "{" + k1 + "}y"
	none = keyIn("none", 5461, 10922) // in p2's range
)

// TestSplitPolicy: a multi-key command whose keys span slots is sent as one
// sub-command per slot (even two slots of one node), each routed on its own, and merged
// in the caller's key order.
func TestSplitPolicy(t *testing.T) {
	if hashslot.Key(k1x) != s1 || hashslot.Key(k1y) != s1 {
		t.Fatal("hash tags do not keep the keys in one slot")
	}
	k1other := keyIn("d", 0, s1-1) // p1's, another slot
	cases := []struct {
		name    string
		setup   func(fc *fakeCluster)
		args    []any
		check   replyCheck
		sent    []string // sorted
		refresh bool
	}{
		{
			name:  "MGET: one sub-command per slot, values back at their keys' places",
			args:  []any{"MGET", k1x, k2, k1y, k3, none},
			check: list("v:"+k1x, "v:"+k2, "v:"+k1y, "v:"+k3, "<nil>"),
			sent:  []string{p1 + ": MGET " + k1x + " " + k1y, p2 + ": MGET " + k2, p2 + ": MGET " + none, p3 + ": MGET " + k3},
		},
		{
			name:  "two slots of one node: two sub-commands",
			args:  []any{"MGET", k1, k1other},
			check: list("v:"+k1, "v:"+k1other),
			sent:  sorted(p1+": MGET "+k1, p1+": MGET "+k1other),
		},
		{
			name:  "keys in one slot: not split",
			args:  []any{"MGET", k1x, k1y},
			check: list("v:"+k1x, "v:"+k1y),
			sent:  []string{p1 + ": MGET " + k1x + " " + k1y},
		},
		{
			name:  "DEL: the counts summed",
			args:  []any{"DEL", k1x, k2, k1y, k3},
			check: integer(4),
			sent:  []string{p1 + ": DEL " + k1x + " " + k1y, p2 + ": DEL " + k2, p3 + ": DEL " + k3},
		},
		{
			name:  "MSET: key-value pairs kept together, OK",
			args:  []any{"MSET", k1, "a", k2, "b"},
			check: simple("OK"),
			sent:  []string{p1 + ": MSET " + k1 + " a", p2 + ": MSET " + k2 + " b"},
		},
		{
			name: "a part answering an error reply: a *SplitError wrapping it",
			setup: func(fc *fakeCluster) {
				fc.handle(p2, always(errV("WRONGTYPE Operation against a key holding the wrong kind of value")))
			},
			args:  []any{"MGET", k1, k2, k3},
			check: splitWraps("WRONGTYPE"),
			sent:  []string{p1 + ": MGET " + k1, p2 + ": MGET " + k2, p3 + ": MGET " + k3},
		},
		{
			name: "a written part of a write fails: its failure, not re-sent",
			setup: func(fc *fakeCluster) {
				fc.handle(p2, script(step{err: transport(p2, rerr.PhaseRead, true, "connection reset by peer")}, step{v: intV(1)}))
			},
			args:  []any{"DEL", k1, k2, k3},
			check: nodeErr(p2, rerr.PhaseRead, true, false),
			sent:  []string{p1 + ": DEL " + k1, p2 + ": DEL " + k2, p3 + ": DEL " + k3}, refresh: true,
		},
		{
			name: "a part answered MOVED: that part follows it",
			setup: func(fc *fakeCluster) {
				fc.handle(p2, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
					return movedV(s2, p3), nil
				})
			},
			args:  []any{"MGET", k1, k2, k3},
			check: list("v:"+k1, "v:"+k2, "v:"+k3),
			sent:  []string{p1 + ": MGET " + k1, p2 + ": MGET " + k2, p3 + ": MGET " + k2, p3 + ": MGET " + k3}, refresh: true,
		},
		{
			name:  "a part answering with the wrong number of values: an error",
			setup: func(fc *fakeCluster) { fc.handle(p2, always(arrV(bulkV("a"), bulkV("b")))) },
			args:  []any{"MGET", k1, k2},
			check: callErr("one element per key"),
			sent:  []string{p1 + ": MGET " + k1, p2 + ": MGET " + k2},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := newFakeCluster(t)
			c := newEngine(t, testConfig(fc), threeShards)
			c.triggered()
			for _, n := range c.Nodes() {
				fc.handle(n.Addr(), keyed)
			}
			if tc.setup != nil {
				tc.setup(fc)
			}
			r, _ := do(t, c, context.Background(), tc.args...)
			tc.check(t, r)
			got := fc.sent()
			slices.Sort(got)
			if want := sorted(slices.Clone(tc.sent)...); !equalStrings(got, want) {
				t.Fatalf("sent %q; want %q", got, want)
			}
			if got := c.triggered(); got != tc.refresh {
				t.Fatalf("refresh asked: %v; want %v", got, tc.refresh)
			}
		})
	}
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// TestSplitTrace: the hooks' trace of a split command counts its parts' redirects and
// retries, as DoMulti's does for the same parts (CommandEnd: "Attempts counts the
// tries (1 unless redirected or retried); Redirects the MOVED and ASK replies followed").
func TestSplitTrace(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	for _, n := range c.Nodes() {
		fc.handle(n.Addr(), keyed)
	}
	fc.handle(p2, always(movedV(s2, p3)))
	r, tr := do(t, c, context.Background(), "MGET", k1, k2)
	list("v:"+k1, "v:"+k2)(t, r)
	if tr.Redirects != 1 || tr.Attempts < 2 {
		t.Fatalf("trace attempts %d, redirects %d; want the part's MOVED counted", tr.Attempts, tr.Redirects)
	}
}

// TestSplitBadArgument: a split command with an argument of an unsupported type fails
// before anything is sent.
func TestSplitBadArgument(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	r, _ := do(t, c, context.Background(), "MSET", k1, "a", k2, struct{}{})
	callErr("unsupported type")(t, r)
	fc.wantSent()
}
