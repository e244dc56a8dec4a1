package redline

import (
	"errors"
	"fmt"
	"testing"
)

// TestMatrixProtocols runs the basics over RESP2 and RESP3 on whatever server the
// cluster runs (scripts/test-matrix.sh runs it on Redis 6.0, 7.0 and Valkey 8.0): a
// string, a hash (a map in RESP3, a flat array in RESP2), a missing key, an error reply,
// a pipeline across slots, and, with RESP3, a subscription.
func TestMatrixProtocols(t *testing.T) {
	cl := plain(t)
	t.Logf("server: %s", cl.Server())
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			c := newTestClient(t, cl, Options{Protocol: proto})
			ctx := t.Context()
			p := fmt.Sprintf("matrix:{%d}:", proto)
			check(t, c.Set(ctx, p+"s", "v", nil))
			v, err := c.Get(ctx, p+"s")
			eq(t, "Get", v, err, "v")
			_, err = c.Get(ctx, p+"missing")
			isNil(t, "Get of a missing key", err)
			if _, err := c.HSet(ctx, p+"h", map[string]any{"a": "1", "b": "2"}); err != nil {
				t.Fatal(err)
			}
			h, err := c.HGetAll(ctx, p+"h")
			if err != nil || len(h) != 2 || h["a"] != "1" || h["b"] != "2" {
				t.Fatalf("HGetAll = %v, %v", h, err)
			}
			var re *RedisError
			if err := c.Do(ctx, "INCR", p+"s").Err(); !errors.As(err, &re) {
				t.Fatalf("INCR of a string: %v, want a RedisError", err)
			}
			rs := c.DoMulti(ctx, Cmd("SET", "matrix:a", "1"), Cmd("SET", "matrix:b", "2"), Cmd("MGET", "matrix:a", "matrix:b"))
			if got, err := rs[2].Strings(); err != nil || fmt.Sprint(got) != "[1 2]" {
				t.Fatalf("MGET across slots in a pipeline: %v %v", got, err)
			}
			if proto == 2 {
				return
			}
			sub, err := c.Subscribe(ctx, p+"chan")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			if err := c.Do(ctx, "PUBLISH", p+"chan", "hello").Err(); err != nil {
				t.Fatal(err)
			}
			select {
			case m := <-sub.Messages():
				if m.Payload != "hello" {
					t.Fatalf("message %+v", m)
				}
			case <-ctx.Done():
				t.Fatal("no message")
			}
		})
	}
}
