package node

import (
	"context"
	"github.com/redline-go/redline/redistest"
	"github.com/redline-go/redline/resp"
	"math/rand/v2"
	"os"
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

// TestReviewWaitRedisFaultStorm: a real redis-server behind the fault proxy; 128
// callers (a third with no deadline at all, the rest with a 3–20 ms waiter deadline)
// loop SET/GET-free ECHOs while the proxy switches at random between pass, reset,
// hang, stall, slow, reset-mid-reply and close-after-request. Every call must return
// its own reply or an error, within its deadline + 50 ms, or (no deadline) within the
// health limit plus a bound; REVIEW_REDIS=1 runs it.
func TestReviewWaitRedisFaultStorm(t *testing.T) {
	if os.Getenv("REVIEW_REDIS") == "" {
		t.Skip("REVIEW_REDIS not set")
	}
	sa := redistest.RunStandalone(t, redistest.StandaloneConfig{})
	rn := sa.Primary()
	defer rn.SetFault(redistest.Pass)
	replyTimeout := 300 * time.Millisecond
	n := New(rn.Addr(), Options{
		BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond, DialTimeout: 200 * time.Millisecond,
		Conn: conn.Options{ReplyTimeout: replyTimeout, Protocol: 2},
	})
	defer n.Close()
	var ok, failed, wrong, late atomic.Int64
	var maxLate atomic.Int64
	var lateNoDL atomic.Int64
	var worstMu sync.Mutex
	var worstErr error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 128 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1_000_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				want := strconv.Itoa(g) + "-" + strconv.Itoa(i)
				var w conn.Waiter
				var bound time.Time
				start := time.Now()
				if g%3 == 0 {
					w = conn.NewWaiter(context.Background(), time.Time{})
					bound = start.Add(2*replyTimeout + time.Second)
				} else {
					w = conn.NewWaiterTimeout(context.Background(), time.Duration(3+rand.IntN(18))*time.Millisecond)
					dl, _ := w.Deadline()
					bound = dl.Add(50 * time.Millisecond)
				}
				var v resp.Value
				var err error
				if i%4 == 3 {
					var vs []resp.Value
					var c *conn.Conn
					if c, err = n.Conn(&w); err == nil {
						vs, err = c.ExecMulti(&w, [][]any{{"ECHO", want}, {"ECHO", want + "b"}})
					}
					if err == nil {
						if string(vs[1].Str) != want+"b" {
							wrong.Add(1)
							t.Errorf("multi got %q, want %q", vs[1].Str, want+"b")
						}
						v = vs[0]
					}
				} else {
					v, err = n.Exec(&w, []any{"ECHO", want})
				}
				end := time.Now()
				w.Release()
				if d := end.Sub(bound); d > 0 {
					late.Add(1)
					if g%3 == 0 {
						lateNoDL.Add(1)
					}
					worstMu.Lock()
					if int64(d) > maxLate.Load() {
						maxLate.Store(int64(d))
						worstErr = err
					}
					worstMu.Unlock()
				}
				switch {
				case err != nil:
					failed.Add(1)
				case string(v.Str) != want:
					wrong.Add(1)
					t.Errorf("got %q, want %q", v.Str, want)
				default:
					ok.Add(1)
				}
				if err != nil {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	modes := []redistest.Mode{redistest.Pass, redistest.Reset, redistest.Hang, redistest.Stall(30 * time.Millisecond),
		redistest.Slow(10 * time.Millisecond), redistest.ResetMidReply(3), redistest.CloseAfterRequest, redistest.Pass}
	end := time.Now().Add(12 * time.Second)
	for time.Now().Before(end) {
		m := modes[rand.IntN(len(modes))]
		if err := rn.SetFault(m); err != nil {
			t.Errorf("SetFault %v: %v", m, err)
		}
		time.Sleep(time.Duration(20+rand.IntN(400)) * time.Millisecond)
	}
	rn.SetFault(redistest.Pass)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	fin := make(chan struct{})
	go func() { wg.Wait(); close(fin) }()
	select {
	case <-fin:
	case <-time.After(5 * time.Second):
		t.Fatalf("callers still running 5s after the storm")
	}
	t.Logf("%d ok, %d failed, %d wrong, %d past their bound (max %v)", ok.Load(), failed.Load(), wrong.Load(), late.Load(), time.Duration(maxLate.Load()))
	t.Logf("late without a deadline: %d; worst call's error: %v", lateNoDL.Load(), worstErr)
	if late.Load() > 0 {
		t.Errorf("%d calls returned past deadline+50ms (or, without a deadline, 2×ReplyTimeout+1s); worst by %v", late.Load(), time.Duration(maxLate.Load()))
	}
}
