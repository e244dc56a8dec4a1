//go:build unix && !aix && (!linux || 386 || s390x || race)

package conn

import "syscall"

// The direct path's system calls, made through the syscall package's wrappers
// (nbsys_linux.go says why Linux makes them raw; here, and under the race detector,
// they are not).

// nbWrite writes p to fd without waiting: the bytes the socket took, or the error
// (EAGAIN: none).
func nbWrite(fd uintptr, p []byte) (int, error) { return syscall.Write(int(fd), p) }

// nbRead reads into p from fd without waiting: the bytes read (0: the end of the
// stream), or the error (EAGAIN: nothing to read yet).
func nbRead(fd uintptr, p []byte) (int, error) { return syscall.Read(int(fd), p) }

// nbPeek copies up to len(p) bytes waiting in fd into p without consuming them and
// without waiting: as nbRead.
func nbPeek(fd uintptr, p []byte) (int, error) {
	n, _, err := syscall.Recvfrom(int(fd), p, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return n, err
}

// rawOK reports whether fd suits the direct path: a stream socket (its calls are
// socket calls).
func rawOK(fd uintptr) bool { return streamSocket(fd) }
