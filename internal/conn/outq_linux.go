package conn

import (
	"syscall"
	"unsafe"
)

// sendQueued returns how many bytes the socket fd holds that the peer has not
// acknowledged (sent or not: SIOCOUTQ, the send queue from the first unacknowledged
// byte), or 0 when that cannot be read. It stays readable after a reset.
func sendQueued(fd uintptr) int {
	var n int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n))); e != 0 {
		return 0
	}
	return int(n)
}
