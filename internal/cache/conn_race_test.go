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

// TestReadInvalidationRaceOnAConnection drives the classic race deterministically on
// a real connection (its reader) to a fake server: a read of k is sent, another
// client writes k after the server executed the read, and the server's invalidation
// follows the read's reply on the stream. Whatever the order in which the caller
// stores the reply and the reader handles the invalidation, no stale entry is left.
func TestReadInvalidationRaceOnAConnection(t *testing.T) {
	for _, order := range []string{"push before the reply", "push handled before the fill", "push after the fill", "connection lost before the fill"} {
		t.Run(order, func(t *testing.T) {
			release := make(chan struct{}) // lets the server send its invalidation
			push := resp.Value{Type: resp.TypePush, Elems: []resp.Value{fakeserver.Bulk("invalidate"),
				{Type: resp.TypeArray, Elems: []resp.Value{fakeserver.Bulk("k")}}}}
			var sawTracking bool
			srv := fakeserver.New(func(c *fakeserver.Conn, args []string) bool {
				switch args[0] {
				case "CLIENT":
					if args[1] == "TRACKING" {
						sawTracking = true
					}
					return false
				case "GET":
					if order == "push before the reply" {
						c.Reply(push)
					}
					c.Reply(fakeserver.Bulk("old"))
				case "PTTL":
					c.Reply(fakeserver.Int(-1))
					switch order {
					case "push handled before the fill":
						c.Reply(push)
					case "push after the fill":
						<-release
						c.Reply(push)
					case "connection lost before the fill":
						c.Close()
					}
				default:
					return false
				}
				return true
			})
			defer srv.Close()
			s := cache.New(1 << 20)
			tr := s.Tracker("fake:1")
			handled := make(chan struct{}, 1)
			lost := make(chan struct{})
			cn, err := conn.Dial(t.Context(), &conn.Options{Addr: "fake:1", DialContext: srv.Dial,
				Tracking: []string{"CLIENT", "TRACKING", "on", "OPTIN"},
				OnPush:   func(v resp.Value) { tr.OnPush(v); handled <- struct{}{} },
				OnClose:  func(*conn.Conn, error) { tr.Lost(); close(lost) },
			})
			if err != nil {
				t.Fatal(err)
			}
			defer cn.Close() // OnClose runs once: after a death, Close does not call it again
			if !sawTracking {
				t.Fatal("no CLIENT TRACKING at the handshake")
			}
			key, _ := cache.AppendKey(nil, []any{"GET", "k"})
			f, _ := s.Begin(key, []string{"k"}, 0, tr)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			vals, err := cn.DoMulti(ctx, []any{"CLIENT", "CACHING", "yes"}, []any{"GET", "k"}, []any{"PTTL", "k"})
			if err != nil {
				t.Fatal(err)
			}
			switch order {
			case "push handled before the fill", "push before the reply":
				<-handled
			case "connection lost before the fill":
				<-lost // its OnClose ran (Done is closed a moment before)
			}
			cached := s.Fill(f, vals[1], time.Hour)
			if order == "push after the fill" {
				if !cached {
					t.Fatal("not cached though nothing happened yet")
				}
				if _, st, _ := s.Get(key); st != cache.Hit {
					t.Fatal("no hit before the invalidation")
				}
				close(release)
				<-handled
			} else if cached {
				t.Fatal("the reply was cached though its key was invalidated (or its connection lost) first")
			}
			if _, st, _ := s.Get(key); st != cache.Miss {
				t.Fatalf("stale entry served: %v", st)
			}
		})
	}
}

// TestTrackingNeedsRESP3: a server without HELLO cannot push invalidations; the
// tracking connection's handshake fails saying so.
func TestTrackingNeedsRESP3(t *testing.T) {
	srv := fakeserver.New(nil)
	srv.Proto2Only = true
	defer srv.Close()
	_, err := conn.Dial(t.Context(), &conn.Options{Addr: "fake:1", DialContext: srv.Dial,
		Tracking: []string{"CLIENT", "TRACKING", "on", "OPTIN"}})
	if err == nil {
		t.Fatal("tracking connection dialed over RESP2")
	}
	t.Log(err)
}
