//go:build unix && !linux

package conn

// sendQueued is Linux's only (refused asks it there alone).
func sendQueued(fd uintptr) int { return 0 }
