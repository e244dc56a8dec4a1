package conn

import (
	"context"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
)

// BenchmarkReviewSoloSlowReply: one goroutine, a reply that takes about 1 ms (a scripted
// server in the same process sleeping 1 ms: its cost is the same on main), as from a
// server a network hop away, with a per-call context deadline (cancelable: the lone caller
// reads for soloSlice, then hands the socket to the reader goroutine) and without. What a
// call costs the client process: cpu-ns/op and ctxsw/op. Compare with main.
func BenchmarkReviewSoloSlowReply(b *testing.B) {
	s := fakeserver.New(reviewHandler)
	addr, err := s.Listen()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := Dial(context.Background(), &Options{Addr: addr})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, withCtx := range []bool{false, true} {
		name := "ctx=background"
		if withCtx {
			name = "ctx=timeout"
		}
		b.Run(name, func(b *testing.B) {
			u0 := startUsage()
			for range b.N {
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if withCtx {
					ctx, cancel = context.WithTimeout(ctx, time.Second)
				}
				w := NewWaiterTimeout(ctx, 2*time.Second)
				_, err := c.Exec(&w, 0, []any{"DELAY", 1000, "x"})
				w.Release()
				cancel()
				if err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, u0)
		})
	}
}
