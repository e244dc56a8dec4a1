package cluster

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// noperm is the server's refusal of a key outside the user's patterns.
var noperm = errV("NOPERM this user has no permissions to access one of the keys used as arguments")

// splitRun runs one command through Do or (as a one-command DoMulti) DoMulti.
type splitRun struct {
	name string
	run  func(c *Engine, args []any) Reply
}

var splitRuns = []splitRun{
	{"Do", func(c *Engine, args []any) Reply {
		var tr Trace
		return c.Do(context.Background(), args, &tr)
	}},
	{"DoMulti", func(c *Engine, args []any) Reply {
		return c.DoMulti(context.Background(), [][]any{args}, nil)[0]
	}},
}

// asSplitErr returns the reply's *SplitError, failing the test if there is none.
func asSplitErr(t *testing.T, r Reply) *SplitError {
	t.Helper()
	var se *SplitError
	if !errors.As(r.CallErr(), &se) {
		t.Fatalf("reply %+v, error %v; want a *SplitError", r.Value(), r.Err())
	}
	return se
}

// splitWraps: the call failed with a *SplitError wrapping the server's code.
func splitWraps(code string) replyCheck {
	return func(t *testing.T, r Reply) {
		t.Helper()
		var re *resp.Error
		if asSplitErr(t, r); !errors.As(r.CallErr(), &re) || re.Code != code {
			t.Fatalf("error %v; want a *SplitError wrapping the server's %s", r.CallErr(), code)
		}
	}
}

// wantParts checks the parts' slots, keys and outcomes: "ok", "no" (failed, did not
// run) or "lost" (failed, may have run).
func wantParts(t *testing.T, se *SplitError, want map[string]string) {
	t.Helper()
	seen := 0
	for _, p := range se.Parts {
		for _, k := range p.Keys {
			if hashSlot(k) != p.Slot {
				t.Errorf("key %q listed in slot %d", k, p.Slot)
			}
			got := "ok"
			switch {
			case p.Err != nil && p.MayHaveExecuted():
				got = "lost"
			case p.Err != nil:
				got = "no"
			}
			if want[k] != got {
				t.Errorf("key %q: part outcome %s; want %s (%v)", k, got, want[k], p.Err)
			}
			seen++
		}
	}
	if seen != len(want) {
		t.Errorf("parts list %d keys; want %d", seen, len(want))
	}
}

func hashSlot(k string) int { return ArgSlot(k) }

