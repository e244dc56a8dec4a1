package redistest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// rawConn is a plain test client: one TCP (or TLS) connection speaking RESP.
type rawConn struct {
	net.Conn
	rd *resp.Reader
}

func dialRaw(addr string, tlsConf *tls.Config, timeout time.Duration) (*rawConn, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if tlsConf != nil {
		tlsConf = tlsConf.Clone()
		tlsConf.ServerName, _, _ = net.SplitHostPort(addr)
		tc := tls.Client(c, tlsConf)
		c.SetDeadline(time.Now().Add(timeout))
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, err
		}
		c.SetDeadline(time.Time{})
		c = tc
	}
	return &rawConn{Conn: c, rd: resp.NewReader(c, resp.Limits{})}, nil
}

// ping sends PING and waits up to timeout for the reply.
func (c *rawConn) ping(timeout time.Duration) error {
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(resp.AppendCommandStrings(nil, "PING")); err != nil {
		return err
	}
	v, err := c.rd.ReadValue()
	if err != nil {
		return err
	}
	if string(v.Str) != "PONG" {
		return errors.New("unexpected reply " + v.String())
	}
	return nil
}

// setFault switches n's proxy and restores Pass when the test ends.
func setFault(t *testing.T, n *Node, m Mode) {
	t.Helper()
	if err := n.SetFault(m); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.SetFault(Pass); err != nil {
			t.Errorf("restore pass: %v", err)
		}
	})
}

// pingNew opens a new connection and pings, within timeout overall.
func pingNew(addr string, tlsConf *tls.Config, timeout time.Duration) error {
	c, err := dialRaw(addr, tlsConf, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.ping(timeout)
}

func TestFaultRefuse(t *testing.T) {
	t.Parallel()
	n := plainCluster(t).Node(3) // a replica: faults on it touch nothing else
	lockNode(t, n)
	setFault(t, n, Refuse)
	start := time.Now()
	_, err := net.DialTimeout("tcp", n.Addr(), 2*time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial in refuse mode: got %v, want connection refused", err)
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("refused dial took %v, want it at once", el)
	}
	if err := n.SetFault(Pass); err != nil {
		t.Fatal(err)
	}
	if err := pingNew(n.Addr(), nil, 2*time.Second); err != nil {
		t.Fatalf("after pass: %v", err)
	}
}

func TestFaultBlackhole(t *testing.T) {
	t.Parallel()
	n := plainCluster(t).Node(4)
	lockNode(t, n)
	old, err := dialRaw(n.Addr(), nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	setFault(t, n, Blackhole)
	const timeout = 300 * time.Millisecond
	start := time.Now()
	d := net.Dialer{Timeout: timeout}
	c, err := d.Dial("tcp", n.Addr())
	el := time.Since(start)
	if err == nil {
		c.Close()
		t.Fatal("dial to a blackholed node succeeded")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("dial error %v is not a timeout", err)
	}
	if el < timeout || el > timeout+200*time.Millisecond {
		t.Errorf("dial ended after %v, want the dialer's own timeout %v", el, timeout)
	}
	// An established connection gets no reply while blackholed ...
	if err := old.ping(200 * time.Millisecond); !isTimeout(err) {
		t.Fatalf("ping on an established connection: got %v, want a timeout", err)
	}
	// ... and new connections work again after Pass.
	if err := n.SetFault(Pass); err != nil {
		t.Fatal(err)
	}
	if err := pingNew(n.Addr(), nil, 2*time.Second); err != nil {
		t.Fatalf("after pass: %v", err)
	}
}

func TestFaultHang(t *testing.T) {
	t.Parallel()
	n := plainCluster(t).Node(5)
	lockNode(t, n) // the reply-fault tests use node 5 too
	old, err := dialRaw(n.Addr(), nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	setFault(t, n, Hang)
	c, err := dialRaw(n.Addr(), nil, time.Second)
	if err != nil {
		t.Fatalf("connect in hang mode: %v (want it to succeed)", err)
	}
	defer c.Close()
	if err := c.ping(200 * time.Millisecond); !isTimeout(err) {
		t.Fatalf("ping on a new connection: got %v, want a timeout", err)
	}
	if err := old.ping(200 * time.Millisecond); !isTimeout(err) {
		t.Fatalf("ping on an established connection: got %v, want a timeout", err)
	}
	// Held data is delivered once the hang ends: the PING sent during it is answered.
	if err := n.SetFault(Pass); err != nil {
		t.Fatal(err)
	}
	old.SetDeadline(time.Now().Add(2 * time.Second))
	if v, err := old.rd.ReadValue(); err != nil || string(v.Str) != "PONG" {
		t.Fatalf("held reply after pass: %v %v", v, err)
	}
}

func TestFaultSlow(t *testing.T) {
	t.Parallel()
	n, c := lockedConn(t, 3)
	const delay = 100 * time.Millisecond
	setFault(t, n, Slow(delay))
	for range 3 {
		start := time.Now()
		if err := c.ping(2 * time.Second); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < delay || el > delay+150*time.Millisecond {
			t.Errorf("round trip in slow(%v): %v", delay, el)
		}
	}
	// Pipelined requests are delayed, not throttled: 20 PINGs in one write take about
	// one delay, not twenty.
	var buf []byte
	for range 20 {
		buf = resp.AppendCommandStrings(buf, "PING")
	}
	start := time.Now()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(buf); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := c.rd.ReadValue(); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el > 3*delay {
		t.Errorf("20 pipelined PINGs took %v in slow(%v)", el, delay)
	}
}

func TestFaultReset(t *testing.T) {
	t.Parallel()
	n := plainCluster(t).Node(4)
	lockNode(t, n)
	old, err := dialRaw(n.Addr(), nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := old.ping(time.Second); err != nil {
		t.Fatal(err)
	}
	setFault(t, n, Reset)
	if err := old.ping(time.Second); !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("established connection after reset: got %v, want connection reset", err)
	}
	err = pingNew(n.Addr(), nil, time.Second)
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("new connection in reset mode: got %v, want connection reset", err)
	}
}

func TestFaultTLSBad(t *testing.T) {
	t.Parallel()
	c := tlsCluster(t)
	n := c.Node(1)
	if err := pingNew(n.Addr(), c.TLSConfig(), 2*time.Second); err != nil {
		t.Fatalf("TLS ping through the proxy: %v", err)
	}
	setFault(t, n, TLSBad)
	start := time.Now()
	_, err := dialRaw(n.Addr(), c.TLSConfig(), 2*time.Second)
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		t.Fatalf("handshake in tls-bad mode: got %v, want x509.UnknownAuthorityError", err)
	}
	if !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("error %q does not name the certificate problem", err)
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Errorf("tls-bad handshake failure took %v", el)
	}
	// Plain Refuse/Blackhole work on TLS clusters too; tls-bad is refused on plain ones.
	if err := plainCluster(t).Node(0).SetFault(TLSBad); err == nil {
		t.Error("tls-bad accepted on a plain cluster")
	}
	if err := n.SetFault(Pass); err != nil {
		t.Fatal(err)
	}
	if err := pingNew(n.Addr(), c.TLSConfig(), 2*time.Second); err != nil {
		t.Fatalf("TLS ping after pass: %v", err)
	}
}

