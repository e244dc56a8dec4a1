package conn

import (
	"errors"
	"fmt"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/resp"
)

// readLoop decodes replies and completes requests in order; RESP3 pushes go to
// OnPush. Any decode error, an unsolicited reply or an overdue reply kills the
// connection.
func (c *Conn) readLoop() {
	defer c.wg.Done()
	// An idle connection keeps a small read buffer; once a read fills it (replies come
	// in bulk), it takes a large one. (The decoder is the connection's: solo callers
	// use it too while the reader goroutine is parked, solo.go.)
	cr := c.cr
	solo := c.soloOK()
	var park *time.Timer
	if solo {
		park = time.NewTimer(soloIdle)
		park.Stop()
	}
	var verify syncState // sync markers (sync.go)
	parked := false
	// next is the front of the in-flight queue when known (popFront's answer), else
	// nil: only this loop pops while it runs, so the front stays the front until then.
	var next *request
	for {
		if parked {
			next = nil // solo callers pop while the reader is parked
			if parked = false; !c.park(park) {
				return // parked for solo callers, then closed
			}
		}
		rd := c.rd
		v, err := rd.ReadValue()
		if err != nil {
			c.die(c.readErr(err), verify.held...) // the held ones (sync.go) are known only here
			return
		}
		if cr.filled && rd.SetBufferSize(readBufLarge) {
			cr.filled = false
		}
		if v.Err != nil || v.Type == resp.TypeArray {
			c.markFrom(&v)
		}
		if v.Type == resp.TypePush {
			if c.opts.OnPush != nil {
				c.opts.OnPush(v)
			}
			continue
		}
		r := next
		if r == nil {
			r = c.inflight.front()
		}
		if r == nil && c.opts.OnUnsolicited != nil && c.opts.OnUnsolicited(v) {
			continue
		}
		if r == nil {
			c.die(c.nodeErr(rerr.PhaseRead, fmt.Errorf("%w: a reply arrived with no request waiting for it (%.40s)", resp.ErrProtocol, v.String()), true), verify.held...)
			return
		}
		if marker := r.token != ""; marker || verify.unverified {
			if err := c.checkSync(&verify, r, v); err != nil {
				c.die(err, verify.held...)
				return
			}
			if marker { // popped (and recycled) by checkSync
				next = nil
				continue
			}
		}
		if !r.deliver(v) {
			next = r // more replies to come for it
			continue
		}
		next = c.inflight.popFront()
		c.completed.Add(1)
		if sample := cr.lastRead.Sub(r.sentAt); sample > 0 {
			old := c.latency.Load()
			c.latency.Store(old + (int64(sample)-old)/8)
			c.sampleRTT(&cr.floor, cr.lastRead, sample)
		}
		if verify.unverified && !r.health {
			// Released when a marker verifies the stream; its caller, should it leave
			// meanwhile, learns that its reply was read but held (abandon).
			r.state.CompareAndSwap(stateSent, stateHeld)
			verify.held = append(verify.held, r)
			continue
		}
		health, alone := r.health, r.alone // complete may recycle r: read them first
		if r.complete(nil) {
			if solo && alone && !verify.unverified && rd.Buffered() == 0 && c.inflight.len() == 0 {
				// Its caller was alone on the connection: leave the socket to its
				// next call (solo.go). Nothing of cr or rd is touched from here on.
				c.readState.Store(readParked)
				parked = true
			}
		} else if !health {
			// The reply went to a request its caller gave up: maybe not its own.
			if c.looksLikeMarker(v) {
				c.die(c.desyncErr("a sync marker's reply came in place of another", v), verify.held...)
				return
			}
			verify.unverified = true
		}
	}
}

// markFrom records the node's address on a server error reply, and on the errors
// directly inside an array reply (EXEC's results), so that they say who sent them.
func (c *Conn) markFrom(v *resp.Value) {
	if v.Err != nil {
		v.Err.From = c.opts.Addr
		return
	}
	for i := range v.Elems {
		if e := v.Elems[i].Err; e != nil {
			e.From = c.opts.Addr
		}
	}
}

// checkSync handles reply v for request r while the stream is being verified, or when
// r is a sync marker: a marker's own reply releases the held requests, and anything
// out of place is the error that kills the connection.
func (c *Conn) checkSync(s *syncState, r *request, v resp.Value) error {
	if r.token == "" {
		if c.looksLikeMarker(v) {
			return c.desyncErr("a sync marker's reply came in place of another", v)
		}
		return nil
	}
	if !isMarkerReply(v, r.token) {
		return c.desyncErr("a sync marker got another reply", v)
	}
	c.inflight.pop()
	putRequest(r)
	s.release()
	return nil
}

