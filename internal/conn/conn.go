// Package conn is one connection to one Redis node: dialed in named phases (TCP, TLS,
// HELLO/AUTH), then shared by any number of goroutines. One writer goroutine coalesces
// whatever is queued into a single write; one reader goroutine decodes replies and
// completes requests in order. No goroutine per call; request objects are pooled. A
// caller alone on the connection writes its request and reads its reply itself
// (direct.go, solo.go), as a client without a pipeline does, until others join it.
//
// A caller waits for its reply or its context, whichever comes first, and leaves at
// once when the context ends; the late reply is discarded without disturbing others.
// A connection that owes a reply and makes no progress for Options.ReplyTimeout, or whose
// idle check PING gets no answer, is declared dead: every pending caller gets the
// cause at once. Nothing waits forever, even a caller without a deadline.
package conn

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// Conn is a multiplexed, pipelined connection to one node. It is safe for concurrent
// use. Once dead (see Done), it stays dead: the owner dials a new one.
type Conn struct {
	opts  *Options
	nc    net.Conn
	proto int
	info  resp.Value // the HELLO reply (RESP3), or zero
	zone  string     // the server's availability zone, "" if unknown (zone.go)

	queue     chan *request
	inflight  inflight
	closed    chan struct{}
	once      sync.Once
	cause     error       // why the connection died; set before closed is closed
	announced atomic.Bool // OnClose has been called (announce)
	wg        sync.WaitGroup

	idleCheck time.Duration // IdleCheck with this connection's jitter
	lastRead  atomic.Int64  // unix nanos of the last successful read
	latency   atomic.Int64  // moving average of round-trip time, nanos
	rtt       atomic.Int64  // round-trip floor, nanos (see rtt.go)
	clientID  atomic.Int64  // the server's id of a RESP2 connection, once asked; 0 = not yet
	completed atomic.Uint64

	// Sync markers (sync.go): the token prefix unique to this connection, the last
	// sequence number used, and whether the writer must add a marker to its next batch.
	markerToken  string
	markerSeq    atomic.Uint64
	markerWanted atomic.Bool

	// The writer's progress, for the errors of callers that leave waiting on it:
	// batches are numbered from 1 (request.seq); written is the last one written in
	// full, writing the size of the one being written (0: none) since writeStart.
	written    atomic.Uint64
	writing    atomic.Int64
	writeStart atomic.Int64
	// writeEnds holds when the last writeEndSlots batches finished being written
	// (unix nanos, batch seq at seq%writeEndSlots): a reply is owed from then.
	writeEnds  [writeEndSlots]atomic.Int64
	writeSizes [writeEndSlots]atomic.Int64 // and their sizes

	// Writing (direct.go): wmu is held by whoever writes to the socket, the writer
	// goroutine or a caller alone on the connection (direct), and guards the batch
	// numbering (wseq, the last batch number used) and the rest of a direct write the
	// socket did not take (rest, restTotal bytes in all, started at restStart), which
	// the writer, woken by resume, writes before anything else.
	wmu       sync.Mutex
	wseq      uint64
	rest      []byte
	restTotal int
	restStart time.Time
	resume    chan struct{}
	direct    *directWriter // nil: every caller queues for the writer
	directs   uint64        // requests written directly (for tests)

	// Reading (solo.go): who reads the socket, the wake-up of a parked reader
	// goroutine, and the decoder and its source, used by whoever reads.
	readState atomic.Int32
	rwake     chan struct{}
	rd        *resp.Reader
	cr        *connReader

	// failing is the cause of a death a caller found (solo.go teardown), for the
	// writer goroutine to carry out: callers never run die (and OnClose) themselves.
	failing atomic.Pointer[error]
}

// writeEndSlots is how many batches' write ends the reader can look up.
const writeEndSlots = 32

// maxBatch is the number of bytes after which the writer flushes even if more requests
// are queued; wbufKeep is the largest write buffer kept between flushes, and
// wbufIdleKeep the largest kept after wbufSmallRun batches in a row that used less
// than a quarter of it.
const (
	maxBatch     = 256 << 10
	wbufKeep     = 1 << 20
	wbufIdleKeep = 16 << 10
	wbufSmallRun = 64
)