func TestProxyCounters(t *testing.T) {
	t.Parallel()
	n := plainCluster(t).Node(0)
	before := n.Proxy().Stats()
	if err := pingNew(n.Addr(), nil, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	after := n.Proxy().Stats()
	if after.Accepted < before.Accepted+1 {
		t.Errorf("accepted: %d -> %d", before.Accepted, after.Accepted)
	}
	if after.BytesIn < before.BytesIn+14 || after.BytesOut < before.BytesOut+7 {
		t.Errorf("bytes: in %d -> %d, out %d -> %d", before.BytesIn, after.BytesIn, before.BytesOut, after.BytesOut)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{Pass, Refuse, Blackhole, Hang, Reset, TLSBad, Slow(250 * time.Millisecond),
		CloseAfterRequest, Stall(time.Second), Dribble(3, 2*time.Millisecond), ResetMidReply(5)} {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if got, err := ParseMode("slow:20ms"); err != nil || got != Slow(20*time.Millisecond) {
		t.Errorf("slow:20ms: %v %v", got, err)
	}
	if got, err := ParseMode("dribble:1,1ms"); err != nil || got != Dribble(1, time.Millisecond) {
		t.Errorf("dribble:1,1ms: %v %v", got, err)
	}
	for _, bad := range []string{"", "slow", "slow(abc)", "slow(-1s)", "drop", "slow(1s", "stall(x)",
		"dribble(1)", "dribble(0,1ms)", "dribble(a,1ms)", "reset-mid-reply(-1)", "reset-mid-reply()", "nope(1)"} {
		if _, err := ParseMode(bad); err == nil {
			t.Errorf("ParseMode(%q) accepted", bad)
		}
	}
}

// nodeLocks lets parallel tests that fault the same node take turns.
var nodeLocks sync.Map // *Node -> *sync.Mutex

// lockNode holds n for the rest of the test.
// lockedConn locks node i of the plain cluster for the test (see lockNode) and opens a
// raw connection to its proxy, closed when the test ends.
func lockedConn(t *testing.T, i int) (*Node, *rawConn) {
	t.Helper()
	n := plainCluster(t).Node(i)
	lockNode(t, n)
	c, err := dialRaw(n.Addr(), nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return n, c
}

func lockNode(t *testing.T, n *Node) {
	mu, _ := nodeLocks.LoadOrStore(n, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	t.Cleanup(mu.(*sync.Mutex).Unlock)
}
