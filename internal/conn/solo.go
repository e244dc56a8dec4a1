package conn

import (
	"bufio"
	"errors"
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
// context can be canceled, soloSlice from the write, so a cancellation is seen within
// that. A value is decoded only once whole, so a timeout never cuts one: the caller
// hands the socket, and whatever is buffered, to the reader goroutine, and waits for
// its reply, its deadline or its context as every queued caller does (the reader
// goroutine judges the health limit and discards a reply whose caller left). A
// reply larger than the read buffer, or one that cannot be delimited before decoding
// (streamed RESP3), is handed over the same way.
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
const soloSlice = 500 * time.Microsecond

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
// (waitAfter), its reading handed to the reader goroutine.
func (c *Conn) trySolo(w *Waiter, r *request) (taken, waitAfter bool) {
	if r.n != 1 || c.readState.Load() != readParked || !c.lockIdle(r) {
		return false, false
	}
	if !c.readState.CompareAndSwap(readParked, readCaller) {
		c.wmu.Unlock()
		return false, false
	}
	if !c.sendDirect(r) {
		c.handBack()
		return true, true
	}
	want := r.sentAt.Add(c.opts.ReplyTimeout + r.extra)
	if dl, ok := w.Deadline(); ok && dl.Before(want) {
		want = dl
	}
	if w.ctx.Done() != nil {
		want = minTime(want, r.sentAt.Add(soloSlice))
	}
	cr, rd := c.cr, c.rd
	cr.solo, cr.soloDL = true, want
	for {
		switch rd.Ready() {
		case resp.Ready:
			v, err := rd.ReadValue() // whole in the buffer: no read
			if err != nil {
				cr.solo = false
				c.die(c.readErr(err))
				c.handBack()
				return true, true
			}
			if v.Type == resp.TypePush {
				continue // nobody takes pushes on a solo connection
			}
			cr.solo = false
			c.soloDone(r, v)
			return true, false
		case resp.NotReady:
			err := rd.Fill()
			if err == nil {
				continue
			}
			if rerr.IsTimeout(err) && time.Now().Before(want) {
				continue // woke early: the deadline armed was an older one
			}
			if !rerr.IsTimeout(err) && !errors.Is(err, bufio.ErrBufferFull) {
				cr.solo = false
				c.die(c.readErr(err))
				c.handBack()
				return true, true
			}
		}
		// Out of time, or a reply to decode where blocking is allowed.
		cr.solo = false
		c.handBack()
		return true, true
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
	more := c.rd.Buffered() != 0 // something else came: the reader goroutine decodes it
	c.readState.Store(readParked)
	if more || c.inflight.len() != 0 {
		c.wakeReader()
	}
}

// handBack gives the socket, and what is buffered, to the reader goroutine.
func (c *Conn) handBack() {
	c.readState.Store(readGoroutine)
	c.rwake <- struct{}{}
}
