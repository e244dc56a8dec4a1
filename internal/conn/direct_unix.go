//go:build unix

package conn

import (
	"errors"
	"io"
	"syscall"
)

// directSupported: the direct path writes through the raw descriptor (direct.go).
const directSupported = true

// write is the raw write callback: one non-blocking write, never a wait (it returns
// true whatever happened: try reads the outcome).
func (d *directWriter) write(fd uintptr) bool {
	d.called = true
	n, err := syscall.Write(int(fd), d.p)
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
	case errors.Is(d.perr, syscall.EAGAIN) || errors.Is(d.perr, syscall.EINTR):
		return nil
	}
	return d.perr
}

// peekFn is the raw read callback of peek: one non-blocking peek, never a wait.
func (d *directWriter) peekFn(fd uintptr) bool {
	n, _, err := syscall.Recvfrom(int(fd), d.pbuf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	d.pn, d.perr = n, err
	return true
}
