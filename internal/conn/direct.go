package conn

import (
	"errors"
	"syscall"
	"time"

	"github.com/redline-go/redline/internal/rerr"
)

// The direct path. A caller alone on an idle connection (nothing in flight, nothing
// queued, the writer not writing) writes its request to the socket itself instead of
// waking the writer goroutine. Alone, that saves a goroutine switch but no measurable
// time: the wake-up that costs (a thread woken per call) is the reply's hand-off from
// the reader goroutine, which solo.go removes by having the caller read too. As soon
// as a request is in flight, callers queue for the writer again, and their commands
// share writes as before.
//
// The caller never blocks in the socket: it makes one non-blocking write. On an idle
// connection the server has read everything sent to it (every request was answered),
// so the socket takes a small request whole; should it take only part (or nothing),
// the rest is handed to the writer goroutine, which writes it in chunks with its
// health deadline (writeOut), while the caller waits for its reply or its deadline as
// any queued caller does (errWriting until the write ends). Every write to the
// socket, direct or the writer's, happens under wmu, in the order the requests enter
// the in-flight queue, so replies still complete requests in order.

// directMax is the largest request written directly: far below any socket buffer.
const directMax = 16 << 10

// directWriter makes non-blocking writes through the socket's raw descriptor. Its
// fields are used under Conn.wmu only.
type directWriter struct {
	raw    syscall.RawConn
	fn     func(uintptr) bool // write as a method value, made once: no allocation per call
	p      []byte
	n      int
	err    error
	called bool
	limit  int // test hook: offer the socket at most this many bytes per try (0: all)
	// untried is a test hook: writeRead returns as if the descriptor was not tried
	// (its read deadline passed, or it was closed, just before).
	untried bool

	// peek's (direct_unix.go), under Conn.wmu by a solo caller owning the socket's reads.
	pfn  func(uintptr) bool
	pbuf [1]byte
	pn   int
	perr error

	// writeRead's (direct_unix.go), by a solo caller owning the socket's reads: wmu is
	// held until the request is written whole, then released by wrote.
	wrfn  func(uintptr) bool
	wrote func() // after the whole request left: the write's bookkeeping, wmu released
	rp    []byte
	rn    int
	rerr  error
	sent  bool // the request left whole: what follows is the read
}

// newDirectWriter returns a direct writer for nc, or nil when nc has no raw
// descriptor to write to without blocking (TLS, net.Pipe, a blocking descriptor,
// not a socket): its callers queue.
func newDirectWriter(nc any) *directWriter {
	sc, ok := nc.(syscall.Conn)
	if !ok || !directSupported {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	ok = false
	if raw.Control(func(fd uintptr) { ok = rawOK(fd) }) != nil || !ok {
		return nil // closed already, not a stream socket, or blocking (rawOK)
	}
	d := &directWriter{raw: raw}
	d.fn = d.write
	d.pfn = d.peekFn
	d.wrfn = d.writeReadFn
	return d
}

// try writes as much of p as the socket takes now, without waiting: n bytes. A nil
// error with n < len(p) means the socket buffer is full (or the write deadline the
// writer armed has passed: the descriptor was not tried), never a broken connection.
func (d *directWriter) try(p []byte) (n int, err error) {
	if d.limit > 0 && len(p) > d.limit {
		p = p[:d.limit]
	}
	d.p, d.n, d.err, d.called = p, 0, nil, false
	err = d.raw.Write(d.fn)
	n, werr, called := d.n, d.err, d.called
	d.p, d.err = nil, nil
	if err != nil && !called && rerr.IsTimeout(err) {
		return 0, nil // an expired write deadline: the writer will write it
	}
	if err == nil {
		err = werr
	}
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
		err = nil
	}
	return n, err
}

// tryDirect writes r itself if the connection is idle; it reports whether it took r.
// When it did, r is in flight (or the connection died trying: the caller's wait sees
// it closed) and the caller waits for r as a queued caller would.
func (c *Conn) tryDirect(r *request) bool {
	if !c.lockIdle(r) {
		return false
	}
	c.sendDirect(r)
	return true
}