// newConn starts the reader and writer on an established, handshaken connection.
func newConn(nc net.Conn, o *Options, g greeting, rtt time.Duration) *Conn {
	c := &Conn{
		opts:   o,
		nc:     nc,
		proto:  g.proto,
		info:   g.hello,
		zone:   g.zone,
		queue:  make(chan *request, o.QueueSize),
		closed: make(chan struct{}),
		resume: make(chan struct{}, 1),
		rwake:  make(chan struct{}, 1),
		direct: newDirectWriter(nc),
		// Up to +25% jitter spreads the idle checks of many connections.
		idleCheck:   o.IdleCheck + rand.N(o.IdleCheck/4+1),
		markerToken: markerPrefix + strconv.FormatUint(rand.Uint64(), 36) + "-",
	}
	if c.direct != nil {
		c.direct.wrote = c.wroteDirect
	}
	c.lastRead.Store(time.Now().UnixNano())
	c.rtt.Store(int64(rtt))
	c.cr = &connReader{c: c, floor: rttFloor{cur: rtt, last: rtt, since: time.Now()}} // floor seeded by the handshake
	c.rd = resp.NewReaderSize(c.cr, readBufSmall, o.Limits)
	c.cr.rd = c.rd
	c.wg.Add(2)
	go c.writeLoop()
	go c.readLoop()
	return c
}

// Addr returns the node's address.
func (c *Conn) Addr() string { return c.opts.Addr }

// Protocol returns the negotiated RESP version, 2 or 3.
func (c *Conn) Protocol() int { return c.proto }

// Hello returns the server's HELLO reply (a map; zero with RESP2).
func (c *Conn) Hello() resp.Value { return c.info }

// Done returns a channel closed when the connection dies or is closed.
func (c *Conn) Done() <-chan struct{} { return c.closed }

// Err returns why the connection died (a *rerr.NodeError), or nil while it is alive.
func (c *Conn) Err() error {
	select {
	case <-c.closed:
		return c.cause
	default:
		return nil
	}
}

// InFlight returns the number of requests written and waiting for replies plus those
// waiting to be written.
func (c *Conn) InFlight() int { return c.inflight.len() + len(c.queue) }

// Latency returns a moving average of the round-trip time of recent replies.
func (c *Conn) Latency() time.Duration { return time.Duration(c.latency.Load()) }

// Completed returns the number of replies received.
func (c *Conn) Completed() uint64 { return c.completed.Load() }

// Close closes the connection. Pending callers get rerr.ErrClosed. It waits until the
// connection's goroutines have ended.
func (c *Conn) Close() error {
	c.die(rerr.ErrClosed)
	c.wg.Wait()
	return nil
}

// die records the cause and tears the connection down (kill), wakes the callers of
// pending — requests in no queue, known only to the goroutine calling: the writer's
// batch in hand, the reader's held ones — and those still queued (the writer does too
// as it ends, but it may be stuck in a write until the socket's close reaches it), and
// then tells OnClose (announce): every caller it can reach is woken first.
func (c *Conn) die(cause error, pending ...*request) {
	c.kill(cause)
	for _, r := range pending {
		r.wakeUp()
	}
	c.wakeQueued()
	c.announce()
}

// kill records the cause and tears the connection down, once: callers waiting for
// replies are woken. Those still queued are woken by wakeQueued (the writer calls it
// as it ends; so does whoever calls die), those the writer holds as it pushes them.
func (c *Conn) kill(cause error) {
	c.once.Do(func() {
		c.cause = cause
		close(c.closed)
		c.nc.Close()
		c.inflight.wakeAll()
	})
}

// announce logs the connection's end and runs OnClose, once, on the goroutine that
// gets here first; the others go on at once. Call it after kill.
func (c *Conn) announce() {
	if !c.announced.CompareAndSwap(false, true) {
		return
	}
	cause := c.cause
	if c.opts.Logger != nil && cause != rerr.ErrClosed {
		c.opts.Logger.Debug("redline: connection closed", "addr", c.opts.Addr, "err", cause)
	}
	if c.opts.OnClose != nil {
		if cause == rerr.ErrClosed {
			c.opts.OnClose(c, nil)
		} else {
			c.opts.OnClose(c, cause)
		}
	}
}

