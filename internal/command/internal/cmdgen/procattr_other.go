//go:build !linux

package cmdgen

import "syscall"

// childProcAttr has nothing to add outside Linux.
func childProcAttr() *syscall.SysProcAttr { return nil }
