package conn

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/redline-go/redline/internal/rerr"
)

// writeLoop takes queued requests, coalesces everything already queued into one
// buffer and writes it in one call: under load, many callers' commands share a write
// (auto-pipelining); alone, a command is written at once.
func (c *Conn) writeLoop() {
	defer c.wg.Done()
	defer c.wakeQueued()
	var buf []byte
	batch := make([]*request, 0, 64)
	var sent []*request // send-only requests of the current batch (n == 0)
	// A large request (maxBatch bytes or more) is written from its own buffer, not
	// copied into buf: segs holds the batch's pieces in order when it has one, and
	// mark is how much of buf they already cover.
	var segs [][]byte
	mark, size := 0, 0
	smallRun := 0 // batches in a row that used less than a quarter of buf
	for {
		var r *request
		select {
		case r = <-c.queue:
		case <-c.resume: // a direct write left a rest (direct.go), or a caller found the connection dead (solo.go)
			c.wmu.Lock()
			if f := c.failing.Load(); f != nil {
				c.wmu.Unlock()
				c.die(*f)
				return
			}
			if c.rest != nil {
				if err := c.finishRest(); err != nil {
					c.wmu.Unlock()
					c.die(c.nodeErr(rerr.PhaseWrite, err, true))
					return
				}
			}
			c.wmu.Unlock()
			continue
		case <-c.closed: // Close, the reader's end, or a lone caller's teardown
			c.wakeQueued()
			c.announce()
			return
		}
		// Every write to the socket, direct or here, is made under wmu, in the order
		// the requests enter the in-flight queue; batches are numbered under it too.
		c.wmu.Lock()
		if f := c.failing.Load(); f != nil { // r, not written, fails as its caller sees the connection closed
			c.wmu.Unlock()
			c.die(*f, r) // r is in no queue now: woken here
			return
		}
		if c.rest != nil { // a direct write's rest goes before anything else
			if err := c.finishRest(); err != nil {
				c.wmu.Unlock()
				c.die(c.nodeErr(rerr.PhaseWrite, err, true), r)
				return
			}
		}
		seq := c.wseq // the number of the batch being gathered, less one
		yields := 0
	gather:
		for {
			// A request its caller gave up before it was written is never written.
			r.seq = seq + 1
			if r.state.CompareAndSwap(stateQueued, stateSent) {
				batch = append(batch, r)
				if len(r.buf) >= maxBatch {
					if len(buf) > mark {
						segs = append(segs, buf[mark:])
						mark = len(buf)
					}
					segs = append(segs, r.buf)
				} else {
					buf = append(buf, r.buf...)
				}
				size += len(r.buf)
			} else {
				putRequest(r)
			}
			if size >= maxBatch {
				break
			}
			select {
			case r = <-c.queue:
				continue
			default:
			}
			// The queue is empty. If replies are still outstanding, the server is busy
			// with earlier commands anyway: let other goroutines run once so their
			// commands join this write (fewer, larger writes under load). An idle
			// connection writes at once.
			if yields >= maxYields || c.inflight.len() == 0 {
				break gather
			}
			yields++
			runtime.Gosched()
			select {
			case r = <-c.queue:
			default:
				break gather
			}
		}
		// A caller gave up a written request while the queue was full: verify the
		// stream after it (sync.go).
		if c.markerWanted.Load() && c.markerWanted.Swap(false) {
			m := c.newMarker()
			m.seq = seq + 1
			m.state.Store(stateSent)
			batch = append(batch, m)
			buf = append(buf, m.buf...)
			size += len(m.buf)
		}
		if len(batch) == 0 {
			c.wmu.Unlock()
			continue
		}
		now := time.Now()
		awaiting, sendOnly := batch, sent[:0]
		for _, r := range batch {
			r.sentAt = now
			if r.n == 0 {
				sendOnly = append(sendOnly, r)
			}
		}
		if len(sendOnly) > 0 { // rare (pub/sub): keep only those awaiting replies
			awaiting = nil
			for _, r := range batch {
				if r.n > 0 {
					awaiting = append(awaiting, r)
				}
			}
		}
		// Requests enter the in-flight queue before their bytes leave, so a reply can
		// never arrive for a request the reader does not know yet.
		c.inflight.push(awaiting)
		c.wakeReader()
		clear(batch)
		batch = batch[:0]
		seq++
		c.wseq = seq
		c.writeStart.Store(now.UnixNano())
		c.writing.Store(int64(size))
		var err error
		if len(segs) == 0 {
			err = c.writeOut(buf, now, 0, size)
		} else {
			if len(buf) > mark {
				segs = append(segs, buf[mark:])
			}
			done := 0
			for _, s := range segs {
				if err = c.writeOut(s, now, done, size); err != nil {
					break
				}
				done += len(s)
			}
			clear(segs)
			segs = segs[:0]
		}
		if err != nil {
			c.wmu.Unlock()
			c.die(c.nodeErr(rerr.PhaseWrite, err, true), sendOnly...) // send-only: in no queue
			return
		}
		// The batch's replies are owed from now (reader.go owedSince): record when it
		// ended before publishing that it did.
		c.wroteBatch(seq, size)
		c.wmu.Unlock()
		mark, size = 0, 0
		for _, r := range sendOnly { // written: that is all they wait for
			r.complete(nil)
		}
		clear(sendOnly)
		sent = sendOnly[:0]
		// A large buffer is kept while batches fill a good part of it (under load it
		// would be regrown for every batch); after wbufSmallRun batches in a row that
		// used less than a quarter of it, as load drops or the connection goes idle
		// (health checks are batches too), it is let go. Letting it go after one such
		// batch regrew it by doubling for most batches when their sizes vary (1 KiB
		// SETs from 512 goroutines: 2.8 KB allocated per call, 16% of the CPU in GC).
		if len(buf) < cap(buf)/4 {
			smallRun++
		} else {
			smallRun = 0
		}
		if cap(buf) > wbufKeep || cap(buf) > wbufIdleKeep && smallRun >= wbufSmallRun {
			buf, smallRun = nil, 0
		}
		buf = buf[:0]
	}
}

