//go:build unix

package conn

import (
	"syscall"
	"time"
)

// cpuNow returns the process's CPU time (user + system) and its context switches
// (voluntary + involuntary) so far.
func cpuNow() (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), int64(ru.Nvcsw) + int64(ru.Nivcsw)
}
