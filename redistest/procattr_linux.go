package redistest

import "syscall"

// childProcAttr makes the kernel kill a server if the process that started it dies
// without cleaning up (e.g. a test binary killed by `go test -timeout`), and puts it in
// its own process group so a terminal's Ctrl-C reaches only the harness, which then
// stops the servers itself.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
