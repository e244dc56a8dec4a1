package redline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/cluster"
)

// splitACL creates, on every node of the shared cluster (ACLs are per node), a user
// that may run what the client needs and the split commands on app:* keys only, and
// deletes it when the test ends.
func splitACL(t *testing.T, user, pw string) {
	t.Helper()
	cl := plain(t)
	acl := func(args ...any) {
		for _, n := range cl.Nodes() {
			if v, err := n.Do(context.Background(), append([]any{"ACL"}, args...)...); err != nil || v.Err != nil {
				t.Fatalf("ACL %v on node %d: %v %v", args, n.Index(), err, v.Err)
			}
		}
	}
	acl(append([]any{"SETUSER", user, "reset", "on", ">" + pw, "~app:*", "-@all",
		"+mset", "+mget", "+del", "+unlink", "+exists", "+get", "+set"}, managedACL...)...)
	t.Cleanup(func() { acl("DELUSER", user) })
}

// TestSplitPartialFailureReal: on the real cluster, a user that may write only app:*
// keys sends MSET app:a 1 other:z 2 app:b 3 (three slots): other:z's part is refused
// (NOPERM) while app:a's and app:b's are applied, and the error says exactly that —
// through Do, the typed MSet and Del, and DoMulti, under RESP2 and RESP3. With
// Options.Split SplitReads or SplitNone the same MSET fails with *CrossSlotError and
// nothing is written.
func TestSplitPartialFailureReal(t *testing.T) {
	cl := plain(t)
	splitACL(t, "splitapp", "splitapp-pw")
	admin := newTestClient(t, cl, Options{})
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := t.Context()
			p := fmt.Sprintf("split%d:", proto)
			a, z, b := "app:"+p+"a", "other:"+p+"z", "app:"+p+"b"
			if sa, sz, sb := hashslot.Key(a), hashslot.Key(z), hashslot.Key(b); sa == sz || sz == sb || sa == sb {
				t.Fatalf("keys share a slot: %d %d %d", sa, sz, sb)
			}
			c := newTestClient(t, cl, Options{Username: "splitapp", Password: NewSecret("splitapp-pw"), Protocol: proto})
			clean := func() {
				t.Helper()
				if err := admin.Do(ctx, "DEL", a, z, b).Err(); err != nil {
					t.Fatal(err)
				}
			}
			// wantState checks what the admin sees: app:a and app:b as given ("" for
			// none), other:z never written.
			wantState := func(va, vb string) {
				t.Helper()
				for k, want := range map[string]string{a: va, z: "", b: vb} {
					got, err := admin.Do(ctx, "GET", k).Text()
					if errors.Is(err, Nil) {
						got, err = "", nil
					}
					if err != nil || got != want {
						t.Errorf("%s is %q (%v); want %q", k, got, err, want)
					}
				}
			}
			// wantSplit checks err is the partial failure: z refused, a and b applied.
			wantSplit := func(what string, err error) {
				t.Helper()
				var se *SplitError
				var re *RedisError
				if !errors.As(err, &se) || !errors.As(err, &re) || re.Code != "NOPERM" {
					t.Fatalf("%s: %v; want a *SplitError wrapping NOPERM", what, err)
				}
				if got := se.AppliedKeys(); !slices.Equal(sorted(got...), sorted(a, b)) { // MSet's map: any order
					t.Errorf("%s: applied keys %q; want %q", what, got, sorted(a, b))
				}
				if got := se.FailedKeys(); !slices.Equal(got, []string{z}) {
					t.Errorf("%s: failed keys %q; want %q", what, got, []string{z})
				}
				for _, part := range se.Parts {
					if (part.Err == nil) != part.MayHaveExecuted() || part.SafeToRetry() || part.Slot != hashslot.Key(part.Keys[0]) {
						t.Errorf("%s: part %+v: may have executed %v, safe to retry %v", what, part, part.MayHaveExecuted(), part.SafeToRetry())
					}
				}
				if !MayHaveExecuted(err) || SafeToRetry(err) {
					t.Errorf("%s: MayHaveExecuted %v, SafeToRetry %v; want true, false", what, MayHaveExecuted(err), SafeToRetry(err))
				}
				if msg := err.Error(); !strings.Contains(msg, "not applied: \""+z+"\"") || !strings.Contains(msg, "NOPERM") {
					t.Errorf("%s: message %q does not name the refused key and its cause", what, msg)
				}
			}

			clean()
			err := c.Do(ctx, "MSET", a, "1", z, "2", b, "3").Err()
			wantSplit("Do MSET", err)
			wantState("1", "3")
			t.Logf("MSET across slots, one part refused: %v", err)

			clean()
			wantSplit("MSet", c.MSet(ctx, map[string]any{a: "x", z: "y", b: "w"}))
			wantState("x", "w")

			n, err := c.Del(ctx, a, z, b)
			wantSplit("Del", err)
			if n != 0 {
				t.Errorf("Del returned %d with its error", n)
			}
			var se *SplitError
			if errors.As(err, &se) {
				deleted := int64(0)
				for _, part := range se.Parts {
					deleted += part.Reply.Int
				}
				if deleted != 2 {
					t.Errorf("Del: the applied parts' replies count %d deleted; want 2", deleted)
				}
			}
			wantState("", "")

			rs := c.DoMulti(ctx, Cmd("MSET", a, "m", z, "n", b, "o"), Cmd("GET", a))
			wantSplit("DoMulti MSET", rs[0].Err())
			if got, err := rs[1].Text(); err != nil || got != "m" {
				t.Errorf("DoMulti GET after the split MSET: %q, %v; want m", got, err)
			}
			wantState("m", "o")

			// Every part refused: nothing applied, the cause still reachable.
			err = c.Do(ctx, "MSET", z, "1", "other:"+p+"y", "2").Err()
			var re *RedisError
			if !errors.As(err, &se) || !errors.As(err, &re) || re.Code != "NOPERM" || MayHaveExecuted(err) || len(se.AppliedKeys()) != 0 {
				t.Errorf("every part refused: %v; want a *SplitError wrapping NOPERM, nothing executed", err)
			}
			if err := admin.Do(ctx, "DEL", "other:"+p+"y").Err(); err != nil {
				t.Fatal(err)
			}

			// Strict: the writes kept whole, nothing sent.
			clean()
			for _, mode := range []SplitMode{SplitReads, SplitNone} {
				s := newTestClient(t, cl, Options{Username: "splitapp", Password: NewSecret("splitapp-pw"), Protocol: proto, Split: mode})
				var ce *CrossSlotError
				if err := s.Do(ctx, "MSET", a, "1", z, "2", b, "3").Err(); !errors.As(err, &ce) || ce.Command != "mset" {
					t.Errorf("Split %v: MSET: %v; want *CrossSlotError", mode, err)
				}
				if err := s.MSet(ctx, map[string]any{a: "1", b: "3"}); !errors.As(err, &ce) {
					t.Errorf("Split %v: MSet: %v; want *CrossSlotError", mode, err)
				}
				wantState("", "")
				if _, err := s.Del(ctx, a, b); !errors.As(err, &ce) {
					t.Errorf("Split %v: Del: %v; want *CrossSlotError", mode, err)
				}
				err := s.Do(ctx, "MGET", a, b).Err()
				if split := mode == SplitReads; (err == nil) != split || !split && !errors.As(err, &ce) {
					t.Errorf("Split %v: MGET across slots: %v", mode, err)
				}
				// One slot: sent whole, as always.
				if err := s.Do(ctx, "MSET", "app:{"+p+"}1", "1", "app:{"+p+"}2", "2").Err(); err != nil {
					t.Errorf("Split %v: MSET in one slot: %v", mode, err)
				}
			}
			if err := admin.Do(ctx, "DEL", "app:{"+p+"}1", "app:{"+p+"}2").Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// sorted returns keys sorted.
func sorted(keys ...string) []string { return slices.Sorted(slices.Values(keys)) }

// TestSplitModeOption: Options.Split is checked, named in the printed Options when not
// the default, and handed to the engine.
func TestSplitModeOption(t *testing.T) {
	if _, err := (Options{Addrs: []string{"127.0.0.1:1"}, Split: SplitNone + 1}).withDefaults(); err == nil || !strings.Contains(err.Error(), "Options.Split") {
		t.Errorf("an unknown Split: %v; want an error naming Options.Split", err)
	}
	for m, want := range map[SplitMode]string{SplitAll: "all", SplitReads: "reads", SplitNone: "none", 7: "SplitMode(7)"} {
		if m.String() != want {
			t.Errorf("SplitMode(%d).String() = %q; want %q", m, m.String(), want)
		}
	}
	o := Options{Addrs: []string{"127.0.0.1:1"}, Split: SplitReads}
	if s := o.String(); !strings.Contains(s, "Split: reads") {
		t.Errorf("Options.String() = %s; want Split: reads", s)
	}
	if s := (Options{Addrs: o.Addrs}).String(); strings.Contains(s, "Split") {
		t.Errorf("Options.String() = %s; want the default Split not named", s)
	}
	if cfg := o.engineConfig(); cfg.Split != cluster.SplitReads {
		t.Errorf("engine config Split %v; want SplitReads", cfg.Split)
	}
}
