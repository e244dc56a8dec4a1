package node

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/fakeserver"
)

// TestReviewWaitNodeDeathsAndClose (review of the single-channel wait and the
// lock-free Conn fast path): callers without any deadline loop on a node whose shared
// connection the server closes at random moments, while the connection's OnClose is
// slowed (so callers find it dead before OnClose ran: the fast path must not hand it
// out), and finally Node.Close races them. Nobody may hang or get another's reply;
// calls between deaths must succeed on a new connection.
func TestReviewWaitNodeDeathsAndClose(t *testing.T) {
	for iter := range 6 {
		s := fakeserver.New(nil)
		addr, err := s.Listen()
		if err != nil {
			t.Fatal(err)
		}
		var lateOnClose atomic.Int32
		n := New(addr, Options{
			BackoffBase: 5 * time.Millisecond, BackoffMax: 10 * time.Millisecond,
			Shared: func(o *conn.Options) {
				closed := o.OnClose
				o.OnClose = func(c *conn.Conn, cause error) {
					if iter%2 == 0 {
						time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
					}
					lateOnClose.Add(1)
					closed(c, cause)
				}
			},
		})
		var wg sync.WaitGroup
		var ok, failed, wrong atomic.Int64
		stop := make(chan struct{})
		for g := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 100000; i++ {
					select {
					case <-stop:
						return
					default:
					}
					want := strconv.Itoa(g) + "-" + strconv.Itoa(i)
					v, err := n.Do(context.Background(), "ECHO", want)
					switch {
					case err != nil:
						failed.Add(1)
						time.Sleep(time.Millisecond)
					case string(v.Str) != want:
						wrong.Add(1)
						t.Errorf("got %q, want %q", v.Str, want)
					default:
						ok.Add(1)
					}
				}
			}()
		}
		for range 10 {
			time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
			s.CloseConns()
		}
		time.Sleep(50 * time.Millisecond)
		before := ok.Load()
		time.Sleep(100 * time.Millisecond)
		if ok.Load() == before {
			t.Errorf("iteration %d: no call succeeded in the 100ms after the last death (node %v)", iter, n.State())
		}
		closeDone := make(chan struct{})
		go func() { n.Close(); close(closeDone) }()
		time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond)
		close(stop)
		fin := make(chan struct{})
		go func() { wg.Wait(); <-closeDone; close(fin) }()
		select {
		case <-fin:
		case <-time.After(3 * time.Second):
			t.Fatalf("iteration %d: callers or Node.Close still running 3s after Close (ok %d failed %d)", iter, ok.Load(), failed.Load())
		}
		s.Close()
		t.Logf("iteration %d: %d ok, %d failed, %d wrong, %d OnClose", iter, ok.Load(), failed.Load(), wrong.Load(), lateOnClose.Load())
	}
}
