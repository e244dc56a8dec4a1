package conn

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
)

// desyncHandler misbehaves after a pause, long enough for the caller to give up:
// "SLOWSKIP ms" never answers, "SLOWTWICE ms v" answers v twice; "SLOW ms v" (see
// slowHandler) answers once, late.
func desyncHandler(c *fakeserver.Conn, args []string) bool {
	switch args[0] {
	case "SLOWSKIP":
		ms, _ := strconv.Atoi(args[1])
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return true
	case "SLOWTWICE":
		ms, _ := strconv.Atoi(args[1])
		time.Sleep(time.Duration(ms) * time.Millisecond)
		c.Reply(fakeserver.Bulk(args[2]))
		c.Reply(fakeserver.Bulk(args[2]))
		return true
	}
	return slowHandler(c, args)
}

// abandonRound gives up cmd at 50ms while four ECHO callers are in flight behind it,
// and returns how many got another caller's reply and how many got an error.
func abandonRound(t *testing.T, c *Conn, cmd ...any) (wrong, failed int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	aErr := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, cmd...)
		aErr <- err
	}()
	for end := time.Now().Add(2 * time.Second); c.InFlight() == 0 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := "echo-" + strconv.Itoa(i)
			v, err := c.Do(ctxWithTimeout(t, 3*time.Second), "ECHO", want)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failed++
			case string(v.Str) != want:
				wrong++
				t.Errorf("caller %d got %q", i, v.Str)
			}
		}()
	}
	wg.Wait()
	if err := <-aErr; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("abandoned call: %v, want deadline exceeded", err)
	}
	return wrong, failed
}

// Issue 15 item 5: a server that skips the reply of a request its caller gave up, or
// answers it twice, shifts every later reply by one. The marker written after the
// given-up request catches it: the connection dies, the callers in flight get an
// error, and none gets another's reply.
func TestDesyncAfterAbandonIsDetected(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  []any
	}{
		{"skipped reply", []any{"SLOWSKIP", 150}},
		{"extra reply", []any{"SLOWTWICE", 150, "twice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := serve(t, desyncHandler, Options{})
			wrong, failed := abandonRound(t, c, tc.cmd...)
			if wrong != 0 {
				t.Fatalf("%d wrong replies handed out", wrong)
			}
			select {
			case <-c.Done():
			case <-time.After(3 * time.Second):
				t.Fatal("desynchronized connection still alive")
			}
			if !IsDesync(c.Err()) {
				t.Errorf("cause %v, want a desync", c.Err())
			}
			t.Logf("%d of 4 callers failed, 0 wrong; cause: %v", failed, c.Err())
		})
	}
}

// A well-behaved server answering late: the callers behind the given-up request get
// their own replies once the marker comes back, and the connection lives on.
func TestAbandonThenVerifiedReleasesHeldReplies(t *testing.T) {
	_, c := serve(t, desyncHandler, Options{})
	for range 3 {
		if wrong, failed := abandonRound(t, c, "SLOW", 150, "late"); wrong != 0 || failed != 0 {
			t.Fatalf("%d wrong, %d failed", wrong, failed)
		}
	}
	if c.Err() != nil {
		t.Fatalf("connection died: %v", c.Err())
	}
	if got := c.markerSeq.Load(); got < 3 {
		t.Errorf("%d markers sent, want one per abandoned request", got)
	}
}

// With the queue full, the marker rides with the writer's next batch.
func TestMarkerWantedJoinsNextBatch(t *testing.T) {
	_, c := serve(t, nil, Options{})
	c.markerWanted.Store(true)
	if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", "x"); err != nil || string(v.Str) != "x" {
		t.Fatalf("%v %v", v, err)
	}
	if c.markerWanted.Load() || c.markerSeq.Load() != 1 {
		t.Fatalf("marker not written (wanted %v, seq %d)", c.markerWanted.Load(), c.markerSeq.Load())
	}
	if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", "y"); err != nil || string(v.Str) != "y" || c.Err() != nil {
		t.Fatalf("%v %v %v", v, err, c.Err())
	}
}
