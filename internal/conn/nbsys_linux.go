//go:build linux && !386 && !s390x && !race

package conn

import (
	"syscall"
	"unsafe"
)

// The direct path's system calls on a socket the runtime made non-blocking: they
// return at once, EAGAIN when they would wait, so they are made raw (RawSyscall),
// without the runtime's entersyscall and exitsyscall. The difference is not the
// bookkeeping (some 100 ns) but what entersyscall does when every P is idle, which is
// the state of a lone caller's process each time it waits for a reply: the system
// monitor thread (sysmon) sleeps then, and the first system call after the wait wakes
// it (a futex wake-up on the caller's path, then sysmon's thread running and sleeping
// again on another core, the core the server needs). Measured with 1-goroutine GETs
// (bench/cmd/lone under perf stat): about half a futex and half a nanosleep call per
// GET, 1.8 context switches per GET; raw, 0.03, 0.01 and 1.0, and 10 µs less CPU per GET
// (docs/PERFORMANCE.md). A raw call keeps its P, which is harmless for a call that
// never waits: the largest is a read of readBufLarge bytes or a write of directMax,
// and each asks the kernel not to wait (MSG_DONTWAIT), whatever the descriptor's
// O_NONBLOCK says (a user's File() on the connection clears it). A write to a
// socket the peer reset fails with EPIPE and raises no SIGPIPE (MSG_NOSIGNAL).
// (386 and s390x reach the socket calls through socketcall on the kernels Go
// supports, and under the race detector the wrappers' annotations are kept, which
// tell it that bytes written to a socket happen before their reading:
// nbsys_other.go.)

// nbWrite writes p to fd without waiting: the bytes the socket took, or the error
// (EAGAIN: none).
func nbWrite(fd uintptr, p []byte) (int, error) {
	return sockCall(syscall.SYS_SENDTO, fd, p, syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL)
}

// nbRead reads into p from fd without waiting: the bytes read (0: the end of the
// stream), or the error (EAGAIN: nothing to read yet).
func nbRead(fd uintptr, p []byte) (int, error) {
	return sockCall(syscall.SYS_RECVFROM, fd, p, syscall.MSG_DONTWAIT)
}

// nbPeek copies up to len(p) bytes waiting in fd into p without consuming them and
// without waiting: as nbRead.
func nbPeek(fd uintptr, p []byte) (int, error) {
	return sockCall(syscall.SYS_RECVFROM, fd, p, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
}

// sockCall is sendto or recvfrom (trap) of p on fd with flags and no address, raw:
// the bytes moved, or -1 and the error, as the wrappers answer (an empty p moves
// nothing and asks nothing).
func sockCall(trap, fd uintptr, p []byte, flags uintptr) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), flags, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// rawOK reports whether fd suits the direct path: a stream socket (its calls are
// socket calls), non-blocking as every socket the net package opens is (the runtime's
// waits for readiness assume it; a descriptor its owner made blocking gets no direct
// path).
func rawOK(fd uintptr) bool {
	fl, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	return e == 0 && fl&syscall.O_NONBLOCK != 0 && streamSocket(fd)
}
