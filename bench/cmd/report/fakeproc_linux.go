package main

import (
	"os/exec"
	"syscall"
)

// setChildDeathSignal makes the kernel kill the child if this program dies first.
func setChildDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
