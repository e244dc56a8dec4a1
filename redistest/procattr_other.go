//go:build !linux

package redistest

import "syscall"

// childProcAttr puts a server in its own process group so a terminal's Ctrl-C reaches
// only the harness, which then stops the servers itself.
func childProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
