package redline

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/redline-go/redline/resp"
)

// TestTypedValueSliceRefused: a typed method's value parameter is one argument. A
// []string or []any given there (a JSON array decoded into an any) is refused, nothing
// sent; flattened, its elements became arguments of their own: MSet wrote a key the
// caller never named (MSET a x victim owned), Set(k, []string{"new", "NX"}) sent
// SET k new NX.
func TestTypedValueSliceRefused(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	a, victim := "{typedval}a", "{typedval}victim"
	c.Do(ctx, "DEL", a, victim)
	var m map[string]any
	check(t, json.Unmarshal([]byte(`{"{typedval}a": ["x", "{typedval}victim", "owned"]}`), &m))
	err := c.MSet(ctx, m)
	if n, _ := c.Exists(ctx, a, victim); n != 0 {
		v, _ := c.Get(ctx, victim)
		t.Errorf("MSet with a []any value (from JSON) wrote keys: %s = %q (MSet err %v)", victim, v, err)
	}
	var ae *resp.ArgTypeError
	if !errors.As(err, &ae) || ae.Index != 2 || !strings.Contains(err.Error(), "[]interface {}, a list where one value is expected") {
		t.Errorf("MSet with a []any value: %v; want the argument-2 list error, nothing sent", err)
	}

	k := "{typedval}s"
	check(t, c.Set(ctx, k, "old", nil))
	err = c.Set(ctx, k, []string{"new", "NX"}, nil)
	if !errors.As(err, &ae) || ae.Index != 2 {
		t.Errorf("Set(k, []string{\"new\", \"NX\"}): %v; want the argument-2 list error", err)
	}
	v, _ := c.Get(ctx, k)
	eq(t, "the value after the refused Set", v, nil, "old")

	// Variadic values too: each is one element, a list is not spread.
	l := "{typedval}l"
	c.Do(ctx, "DEL", l)
	if _, err := c.RPush(ctx, l, "a", []any{"b", "c"}); !errors.As(err, &ae) || ae.Index != 3 {
		t.Errorf("RPush with a []any element: %v; want the argument-3 list error", err)
	}
	if n, _ := c.Exists(ctx, l); n != 0 {
		t.Errorf("the refused RPush created its list")
	}
	// Do still flattens the caller's own arguments.
	check(t, c.Do(ctx, "RPUSH", l, []string{"a", "b"}).Err())
	n, err := c.LLen(ctx, l)
	eq(t, "LLEN after Do RPUSH with a []string", n, err, int64(2))
}
