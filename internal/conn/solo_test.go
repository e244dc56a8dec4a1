package conn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/internal/testkit"
)

// awaitParked waits (bounded) until c's reader goroutine has left the socket to solo
// callers, as it does once it has completed a directly written request.
func awaitParked(t *testing.T, c *Conn) {
	t.Helper()
	for end := time.Now().Add(2 * time.Second); c.readState.Load() != readParked; {
		if time.Now().After(end) {
			t.Fatalf("the reader goroutine did not park after a lone call (state %d)", c.readState.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// A lone caller reading its own reply from a server that stops answering returns by
// its deadline — its own (the client's command timeout), its context's, or its
// context's cancellation — with a read-phase error saying the command was written and
// no reply came.
func TestSoloHungServerReturnsByDeadline(t *testing.T) {
	const d = 200 * time.Millisecond
	cases := []struct {
		name string
		call func(c *Conn) error
		want error
	}{
		{"own deadline", func(c *Conn) error {
			w := NewWaiterTimeout(context.Background(), d)
			defer w.Release()
			_, err := c.Exec(&w, 0, []any{"HANG"})
			return err
		}, context.DeadlineExceeded},
		{"context deadline", func(c *Conn) error {
			_, err := c.Do(ctxWithTimeout(t, d), "HANG")
			return err
		}, context.DeadlineExceeded},
		{"context canceled", func(c *Conn) error {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(d, cancel)
			_, err := c.Do(ctx, "HANG")
			return err
		}, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, c := serve(t, slowHandler, Options{ReplyTimeout: 5 * time.Second})
			if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", "a"); err != nil || string(v.Str) != "a" {
				t.Fatalf("ECHO: %q, %v", v.Str, err)
			}
			awaitParked(t, c)
			directs := c.directs
			start := time.Now()
			err := tc.call(c)
			el := time.Since(start)
			var ne *rerr.NodeError
			if !errors.Is(err, tc.want) || !errors.As(err, &ne) || ne.Phase != rerr.PhaseRead || !ne.Written || !errors.Is(err, rerr.ErrNoReply) {
				t.Fatalf("HANG: %v; want %v, read phase, written, no reply", err, tc.want)
			}
			if el < d-5*time.Millisecond || el > d+50*time.Millisecond {
				t.Fatalf("HANG returned after %v; its end came at %v", el, d)
			}
			if c.directs != directs+1 {
				t.Fatalf("HANG was not written by its caller (direct writes %d → %d)", directs, c.directs)
			}
			// The next caller never gets another's reply: HANG skipped its reply, so
			// the sync marker written after it finds the stream out of step and the
			// connection dies (sync.go).
			if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", "b"); err == nil && string(v.Str) != "b" {
				t.Fatalf("ECHO after the hung call got %q", v.Str)
			} else if err != nil && !IsDesync(err) {
				t.Fatalf("ECHO after the hung call: %v; want its reply or the desync", err)
			}
		})
	}
}

// stallConn is a TCP connection whose Write, once stalled, moves nothing until its
// write deadline (as a socket whose peer stopped reading): the direct path writes
// through the raw descriptor, the writer goroutine through Write.
type stallConn struct {
	*net.TCPConn
	stall atomic.Bool
	mu    sync.Mutex
	wdl   time.Time
}

func (s *stallConn) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	s.wdl = t
	s.mu.Unlock()
	return s.TCPConn.SetWriteDeadline(t)
}

func (s *stallConn) Write(p []byte) (int, error) {
	if !s.stall.Load() {
		return s.TCPConn.Write(p)
	}
	s.mu.Lock()
	dl := s.wdl
	s.mu.Unlock()
	if dl.IsZero() {
		dl = time.Now().Add(time.Minute)
	}
	time.Sleep(time.Until(dl))
	return 0, os.ErrDeadlineExceeded
}

// A lone caller's request that the socket takes only in part is finished by the
// writer goroutine with its chunked health deadline: the caller still returns by its
// own deadline (write phase: the request was being written), and the stalled write
// kills the connection about ReplyTimeout after it began, as any writer's stall does.
func TestSoloPartialWriteKeepsDeadlines(t *testing.T) {
	const rt = 300 * time.Millisecond
	var sc *stallConn
	_, c := serve(t, slowHandler, Options{ReplyTimeout: rt, Protocol: 2,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			sc = &stallConn{TCPConn: nc.(*net.TCPConn)}
			return sc, nil
		}})
	if c.direct == nil {
		t.Fatal("no direct writer on a TCP connection")
	}
	if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", "a"); err != nil || string(v.Str) != "a" {
		t.Fatalf("ECHO: %q, %v", v.Str, err)
	}
	awaitParked(t, c)
	c.wmu.Lock()
	c.direct.limit = 1 // the socket takes one byte; the writer gets the rest
	c.wmu.Unlock()
	sc.stall.Store(true)
	start := time.Now()
	_, err := c.Do(ctxWithTimeout(t, 100*time.Millisecond), "ECHO", "b")
	el := time.Since(start)
	var ne *rerr.NodeError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || ne.Phase != rerr.PhaseWrite || !ne.Written || !errors.Is(err, errWriting) {
		t.Fatalf("ECHO whose write stalls: %v; want a deadline error, write phase, being written", err)
	}
	if el > 150*time.Millisecond {
		t.Fatalf("ECHO whose write stalls returned after %v, deadline 100ms", el)
	}
	select {
	case <-c.Done():
	case <-time.After(rt + 2*time.Second):
		t.Fatal("the stalled write did not kill the connection")
	}
	if !errors.Is(c.Err(), errWriteStalled) {
		t.Fatalf("connection died of %v; want the write stall", c.Err())
	}
	if died := time.Since(start); died < rt-10*time.Millisecond {
		t.Fatalf("connection died %v after the write began, before ReplyTimeout %v", died, rt)
	}
}

