package redline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
)

// TestBlockingWaitOutlivesCommandTimeout: a worker's BLPOP q 0 waits for its element
// past CommandTimeout (its deadline is the context's), and a BLPOP q 1 returns the
// server's Nil after about 1s, not a deadline error at CommandTimeout.
func TestBlockingWaitOutlivesCommandTimeout(t *testing.T) {
	t.Parallel()
	cl := plain(t)
	c := newTestClient(t, cl, Options{CommandTimeout: 200 * time.Millisecond})
	ctx := t.Context()
	key := "blocking:outlive"
	c.Do(ctx, "DEL", key)

	pushed := make(chan error, 1)
	go func() {
		time.Sleep(600 * time.Millisecond)
		pushed <- c.Do(ctx, "RPUSH", key, "job").Err()
	}()
	start := time.Now()
	got, err := c.Do(ctx, "BLPOP", key, 0).Strings()
	el := time.Since(start)
	if err := <-pushed; err != nil {
		t.Fatal(err)
	}
	if err != nil || len(got) != 2 || got[1] != "job" {
		t.Fatalf("BLPOP %s 0 with CommandTimeout 200ms: %v %v after %v, want the element pushed at 600ms", key, got, err, el)
	}
	if el < 550*time.Millisecond {
		t.Fatalf("BLPOP returned after %v, before the push", el)
	}

	start = time.Now()
	_, err = c.Do(ctx, "BLPOP", key, 1).Strings()
	el = time.Since(start)
	if !errors.Is(err, Nil) || el < 950*time.Millisecond || el > 1200*time.Millisecond+testkit.Slack() {
		t.Fatalf("BLPOP %s 1 with CommandTimeout 200ms: %v after %v, want Nil after about 1s", key, err, el)
	}

	// XREAD BLOCK is in milliseconds; without BLOCK it is an ordinary read.
	start = time.Now()
	_, err = c.Do(ctx, "XREAD", "COUNT", 1, "BLOCK", 500, "STREAMS", "blocking:stream", "$").Strings()
	el = time.Since(start)
	if !errors.Is(err, Nil) || el < 450*time.Millisecond || el > 700*time.Millisecond+testkit.Slack() {
		t.Fatalf("XREAD BLOCK 500 with CommandTimeout 200ms: %v after %v, want Nil after about 500ms", err, el)
	}
}

// TestBlockingCancelLosesNothing: a BLPOP without timeout whose context is canceled
// returns within a few milliseconds, and an element pushed around the moment of the
// cancellation is either returned to it or left in the list, never taken for a caller
// that has gone.
func TestBlockingCancelLosesNothing(t *testing.T) {
	t.Parallel()
	for _, proto := range []int{3, 2} { // RESP2: the client ID comes from CLIENT ID
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) { blockingCancel(t, proto) })
	}
}

func blockingCancel(t *testing.T, proto int) {
	cl := plain(t)
	name := strings.ReplaceAll(t.Name(), " ", "_")
	c := newTestClient(t, cl, Options{Protocol: proto, ClientName: name})
	pusher := newTestClient(t, cl, Options{})
	ctx := t.Context()
	const trials = 40
	var popped, left, canceled, slow int
	var maxLate time.Duration
	for i := range trials {
		key := fmt.Sprintf("blocking:cancel:%d:%d", proto, i)
		pusher.Do(ctx, "DEL", key)
		cctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		// The push lands from 1ms before to 1ms after the cancellation.
		skew := time.Duration(i%5-2) * 500 * time.Microsecond
		var canceledAt time.Time
		go func() {
			defer wg.Done()
			time.Sleep(30 * time.Millisecond)
			if skew < 0 {
				pusher.Do(ctx, "RPUSH", key, "e")
				time.Sleep(-skew)
				canceledAt = time.Now()
				cancel()
				return
			}
			canceledAt = time.Now()
			cancel()
			time.Sleep(skew)
			pusher.Do(ctx, "RPUSH", key, "e")
		}()
		vals, err := c.Do(cctx, "BLPOP", key, 0).Strings()
		returned := time.Now()
		wg.Wait()
		cancel()
		switch {
		case err == nil && len(vals) == 2:
			popped++
		case errors.Is(err, context.Canceled):
			canceled++
			if late := returned.Sub(canceledAt); late > maxLate {
				maxLate = late
			}
			if late := returned.Sub(canceledAt); late > 50*time.Millisecond+testkit.Slack() {
				slow++
				t.Errorf("trial %d: returned %v after the cancellation: %v", i, late, err)
			}
		default:
			t.Fatalf("trial %d: %v %v", i, vals, err)
		}
		// Let the server see the end of an abandoned wait, then count what is left.
		redistest.Eventually(t, 2*time.Second, func() bool { b, err := cl.Blocked(ctx, name); return err == nil && !b },
			"trial %d: the abandoned BLPOP still waits on the server", i)
		n, err := pusher.Do(ctx, "LLEN", key).Int64()
		if err != nil {
			t.Fatal(err)
		}
		left += int(n)
	}
	if lost := trials - popped - left; lost != 0 {
		t.Errorf("%d of %d elements lost: pushed at the cancellation, taken for a caller that had left", lost, trials)
	}
	testkit.Figure(t, "BLPOP 0 canceled while an element is pushed, %d trials: %d returned, %d left in the list, %d lost; %d canceled, at most %v after the cancellation",
		trials, popped, left, trials-popped-left, canceled, maxLate.Round(10*time.Microsecond))
}