// TestSplitPartialFailure: a split command one of whose parts fails returns a
// *SplitError saying which keys were applied and which not, its cause reachable with
// errors.As, MayHaveExecuted answered for the command and per part — through Do and
// through DoMulti alike.
func TestSplitPartialFailure(t *testing.T) {
	for _, run := range splitRuns {
		t.Run(run.name+": one part refused", func(t *testing.T) {
			fc := newFakeCluster(t)
			c := newEngine(t, testConfig(fc), threeShards)
			for _, n := range c.Nodes() {
				fc.handle(n.Addr(), keyed)
			}
			fc.handle(p2, always(noperm))
			r := run.run(c, []any{"MSET", k1, "1", k2, "2", k3, "3"})
			se := asSplitErr(t, r)
			wantParts(t, se, map[string]string{k1: "ok", k2: "no", k3: "ok"})
			if se.Command != "mset" || !se.MayHaveExecuted() || se.SafeToRetry() || !rerr.MayHaveExecuted(r.Err()) || rerr.SafeToRetry(r.Err()) {
				t.Errorf("command %q, may have executed %v, safe to retry %v; want mset, true, false", se.Command, se.MayHaveExecuted(), se.SafeToRetry())
			}
			var re *resp.Error
			if !errors.As(r.Err(), &re) || re.Code != "NOPERM" {
				t.Errorf("errors.As: %v; want the part's NOPERM", re)
			}
			if got := se.AppliedKeys(); !slices.Equal(got, []string{k1, k3}) {
				t.Errorf("applied keys %q; want %q", got, []string{k1, k3})
			}
			if got := se.FailedKeys(); !slices.Equal(got, []string{k2}) {
				t.Errorf("failed keys %q; want %q", got, []string{k2})
			}
			msg := se.Error()
			for _, s := range []string{"mset split by slot into 3 parts, 1 failed", "not applied: " + strconv.Quote(k2), "NOPERM", "; applied: " + strconv.Quote(k1)} {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not say %q", msg, s)
				}
			}
			if got := len(fc.sent()); got != 3 {
				t.Errorf("%d sends; want one per part: %q", got, fc.sent())
			}
		})
		t.Run(run.name+": one part's reply lost", func(t *testing.T) {
			fc := newFakeCluster(t)
			c := newEngine(t, testConfig(fc), threeShards)
			for _, n := range c.Nodes() {
				fc.handle(n.Addr(), keyed)
			}
			fc.handle(p3, script(step{err: transport(p3, rerr.PhaseRead, true, "connection reset by peer")}))
			r := run.run(c, []any{"DEL", k1, k3, k2})
			se := asSplitErr(t, r)
			for _, p := range se.Parts {
				if want := p.Err == nil; (p.Reply.Type == resp.TypeInteger && p.Reply.Int == 1) != want {
					t.Errorf("part %q: reply %v, error %v; want the count 1 of a part that succeeded", p.Keys, p.Reply, p.Err)
				}
			}
			wantParts(t, se, map[string]string{k1: "ok", k2: "ok", k3: "lost"})
			var ne *rerr.NodeError
			if !errors.As(r.Err(), &ne) || ne.Addr != p3 || !ne.Written {
				t.Errorf("errors.As: %+v; want the written part's NodeError", ne)
			}
			if !strings.Contains(se.Error(), "may have been applied (reply lost): "+strconv.Quote(k3)) {
				t.Errorf("message %q does not say the part may have been applied", se.Error())
			}
			if !se.MayHaveExecuted() || se.SafeToRetry() {
				t.Errorf("may have executed %v, safe to retry %v; want true, false", se.MayHaveExecuted(), se.SafeToRetry())
			}
			if n := len(fc.sentTo(p3)); n != 1 {
				t.Errorf("the written part was sent %d times; want once (never re-sent)", n)
			}
		})
		t.Run(run.name+": one part's node does not answer", func(t *testing.T) {
			fc := newFakeCluster(t)
			cfg := testConfig(fc)
			cfg.CommandTimeout = 100 * time.Millisecond
			c := newEngine(t, cfg, threeShards)
			for _, n := range c.Nodes() {
				fc.handle(n.Addr(), keyed)
			}
			fc.handle(p2, func(w *Waiter, _ []string, _ bool) (resp.Value, error) { return resp.Value{}, untilDeadline(w, p2) })
			start := time.Now()
			r := run.run(c, []any{"MSET", k1, "1", k2, "2"})
			if el := time.Since(start); el > cfg.CommandTimeout+50*time.Millisecond {
				t.Errorf("returned after %v; want by the deadline (%v)", el, cfg.CommandTimeout)
			}
			se := asSplitErr(t, r)
			wantParts(t, se, map[string]string{k1: "ok", k2: "lost"})
			if !errors.Is(r.Err(), context.DeadlineExceeded) || !se.MayHaveExecuted() || se.SafeToRetry() {
				t.Errorf("error %v: want errors.Is DeadlineExceeded, may have executed, not safe to retry", r.Err())
			}
		})
		t.Run(run.name+": a read's failed part", func(t *testing.T) {
			fc := newFakeCluster(t)
			c := newEngine(t, testConfig(fc), threeShards)
			for _, n := range c.Nodes() {
				fc.handle(n.Addr(), keyed)
			}
			fc.handle(p1, always(errV("WRONGTYPE Operation against a key holding the wrong kind of value")))
			r := run.run(c, []any{"MGET", k1, k2})
			se := asSplitErr(t, r)
			wantParts(t, se, map[string]string{k1: "no", k2: "ok"})
			if msg := se.Error(); !strings.Contains(msg, "failed: "+strconv.Quote(k1)) || !strings.Contains(msg, "answered: "+strconv.Quote(k2)) {
				t.Errorf("message %q: want a read's parts as failed and answered", msg)
			}
		})
	}
}

// TestSplitFullFailure: when every part fails, the error still is the parts' causes
// (errors.Is/As reach them) and says nothing ran; SafeToRetry holds only when no part
// reached a server.
func TestSplitFullFailure(t *testing.T) {
	for _, run := range splitRuns {
		t.Run(run.name+": every part refused", func(t *testing.T) {
			fc := newFakeCluster(t)
			c := newEngine(t, testConfig(fc), threeShards)
			for _, n := range c.Nodes() {
				fc.handle(n.Addr(), always(noperm))
			}
			r := run.run(c, []any{"MSET", k1, "1", k2, "2"})
			se := asSplitErr(t, r)
			wantParts(t, se, map[string]string{k1: "no", k2: "no"})
			var re *resp.Error
			if !errors.As(r.Err(), &re) || re.Code != "NOPERM" {
				t.Errorf("errors.As: %v; want NOPERM", re)
			}
			if se.MayHaveExecuted() || rerr.MayHaveExecuted(r.Err()) || se.SafeToRetry() {
				t.Errorf("may have executed %v, safe to retry %v; want false, false (answered: not retryable)", se.MayHaveExecuted(), se.SafeToRetry())
			}
			if !strings.Contains(se.Error(), "every part failed") || strings.Contains(se.Error(), "; applied") {
				t.Errorf("message %q; want every part failed, none applied", se.Error())
			}
		})
		t.Run(run.name+": every node down", func(t *testing.T) {
			fc := newFakeCluster(t)
			cfg := testConfig(fc)
			cfg.MaxAttempts = 1
			c := newEngine(t, cfg, threeShards)
			for _, n := range c.Nodes() {
				addr := n.Addr()
				fc.handle(addr, script(step{err: downErr(addr)}))
			}
			r := run.run(c, []any{"DEL", k1, k2, k3})
			se := asSplitErr(t, r)
			wantParts(t, se, map[string]string{k1: "no", k2: "no", k3: "no"})
			var ne *rerr.NodeError
			if !errors.As(r.Err(), &ne) || !ne.Down {
				t.Errorf("errors.As: %+v; want a down node's NodeError", ne)
			}
			if !se.SafeToRetry() || !rerr.SafeToRetry(r.Err()) || se.MayHaveExecuted() {
				t.Errorf("safe to retry %v, may have executed %v; want true, false", se.SafeToRetry(), se.MayHaveExecuted())
			}
		})
	}
}

