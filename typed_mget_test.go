package redline

import (
	"testing"
)

// TestTypedMGetPositional: MGet answers one element per key given, in order, duplicates
// kept and nil for a missing key, across slots (split and merged back in place).
func TestTypedMGetPositional(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		a, b := p+"a", otherSlot(p+"a")+p // b: another slot
		check(t, c.MSet(ctx, map[string]any{a: "x", b: 42}))
		got, err := c.MGet(ctx, b, p+"missing", a, b, a, otherSlot(p+"a")+"missing")
		check(t, err)
		want := []any{"42", nil, "x", "42", "x", nil}
		if len(got) != len(want) {
			t.Fatalf("MGet returned %d values for %d keys", len(got), len(want))
		}
		for i, w := range want {
			switch {
			case w == nil && got[i] != nil:
				t.Errorf("value %d = %q, want nil", i, *got[i])
			case w != nil && (got[i] == nil || *got[i] != w):
				t.Errorf("value %d = %v, want %q", i, got[i], w)
			}
		}
		none, err := c.MGet(ctx, p+"none")
		if err != nil || len(none) != 1 || none[0] != nil {
			t.Fatalf("MGet of one missing key: %v %v", none, err)
		}
		m, err := c.MGetMap(ctx, a, a, p+"missing")
		if err != nil || len(m) != 1 || m[a] != "x" {
			t.Fatalf("MGetMap: %v %v", m, err)
		}
		c.Del(ctx, a, b)
	})
}
