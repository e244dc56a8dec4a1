package conn

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/redistest"
)

// Close while a lone caller reads its own reply: the caller leaves at once with a
// read-phase error (written), and nothing is left running (held).
func TestReviewSoloCloseDuringLoneRead(t *testing.T) {
	redistest.NoGoroutineLeak(t)
	s := fakeserver.New(slowHandler)
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 20 {
		c, err := Dial(ctxWithTimeout(t, 2*time.Second), &Options{Addr: addr})
		if err != nil {
			t.Fatal(err)
		}
		warmSolo(t, c)
		written := c.written.Load()
		done := make(chan error, 1)
		go func() {
			w := NewWaiterTimeout(context.Background(), 5*time.Second) // no soloSlice
			defer w.Release()
			_, err := c.Exec(&w, 0, []any{"HANG"})
			done <- err
		}()
		// The socket the caller's and its request written (a Close before the write
		// is answered "not written", rightly: TestReviewFusedClosedBeforeWrite).
		for end := time.Now().Add(2 * time.Second); c.readState.Load() != readCaller || c.written.Load() == written; {
			if time.Now().After(end) {
				t.Fatal("the lone caller did not take the socket and write")
			}
			time.Sleep(100 * time.Microsecond)
		}
		start := time.Now()
		c.Close()
		select {
		case err := <-done:
			var ne *rerr.NodeError
			if !errors.As(err, &ne) || !ne.Written {
				t.Fatalf("HANG after Close: %v; want a NodeError, written", err)
			}
			if el := time.Since(start); el > 50*time.Millisecond {
				t.Fatalf("the lone reader left %v after Close", el)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("the lone reader did not leave after Close")
		}
	}
}

// Close at random moments of a lone caller's calls (and of a second caller's): every
// call returns promptly, no panic, no goroutine left (held).
func TestReviewSoloCloseAtRandomMoments(t *testing.T) {
	redistest.NoGoroutineLeak(t)
	s := fakeserver.New(reviewHandler)
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for i := range 200 {
		c, err := Dial(ctxWithTimeout(t, 2*time.Second), &Options{Addr: addr, Protocol: 2 + i%2})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 100_000; j++ {
					select {
					case <-stop:
						return
					default:
					}
					w := NewWaiterTimeout(context.Background(), 2*time.Second)
					start := time.Now()
					var err error
					if g == 1 && j%3 == 0 {
						_, err = c.ExecMulti(&w, [][]any{{"E", "a"}, {"E", "b"}})
					} else {
						_, err = c.Exec(&w, 0, []any{"E", "x"})
					}
					w.Release()
					if el := time.Since(start); el > time.Second {
						t.Errorf("a call around Close took %v", el)
						return
					}
					if err != nil {
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
		c.Close()
		close(stop)
		wg.Wait()
	}
}
