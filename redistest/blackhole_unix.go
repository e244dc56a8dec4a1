//go:build linux || darwin || freebsd

package redistest

import (
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"
)

// blackhole owns a port with a listening socket whose accept queue is full and never
// drained: the kernel then drops further SYNs to it, so a connect never completes and a
// dialer ends at its own timeout, exactly as when a packet filter drops traffic. No root
// needed. The socket is made with listen(fd, 0) and filled by one connection of our own.
type blackhole struct {
	fd   int
	fill net.Conn
}

func newBlackhole(addr string) (*blackhole, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host).To4()
	if ip == nil {
		return nil, fmt.Errorf("blackhole: %s is not an IPv4 address", host)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, fmt.Errorf("blackhole: socket: %w", err)
	}
	syscall.CloseOnExec(fd)
	bh := &blackhole{fd: fd}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		bh.close()
		return nil, fmt.Errorf("blackhole: SO_REUSEADDR: %w", err)
	}
	sa := &syscall.SockaddrInet4{Port: port}
	copy(sa.Addr[:], ip)
	for i := 0; ; i++ {
		err = syscall.Bind(fd, sa)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(time.Duration(i+1) * time.Millisecond)
	}
	if err != nil {
		bh.close()
		return nil, fmt.Errorf("blackhole: bind %s: %w", addr, err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		bh.close()
		return nil, fmt.Errorf("blackhole: listen: %w", err)
	}
	// One connection fills a queue of backlog 0; the kernel drops every SYN after it.
	bh.fill, err = net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		bh.close()
		return nil, fmt.Errorf("blackhole: fill accept queue: %w", err)
	}
	return bh, nil
}

func (bh *blackhole) close() {
	if bh.fill != nil {
		bh.fill.Close()
	}
	syscall.Close(bh.fd)
}