// TestSplitErrorMessageBounded: a large split's message lists a few parts and keys of
// each outcome, and counts the rest.
func TestSplitErrorMessageBounded(t *testing.T) {
	fc := newFakeCluster(t)
	c := newEngine(t, testConfig(fc), threeShards)
	for _, n := range c.Nodes() {
		fc.handle(n.Addr(), keyed)
	}
	fc.handle(p2, always(noperm))
	args := []any{"MSET"}
	for i := range 300 {
		args = append(args, "k"+strconv.Itoa(i), "v")
	}
	args = append(args, "{k0}a", "v", "{k0}b", "v", "{k0}c", "v", "{k0}d", "v", "{k0}e", "v")
	r := c.Do(context.Background(), args, &Trace{})
	se := asSplitErr(t, r)
	msg := se.Error()
	if len(msg) > 2000 || !strings.Contains(msg, "more parts") || !strings.Contains(msg, "+2 more") {
		t.Errorf("message of %d bytes: %s", len(msg), msg)
	}
	if len(se.AppliedKeys())+len(se.FailedKeys()) != 305 {
		t.Errorf("parts list %d keys; want 305", len(se.AppliedKeys())+len(se.FailedKeys()))
	}
}

// TestSplitMode: Config.Split keeps a command whose keys span slots whole — it fails
// with *CrossSlotError and nothing is sent — for every splittable command
// (SplitNone) or for the writes (SplitReads); keys of one slot go as before.
func TestSplitMode(t *testing.T) {
	for _, tc := range []struct {
		mode  SplitMode
		args  []any
		split bool
	}{
		{SplitNone, []any{"MSET", k1, "1", k2, "2"}, false},
		{SplitNone, []any{"MGET", k1, k2}, false},
		{SplitNone, []any{"DEL", k1, k2}, false},
		{SplitReads, []any{"MSET", k1, "1", k2, "2"}, false},
		{SplitReads, []any{"UNLINK", k1, k2}, false},
		{SplitReads, []any{"DEL", k1, k2}, false},
		{SplitReads, []any{"MGET", k1, k2}, true},
		{SplitReads, []any{"EXISTS", k1, k2}, true},
		{SplitAll, []any{"MSET", k1, "1", k2, "2"}, true},
	} {
		for _, run := range splitRuns {
			t.Run(run.name+" "+ArgString(tc.args[0])+" mode "+strconv.Itoa(int(tc.mode)), func(t *testing.T) {
				fc := newFakeCluster(t)
				cfg := testConfig(fc)
				cfg.Split = tc.mode
				c := newEngine(t, cfg, threeShards)
				for _, n := range c.Nodes() {
					fc.handle(n.Addr(), keyed)
				}
				r := run.run(c, tc.args)
				if tc.split {
					if r.Err() != nil || len(fc.sent()) != 2 {
						t.Fatalf("error %v, sent %q; want the command split in two", r.Err(), fc.sent())
					}
					return
				}
				var ce *CrossSlotError
				if !errors.As(r.CallErr(), &ce) || ce.Slots != [2]int{s1, s2} {
					t.Fatalf("error %v; want *CrossSlotError naming slots %d and %d", r.Err(), s1, s2)
				}
				fc.wantSent()
				// Keys of one slot: sent whole, as always.
				one := []any{tc.args[0], k1x}
				if ArgString(tc.args[0]) == "MSET" {
					one = append(one, "1", k1y, "2")
				} else {
					one = append(one, k1y)
				}
				if r := run.run(c, one); r.Err() != nil || len(fc.sent()) != 1 {
					t.Fatalf("one slot: error %v, sent %q; want it sent whole", r.Err(), fc.sent())
				}
			})
		}
	}
}
