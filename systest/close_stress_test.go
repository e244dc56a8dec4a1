package systest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// TestCloseBesideEverything closes clients while goroutines Subscribe, Watch, Do,
// DoMulti and BLPOP on them: no panic (Subscribe's background goroutine once raced
// Close's wait: "WaitGroup is reused before previous Wait has returned"), Close returns
// promptly, every call ends soon after it, and nothing is left running.
func TestCloseBesideEverything(t *testing.T) {
	cl := plain(t)
	redistest.NoGoroutineLeak(t) // after the cluster's own goroutines
	rounds := testkit.SoakOr(30, 300)
	var slowest time.Duration
	for round := range rounds {
		c, err := redline.NewClient(t.Context(), redline.Options{Addrs: cl.Addrs(), CommandTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		loop := func(f func(ctx context.Context)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 1000; i++ { // bounded: Close ends it long before
					select {
					case <-stop:
						return
					default:
					}
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					f(ctx)
					cancel()
				}
			}()
		}
		key := fmt.Sprintf("close:%d", round)
		loop(func(ctx context.Context) {
			if s, err := c.Subscribe(ctx, "close-chan-"+key); err == nil {
				s.Close()
			}
		})
		loop(func(ctx context.Context) {
			if s, err := c.SSubscribe(ctx, "close-schan-"+key); err == nil {
				s.Close()
			}
		})
		loop(func(ctx context.Context) {
			c.Watch(ctx, func(tx *redline.Tx) error {
				tx.Do(ctx, "GET", key)
				_, err := tx.Exec(ctx, redline.Cmd("SET", key, "v"))
				return err
			}, key)
		})
		loop(func(ctx context.Context) { c.Do(ctx, "INCR", key+":n") })
		loop(func(ctx context.Context) { c.DoMulti(ctx, redline.Cmd("GET", key), redline.Cmd("MGET", "a", "b", "c")) })
		loop(func(ctx context.Context) { c.Do(ctx, "BLPOP", key+":q", "0.05") })

		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond) // let them get going: any moment will do
		start := time.Now()
		c.Close()
		took := time.Since(start)
		slowest = max(slowest, took)
		if took > 3*time.Second {
			t.Errorf("round %d: Close took %v", round, took)
		}
		close(stop)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("round %d: calls still running 10s after Close:\n%s", round, buf[:runtime.Stack(buf, true)])
		}
		if err := c.Do(context.Background(), "GET", key).Err(); !errors.Is(err, redline.ErrClosed) {
			t.Fatalf("round %d: Do after Close: %v", round, err)
		}
		if _, err := c.Subscribe(context.Background(), "x"); !errors.Is(err, redline.ErrClosed) {
			t.Fatalf("round %d: Subscribe after Close: %v", round, err)
		}
	}
	t.Logf("%d rounds, slowest Close %v", rounds, slowest)
}