// nodeErr builds the connection's error for phase.
func (c *Conn) nodeErr(phase rerr.Phase, err error, written bool) *rerr.NodeError {
	return &rerr.NodeError{Addr: c.opts.Addr, Phase: phase, Err: err, Written: written}
}

// Do sends one command and returns its reply. A server error reply is a Value of
// TypeError (its Err set) with a nil error; the error is for everything else: the
// context ending (a *rerr.DeadlineError), the connection dying (a *rerr.NodeError),
// or arguments that cannot be encoded.
func (c *Conn) Do(ctx context.Context, args ...any) (resp.Value, error) {
	w := NewWaiter(ctx, time.Time{})
	return c.Exec(&w, 0, args)
}

// Exec is Do for a caller that brings its own Waiter (a context plus the client's
// command deadline). block extends the health limit for a command the server may hold
// that long (BLPOP and friends).
func (c *Conn) Exec(w *Waiter, block time.Duration, args []any) (resp.Value, error) {
	r := getRequest()
	if err := c.appendCommand(r, w, args); err != nil {
		putRequest(r)
		return resp.Value{}, err
	}
	r.n, r.extra = 1, block
	if err := c.roundTrip(w, r); err != nil {
		return resp.Value{}, err
	}
	v := r.reply
	putRequest(r)
	return v, nil
}

// Send writes commands whose answers do not come as replies — SUBSCRIBE and friends,
// answered by push frames on RESP3 — and returns once they are written.
func (c *Conn) Send(w *Waiter, cmds [][]any) error {
	r := getRequest()
	for _, args := range cmds {
		if err := c.appendCommand(r, w, args); err != nil {
			putRequest(r)
			return err
		}
	}
	r.n = 0
	if err := c.roundTrip(w, r); err != nil {
		return err
	}
	putRequest(r)
	return nil
}

// DoMulti sends several commands written together, never interleaved with other
// callers' commands (so ASKING + command, or MULTI … EXEC, stay adjacent), and returns
// their replies in order.
func (c *Conn) DoMulti(ctx context.Context, cmds ...[]any) ([]resp.Value, error) {
	w := NewWaiter(ctx, time.Time{})
	return c.ExecMulti(&w, cmds)
}

// ExecMulti is DoMulti with a caller's Waiter.
func (c *Conn) ExecMulti(w *Waiter, cmds [][]any) ([]resp.Value, error) {
	return c.execMulti(w, 0, cmds)
}

// execMulti sends cmds as one request whose health limit is extended by block.
func (c *Conn) execMulti(w *Waiter, block time.Duration, cmds [][]any) ([]resp.Value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	r := getRequest()
	for _, args := range cmds {
		if err := c.appendCommand(r, w, args); err != nil {
			putRequest(r)
			return nil, err
		}
	}
	r.n, r.extra = len(cmds), block
	if err := c.roundTrip(w, r); err != nil {
		return nil, err
	}
	var out []resp.Value
	if r.n == 1 { // one reply is delivered to r.reply, not r.replies
		out = []resp.Value{r.reply}
	} else {
		out = make([]resp.Value, len(r.replies))
		copy(out, r.replies)
	}
	putRequest(r)
	return out, nil
}

