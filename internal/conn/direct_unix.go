//go:build unix && !aix

package conn

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// directSupported: the direct path writes through the raw descriptor (direct.go).
const directSupported = true

// write is the raw write callback: one non-blocking write, never a wait (it returns
// true whatever happened: try reads the outcome).
func (d *directWriter) write(fd uintptr) bool {
	d.called = true
	n, err := nbWrite(fd, d.p)
	if n > 0 {
		d.n = n
	}
	d.err = err
	return true
}

// peek looks, without waiting and without consuming anything, at what the socket
// holds to be read: nothing (nil), bytes (errStray), or the end of the stream (io.EOF,
// or the socket's error, e.g. a reset). It is one recv(MSG_PEEK|MSG_DONTWAIT) (solo.go
// parkedCheck).
func (d *directWriter) peek() error {
	d.perr, d.pn = nil, 0
	if err := d.raw.Read(d.pfn); err != nil {
		return err // the descriptor is closed
	}
	switch {
	case d.pn > 0:
		return errStray
	case d.perr == nil:
		return io.EOF
	case d.perr == syscall.EAGAIN || d.perr == syscall.EINTR: // a bare Errno: no errors.Is walk
		return nil
	}
	return d.perr
}

// peekFn is the raw read callback of peek: one non-blocking peek, never a wait.
func (d *directWriter) peekFn(fd uintptr) bool {
	n, err := nbPeek(fd, d.pbuf[:])
	d.pn, d.perr = n, err
	return true
}

// writeRead writes req and reads what the socket then holds into p, in one raw read
// of the descriptor: the runtime's readiness is reset before the write, so the wait
// is for bytes that come after it (mostly: any later wake-up of the descriptor, e.g.
// the request's acknowledgement freeing send space, ends it too, and the read then
// returns what was there before; solo.go), and the read that would find nothing right
// after the write is not made. Once req left whole, d.wrote runs (releasing wmu) and
// the caller waits until the socket is readable or the read deadline armed passes.
//
// wrote is how much of req the socket took: less than all (EAGAIN, or werr) and
// nothing was read; -1 if the descriptor was not tried (closed, or the read deadline
// passed: err). Otherwise n and err are the read's, as a net.Conn's Read returns them
// (io.EOF at the end of the stream).
func (d *directWriter) writeRead(req, p []byte) (wrote int, werr error, n int, err error) {
	if d.untried {
		return -1, nil, 0, os.ErrDeadlineExceeded
	}
	d.p, d.rp, d.n, d.err, d.rn, d.rerr, d.called, d.sent = req, p, 0, nil, 0, nil, false, false
	err = d.raw.Read(d.wrfn)
	wrote, werr, n, called, sent := d.n, d.err, d.rn, d.called, d.sent
	if err == nil {
		err = d.rerr
	}
	d.p, d.rp, d.err, d.rerr = nil, nil, nil, nil
	switch {
	case !called:
		return -1, nil, 0, err
	case !sent:
		if errors.Is(werr, syscall.EAGAIN) || errors.Is(werr, syscall.EINTR) {
			werr = nil
		}
		return wrote, werr, 0, nil
	}
	if err == nil && n == 0 {
		err = io.EOF
	}
	return wrote, nil, n, err
}

// writeReadFn is writeRead's raw read callback: the write on its first call, then a
// non-blocking read each time the socket is reported readable.
func (d *directWriter) writeReadFn(fd uintptr) bool {
	if !d.sent {
		d.called = true
		q := d.p
		if d.limit > 0 && len(q) > d.limit {
			q = q[:d.limit] // test hook: the socket takes part
		}
		n, err := nbWrite(fd, q)
		if n > 0 {
			d.n = n
		}
		if n != len(d.p) {
			d.err = err
			return true
		}
		d.sent = true
		d.wrote()
		return false // the reply cannot be there yet: wait for the socket
	}
	for {
		n, err := nbRead(fd, d.rp)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false // a readiness left from before the write: wait again
		case err != nil:
			d.rerr = os.NewSyscallError("read", err)
		case n > 0:
			d.rn = n
		}
		return true
	}
}

// streamSocket reports whether fd is a stream socket (TCP, or a Unix socket of type
// SOCK_STREAM): the direct path's peek and reads are socket calls.
func streamSocket(fd uintptr) bool {
	t, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TYPE)
	return err == nil && t == syscall.SOCK_STREAM
}
