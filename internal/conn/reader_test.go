package conn

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/fakeserver"
)

// streamHandler answers "STREAM n chunk pause" with a valid bulk reply of n bytes,
// written chunk bytes at a time with pause milliseconds between writes.
// streamed counts the bytes streamHandler has written, all connections together.
var streamed atomic.Int64

func streamHandler(c *fakeserver.Conn, args []string) bool {
	if args[0] != "STREAM" {
		return false
	}
	n, _ := strconv.Atoi(args[1])
	chunk, _ := strconv.Atoi(args[2])
	pause, _ := strconv.Atoi(args[3])
	if c.WriteRaw([]byte("$"+strconv.Itoa(n)+"\r\n")) != nil {
		return true
	}
	buf := make([]byte, chunk)
	for left := n; left > 0; left -= chunk {
		if c.WriteRaw(buf[:min(chunk, left)]) != nil {
			return true
		}
		streamed.Add(int64(min(chunk, left)))
		if pause > 0 {
			time.Sleep(time.Duration(pause) * time.Millisecond)
		}
	}
	c.WriteRaw([]byte("\r\n"))
	return true
}

// Issue 16 item 7: a large valid reply arriving steadily must not kill the shared
// connection because its total time exceeds ReplyTimeout (before: "reply overdue"
// after ReplyTimeout, and every other caller on the connection failed).
func TestLongReplyWithProgressKeepsConnection(t *testing.T) {
	_, c := serve(t, streamHandler, Options{ReplyTimeout: 200 * time.Millisecond})
	// 40 writes of 16 KiB, 15ms apart: ~600ms in all, never 200ms without a byte.
	v, err := c.Do(ctxWithTimeout(t, 10*time.Second), "STREAM", 40*16<<10, 16<<10, 15)
	if err != nil || len(v.Str) != 40*16<<10 {
		t.Fatalf("long reply: %d bytes, %v", len(v.Str), err)
	}
	if v, err := c.Do(ctxWithTimeout(t, 5*time.Second), "ECHO", "next"); err != nil || string(v.Str) != "next" {
		t.Fatalf("next caller: %v %v", v, err)
	}
}

// Issue 15 item 4: a 512 MiB valid reply streaming at full speed releases its caller
// at its deadline, and other callers on the connection are served after it, within
// their own deadlines, with their own replies. The rest of the reply is discarded
// without being kept: a caller leaving at 200ms costs what had arrived by then, not
// 512 MiB. At 1s the deadline falls while the reader's buffer grows: a copy into
// fresh memory, unpreemptible until then, held callers for up to seconds here.
func TestHugeReplyReleasesCallerAtDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 512 MiB")
	}
	const size = 512 << 20
	for _, tc := range []struct {
		deadline time.Duration
		pause    int    // ms between 1 MiB writes (see below)
		maxAlloc uint64 // bytes allocated from the call to the drain's end, at most
	}{
		// At 1 MiB per 4ms, about 50 MiB have come at 200ms: under an eighth, after
		// which the decoder believes the length and allocates the whole 512 MiB.
		{200 * time.Millisecond, 4, 128 << 20}, // or 4× what was sent by the deadline, if more
		{time.Second, 0, 2 * size},
	} {
		t.Run(tc.deadline.String(), func(t *testing.T) {
			_, c := serve(t, streamHandler, Options{})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			start := time.Now()
			sent0 := streamed.Load()
			_, err := c.Do(ctx, "STREAM", size, 1<<20, tc.pause)
			late := time.Since(start) - tc.deadline
			// Growing the buffer to what had come by the deadline allocates up to
			// four times that (doublings: the last one at the next power of two), plus
			// slack: a fast machine sends more by then.
			maxAlloc := max(tc.maxAlloc, 4*uint64(streamed.Load()-sent0)+32<<20)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("huge reply: %v, want deadline exceeded", err)
			}
			t.Logf("caller released %v after its deadline", late)
			// The promise is deadline + 2ms; the bound is generous for a loaded
			// machine (two cores: the server and the reader of a full-speed stream).
			if late > 100*time.Millisecond {
				t.Errorf("caller released %v after its deadline", late)
			}
			// Others, on the same connection, while the rest of the reply drains.
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					want := "other-" + strconv.Itoa(i)
					v, err := c.Do(ctxWithTimeout(t, 20*time.Second), "ECHO", want)
					if err != nil || string(v.Str) != want {
						errs <- errors.New("other caller: got " + v.String() + ", " + errString(err))
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d MiB while %d MiB streamed (at most %d MiB allowed)", alloc>>20, size>>20, maxAlloc>>20)
			if alloc > maxAlloc {
				t.Errorf("allocated %d MiB: the abandoned reply was materialized", alloc>>20)
			}
			if c.Err() != nil {
				t.Fatalf("connection died: %v", c.Err())
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
