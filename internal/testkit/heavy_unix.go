//go:build unix

package testkit

import (
	"os"
	"path/filepath"
	"syscall"
)

// lockHeavy takes an exclusive flock on the module's go.mod (found from the working
// directory up), held until unlock: the root package's and systest's test binaries,
// which `make test` runs side by side, then run their heavy tests one at a time
// between them too. The lock is scoped to the checkout and the kernel drops it when
// the process ends, however it ends. Without a go.mod it locks nothing.
func lockHeavy() (unlock func()) {
	dir, err := os.Getwd()
	if err != nil {
		return func() {}
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX) != nil {
				f.Close()
				return func() {}
			}
			return func() { f.Close() }
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return func() {}
		}
		dir = parent
	}
}
