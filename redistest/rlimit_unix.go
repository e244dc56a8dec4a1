//go:build unix

package redistest

import "syscall"

// RaiseOpenFileLimit raises the process's soft limit on open files to its hard limit
// (RLIMIT_NOFILE), for tests and programs that open thousands of connections. It never
// needs privileges: the hard limit is the ceiling an unprivileged process may choose.
func RaiseOpenFileLimit() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= lim.Max {
		return nil
	}
	lim.Cur = lim.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// OpenFileLimit returns the process's soft limit on open files (0 when unknown).
func OpenFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return uint64(lim.Cur)
}