// roundTrip queues r and waits for it. On a nil return, r is done and owned by the
// caller again; on an error, r is no longer the caller's. A call whose waiter has
// already ended sends nothing; one that ends while waiting leaves at once with an
// error saying what it was waiting for.
func (c *Conn) roundTrip(w *Waiter, r *request) error {
	ctx := w.ctx
	select {
	case <-c.closed:
		putRequest(r)
		return c.failedErr(false)
	default:
	}
	var left time.Duration // until the waiter's own deadline: one clock read per call
	if !w.dl.IsZero() {
		left = time.Until(w.dl) // the monotonic clock alone, when w.dl has its reading
	}
	if ctxDone(ctx) || !w.dl.IsZero() && left <= 0 {
		putRequest(r)
		return w.DeadlineErr(c.nodeErr(rerr.PhaseWrite, errNotSent, false))
	}
	if taken, wait, err := c.trySolo(w, r); taken {
		if err != nil { // not written: r was in no queue, nobody woke it
			putRequest(r)
			return err
		}
		if !wait {
			r.unwake() // it was in flight: the connection's end may have woken it
			return nil
		}
	} else if !c.tryDirect(r) {
		if err := c.enqueue(w, r); err != nil {
			return err
		}
	}
	// Wait for the reply: on r.done alone, which the completion signals and which
	// the deadline's timer and the connection's end wake (request.wakeUp). A context
	// that can end, or a timer an earlier wait armed on the waiter, makes it a select.
	var wexp <-chan time.Time
	if w.timer != nil || left > maxRequestTimer {
		wexp, _ = w.expiry() // the waiter's own timer, which Release stops
	} else if !w.dl.IsZero() {
		r.waitBy(timerDeadline(w.dl))
	}
	got := 0 // tokens taken from r.done
	if done := ctx.Done(); done == nil && wexp == nil {
		<-r.done
		got = 1
	} else {
		select {
		case <-r.done:
			got = 1
		case <-done:
		case <-wexp:
		}
	}
	return c.settle(w, r, got)
}

// maxRequestTimer is the longest wait a pooled request's own timer is armed for. An
// armed timer keeps its request alive (the runtime's timer heap holds it) until it
// fires, also once the pool has let the request go: that lasts at most this long. A
// longer wait (a CommandTimeout of minutes) uses its waiter's timer, which the call's
// end stops.
const maxRequestTimer = 10 * time.Second

// enqueue puts r in the writer's queue: at once when there is room (a send on the
// queue alone, no other channel locked), else it waits for room, the connection's end
// or the caller's; on an error r is recycled.
func (c *Conn) enqueue(w *Waiter, r *request) error {
	select {
	case c.queue <- r:
	default:
		exp, _ := w.expiry()
		select {
		case c.queue <- r:
		case <-c.closed:
			putRequest(r)
			return c.failedErr(false)
		case <-w.ctx.Done():
			putRequest(r)
			return w.DeadlineErr(c.nodeErr(rerr.PhaseWrite, c.waitingErr(errQueueFull), false))
		case <-exp:
			putRequest(r)
			return w.DeadlineErr(c.nodeErr(rerr.PhaseWrite, c.waitingErr(errQueueFull), false))
		}
	}
	// The connection may have ended while r went in: then nobody will take it from
	// the queue (the writer drains it when it ends, before or after this send).
	select {
	case <-c.closed:
		r.wakeUp()
	default:
	}
	return nil
}

// settle ends a caller's wait on r (roundTrip), got tokens taken from r.done so far:
// it claims the wake-up so that none comes later, takes every token still owed (the
// completion's, if r is done, and a wake-up's claimed by another), so that r goes
// back to the pool empty, and returns the reply's outcome or why the wait ended.
func (c *Conn) settle(w *Waiter, r *request, got int) error {
	owed := 0
	if !r.claim() {
		owed++ // a wake-up was claimed by the timer or the connection's end
	}
	if r.state.Load() == stateDone {
		for owed++; got < owed; got++ {
			<-r.done
		}
		if r.err != nil {
			err := r.err
			putRequest(r)
			return err
		}
		return nil
	}
	for ; got < owed; got++ {
		<-r.done
	}
	// Not done: the wait ended for the connection's end, the context or the
	// deadline. abandon takes the completion's token if the reply wins the race.
	if c.Err() != nil {
		return c.abandon(nil, r)
	}
	return c.abandon(w, r)
}

// ctxDone reports whether ctx has ended.
func ctxDone(ctx context.Context) bool {
	return ctx.Err() != nil // not Done: a deadline context makes its channel on first ask
}

