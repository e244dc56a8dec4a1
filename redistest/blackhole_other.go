//go:build !(linux || darwin || freebsd)

package redistest

import "errors"

type blackhole struct{}

func newBlackhole(addr string) (*blackhole, error) {
	return nil, errors.New("blackhole mode is not supported on this operating system")
}

func (bh *blackhole) close() {}
