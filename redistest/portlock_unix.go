//go:build unix

package redistest

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// portLockDir holds one lock file per port handed out by any process on the machine.
var portLockDir = filepath.Join(os.TempDir(), "redistest-ports")

// lockPort takes an exclusive, non-blocking flock on port's lock file; false when
// another process holds it. The kernel drops the lock when the process ends, however
// it ends, so a crashed test never leaves a port reserved.
func lockPort(port int) (unlock func(), ok bool) {
	if err := os.MkdirAll(portLockDir, 0o777); err != nil {
		return func() {}, true // no lock directory: fall back to this process's registry
	}
	os.Chmod(portLockDir, 0o1777|os.ModeSticky) // shared by every user, like /tmp (best effort)
	f, err := os.OpenFile(filepath.Join(portLockDir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return func() {}, true
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}