// cancelable reports whether ctx can end, without asking for its Done channel where
// its deadline says so (a context.WithTimeout makes the channel when first asked: an
// allocation per call).
func cancelable(ctx context.Context) bool {
	if _, ok := ctx.Deadline(); ok {
		return true
	}
	return ctx.Done() != nil
}

var (
	errNotSent    = errors.New("not sent: the call had already ended")
	errQueueFull  = errors.New("request queue full")
	errNotWritten = errors.New("request not written yet")
	errWriting    = errors.New("request being written")
	// errHeld: see sync.go. The command was executed (a reply came at its place), but
	// which reply it got is not known yet.
	errHeld = errors.New("a reply was read in time but held: an earlier request on the connection was given up by its caller, " +
		"so replies are released only once a sync marker, written behind every request already sent, confirms they are in step with their requests")
)

// abandon gives r up: the caller's waiter w ended (nil: the connection died). If r's
// reply came in the meantime, the reply wins (nil error, r done); otherwise the error
// says where r was, and r is left to the goroutine that will see it next.
func (c *Conn) abandon(w *Waiter, r *request) error {
	if r.state.CompareAndSwap(stateQueued, stateAbandoned) {
		if w == nil {
			return c.failedErr(false)
		}
		return w.DeadlineErr(c.nodeErr(rerr.PhaseWrite, c.waitingErr(errNotWritten), false))
	}
	if r.state.Load() == stateSent {
		seq, n, alone := r.seq, r.n, r.alone // set before r was marked sent; r is not recycled while sent
		if r.state.CompareAndSwap(stateSent, stateAbandoned) {
			if n > 0 {
				c.wantMarker() // its reply may never come, or come twice: verify (sync.go)
			}
			if w == nil {
				// The connection ended. A request written directly (alone: its own
				// write) that had not left whole cannot have run: a server runs no
				// part of a command. (A batch's request may have left whole before
				// its batch failed: it may have run.)
				return c.failedErr(!alone || seq <= c.written.Load())
			}
			if seq > c.written.Load() {
				return w.DeadlineErr(c.nodeErr(rerr.PhaseWrite, c.waitingErr(errWriting), true))
			}
			return w.DeadlineErr(c.nodeErr(rerr.PhaseRead, rerr.ErrNoReply, true))
		}
	}
	if r.state.CompareAndSwap(stateHeld, stateAbandoned) {
		// Its reply was read, but it sits behind a request another caller gave up:
		// it is held until a sync marker shows the replies in step (sync.go). No new
		// marker: its reply came at its place, it does not shift anything.
		if w == nil {
			return c.failedErr(true)
		}
		return w.DeadlineErr(c.nodeErr(rerr.PhaseRead, errHeld, true))
	}
	<-r.done // stateDone: the signal is there or about to be
	if r.err != nil {
		err := r.err
		putRequest(r)
		return err
	}
	return nil
}

// waitingErr adds to cause what the connection's writer is doing: the requests queued
// for it and the write in progress, if any.
func (c *Conn) waitingErr(cause error) error {
	var b []byte
	if q := len(c.queue); q > 0 {
		b = fmt.Appendf(b, "%d queued", q)
	}
	if n := c.writing.Load(); n > 0 {
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		since := time.Since(time.Unix(0, c.writeStart.Load())).Round(time.Millisecond)
		b = fmt.Appendf(b, "a %s write in progress for %v", byteSize(n), since)
	}
	if len(b) == 0 {
		return cause
	}
	return fmt.Errorf("%w (%s)", cause, b)
}

// byteSize formats n bytes for a message: 512 B, 12.0 KiB, 50.0 MiB.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// failedErr is the error for a caller whose request was on the connection when it
// died: the death's cause, marked with whether the request may have executed.
func (c *Conn) failedErr(written bool) error {
	var ne *rerr.NodeError
	if errors.As(c.cause, &ne) {
		cp := *ne
		cp.Written = written
		return &cp
	}
	phase := rerr.PhaseWrite
	if written {
		phase = rerr.PhaseRead
	}
	return c.nodeErr(phase, c.cause, written)
}
