package redline

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/resp"
)

// Round trips of the argument types beyond strings, numbers and bools (args.go,
// resp/arg.go): durations and times as go-redis sends them, slices flattened before
// routing, marshalers where the call marshals.

// point is an encoding.BinaryMarshaler of the tests.
type point struct{ x, y int }

func (p *point) MarshalBinary() ([]byte, error) {
	if p.x < 0 {
		return nil, errors.New("negative x")
	}
	return fmt.Appendf(nil, "%d,%d", p.x, p.y), nil
}

// keysInSlots returns n keys with prefix p, each in a slot of its own.
func keysInSlots(p string, n int) []string {
	var out []string
	seen := map[int]bool{}
	for i := 0; len(out) < n; i++ {
		k := fmt.Sprintf("%s%d", p, i)
		if s := hashslot.Key(k); !seen[s] {
			seen[s] = true
			out = append(out, k)
		}
	}
	return out
}

func TestArgsDurationAndTime(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		k := p + "d"
		check(t, c.Do(ctx, "SET", k, 1500*time.Millisecond).Err())
		v, err := c.Get(ctx, k)
		eq(t, "a duration's text", v, err, "1500000000")
		at := time.Date(2026, 12, 6, 15, 4, 5, 123456789, time.FixedZone("", 3600))
		check(t, c.Do(ctx, "HSET", p+"h", "at", at, "ttl", time.Minute).Err())
		v, err = c.HGet(ctx, p+"h", "at")
		eq(t, "a time's text", v, err, "2026-12-06T15:04:05.123456789+01:00")
		back, err := time.Parse(time.RFC3339Nano, v)
		if err != nil || !back.Equal(at) {
			t.Fatalf("the time does not parse back: %v %v", back, err)
		}
		// Typed methods take them as values too.
		check(t, c.Set(ctx, k, at, nil))
		v, err = c.Get(ctx, k)
		eq(t, "a time through Set", v, err, "2026-12-06T15:04:05.123456789+01:00")
		// A time where Redis wants an integer is refused by the server, not misread.
		if err := c.Do(ctx, "EXPIREAT", k, at).Err(); err == nil || !strings.Contains(err.Error(), "not an integer") {
			t.Fatalf("EXPIREAT with a time.Time: %v", err)
		}
	})
}

// TestArgsSlicesFlattenBeforeRouting: a []string or []any argument is flattened before
// the command table sees the command: its keys are routed (and split by slot) as if
// written out, with no MOVED.
func TestArgsSlicesFlattenBeforeRouting(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	keys := keysInSlots("argsflat:", 5)
	pairs := make([]any, 0, 2*len(keys))
	for i, k := range keys {
		pairs = append(pairs, k, i)
	}
	check(t, c.Do(ctx, "MSET", pairs).Err()) // one []any: MSET k0 0 k1 1 …, split by slot
	for i, k := range keys {
		v, err := c.Do(ctx, []string{"GET", k}).Text() // the command's name from the slice too
		eq(t, "GET "+k, v, err, fmt.Sprint(i))
	}
	n, err := c.Do(ctx, "EXISTS", keys[0], keys[1:]).Int64()
	eq(t, "EXISTS k0 […]", n, err, int64(len(keys)))
	n, err = c.Do(ctx, "DEL", keys, []string{}).Int64()
	eq(t, "DEL […] []", n, err, int64(len(keys)))
	if moved := c.e.Counters().Moved; moved != 0 {
		t.Fatalf("%d MOVED: a flattened key was routed by the wrong argument", moved)
	}
	// In one slot: a []any with mixed types, and a transaction.
	k := "{argsflat}one"
	check(t, c.Do(ctx, "RPUSH", k, []any{"a", 1, 2.5, true, []byte("b"), time.Second}).Err())
	got, err := c.Do(ctx, "LRANGE", k, 0, -1).Strings()
	if err != nil || strings.Join(got, " ") != "a 1 2.5 1 b 1000000000" {
		t.Fatalf("LRANGE = %q, %v", got, err)
	}
	rs, err := c.TxPipelined(ctx, func(p *TxPipe) error {
		p.Do("DEL", []string{k})
		p.Do("RPUSH", k, []string{"x", "y"})
		return nil
	})
	if err != nil || rs[1].val.Int != 2 {
		t.Fatalf("TxPipelined with slices: %v %v", rs, err)
	}
	// Bad input: an empty command, a nested slice.
	if err := c.Do(ctx, []string{}).Err(); err == nil || !strings.Contains(err.Error(), "empty command") {
		t.Fatalf("an empty flattened command: %v", err)
	}
	var ae *resp.ArgTypeError
	if err := c.Do(ctx, "DEL", []any{[]string{k}}).Err(); !errors.As(err, &ae) || !ae.InSlice {
		t.Fatalf("a slice in a slice: %v", err)
	}
}

// TestArgsMarshalers: DoMulti, TxPipelined and Tx.Exec send a marshaler's bytes (its
// error fails its command alone, unsent); Do refuses one, saying what to do, and sends
// nothing.
func TestArgsMarshalers(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k := "{argsm}k"
	c.Do(ctx, "DEL", k)
	err := c.Do(ctx, "SET", k, &point{1, 2}).Err()
	var ae *resp.ArgTypeError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "MarshalBinary") {
		t.Fatalf("Do with a marshaler: %v", err)
	}
	if n, _ := c.Exists(ctx, k); n != 0 {
		t.Fatal("Do sent a command it refused")
	}
	rs := c.DoMulti(ctx,
		Cmd("SET", k, &point{1, 2}),
		Cmd("SET", k+"bad", &point{-1, 0}),
		Cmd("RPUSH", k+"l", []any{&point{3, 4}, "z"}),
		Cmd("GET", k),
	)
	var me *resp.ArgMarshalError
	if !errors.As(rs[1].Err(), &me) || me.Index != 2 || !strings.Contains(rs[1].Err().Error(), "negative x") {
		t.Fatalf("a failing marshaler: %v", rs[1].Err())
	}
	if v, err := rs[3].Text(); v != "1,2" || err != nil || rs[0].Err() != nil || rs[2].Err() != nil {
		t.Fatalf("DoMulti: %v %v %v %q %v", rs[0].Err(), rs[2].Err(), rs[3].Err(), v, err)
	}
	if n, _ := c.Exists(ctx, k+"bad"); n != 0 {
		t.Fatal("a command whose marshaler failed was sent")
	}
	rs, err = c.TxPipelined(ctx, func(p *TxPipe) error {
		p.Do("SET", k, &point{5, 6})
		p.Do("GET", k)
		return nil
	})
	if err != nil || string(rs[1].val.Str) != "5,6" {
		t.Fatalf("TxPipelined: %v %v", rs, err)
	}
	if _, err := c.TxPipelined(ctx, func(p *TxPipe) error {
		p.Do("SET", k, "never")
		p.Do("SET", k, &point{-1, 0})
		return nil
	}); !errors.As(err, &me) {
		t.Fatalf("TxPipelined with a failing marshaler: %v", err)
	}
	err = c.Watch(ctx, func(tx *Tx) error {
		if v, err := tx.Do(ctx, "GET", []string{k}).Text(); v != "5,6" || err != nil {
			return fmt.Errorf("Tx.Do GET: %q %v", v, err)
		}
		rs, err := tx.Exec(ctx, Cmd("SET", k, &point{7, 8}), Cmd("GET", k))
		if err != nil || string(rs[1].val.Str) != "7,8" {
			return fmt.Errorf("Tx.Exec: %v %v", rs, err)
		}
		return nil
	}, k)
	check(t, err)
}
