//go:build unix

package conn

import "syscall"

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