// A request the socket takes in part is completed by the writer, and its reply is its
// own; the calls after it (direct again) are answered in order.
func TestSoloPartialWriteCompletes(t *testing.T) {
	_, c := serve(t, nil, Options{})
	if _, err := c.Do(ctxWithTimeout(t, 2*time.Second), "PING"); err != nil {
		t.Fatal(err)
	}
	c.wmu.Lock()
	c.direct.limit = 3
	c.wmu.Unlock()
	for i := range 20 {
		want := fmt.Sprintf("payload-%d", i)
		if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", want); err != nil || string(v.Str) != want {
			t.Fatalf("ECHO %s: %q, %v", want, v.Str, err)
		}
	}
}

// A lone caller reading its own replies, joined mid-flight by others (the pipeline
// takes over), then alone again (it reads its own again): every caller gets its own
// reply, on a real server.
func TestSoloJoinedKeepsOrder(t *testing.T) {
	c := benchConn(t)
	ctx := ctxWithTimeout(t, 60*time.Second)
	echo := func(tag string, i int) error {
		want := fmt.Sprintf("%s-%d", tag, i)
		v, err := c.Do(ctx, "ECHO", want)
		if err != nil {
			return err
		}
		if string(v.Str) != want {
			return fmt.Errorf("ECHO %s got %q", want, v.Str)
		}
		return nil
	}
	alone := func(tag string) {
		t.Helper()
		before := c.cr.solos
		for i := range 200 {
			if err := echo(tag, i); err != nil {
				t.Fatal(err)
			}
		}
		if c.cr.solos-before < 150 {
			t.Fatalf("%s: only %d of 200 lone calls read their own reply", tag, c.cr.solos-before)
		}
	}
	alone("alone")
	// The lone caller goes on while 16 others join it, and leave.
	var wg sync.WaitGroup
	errs := make(chan error, 17)
	stop := make(chan struct{})
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				if err := echo(fmt.Sprintf("g%d", g), i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	lone := make(chan struct{})
	go func() {
		defer close(lone)
		for i := 0; i < 100000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := echo("lone", i); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-lone
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	alone("alone-again")
}

// Once its lone caller stops, the reader goroutine takes the socket back within about
// soloIdle: a server that closes the idle connection is noticed at once, as before.
func TestSoloIdleReaderNoticesClose(t *testing.T) {
	s, c := serve(t, nil, Options{})
	for range 3 {
		if _, err := c.Do(ctxWithTimeout(t, 2*time.Second), "PING"); err != nil {
			t.Fatal(err)
		}
	}
	awaitParked(t, c)
	start := time.Now()
	s.CloseConns()
	select {
	case <-c.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the server's close of an idle connection was not noticed")
	}
	t.Logf("close noticed after %v (soloIdle %v)", time.Since(start).Round(time.Millisecond), soloIdle)
}

// A request written directly while the reader goroutine is parked, by a caller that
// does not read its own reply (DoMulti), wakes the reader goroutine: its replies do
// not wait for the reader to take the socket back after soloIdle.
func TestSoloParkedReaderWokenByDirectWrite(t *testing.T) {
	_, c := serve(t, nil, Options{})
	const rounds = 20
	start := time.Now()
	for i := range rounds {
		if _, err := c.Do(ctxWithTimeout(t, 2*time.Second), "PING"); err != nil {
			t.Fatal(err)
		}
		awaitParked(t, c)
		want := fmt.Sprint(i)
		vs, err := c.DoMulti(ctxWithTimeout(t, 2*time.Second), []any{"ECHO", want}, []any{"PING"})
		if err != nil || len(vs) != 2 || string(vs[0].Str) != want {
			t.Fatalf("DoMulti: %v, %v", vs, err)
		}
	}
	if avg := time.Since(start) / rounds; avg >= soloIdle {
		t.Fatalf("a lone call and a DoMulti took %v on average: the DoMulti waited for the parked reader", avg)
	}
}

// A lone caller's first read writes its request and waits for the reply in one raw
// read. When that read does not even try the descriptor (its deadline passed, or it
// was closed, in between), the request is the writer goroutine's to write and the
// caller waits as a queued caller does: every reply still goes to its own call.
func TestSoloUntriedGoesToWriter(t *testing.T) {
	_, c := serve(t, nil, Options{})
	if _, err := c.Do(ctxWithTimeout(t, 2*time.Second), "PING"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		awaitParked(t, c)
		c.wmu.Lock()
		c.direct.untried = i%2 == 0
		c.wmu.Unlock()
		want := fmt.Sprintf("payload-%d", i)
		if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", want); err != nil || string(v.Str) != want {
			t.Fatalf("ECHO %s: %q, %v", want, v.Str, err)
		}
	}
	if c.Err() != nil {
		t.Fatalf("connection died: %v", c.Err())
	}
}

// Against a hung server, a lone caller whose request the raw read left untried still
// returns by its deadline, as one the writer wrote.
func TestSoloUntriedKeepsDeadline(t *testing.T) {
	_, c := serve(t, slowHandler, Options{ReplyTimeout: 5 * time.Second})
	if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", "a"); err != nil || string(v.Str) != "a" {
		t.Fatalf("ECHO: %q, %v", v.Str, err)
	}
	awaitParked(t, c)
	c.wmu.Lock()
	c.direct.untried = true
	c.wmu.Unlock()
	start := time.Now()
	_, err := c.Do(ctxWithTimeout(t, 100*time.Millisecond), "HANG")
	if el := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || el > 600*time.Millisecond {
		t.Fatalf("HANG: %v after %v; want the 100ms deadline", err, el)
	}
}

