//go:build !unix

package redistest

// RaiseOpenFileLimit does nothing on this system.
func RaiseOpenFileLimit() error { return nil }

// OpenFileLimit returns 0: unknown on this system.
func OpenFileLimit() uint64 { return 0 }
