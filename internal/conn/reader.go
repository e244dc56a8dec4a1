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
	cr := &connReader{c: c}
	floor := rttFloor{cur: c.RTT(), last: c.RTT(), since: time.Now()} // seeded by the handshake
	// An idle connection keeps a small read buffer; once a read fills it (replies come
	// in bulk), it takes a large one.
	rd := resp.NewReaderSize(cr, readBufSmall, c.opts.Limits)
	for {
		v, err := rd.ReadValue()
		if err != nil {
			c.die(c.readErr(err))
			return
		}
		if cr.filled && rd.SetBufferSize(readBufLarge) {
			cr.filled = false
		}
		if v.Type == resp.TypePush {
			if c.opts.OnPush != nil {
				c.opts.OnPush(v)
			}
			continue
		}
		r := c.inflight.front()
		if r == nil && c.opts.OnUnsolicited != nil && c.opts.OnUnsolicited(v) {
			continue
		}
		if r == nil {
			c.die(c.nodeErr(rerr.PhaseRead, fmt.Errorf("%w: a reply arrived with no request waiting for it (%.40s)", resp.ErrProtocol, v.String()), true))
			return
		}
		if !r.deliver(v) {
			continue
		}
		c.inflight.pop()
		c.completed.Add(1)
		if sample := cr.lastRead.Sub(r.sentAt); sample > 0 {
			old := c.latency.Load()
			c.latency.Store(old + (int64(sample)-old)/8)
			c.sampleRTT(&floor, cr.lastRead, sample)
		}
		r.complete(nil)
	}
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
// socket's read deadline at the moment the connection must be declared dead: the
// oldest outstanding request's due time, or, when idle, the idle check. It handles
// those timeouts itself, so the decoder only ever sees data or a fatal error (a
// timeout in the middle of a value would otherwise lose the partial value).
type connReader struct {
	c        *Conn
	deadline time.Time // the read deadline currently set on the socket
	lastRead time.Time // when the last read returned data
	filled   bool      // a read filled a small buffer: the reader should grow it
}

// The read buffer: small while replies are small and few, large once a read fills it.
const (
	readBufSmall = 4 << 10
	readBufLarge = 16 << 10
)

func (cr *connReader) Read(p []byte) (int, error) {
	c := cr.c
	for {
		now := time.Now()
		dl, err := cr.nextDeadline(now)
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
		if n == len(p) && n < readBufLarge {
			cr.filled = true
		}
		if n > 0 {
			cr.lastRead = time.Now()
			c.lastRead.Store(cr.lastRead.UnixNano())
			return n, err
		}
		if err != nil && rerr.IsTimeout(err) && c.Err() == nil {
			continue // re-evaluate: overdue, idle check or just re-arm
		}
		return n, err
	}
}

// nextDeadline returns when the reader must next wake up, or the error that kills
// the connection now.
func (cr *connReader) nextDeadline(now time.Time) (time.Time, error) {
	c := cr.c
	if r := c.inflight.front(); r != nil {
		due := r.sentAt.Add(c.opts.ReplyTimeout + r.extra)
		if !now.Before(due) {
			what := "reply"
			if r.health {
				what = "idle check PING"
			}
			return time.Time{}, c.nodeErr(rerr.PhaseRead, fmt.Errorf("%w: %s overdue, written %v ago (%d waiting)",
				errReplyOverdue, what, now.Sub(r.sentAt).Round(time.Millisecond), c.inflight.len()), true)
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

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// IsOverdue reports whether err is a connection's death because a reply (or an idle
// check) did not come within the health limit: the node stopped answering.
func IsOverdue(err error) bool { return errors.Is(err, errReplyOverdue) }
