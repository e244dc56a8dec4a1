//go:build !linux

package main

import "os/exec"

// setChildDeathSignal: elsewhere the child stops when its stdin closes.
func setChildDeathSignal(*exec.Cmd) {}