// lockIdle takes wmu if r may be written directly: the connection has a direct
// writer, r is small and expects replies, and nothing is queued, in flight or being
// written. It reports whether it took wmu.
func (c *Conn) lockIdle(r *request) bool {
	if c.direct == nil || r.n == 0 || len(r.buf) > directMax || len(c.queue) != 0 || c.inflight.busy() || !c.wmu.TryLock() {
		return false
	}
	// Under wmu: the writer is not writing, and no earlier direct write is unfinished;
	// nor has a caller found the connection dead, its teardown not done yet (solo.go):
	// the call queues, and fails not written when the writer carries the teardown out.
	if c.rest != nil || len(c.queue) != 0 || c.markerWanted.Load() || c.inflight.len() != 0 || c.failing.Load() != nil {
		c.wmu.Unlock()
		return false
	}
	return true
}

// sendDirect writes r (under wmu, which it releases) and reports whether the socket
// took all of it. If not, r is in flight all the same: its rest is the writer's, or
// the connection died.
func (c *Conn) sendDirect(r *request) bool {
	now := c.beginDirect(r)
	n, err := c.direct.try(r.buf)
	if err == nil && n == 0 {
		// An expired write deadline left by the writer: clear it, try once more.
		c.nc.SetWriteDeadline(time.Time{})
		n, err = c.direct.try(r.buf)
	}
	return c.endDirect(r, now, n, err)
}

// beginDirect puts r in flight as the next write (under wmu) and returns the write's
// start.
func (c *Conn) beginDirect(r *request) time.Time {
	seq := c.wseq + 1
	now := time.Now()
	r.seq, r.sentAt, r.alone = seq, now, true
	r.state.Store(stateSent) // the caller's own: nobody else has seen r
	c.inflight.push1(r)
	c.wakeReader() // a parked reader goroutine reads r's reply (none for a solo caller: it reads)
	c.wseq = seq
	c.directs++
	c.writeStart.Store(now.UnixNano())
	c.writing.Store(int64(len(r.buf)))
	return now
}

// wroteDirect records the direct write of the latest request as whole and releases
// wmu.
func (c *Conn) wroteDirect() {
	c.wroteBatch(c.wseq, int(c.writing.Load()))
	c.wmu.Unlock()
}

// endDirect completes a direct write of r begun at start, of which the socket took n
// bytes (err: the socket failed), under wmu, which it releases; it reports whether
// r left whole (see sendDirect).
func (c *Conn) endDirect(r *request, start time.Time, n int, err error) bool {
	switch {
	case err != nil:
		c.teardownLocked(c.nodeErr(rerr.PhaseWrite, err, true)) // OnClose by the writer goroutine (solo.go)
		return false
	case n == len(r.buf):
		c.wroteDirect()
		return true
	}
	// The socket took part: the writer writes the rest before anything else.
	c.rest = append([]byte(nil), r.buf[n:]...)
	c.restTotal, c.restStart = len(r.buf), start
	c.wmu.Unlock()
	select {
	case c.resume <- struct{}{}:
	default:
	}
	return false
}

// finishRest writes what the socket did not take of a direct write (under wmu, by
// the writer goroutine), with the writer's chunked health deadlines.
func (c *Conn) finishRest() error {
	p, total := c.rest, c.restTotal
	c.rest = nil
	if err := c.writeOut(p, c.restStart, total-len(p), total); err != nil {
		return err
	}
	c.wroteBatch(c.wseq, total)
	return nil
}

// wroteBatch records that batch seq, of size bytes, has been written in full: its
// replies are owed from now (reader.go owedSince). Under wmu.
func (c *Conn) wroteBatch(seq uint64, size int) {
	c.writeEnds[seq%writeEndSlots].Store(time.Now().UnixNano())
	c.writeSizes[seq%writeEndSlots].Store(int64(size))
	c.written.Store(seq)
	c.writing.Store(0)
}