// wakeQueued wakes the callers of the requests still queued once the connection has
// ended: nobody will write them. A caller whose request goes in after this wakes
// itself (roundTrip).
func (c *Conn) wakeQueued() {
	for {
		select {
		case r := <-c.queue:
			r.wakeUp()
		default:
			return
		}
	}
}

// maxYields is how many times the writer lets other goroutines run before a write,
// while each time brought more requests.
const maxYields = 4

// A large request's buffer is written in place, so it must never be recycled while
// the writer may still hold it: buffers above maxPooledBuf are not (putRequest).
const _ = uint(maxBatch - maxPooledBuf - 1) // fails to compile unless maxBatch > maxPooledBuf

// sendHealthPing queues a PING nobody waits for; its reply (or its absence) tells the
// reader whether the server is alive. Skipped if the queue is full (traffic is flowing).
func (c *Conn) sendHealthPing() {
	r := getRequest()
	r.buf = append(r.buf, "*1\r\n$4\r\nPING\r\n"...)
	r.n, r.health = 1, true
	select {
	case c.queue <- r:
	default:
		putRequest(r)
	}
}

// writeChunk is the most the writer hands the socket at once: the write deadline is
// re-armed before each chunk, so a large write dies only when a whole chunk cannot go
// through within ReplyTimeout (the server stopped reading), never because it takes
// longer than that while moving. It matches the reader's minProgress.
const writeChunk = minProgress

// errWriteStalled is the cause when a write made no progress within ReplyTimeout.
var errWriteStalled = errors.New("write made no progress within the health limit")

// writeOut writes p, part of a batch of total bytes of which done were already
// written, started at start, in chunks of writeChunk, each with its own deadline.
func (c *Conn) writeOut(p []byte, start time.Time, done, total int) error {
	rt := c.opts.ReplyTimeout
	dl := start.Add(rt) // the batch's first chunk: no second clock read
	if done > 0 {
		dl = time.Now().Add(rt)
	}
	for len(p) > 0 {
		n := min(len(p), writeChunk)
		c.nc.SetWriteDeadline(dl)
		w, err := c.nc.Write(p[:n])
		done += w
		if err != nil {
			if rerr.IsTimeout(err) && c.Err() == nil {
				return fmt.Errorf("%w: %s of a %s batch written in %v, then nothing for %v: %w", errWriteStalled,
					byteSize(int64(done)), byteSize(int64(total)), time.Since(start).Round(time.Millisecond), rt, err)
			}
			return err
		}
		p = p[n:]
		if len(p) > 0 {
			dl = time.Now().Add(rt)
		}
	}
	return nil
}
