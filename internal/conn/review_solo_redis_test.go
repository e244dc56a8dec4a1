package conn

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
	"github.com/redline-go/redline/resp"
)

// The review's stress on a real redis-server: a lone caller, one joining at random
// moments and one now and then after the reader parked; ECHO, error replies, values
// larger than the read buffer, DoMulti, and deadlines short enough to give calls up
// mid-read. Every caller gets its own reply or its deadline; the connection stays
// up. Then blocking commands on a connection of their own: BLPOP given up at random
// moments while another connection pushes, each caller getting its own list's value
// or nothing. Runs for REVIEW_STRESS (default 3s) each.
func TestReviewSoloRealServerStress(t *testing.T) {
	dur := 3 * time.Second
	if s, err := time.ParseDuration(os.Getenv("REVIEW_STRESS")); err == nil {
		dur = s
	}
	cl := redistest.Run(t, redistest.Config{Masters: 1, NoProxy: true})
	dial := func(proto int) *Conn {
		c, err := Dial(ctxWithTimeout(t, 5*time.Second), &Options{Addr: cl.Node(0).Addr(), Protocol: proto})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	big := strings.Repeat("x", 30000)
	for _, proto := range []int{2, 3} {
		c := dial(proto)
		ctx := ctxWithTimeout(t, 5*time.Second)
		if _, err := c.Do(ctx, "SET", "review:big", big); err != nil {
			t.Fatal(err)
		}
		end := time.Now().Add(dur)
		var calls, late atomic.Int64
		errs := make(chan error, 8)
		var wg sync.WaitGroup
		call := func(rng *rand.Rand, tag string) error {
			var w Waiter
			d := 2 * time.Second
			switch rng.IntN(3) {
			case 0:
				w = NewWaiterTimeout(context.Background(), d)
			case 1:
				cctx, cancel := context.WithTimeout(context.Background(), d)
				defer cancel()
				w = NewWaiter(cctx, time.Time{})
			case 2:
				d = time.Duration(20+rng.IntN(300)) * time.Microsecond
				w = NewWaiterTimeout(context.Background(), d)
			}
			defer w.Release()
			var cmd []any
			check := func(v resp.Value) bool { return string(v.Str) == tag }
			switch rng.IntN(4) {
			case 0, 1:
				cmd = []any{"ECHO", tag}
			case 2:
				cmd = []any{"NOSUCH-" + tag}
				check = func(v resp.Value) bool { return v.Err != nil && strings.Contains(v.Err.Error(), tag) }
			case 3:
				cmd = []any{"GET", "review:big"}
				check = func(v resp.Value) bool { return string(v.Str) == big }
			}
			start := time.Now()
			var v resp.Value
			var err error
			if rng.IntN(5) == 0 {
				var vs []resp.Value
				vs, err = c.ExecMulti(&w, [][]any{{"ECHO", tag + "/0"}, cmd})
				if err == nil {
					if len(vs) != 2 || string(vs[0].Str) != tag+"/0" {
						return fmt.Errorf("DoMulti %v: %v", cmd, vs)
					}
					v = vs[1]
				}
			} else {
				v, err = c.Exec(&w, 0, cmd)
			}
			if el := time.Since(start); el > d+50*time.Millisecond {
				late.Add(1)
				if el > d+500*time.Millisecond {
					return fmt.Errorf("%v returned after %v, deadline %v", cmd, el, d)
				}
			}
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) || IsHeld(err) {
					return nil
				}
				return fmt.Errorf("%v: %w", cmd, err)
			}
			if !check(v) {
				return fmt.Errorf("%v got %.60q (err %v): another call's reply", cmd, v.Str, v.Err)
			}
			return nil
		}
		run := func(id int, pause func(*rand.Rand)) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano())))
			for i := 0; time.Now().Before(end) && i < 1_000_000; i++ {
				if err := call(rng, fmt.Sprintf("p%d-g%d-%d", proto, id, i)); err != nil {
					errs <- err
					return
				}
				calls.Add(1)
				pause(rng)
			}
		}
		wg.Add(3)
		go run(0, func(*rand.Rand) {})
		go run(1, func(rng *rand.Rand) { time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond) })
		go run(2, func(rng *rand.Rand) { time.Sleep(time.Duration(rng.IntN(15)) * time.Millisecond) })
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if err := c.Err(); err != nil {
			t.Errorf("RESP%d: the connection died: %v", proto, err)
		}
		t.Logf("RESP%d: %d calls, %d read by their callers, %d more than 50ms late", proto, calls.Load(), c.cr.solos, late.Load())
	}

	// Blocking: BLPOP on a connection of its own, given up at random moments.
	bc, pc := dial(3), dial(3)
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	end := time.Now().Add(dur)
	var got, gaveUp, empty int
	for i := 0; time.Now().Before(end) && i < 100_000; i++ {
		key, val := fmt.Sprintf("review:bl:%d", i), fmt.Sprintf("v-%d", i)
		pushAt := time.Duration(rng.IntN(3000)) * time.Microsecond
		pushed := make(chan error, 1)
		go func() {
			time.Sleep(pushAt)
			_, err := pc.Do(ctxWithTimeout(t, 2*time.Second), "LPUSH", key, val)
			pushed <- err
		}()
		d := time.Duration(200+rng.IntN(4000)) * time.Microsecond
		w := NewWaiterTimeout(context.Background(), d)
		start := time.Now()
		v, err := bc.Exec(&w, 10*time.Millisecond, []any{"BLPOP", key, "0.01"})
		el := time.Since(start)
		w.Release()
		if err := <-pushed; err != nil {
			t.Fatal(err)
		}
		if el > d+500*time.Millisecond {
			t.Fatalf("BLPOP returned after %v, deadline %v", el, d)
		}
		switch {
		case err != nil && (errors.Is(err, context.DeadlineExceeded) || IsHeld(err)):
			gaveUp++
		case err != nil:
			t.Fatalf("BLPOP %s: %v", key, err)
		case v.Type == resp.TypeNull:
			empty++
		case len(v.Elems) == 2 && string(v.Elems[0].Str) == key && string(v.Elems[1].Str) == val:
			got++
		default:
			t.Fatalf("BLPOP %s got %v: not its own list's value", key, v)
		}
	}
	if err := bc.Err(); err != nil {
		t.Errorf("the blocking connection died: %v", err)
	}
	t.Logf("BLPOP: %d got their value, %d empty, %d given up; %d read by their callers", got, empty, gaveUp, bc.cr.solos)
}