// A lone call whose reply comes after the first read's wait (the server answers after
// a while) is still answered, and by the caller itself when it arrives in time.
func TestSoloFusedReadWaitsForReply(t *testing.T) {
	_, c := serve(t, slowHandler, Options{})
	if _, err := c.Do(ctxWithTimeout(t, 2*time.Second), "PING"); err != nil {
		t.Fatal(err)
	}
	awaitParked(t, c)
	before := c.cr.solos
	v, err := c.Do(context.Background(), "SLOW", "2", "late")
	if err != nil || string(v.Str) != "late" {
		t.Fatalf("SLOW: %q, %v", v.Str, err)
	}
	if c.cr.solos != before+1 {
		t.Fatalf("the reply was not read by its caller (solos %d → %d)", before, c.cr.solos)
	}
}

// A call with a per-call deadline context costs what the same call with none does: the
// call path does not ask a context.WithTimeout for its Done channel (made when first
// asked: an allocation per call), nor arm a timer of its own.
func TestDeadlineContextAllocs(t *testing.T) {
	if testkit.Race {
		t.Skip("the race detector drops sync.Pool puts at random: counted in make test's run without it (-run Allocs)")
	}
	_, c := serve(t, nil, Options{})
	if _, err := c.Do(ctxWithTimeout(t, 2*time.Second), "PING"); err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	base := testing.AllocsPerRun(200, func() {
		ctx, cancel := context.WithTimeout(bg, time.Second)
		cancel()
		_ = ctx
	})
	withCall := testing.AllocsPerRun(200, func() {
		ctx, cancel := context.WithTimeout(bg, time.Second)
		if _, err := c.Do(ctx, "PING"); err != nil {
			t.Fatal(err)
		}
		cancel()
	})
	plain := testing.AllocsPerRun(200, func() {
		if _, err := c.Do(bg, "PING"); err != nil {
			t.Fatal(err)
		}
	})
	if extra := withCall - base - plain; extra > 0.05 {
		t.Fatalf("a call with a deadline context allocates %.2f more than one without (%.2f with, %.2f the context alone, %.2f without)",
			extra, withCall, base, plain)
	}
}

// A lone caller whose context is canceled while it reads its own reply (before
// soloSlice has passed) leaves within soloSlice of the write: the slice bounds how long
// a late reply hides a cancellation (its deadline it carries exactly).
func TestSoloCancelWithinSlice(t *testing.T) {
	_, c := serve(t, slowHandler, Options{ReplyTimeout: 5 * time.Second})
	if v, err := c.Do(ctxWithTimeout(t, 2*time.Second), "ECHO", "a"); err != nil || string(v.Str) != "a" {
		t.Fatalf("ECHO: %q, %v", v.Str, err)
	}
	awaitParked(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Do(ctx, "HANG")
	el := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("HANG: %v; want context.Canceled", err)
	}
	if limit := soloSlice + 2*time.Millisecond + testkit.Slack(); el > limit {
		t.Fatalf("HANG returned %v after the write; canceled at 1ms, the slice is %v", el, soloSlice)
	}
}
