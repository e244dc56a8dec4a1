//go:build !unix || aix

package conn

// directSupported: elsewhere (and on AIX, whose syscall package lacks MSG_DONTWAIT)
// every caller queues for the writer (direct.go).
const directSupported = false

func (d *directWriter) write(fd uintptr) bool { return true }

func (d *directWriter) peek() error { return nil }

func (d *directWriter) peekFn(fd uintptr) bool { return true }

func (d *directWriter) writeRead(req, p []byte) (int, error, int, error) { return -1, nil, 0, nil }

func (d *directWriter) writeReadFn(fd uintptr) bool { return true }

func rawOK(fd uintptr) bool { return false }
