package conn

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestReviewFinalRealServerDeathStorm: one to three callers (lone reads, direct
// writes, the pipeline in turn; now and then sixteen) on redis-server behind the fault
// proxy, the connection killed at a random moment — Close, a reset (RST), the reply
// dropped and the connection closed (FIN) — with callers without any deadline, with
// their own, or with a context's. Every caller returns within 2 s of the kill (none)
// or within 50 ms of its deadline, and never with another's reply.
func TestReviewFinalRealServerDeathStorm(t *testing.T) {
	cl := redistest.Run(t, redistest.Config{Masters: 1})
	node := cl.Node(0)
	big := strings.Repeat("y", 20000)
	if _, err := func() (any, error) {
		c := reviewDial(t, node.Addr(), Options{})
		defer c.Close()
		return c.Do(ctxWithTimeout(t, 5*time.Second), "SET", "review:final:big", big)
	}(); err != nil {
		t.Fatal(err)
	}
	kills := []string{"close", "reset", "close-after-request"}
	deadline := time.Now().Add(45 * time.Second)
	var solos, directs uint64
	var ok, errs int
	for i := 0; i < 90 && time.Now().Before(deadline); i++ {
		kind := kills[i%len(kills)]
		callers := 1 + rand.IntN(3)
		if i%10 == 9 {
			callers = 16
		}
		c := reviewDial(t, node.Addr(), Options{ReplyTimeout: 3 * time.Second, Protocol: 2 + i%2})
		stop := make(chan struct{})
		var killedAt time.Time
		var mu sync.Mutex
		var wg sync.WaitGroup
		for g := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 2000; j++ {
					select {
					case <-stop:
						return
					default:
					}
					id := strconv.Itoa(i) + "-" + strconv.Itoa(g) + "-" + strconv.Itoa(j)
					var w Waiter
					var dl time.Time
					cancel := context.CancelFunc(func() {})
					switch rand.IntN(3) {
					case 0:
						w = NewWaiter(context.Background(), time.Time{})
					case 1:
						w = NewWaiterTimeout(context.Background(), time.Duration(200+rand.IntN(3000))*time.Microsecond)
						dl = w.dl
					case 2:
						var ctx context.Context
						ctx, cancel = context.WithTimeout(context.Background(), time.Duration(200+rand.IntN(3000))*time.Microsecond)
						w = NewWaiter(ctx, time.Time{})
						dl, _ = ctx.Deadline()
					}
					var err error
					wrong := ""
					switch rand.IntN(4) {
					case 0, 1:
						v, e := c.Exec(&w, 0, []any{"ECHO", id})
						if err = e; e == nil && string(v.Str) != id {
							wrong = string(v.Str)
						}
					case 2:
						vs, e := c.ExecMulti(&w, [][]any{{"ECHO", id + "a"}, {"ECHO", id + "b"}})
						if err = e; e == nil && (len(vs) != 2 || string(vs[0].Str) != id+"a" || string(vs[1].Str) != id+"b") {
							wrong = "multi"
						}
					case 3:
						v, e := c.Exec(&w, 0, []any{"GET", "review:final:big"})
						if err = e; e == nil && string(v.Str) != big {
							wrong = v.String()[:min(40, len(v.String()))]
						}
					}
					end := time.Now()
					w.Release()
					cancel()
					if wrong != "" {
						t.Errorf("call %s got another's reply: %q", id, wrong)
					}
					if err != nil && errors.Is(err, context.DeadlineExceeded) && end.Sub(dl) > 50*time.Millisecond {
						t.Errorf("call %s returned %v past its deadline: %v", id, end.Sub(dl), err)
					}
					mu.Lock()
					if err != nil {
						errs++
					} else {
						ok++
					}
					mu.Unlock()
					if err != nil && c.Err() != nil {
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(rand.IntN(10000)) * time.Microsecond)
		killedAt = time.Now()
		switch kind {
		case "close":
			c.Close()
		case "reset":
			node.Proxy().ResetConns()
		case "close-after-request":
			if err := node.SetFault(redistest.CloseAfterRequest); err != nil {
				t.Fatal(err)
			}
		}
		close(stop)
		fin := make(chan struct{})
		go func() { wg.Wait(); close(fin) }()
		select {
		case <-fin:
		case <-time.After(2 * time.Second):
			t.Errorf("iteration %d (kill %s, %d callers): callers still waiting 2s after the kill (conn err %v)", i, kind, callers, c.Err())
			<-fin
		}
		_ = killedAt
		if kind == "close-after-request" {
			if err := node.SetFault(redistest.Pass); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
		solos += c.cr.solos
		directs += c.directs
		poolCheck(t)
		if t.Failed() {
			break
		}
	}
	t.Logf("%d ok, %d errors; %d replies read by lone callers, %d direct writes", ok, errs, solos, directs)
}

// TestReviewFinalWriterBufferIntegrity: the writer's kept batch buffer, large requests
// written from their own buffers between pieces of it, and callers that give up at
// random moments (markers joining batches): 48 goroutines SET values of random sizes
// (16 B – 400 KiB, so batches below, around and above maxBatch) and read each back at
// once; every value read must be the one written (a buffer reused while a batch still
// pointed into it would corrupt or swap values). Bounded to 4 s.
func TestReviewFinalWriterBufferIntegrity(t *testing.T) {
	cl := redistest.Run(t, redistest.Config{Masters: 1, NoProxy: true})
	c := reviewDial(t, cl.Node(0).Addr(), Options{})
	defer c.Close()
	end := time.Now().Add(4 * time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	calls, gaveUp := 0, 0
	for g := range 48 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for j := 0; time.Now().Before(end) && j < 5000; j++ {
				size := 16 << rng.IntN(15) // 16 B … 256 KiB
				size += rng.IntN(size)
				b := make([]byte, size)
				for k := range b {
					b[k] = byte('a' + (g+j+k)%26)
				}
				key := "review:final:buf:" + strconv.Itoa(g)
				w := NewWaiterTimeout(context.Background(), 5*time.Second)
				if rng.IntN(8) == 0 { // a call given up at once: a marker joins a batch
					w2 := NewWaiterTimeout(context.Background(), time.Duration(rng.IntN(200))*time.Microsecond)
					c.Exec(&w2, 0, []any{"SET", key + ":x", b})
					w2.Release()
					mu.Lock()
					gaveUp++
					mu.Unlock()
				}
				vs, err := c.ExecMulti(&w, [][]any{{"SET", key, b}, {"GET", key}})
				w.Release()
				if err != nil {
					t.Errorf("SET/GET %d B: %v", size, err)
					return
				}
				if len(vs) != 2 || string(vs[1].Str) != string(b) {
					t.Errorf("GET after SET of %d B: got %d B, not the value written", size, len(vs[1].Str))
					return
				}
				mu.Lock()
				calls++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d SET+GET pairs checked, %d calls given up", calls, gaveUp)
}