// readErr wraps a read failure; an overdue reply keeps its own NodeError.
func (c *Conn) readErr(err error) error {
	var ne *rerr.NodeError
	if errors.As(err, &ne) {
		return ne
	}
	if c.Err() != nil { // closed by Close or by the writer: that cause is the story
		return c.cause
	}
	return c.nodeErr(rerr.PhaseRead, err, true)
}

// errReplyOverdue is the cause when a reply did not arrive within ReplyTimeout.
var errReplyOverdue = errors.New("no reply within the health limit")

// connReader sits between the socket and the decoder. Before each read it arms the
// socket's read deadline at the moment the connection must be declared dead: when a
// reply is owed and no progress has been made for ReplyTimeout (see nextDeadline), or,
// when idle, the idle check. It handles those timeouts itself, so the decoder only
// ever sees data or a fatal error (a timeout in the middle of a value would otherwise
// lose the partial value). And when the request owed the value being read has been
// given up by its caller, it tells the decoder to discard the rest of the value
// instead of building it: a huge reply nobody waits for costs no memory.
type connReader struct {
	c      *Conn
	rd     *resp.Reader
	floor  rttFloor // the round-trip floor's samples (rtt.go)
	solo   bool     // a solo caller reads: soloDL armed, timeouts returned (solo.go)
	soloDL time.Time
	// send is a solo caller's request, not written yet: the first read writes it and
	// waits for the reply in one raw read (directWriter.writeRead). When the socket
	// did not take it whole, took is how much it took (-1: nothing tried) and sendErr
	// why, for the caller to finish the write's bookkeeping (trySolo).
	send     *request
	sendAt   time.Time
	took     int
	sendErr  error
	solos    uint64    // replies read by solo callers (for tests)
	deadline time.Time // the read deadline currently set on the socket
	lastRead time.Time // when the last read returned data
	filled   bool      // a read filled a small buffer: the reader should grow it
	// progressAt is when the last minProgress bytes were completed (window counts
	// those read since): a reply streaming in is progress (see nextDeadline).
	progressAt time.Time
	window     int
}

// minProgress is how many bytes must arrive within ReplyTimeout for a connection owing
// a reply to count as making progress. A trickle does not: a server that announced a
// huge reply and stopped would otherwise be kept alive forever by the small replies
// to later requests, swallowed into the announced length.
const minProgress = 64 << 10

// The read buffer: small while replies are small and few, large once a read fills it.
const (
	readBufSmall = 4 << 10
	readBufLarge = 64 << 10
)

func (cr *connReader) Read(p []byte) (int, error) {
	c := cr.c
	if cr.solo {
		if r := cr.send; r != nil {
			cr.send = nil
			wrote, werr, n, err := c.direct.writeRead(r.buf, p)
			if wrote < len(r.buf) {
				cr.took, cr.sendErr = wrote, werr
				if wrote < 0 {
					cr.sendErr = nil // not tried: the writer writes it, or finds the end
				}
				return 0, errUnsent
			}
			cr.got(n, len(p))
			return n, err
		}
		cr.armSolo(time.Now())
		n, err := c.nc.Read(p)
		cr.got(n, len(p))
		return n, err
	}
	for {
		now := time.Now()
		front := c.inflight.front()
		if front != nil && front.state.Load() == stateAbandoned {
			cr.rd.Discard()
		}
		dl, err := cr.nextDeadline(front, now)
		if err != nil {
			return 0, err
		}
		// Re-arm when the armed deadline has passed, or moves earlier, or later by a
		// noticeable amount; a deadline that fires a little early just comes back here.
		if !cr.deadline.After(now) || dl.Before(cr.deadline) || dl.Sub(cr.deadline) > c.opts.ReplyTimeout/8 {
			c.nc.SetReadDeadline(dl)
			cr.deadline = dl
		}
		n, err := c.nc.Read(p)
		if n > 0 {
			cr.got(n, len(p))
			return n, err
		}
		if err != nil && rerr.IsTimeout(err) && c.Err() == nil {
			continue // re-evaluate: overdue, idle check or just re-arm
		}
		return n, err
	}
}

// armSolo arms the socket's read deadline for a solo caller (soloDL), unless the one
// armed is close enough: not passed, not later, and not much earlier.
func (cr *connReader) armSolo(now time.Time) {
	if !cr.deadline.After(now) || cr.deadline.After(cr.soloDL) || cr.soloDL.Sub(cr.deadline) > cr.c.opts.ReplyTimeout/8 {
		cr.c.nc.SetReadDeadline(cr.soloDL)
		cr.deadline = cr.soloDL
	}
}

