package conn

import (
	"bufio"
	"errors"
	"fmt"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// The solo path: a caller alone on the connection writes its request itself
// (direct.go) and reads its reply itself, as a client without a pipeline does, so a
// call costs one goroutine park and one network-poller wake-up, where handing the
// reply over from the reader goroutine costs a second wake-up (a thread woken, a
// context switch) per call.
//
// Only one goroutine may read the socket. The reader goroutine lets go of it when it
// has just completed a request that was written directly and nothing else is in
// flight: it parks (readState readParked) instead of reading. A caller that then
// finds the connection idle takes the socket (readCaller), writes, and reads until a
// whole reply is buffered (resp.Reader.Ready), which it decodes without blocking; it
// gives the socket back parked, or to the reader goroutine (readGoroutine, woken by
// rwake) if other requests entered the in-flight queue meanwhile. Whoever pushes a
// request onto the in-flight queue wakes a parked reader goroutine (wakeReader).
//
// The caller reads with a socket deadline: its own (the Waiter's), the health limit
// (ReplyTimeout after the write, plus a blocking command's time), and, when its
// context can be canceled, soloSlice from the write: a reply later than that is
// waited for as a queued caller waits, which sees a cancellation at once, so a lone
// caller is blind to a cancellation (not to its deadline, which the socket deadline
// carries exactly) for soloSlice at most, and only while its reply is late. The slice
// is not shorter because a socket deadline costs the runtime a thread wake-up when it
// is armed (its timer may be the next to fire) and another when it fires, which it
// does (connReader re-arms only once the armed one has passed): at 500µs, in a profile
// of 1-goroutine GETs with a per-call context deadline, those wake-ups were the
// largest cost after the system calls themselves, and still visible at 2ms.
//
// The first read of a call writes the request and waits for the reply in one raw read
// of the descriptor (directWriter.writeRead): no read that finds nothing. (A net.Conn
// wrapper's Read is bypassed there: its Write and Read are not called for that call.)
// A value is decoded only once whole, so a timeout never cuts one: the caller
// hands the socket, and whatever is buffered, to the reader goroutine, and waits for
// its reply, its deadline or its context as every queued caller does (the reader
// goroutine judges the health limit and discards a reply whose caller left). A
// reply larger than the read buffer, or one that cannot be delimited before decoding
// (streamed RESP3), is handed over the same way.
//
// Nobody reads a parked socket, so before writing a solo caller looks at it
// (parkedCheck): a close, a reset or bytes nobody asked for, come meanwhile, kill the
// connection and fail the call not written. (Skipping the look for a caller within a
// millisecond of the connection's last read — a few per cent of a lone call — was
// tried and withdrawn: bytes already in the socket before the write were then often
// read alone, before the call's reply, and taken for it, and a peer's FIN with no reset
// behind it left the call waiting for its whole deadline.) A read that finds more than
// the one reply behind the look (come after it, with the reply) fails the call,
// written, and ends the connection: which one is the call's cannot be told (RESP3
// pushes behind the reply are dropped: a push is never a reply). A caller that finds
// the connection dead never tears it down itself (die runs OnClose and through it the
// node's and the user's hooks): it hands the teardown to the writer goroutine
// (teardown) and leaves on the closed signal, as a queued caller does.
//
// The reader goroutine takes the socket back once nothing has been read for
// soloIdle, so an idle connection's death, and its idle check, are noticed as before,
// soloIdle late at most. Connections with push or unsolicited-reply handlers
// (subscribers, tracking) never park.

// readState values: who reads the socket.
const (
	readGoroutine int32 = iota // the reader goroutine reads (or is about to)
	readParked                 // nobody: the reader goroutine waits on rwake
	readCaller                 // a solo caller reads; the reader goroutine waits on rwake
)

// soloSlice bounds a solo read for a caller whose context can be canceled (see above).
const soloSlice = 10 * time.Millisecond

// soloIdle is how long the reader goroutine leaves the socket to solo callers after
// the last read before it takes it back.
const soloIdle = 10 * time.Millisecond

// soloOK reports whether the connection's reader may park for solo callers.
func (c *Conn) soloOK() bool {
	return c.direct != nil && c.opts.OnPush == nil && c.opts.OnUnsolicited == nil
}

// wakeReader gives a parked socket back to the reader goroutine: a request entered
// the in-flight queue (called after every push, under wmu or by a solo caller).
func (c *Conn) wakeReader() {
	if c.readState.Load() == readParked && c.readState.CompareAndSwap(readParked, readGoroutine) {
		c.rwake <- struct{}{}
	}
}

// park is the reader goroutine's wait while solo callers may read; it returns when
// it must read again (false: the connection is closed).
//
// The reader goroutine stored readParked itself. Whoever moves the state to
// readGoroutine afterwards sends one token on rwake, which park receives, unless the
// reader goroutine made the move itself: so exactly one token is ever outstanding,
// and none is left behind for a later park.
func (c *Conn) park(t *time.Timer) bool {
	if c.inflight.len() != 0 && c.readState.CompareAndSwap(readParked, readGoroutine) {
		return true // a request was pushed before we parked: nobody will wake us
	}
	t.Reset(soloIdle)
	for {
		select {
		case <-c.rwake:
			t.Stop()
			return true
		case <-t.C:
			last := time.Unix(0, c.lastRead.Load())
			if time.Since(last) >= soloIdle && c.readState.CompareAndSwap(readParked, readGoroutine) {
				return true
			}
			t.Reset(soloIdle)
		case <-c.closed:
			t.Stop()
			return false
		}
	}
}

// trySolo writes r and reads its reply itself if the reader goroutine is parked and
// the connection idle. It reports whether r was taken: then r is done (nil error:
// the reply is in r.reply), or in flight for the caller to wait on as usual
// (waitAfter), its reading handed to the reader goroutine, or not written at all
// (err: the connection was found dead or out of step before the write; r is still
// the caller's).
func (c *Conn) trySolo(w *Waiter, r *request) (taken, waitAfter bool, err error) {
	if r.n != 1 || c.readState.Load() != readParked || !c.lockIdle(r) {
		return false, false, nil
	}
	if !c.readState.CompareAndSwap(readParked, readCaller) {
		c.wmu.Unlock()
		return false, false, nil
	}
	// The read deadline, from now (a moment before the write), armed before the look
	// at the socket: a deadline left by the previous call would fail the look.
	now := time.Now()
	want := now.Add(c.opts.ReplyTimeout + r.extra)
	if dl, ok := w.Deadline(); ok && dl.Before(want) {
		want = dl
	}
	if cancelable(w.ctx) {
		want = minTime(want, now.Add(soloSlice))
	}
	cr, rd := c.cr, c.rd
	cr.soloDL = want
	cr.armSolo(now)
	if cause := c.parkedCheck(); cause != nil {
		c.teardownLocked(cause)
		return true, false, c.notWritten(w, cause)
	}
	if cr.deadline.After(time.Now()) {
		// The first read writes r and waits for its reply (connReader.Read).
		cr.send, cr.sendAt = r, c.beginDirect(r)
	} else if !c.sendDirect(r) { // the look cleared an expired deadline: write, then read
		if c.failing.Load() == nil { // the writer writes the rest: the reader reads
			c.handBack()
		}
		return true, true, nil
	}
	cr.solo = true
	for {
		switch rd.Ready() {
		case resp.Ready:
			v, err := rd.ReadValue() // whole in the buffer: no read
			if err != nil {
				cr.solo = false
				c.teardown(c.readErr(err))
				return true, true, nil
			}
			if v.Type == resp.TypePush {
				continue // nobody takes pushes on a solo connection
			}
			cr.solo = false
			if rd.Buffered() != 0 && c.inflight.len() == 1 && !c.pushesOnly() {
				// More came than the one reply asked for, after the look (see
				// parkedCheck): which of them is r's cannot be told. r was written:
				// it may have executed.
				c.teardown(c.nodeErr(rerr.PhaseRead, fmt.Errorf("%w: %w", resp.ErrProtocol, errStray), true))
				return true, true, nil
			}
			c.soloDone(r, v)
			return true, false, nil
		case resp.NotReady:
			err := rd.Fill()
			if err == nil {
				continue
			}
			if err == errUnsent { // the socket did not take r whole (under wmu still)
				cr.solo = false
				n := max(cr.took, 0)
				c.endDirect(r, cr.sendAt, n, cr.sendErr)
				cr.sendErr = nil
				if c.failing.Load() == nil { // the writer writes the rest: the reader reads
					c.handBack()
				}
				return true, true, nil
			}
			if rerr.IsTimeout(err) && time.Now().Before(want) {
				continue // woke early: the deadline armed was an older one
			}
			if !rerr.IsTimeout(err) && !errors.Is(err, bufio.ErrBufferFull) {
				cr.solo = false
				c.teardown(c.readErr(err))
				return true, true, nil
			}
		}
		// Out of time, or a reply to decode where blocking is allowed.
		cr.solo = false
		c.handBack()
		return true, true, nil
	}
}

// Usable reports whether the connection may be handed to a caller: alive, and, when
// its reader goroutine has left the socket to lone callers, nothing waiting there (a
// close, reset or stray bytes found by one non-blocking look end it: parkedCheck).
// A pool checks it before it hands out an idle connection: a server that closed the
// connection while nobody read it would otherwise fail the caller's first command.
func (c *Conn) Usable() bool {
	if c.Err() != nil {
		return false
	}
	if c.readState.Load() != readParked || !c.wmu.TryLock() {
		return true // being read, or in use: the reader or the user sees what comes
	}
	if !c.readState.CompareAndSwap(readParked, readCaller) {
		c.wmu.Unlock()
		return true
	}
	cause := c.parkedCheck()
	if cause == nil {
		c.readState.Store(readParked)
		c.wmu.Unlock()
		if c.inflight.len() != 0 { // pushed meanwhile: its wakeReader saw readCaller
			c.wakeReader()
		}
		return true
	}
	c.teardownLocked(cause)
	return false
}

// errUnsent is connReader.Read's error when a solo caller's request was not written
// whole: the caller finishes the write's bookkeeping (trySolo).
var errUnsent = errors.New("request not written whole")

// errStray is the cause when bytes wait on a parked socket: nothing was asked.
var errStray = errors.New("bytes arrived with no request waiting for them")

// parkedCheck looks at the parked socket before a solo caller writes (under wmu, its
// reads the caller's): nil if nothing is there, else the cause that kills the
// connection. While the reader goroutine is parked nobody reads, so whatever the
// server did since the last reply waits here: a close or reset (the end of the
// stream: the connection is dead, and the call, not written, may be retried
// elsewhere), or bytes nobody asked for (a stray reply: the stream is out of step,
// and the next reply read would be taken for the call's).
//
// What arrives after the look and before the call's reply cannot be told from that
// reply (unless read with it: trySolo fails the call then); the same holds on the
// pipeline, where the reader goroutine takes any reply arriving while a request is in
// flight for that request's. So the look gives a lone caller what the reader goroutine
// gave it: bytes that arrive while nothing is in flight are caught, and the look comes
// last before the write, where the pipeline's reader stops catching them (a request
// enters the in-flight queue before its bytes leave). After the look, the stream's order is the server's: a server that sends a
// reply for nothing while it holds a request is indistinguishable by any client.
func (c *Conn) parkedCheck() *rerr.NodeError {
	var cause error
	if c.rd.Buffered() != 0 {
		cause = errStray
	} else if cause = c.direct.peek(); cause == nil {
		return nil
	} else if rerr.IsTimeout(cause) {
		// The read deadline armed has passed already (the call's own, at its very
		// end): the socket was not looked at. Clear it and look.
		c.nc.SetReadDeadline(time.Time{})
		c.cr.deadline = time.Time{}
		if cause = c.direct.peek(); cause == nil {
			return nil
		}
	}
	if cause == errStray {
		return c.nodeErr(rerr.PhaseRead, fmt.Errorf("%w: %w", resp.ErrProtocol, errStray), false)
	}
	return c.nodeErr(rerr.PhaseRead, cause, false)
}

// notWritten returns the error of a call not written because the caller found the
// connection dead (cause, handed to teardown already): not written, so retriable. It
// waits (bounded by the call's deadline: microseconds) for the connection to be
// closed, so that the caller's next call sees it closed.
func (c *Conn) notWritten(w *Waiter, cause *rerr.NodeError) error {
	exp, _ := w.expiry()
	select {
	case <-c.closed:
		return c.failedErr(false)
	case <-w.ctx.Done():
	case <-exp:
	}
	return w.DeadlineErr(cause)
}

// markFailing records cause as the death a caller found, unless one was recorded
// first. Under wmu it keeps the writer from writing on the socket: the writer looks
// at it under wmu before every write.
func (c *Conn) markFailing(cause error) {
	c.failing.CompareAndSwap(nil, &cause)
}

// teardownLocked is teardown for a caller that holds wmu and found the socket dead:
// the death is recorded before wmu is let go, so the writer writes nothing more on
// the socket (a queued request it wrote there would be reported written).
func (c *Conn) teardownLocked(cause error) {
	c.markFailing(cause)
	c.wmu.Unlock()
	c.teardown(cause)
}

// teardown ends the connection with cause for a caller that found it dead: it kills
// it (the socket closed, the closed signal given, the callers in flight woken) and has
// the writer goroutine do the rest (wake the callers queued, run OnClose). A caller
// never runs OnClose itself: it runs the node's hooks and through them the user's,
// which must not delay the call.
func (c *Conn) teardown(cause error) {
	c.markFailing(cause)
	// kill runs no hook: it closes the socket (a writer stuck in a write to a server
	// that stopped reading is freed at once) and wakes the callers in flight; the
	// writer wakes those queued and runs OnClose (announce).
	c.kill(cause)
	select {
	case c.resume <- struct{}{}:
	default: // a token is there: the writer looks at failing when it takes it
	}
}

// soloDone completes r, the front of the in-flight queue, with its reply v read by
// its caller, and gives the socket back.
func (c *Conn) soloDone(r *request, v resp.Value) {
	if v.Err != nil || v.Type == resp.TypeArray {
		c.markFrom(&v)
	}
	c.inflight.pop()
	c.completed.Add(1)
	cr := c.cr
	if sample := cr.lastRead.Sub(r.sentAt); sample > 0 {
		old := c.latency.Load()
		c.latency.Store(old + (int64(sample)-old)/8)
		c.sampleRTT(&cr.floor, cr.lastRead, sample)
	}
	r.got = 1
	r.reply = v
	r.state.Store(stateDone)
	cr.solos++
	if c.rd.Buffered() != 0 || c.inflight.len() != 0 {
		// Something else came (the reader goroutine decodes it, or kills the
		// connection if nothing asked for it), or another caller wrote meanwhile:
		// the socket goes straight back to the reader goroutine.
		c.handBack()
		return
	}
	c.readState.Store(readParked)
	if c.inflight.len() != 0 { // pushed since the look above: its wakeReader saw readCaller
		c.wakeReader()
	}
}

// pushesOnly reports whether what is buffered behind a solo caller's reply is RESP3
// pushes only (a push is never a reply: the reply was the caller's): those whole are
// dropped (nobody takes pushes on a solo connection), one arriving is left for the
// reader goroutine, which drops it. Anything else is more than the one reply asked
// for.
func (c *Conn) pushesOnly() bool {
	rd := c.rd
	for {
		t, ok := rd.NextType()
		switch {
		case !ok:
			return true
		case t != resp.TypePush:
			return false
		case rd.Ready() != resp.Ready:
			return true
		}
		if _, err := rd.ReadValue(); err != nil {
			return false
		}
	}
}

// handBack gives the socket, and what is buffered, to the reader goroutine.
func (c *Conn) handBack() {
	c.readState.Store(readGoroutine)
	c.rwake <- struct{}{}
}