// isHealthErr reports whether err says the node stopped answering under a wait.
func isHealthErr(err error) bool {
	return err != nil && strings.Contains(err.Error(), "stopped answering") && MayHaveExecuted(err)
}

// TestBlockingWaitCommand: WAIT, fanned out to every primary, runs on dedicated
// connections for as long as its own timeout asks (past CommandTimeout), and holds up
// no other call meanwhile.
func TestBlockingWaitCommand(t *testing.T) {
	t.Parallel()
	cl := plain(t)
	c := newTestClient(t, cl, Options{CommandTimeout: 100 * time.Millisecond, ClientName: t.Name()})
	ctx := t.Context()
	if err := c.Do(ctx, "SET", "blocking:wait", "v").Err(); err != nil { // shared connections up
		t.Fatal(err)
	}
	type answer struct {
		n   int64
		err error
		el  time.Duration
	}
	got := make(chan answer, 1)
	go func() {
		start := time.Now()
		n, err := c.Do(ctx, "WAIT", 5, 300).Int64() // more replicas than there are: waits 300ms
		got <- answer{n, err, time.Since(start)}
	}()
	cl.WaitBlocked(t, t.Name(), 5*time.Second) // the GET below runs beside a waiting WAIT
	start := time.Now()
	if err := c.Do(ctx, "GET", "blocking:wait").Err(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 50*time.Millisecond {
		t.Errorf("GET took %v while a WAIT waited", el)
	}
	a := <-got
	if a.err != nil || a.n < 0 || a.el < 280*time.Millisecond || a.el > 500*time.Millisecond+testkit.Slack() {
		t.Fatalf("WAIT 5 300 with CommandTimeout 100ms: %d %v after %v, want a count after about 300ms", a.n, a.err, a.el)
	}
}

// TestBlockingEndsAtClose: a BLPOP without timeout or deadline ends when its client
// is closed, saying so.
func TestBlockingEndsAtClose(t *testing.T) {
	t.Parallel()
	cl := plain(t)
	o := Options{Addrs: cl.Addrs(), TLSConfig: cl.TLSConfig(), ClientName: t.Name()}
	c, err := NewClient(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- c.Do(context.Background(), "BLPOP", "blocking:close", 0).Err() }()
	cl.WaitBlocked(t, t.Name(), 5*time.Second) // Close meets a waiting BLPOP
	closed := time.Now()
	c.Close()
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("BLPOP 0 still waiting 10s after Close")
	}
	if el := time.Since(closed); !errors.Is(err, ErrClosed) || el > 100*time.Millisecond+testkit.Slack() {
		t.Fatalf("BLPOP 0 at Close: %v after %v, want ErrClosed at once", err, el)
	}
}

func TestBlockingCommandsHonorDeadline(t *testing.T) {
	t.Parallel()
	cl := plain(t)
	const name = "TestBlockingCommandsHonorDeadline" // to find its BLPOP blocked on the server
	c := newTestClient(t, cl, Options{ClientName: name})
	for _, args := range [][]any{
		{"BLPOP", "block:list", 5},
		{"BZPOPMIN", "block:zset", 5},
		{"XREAD", "BLOCK", 5000, "STREAMS", "block:stream", "$"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		err := c.Do(ctx, args...).Err()
		el := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || el < 100*time.Millisecond || el > 150*time.Millisecond {
			t.Errorf("%v: %v after %v, want deadline exceeded at 100ms", args[0], err, el)
		}
	}
	// A blocking command that is served returns its value, and ordinary commands are not
	// held up by a blocked one meanwhile.
	var wg sync.WaitGroup
	wg.Add(1)
	var got []string
	var bErr error
	go func() {
		defer wg.Done()
		got, bErr = c.Do(t.Context(), "BLPOP", "block:served", 2).Strings()
	}()
	cl.WaitBlocked(t, name, 5*time.Second) // the push below meets a waiting BLPOP
	start := time.Now()
	if err := c.Do(t.Context(), "RPUSH", "block:served", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("RPUSH waited %v behind a blocked BLPOP", el)
	}
	wg.Wait()
	if bErr != nil || len(got) != 2 || got[1] != "x" {
		t.Fatalf("BLPOP: %v %v", got, bErr)
	}
}
