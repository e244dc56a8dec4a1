package redistest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
)

// Ports are picked at random from [portLow, portHigh): below Linux's ephemeral range
// (32768+), so that a client's outgoing connection can never hold a port that a proxy
// must bind again after a fault, and with room for a node's bus port if a caller
// uses the classic port+10000 convention.
const (
	portLow  = 12000
	portHigh = 22000
)

// portRegistry remembers the ports this process handed out, so that two clusters
// started by one test binary never pick the same port between probe and bind. Other
// processes (go test runs packages in parallel) are kept off them by a lock file per
// port (see lockPort): without it, a port left free while its node is killed could be
// taken by another process's cluster before the node restarts.
var portRegistry = struct {
	sync.Mutex
	used map[int]func() // port -> release of its cross-process lock
}{used: map[int]func(){}}

// freePort returns a port on 127.0.0.1 that was free a moment ago and that this
// process has not handed out before (until released).
func freePort() (int, error) {
	portRegistry.Lock()
	defer portRegistry.Unlock()
	for range 200 {
		p := portLow + rand.IntN(portHigh-portLow)
		if _, ok := portRegistry.used[p]; ok {
			continue
		}
		unlock, ok := lockPort(p)
		if !ok {
			continue // another process holds it
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			unlock()
			continue
		}
		l.Close()
		portRegistry.used[p] = unlock
		return p, nil
	}
	return 0, fmt.Errorf("redistest: no free port found in %d-%d on 127.0.0.1", portLow, portHigh)
}

// busOffset is where a Redis before 7.0 puts a node's cluster bus: port + 10000.
const busOffset = 10000

// freePortPair returns two free ports p and p+offset (a node and its bus, for servers
// without --cluster-port); offset keeps both below Linux's ephemeral range.
func freePortPair(offset int) (int, int, error) {
	for range 50 {
		p, err := freePort()
		if err != nil {
			return 0, 0, err
		}
		if p+offset >= 32768 {
			releasePorts(p)
			continue
		}
		portRegistry.Lock()
		_, taken := portRegistry.used[p+offset]
		var unlock func()
		ok := false
		if !taken {
			unlock, ok = lockPort(p + offset)
		}
		if ok {
			if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+offset))); err == nil {
				l.Close()
				portRegistry.used[p+offset] = unlock
				portRegistry.Unlock()
				return p, p + offset, nil
			}
			unlock()
		}
		portRegistry.Unlock()
		releasePorts(p)
	}
	return 0, 0, fmt.Errorf("redistest: no free port pair (p, p+%d) found on 127.0.0.1", offset)
}

// releasePorts returns ports to the pool once their cluster is closed.
func releasePorts(ports ...int) {
	portRegistry.Lock()
	defer portRegistry.Unlock()
	for _, p := range ports {
		if unlock, ok := portRegistry.used[p]; ok {
			unlock()
			delete(portRegistry.used, p)
		}
	}
}
