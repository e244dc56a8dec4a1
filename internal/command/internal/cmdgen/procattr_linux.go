//go:build linux

package cmdgen

import "syscall"

// childProcAttr makes the kernel kill the redis-server if the generator dies first.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
