package redline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// multiArgKey is a named string type, as applications name their keys: not a
// supported argument type (only string exactly is).
type multiArgKey string

// TestDoMultiBadWatchFailsTx: in DoMulti, a WATCH with an argument that cannot be sent
// (a failing marshaler, a type Cmd does not take) fails its whole transaction, unsent,
// each command with the argument's error. It failed alone, and its MULTI … EXEC then
// ran unwatched: the writes made conditional on the WATCH applied unconditionally.
func TestDoMultiBadWatchFailsTx(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	for _, bad := range []any{&point{-1, 0}, time.January, multiArgKey("{margs}watched")} {
		k := "{margs}watched"
		c.Do(ctx, "DEL", k)
		rs := c.DoMulti(ctx,
			Cmd("WATCH", k, bad),
			Cmd("GET", k), // between WATCH and MULTI: part of the transaction's run
			Cmd("MULTI"),
			Cmd("SET", k, "conditional"),
			Cmd("EXEC"),
			Cmd("SET", k+"after", "x"), // after the transaction: runs
		)
		if n, _ := c.Exists(ctx, k); n != 0 {
			t.Errorf("WATCH with a %T failed (%v), yet its transaction ran unwatched", bad, rs[0].Err())
		}
		want := rs[0].Err()
		var ae *resp.ArgTypeError
		var me *resp.ArgMarshalError
		if !errors.As(want, &ae) && !errors.As(want, &me) {
			t.Fatalf("WATCH with a %T: %v; want its argument's error", bad, want)
		}
		for i := 1; i <= 4; i++ {
			if err := rs[i].Err(); err == nil || err.Error() != want.Error() {
				t.Errorf("WATCH with a %T: result %d = %v; want the WATCH's argument error %v", bad, i, err, want)
			}
		}
		check(t, rs[5].Err())
	}

	// A bad WATCH with no transaction after it: its argument's error.
	rs := c.DoMulti(ctx, Cmd("WATCH", "{margs}w", time.January))
	var ae *resp.ArgTypeError
	if !errors.As(rs[0].Err(), &ae) {
		t.Errorf("a lone bad WATCH: %v; want an *ArgTypeError", rs[0].Err())
	}
}

// TestDoMultiBadMultiFailsTx: a MULTI with an argument that cannot be sent fails its
// transaction, unsent: its body does not run outside any transaction.
func TestDoMultiBadMultiFailsTx(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k := "{margs}body"
	c.Do(ctx, "DEL", k)
	rs := c.DoMulti(ctx,
		Cmd("MULTI", time.January),
		Cmd("SET", k, "outside"),
		Cmd("EXEC"),
	)
	if n, _ := c.Exists(ctx, k); n != 0 {
		t.Errorf("MULTI failed (%v), yet the transaction's body ran outside any transaction", rs[0].Err())
	}
	for i, r := range rs {
		var ae *resp.ArgTypeError
		if !errors.As(r.Err(), &ae) || ae.Index != 1 {
			t.Errorf("result %d: %v; want the MULTI's argument error", i, r.Err())
		}
	}
}

// TestDoMultiTxBadMarshaler: a command of a transaction whose MarshalBinary fails
// fails the transaction, unsent, and every command of it gets the MarshalBinary error.
// The others got the engine's error, saying the argument is "an
// encoding.BinaryMarshaler, which this call does not marshal": false for DoMulti.
func TestDoMultiTxBadMarshaler(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k := "{margs}tx"
	c.Do(ctx, "DEL", k)
	rs := c.DoMulti(ctx,
		Cmd("MULTI"),
		Cmd("SET", k, "a"),
		Cmd("SET", k+"b", &point{-1, 0}),
		Cmd("EXEC"),
	)
	if n, _ := c.Exists(ctx, k); n != 0 {
		t.Fatalf("part of the transaction ran")
	}
	for i, r := range rs {
		var me *resp.ArgMarshalError
		if err := r.Err(); !errors.As(err, &me) || me.Index != 2 || !strings.Contains(err.Error(), "negative x") {
			t.Errorf("result %d: %v; want the MarshalBinary error of command 2's argument 2", i, err)
		}
	}
}

// TestDoMultiHookSeesMarshalError: AfterCommand is given the MarshalBinary error the
// caller gets, not the engine's "which this call does not marshal" (the replacement
// used to run after the hook).
func TestDoMultiHookSeesMarshalError(t *testing.T) {
	t.Parallel()
	var got error
	c := newTestClient(t, plain(t), Options{Hooks: Hooks{
		AfterCommand: func(ctx context.Context, e CommandEnd) { got = e.Err },
	}})
	rs := c.DoMulti(t.Context(), Cmd("SET", "{margs}h", &point{-1, 0}))
	var me *resp.ArgMarshalError
	if !errors.As(rs[0].Err(), &me) {
		t.Fatalf("the Result: %v", rs[0].Err())
	}
	if !errors.As(got, &me) {
		t.Errorf("AfterCommand saw %v; the caller got %v", got, rs[0].Err())
	}
}
