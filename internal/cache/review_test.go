package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/cache"
	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/resp"
)

// TestReviewCacheOwnWriteBeforeItsPush (review): Redis 7 sends a tracking client the
// invalidation of a key it wrote itself AFTER the write's reply (checked on 7.0.15:
// "+OK" then ">2 invalidate [k]"). The writer returns on the reply; its next cached
// read hits the old value until the reader has handled the push. Here the server
// holds the push back until the read was made (on a real server the push follows
// the reply at once: TestReviewCacheReadYourOwnWrite sees it ~1 in 3,000 rounds).
func TestReviewCacheOwnWriteBeforeItsPush(t *testing.T) {
	release := make(chan struct{})
	push := resp.Value{Type: resp.TypePush, Elems: []resp.Value{fakeserver.Bulk("invalidate"),
		{Type: resp.TypeArray, Elems: []resp.Value{fakeserver.Bulk("k")}}}}
	srv := fakeserver.New(func(c *fakeserver.Conn, args []string) bool {
		switch args[0] {
		case "GET":
			c.Reply(fakeserver.Bulk("old"))
		case "PTTL":
			c.Reply(fakeserver.Int(-1))
		case "SET":
			c.Reply(fakeserver.Simple("OK"))
			go func() { <-release; c.Reply(push) }()
		default:
			return false
		}
		return true
	})
	defer srv.Close()
	s := cache.New(1 << 20)
	tr := s.Tracker("fake:1")
	handled := make(chan struct{}, 1)
	cn, err := conn.Dial(t.Context(), &conn.Options{Addr: "fake:1", DialContext: srv.Dial,
		Tracking: []string{"CLIENT", "TRACKING", "on", "OPTIN"},
		OnPush:   func(v resp.Value) { tr.OnPush(v); handled <- struct{}{} },
		OnClose:  func(*conn.Conn, error) { tr.Lost() },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	key, _ := cache.AppendKey(nil, []any{"GET", "k"})
	f, _ := s.Begin(key, []string{"k"}, 0, tr)
	vals, err := cn.DoMulti(ctx, []any{"CLIENT", "CACHING", "yes"}, []any{"GET", "k"}, []any{"PTTL", "k"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Fill(f, vals[1], time.Hour) {
		t.Fatal("not cached")
	}
	// The client's own write of k, acknowledged.
	if _, err := cn.DoMulti(ctx, []any{"SET", "k", "new"}); err != nil {
		t.Fatal(err)
	}
	v, st, _ := s.Get(key)
	close(release)
	<-handled
	if st == cache.Hit {
		t.Fatalf("after the client's own acknowledged SET k new, its cached GET k hit %q", v.Str)
	}
}