// got records a read of n bytes into a buffer of size.
func (cr *connReader) got(n, size int) {
	if n == size && n < readBufLarge {
		cr.filled = true
	}
	if n > 0 {
		cr.lastRead = time.Now()
		cr.c.lastRead.Store(cr.lastRead.UnixNano())
		if cr.window += n; cr.window >= minProgress {
			cr.window, cr.progressAt = 0, cr.lastRead
		}
	}
}

// nextDeadline returns when the reader must next wake up, or the error that kills
// the connection now. front is the oldest request waiting for a reply, or nil.
//
// The health limit judges the server's liveness by progress, both ways: the
// connection is dead when a reply is owed and no progress has been made for
// ReplyTimeout, counted from when the request finished being written (plus the time a
// blocking command may legitimately take) or from the last time minProgress more
// bytes had arrived, whichever is later. A large reply streaming in keeps the
// connection alive however long it takes; so does a large request being written, whose
// reply is not owed before its last byte left (the writer judges that write's progress:
// writeOut). Callers still leave at their deadlines.
func (cr *connReader) nextDeadline(r *request, now time.Time) (time.Time, error) {
	c := cr.c
	if r != nil {
		owed, drain, ok := c.owedSince(r)
		if !ok { // still being written: look again within ReplyTimeout
			return now.Add(c.opts.ReplyTimeout), nil
		}
		due := owed.Add(c.opts.ReplyTimeout + r.extra)
		if progress := cr.progressAt.Add(c.opts.ReplyTimeout); progress.After(due) {
			due = progress
		}
		if !now.Before(due) {
			what := "reply"
			switch {
			case r.token != "":
				what = "sync marker PING"
			case r.health:
				what = "idle check PING"
			}
			return time.Time{}, c.nodeErr(rerr.PhaseRead, fmt.Errorf("%w: %s overdue, written %v ago, last byte read %v ago (%d waiting)",
				errReplyOverdue, what, now.Sub(owed.Add(-drain)).Round(time.Millisecond),
				now.Sub(maxTime(cr.lastRead, owed)).Round(time.Millisecond), c.inflight.len()), true)
		}
		return due, nil
	}
	last := time.Unix(0, c.lastRead.Load())
	idleDue := last.Add(c.idleCheck)
	if !now.Before(idleDue) {
		c.sendHealthPing()
		c.lastRead.Store(now.UnixNano()) // one PING per idle period
		idleDue = now.Add(c.idleCheck)
	}
	// Wake at least every ReplyTimeout so a request written while we sleep is
	// checked on time.
	return minTime(idleDue, now.Add(c.opts.ReplyTimeout)), nil
}

// owedSince returns when r's reply became owed (ReplyTimeout before its due time), and
// the part of that which is time given to drain after the write. A
// reply is owed once r's batch has been written (false while that write is still in
// progress) and the server has had time to read the batch's bytes that socket buffers
// may still hold when the write returns (up to megabytes: the write finishes long
// before a slow reader has read it). That time is reckoned at the minimum progress
// rate, one ReplyTimeout per minProgress bytes, at most maxDrainFactor of them; a
// batch smaller than minProgress (every ordinary command) is owed at once. For a batch
// so old that its record was overwritten, it is r.sentAt, when its write started
// (stricter).
func (c *Conn) owedSince(r *request) (time.Time, time.Duration, bool) {
	w := c.written.Load()
	if r.seq > w {
		return time.Time{}, 0, false
	}
	if w-r.seq < writeEndSlots-1 {
		i := r.seq % writeEndSlots
		end, size := c.writeEnds[i].Load(), c.writeSizes[i].Load()
		// The slot is reused for batch r.seq+writeEndSlots, stored only after batch
		// r.seq+writeEndSlots-1 was written: if that has not happened, end is r's.
		if c.written.Load()+2 <= r.seq+writeEndSlots {
			drain := c.opts.ReplyTimeout * time.Duration(min(size/minProgress, maxDrainFactor))
			return time.Unix(0, end).Add(drain), drain, true
		}
	}
	return r.sentAt, 0, true
}

// maxDrainFactor bounds the time a large batch is given to drain from socket buffers
// after its write returned, in ReplyTimeouts (see owedSince): the longest a server
// that hangs right after a large request is left undetected beyond ReplyTimeout.
const maxDrainFactor = 8

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// IsOverdue reports whether err is a connection's death because a reply (or an idle
// check) did not come within the health limit: the node stopped answering.
func IsOverdue(err error) bool { return errors.Is(err, errReplyOverdue) }
