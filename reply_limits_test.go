package redline

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redline-go/redline/resp"
)

// The reply limits are Options: validated, defaulted as documented, and given to
// every connection.
func TestReplyLimitOptions(t *testing.T) {
	for _, o := range []Options{
		{Addrs: []string{"127.0.0.1:1"}, MaxReplyBulkLen: -1},
		{Addrs: []string{"127.0.0.1:1"}, MaxReplyElems: -1},
		{Addrs: []string{"127.0.0.1:1"}, MaxReplyDepth: -1},
		{Addrs: []string{"127.0.0.1:1"}, MaxReplyDepth: 3},
	} {
		if _, err := NewClient(context.Background(), o); err == nil || !strings.Contains(err.Error(), "MaxReply") {
			t.Errorf("NewClient(%+v): %v, want an error naming the field", o, err)
		}
	}
	o, err := Options{Addrs: []string{"127.0.0.1:1"}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.MaxReplyBulkLen != 512<<20 || o.MaxReplyElems != 1<<24 || o.MaxReplyDepth != 128 {
		t.Errorf("defaults: %d %d %d", o.MaxReplyBulkLen, o.MaxReplyElems, o.MaxReplyDepth)
	}
	o, _ = Options{Addrs: []string{"127.0.0.1:1"}, MaxReplyBulkLen: 1000, MaxReplyElems: 64 << 20, MaxReplyDepth: 16}.withDefaults()
	if lim := o.replyLimits(); lim != (resp.Limits{MaxBulkLen: 1000, MaxAggregateLen: 64 << 20, MaxDepth: 16, MaxLineLen: resp.DefaultMaxLineLen}) {
		t.Errorf("limits %+v", lim)
	}
}

// A reply over a configured limit fails its call with an error naming the limit; a
// client with larger limits reads it.
func TestReplyLimitsApply(t *testing.T) {
	c := plain(t)
	small := newTestClient(t, c, Options{MaxReplyBulkLen: 1024, MaxReplyElems: 100})
	big := newTestClient(t, c, Options{})
	ctx := t.Context()
	key, list := "limits:{rl}:s", "limits:{rl}:l"
	if err := big.Do(ctx, "SET", key, strings.Repeat("x", 2048)).Err(); err != nil {
		t.Fatal(err)
	}
	args := []any{"RPUSH", list}
	for range 150 {
		args = append(args, "e")
	}
	if err := big.Do(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { big.Do(context.Background(), "DEL", key, list) }) // t.Context() has ended; CommandTimeout bounds it
	for _, cmd := range [][]any{{"GET", key}, {"LRANGE", list, 0, -1}} {
		err := small.Do(ctx, cmd...).Err()
		if !errors.Is(err, resp.ErrTooLarge) || !strings.Contains(err.Error(), "exceeds limit") {
			t.Errorf("%v with small limits: %v, want ErrTooLarge naming the limit", cmd[0], err)
		}
		if err := big.Do(ctx, cmd...).Err(); err != nil {
			t.Errorf("%v with default limits: %v", cmd[0], err)
		}
	}
}
