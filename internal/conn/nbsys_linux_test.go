//go:build linux && !386 && !s390x && !race

package conn

import (
	"syscall"
	"testing"
	"time"
)

// The raw calls say what the wrappers say: EAGAIN on an empty socket, a peek that
// leaves the bytes there, a read that takes them, and the end of the stream as 0 and
// no error.
func TestRawCalls(t *testing.T) {
	a, b := tcpPair(t)
	buf := make([]byte, 16)
	withFD(t, a, func(fd uintptr) {
		if n, err := nbRead(fd, buf); err != syscall.EAGAIN {
			t.Errorf("read of an empty socket: %d, %v; want EAGAIN", n, err)
		}
		if n, err := nbPeek(fd, buf[:1]); err != syscall.EAGAIN {
			t.Errorf("peek at an empty socket: %d, %v; want EAGAIN", n, err)
		}
	})
	withFD(t, b, func(fd uintptr) {
		if n, err := nbWrite(fd, []byte("hello")); n != 5 || err != nil {
			t.Errorf("write: %d, %v; want 5, nil", n, err)
		}
	})
	withFD(t, a, func(fd uintptr) {
		if !awaitBytes(fd, 2e9) {
			t.Fatal("the bytes did not arrive")
		}
		if n, err := nbPeek(fd, buf[:1]); n != 1 || err != nil || buf[0] != 'h' {
			t.Errorf("peek: %d, %v, %q; want 1, nil, h", n, err, buf[:1])
		}
		if n, err := nbRead(fd, buf); n != 5 || err != nil || string(buf[:5]) != "hello" {
			t.Errorf("read: %d, %v, %q; want 5, nil, hello", n, err, buf[:max(n, 0)])
		}
	})
	b.CloseWrite()
	withFD(t, a, func(fd uintptr) {
		if !awaitEOF(fd, 2e9) {
			t.Fatal("the FIN did not arrive")
		}
		if n, err := nbPeek(fd, buf[:1]); n != 0 || err != nil {
			t.Errorf("peek at the end of the stream: %d, %v; want 0, nil", n, err)
		}
		if n, err := nbRead(fd, buf); n != 0 || err != nil {
			t.Errorf("read at the end of the stream: %d, %v; want 0, nil", n, err)
		}
	})
}

// A blocking descriptor gets no direct writer: a raw call on it would hold its P
// while it blocks.
func TestRawNotOnBlockingDescriptor(t *testing.T) {
	a, _ := tcpPair(t)
	if newDirectWriter(a) == nil {
		t.Fatal("no direct writer for a non-blocking socket")
	}
	withFD(t, a, func(fd uintptr) {
		if err := syscall.SetNonblock(int(fd), false); err != nil {
			t.Fatal(err)
		}
	})
	if newDirectWriter(a) != nil {
		t.Error("a direct writer for a blocking socket")
	}
	// Should one come to the raw calls all the same (made blocking after the check),
	// they still do not wait.
	raw, err := a.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go raw.Control(func(fd uintptr) {
		var b [1]byte
		_, err := nbRead(fd, b[:])
		done <- err
	})
	select {
	case err := <-done:
		if err != syscall.EAGAIN {
			t.Errorf("raw read of an empty blocking socket: %v; want EAGAIN", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a raw read of an empty blocking socket waited (2s)")
	}
	withFD(t, a, func(fd uintptr) { syscall.SetNonblock(int(fd), true) }) // for its Close
}
