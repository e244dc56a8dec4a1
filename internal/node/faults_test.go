package node

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/conn"
	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/redistest"
)

// The fault-mode tests share one 4-master TLS cluster (TLS so that tls-bad applies; the
// other modes behave the same with or without TLS). Each test takes a node of its own
// for its duration and restores it.
var nodeLocks [4]sync.Mutex

// TestMain runs the tests and stops the shared cluster.
func TestMain(m *testing.M) { redistest.Main(m) }

// faultNode returns cluster node i, held by this test until it ends, with its fault
// cleared and the process running again afterwards.
func faultNode(t testing.TB, i int) (*redistest.Cluster, *redistest.Node) {
	t.Helper()
	c := redistest.Shared(t, "tls", redistest.Config{Masters: 4, TLS: true})
	nodeLocks[i].Lock()
	n := c.Node(i)
	t.Cleanup(func() {
		defer nodeLocks[i].Unlock()
		if err := n.SetFault(redistest.Pass); err != nil {
			t.Errorf("restore: %v", err)
		}
		if !n.Running() {
			if err := n.Restart(context.Background()); err != nil { // bounded by redistest.DefaultWait
				t.Errorf("restart: %v", err)
			}
		}
	})
	return c, n
}

// testOptions are node options with short timeouts, so faults resolve quickly.
func testOptions(c *redistest.Cluster) Options {
	return Options{
		Conn:        conn.Options{TLS: c.TLSConfig(), ReplyTimeout: 500 * time.Millisecond},
		DialTimeout: 300 * time.Millisecond,
		BackoffBase: 20 * time.Millisecond,
		BackoffMax:  100 * time.Millisecond,
	}
}

const callDeadline = 100 * time.Millisecond

// call runs PING with a 100ms deadline and returns how long it took.
func call(n *Node) (time.Duration, error) {
	start := time.Now() // before the context: its deadline is start+100ms or earlier
	ctx, cancel := context.WithTimeout(context.Background(), callDeadline)
	defer cancel()
	_, err := n.Do(ctx, "PING")
	return time.Since(start), err
}

// expectDeadline checks a call ended at its deadline (not before, at most 50ms after)
// with an error that satisfies DeadlineExceeded and names the node.
func expectDeadline(t *testing.T, n *Node, el time.Duration, err error, phase rerr.Phase) {
	t.Helper()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Addr != n.Addr() || ne.Phase != phase {
		t.Fatalf("error %v: want node %s in phase %s", err, n.Addr(), phase)
	}
	if el < callDeadline || el > callDeadline+50*time.Millisecond {
		t.Errorf("returned after %v with a %v deadline", el, callDeadline)
	}
}

// expectFastFail checks a call failed in under 5ms with the node's cause.
func expectFastFail(t *testing.T, n *Node, want func(error) bool) {
	t.Helper()
	el, err := call(n)
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || !ne.Down || !want(err) {
		t.Fatalf("got %v, want a fast failure with the cause", err)
	}
	if el > 5*time.Millisecond {
		t.Errorf("fast failure took %v", el)
	}
}

// expectRecovery waits (bounded) for the node to answer again by itself.
func expectRecovery(t *testing.T, n *Node) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := call(n)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node did not recover after the fault cleared: %v (%+v)", err, n.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFaultRefuse(t *testing.T) {
	t.Parallel()
	c, rn := faultNode(t, 0)
	n := New(rn.Addr(), testOptions(c))
	defer n.Close()
	rn.SetFault(redistest.Refuse)
	el, err := call(n)
	if !errors.Is(err, syscall.ECONNREFUSED) || el >= callDeadline {
		t.Fatalf("refused: %v after %v, want connection refused before the deadline", err, el)
	}
	expectFastFail(t, n, func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) })
	rn.SetFault(redistest.Pass)
	expectRecovery(t, n)
}

func TestFaultTLSBad(t *testing.T) {
	t.Parallel()
	c, rn := faultNode(t, 1)
	n := New(rn.Addr(), testOptions(c))
	defer n.Close()
	rn.SetFault(redistest.TLSBad)
	isX509 := func(err error) bool {
		var ua x509.UnknownAuthorityError
		return errors.As(err, &ua) && strings.Contains(err.Error(), "x509: certificate signed by unknown authority")
	}
	el, err := call(n)
	var ne *rerr.NodeError
	if !isX509(err) || !errors.As(err, &ne) || ne.Phase != rerr.PhaseTLS || el >= callDeadline {
		t.Fatalf("tls-bad: %v after %v, want the x509 error in phase tls, before the deadline", err, el)
	}
	expectFastFail(t, n, isX509)
	rn.SetFault(redistest.Pass)
	expectRecovery(t, n)
}

func TestFaultBlackhole(t *testing.T) {
	t.Parallel()
	c, rn := faultNode(t, 1)
	n := New(rn.Addr(), testOptions(c))
	defer n.Close()
	rn.SetFault(redistest.Blackhole)
	// 1000 concurrent callers: one dial in flight, each leaves at its own deadline.
	var wg sync.WaitGroup
	var maxInFlight int
	var mu sync.Mutex
	errs := make([]error, 1000)
	els := make([]time.Duration, 1000)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			els[i], errs[i] = call(n)
			mu.Lock()
			maxInFlight = max(maxInFlight, n.DialsInFlight())
			mu.Unlock()
		}()
	}
	wg.Wait()
	if d := n.Stats().Dials; d > 1 {
		t.Errorf("%d dials started for 1000 callers, want 1", d)
	}
	slow := 0
	window := 50 * time.Millisecond // scheduling 1000 goroutines on 2 cores
	if raceEnabled {
		window = 300 * time.Millisecond
	}
	for i, err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, rerr.ErrConnecting) {
			t.Fatalf("caller %d: %v", i, err)
		}
		if els[i] < callDeadline || els[i] > callDeadline+window {
			if slow < 5 {
				t.Logf("caller %d: %v", i, els[i])
			}
			slow++
		}
	}
	// 1000 goroutines on 2 cores: allow a few stragglers in scheduling, not in design.
	if slow > 20 {
		t.Errorf("%d of 1000 callers outside [%v, %v]", slow, callDeadline, callDeadline+window)
	}
	// The attempt ends at DialTimeout with an i/o timeout; then calls fail fast.
	redistest.Eventually(t, 10*time.Second, func() bool { return n.State() == StateDown },
		"not down after a black-holed dial began: %v", n.State())
	expectFastFail(t, n, func(err error) bool { return rerr.IsTimeout(err) && strings.Contains(err.Error(), "dial") })
	rn.SetFault(redistest.Pass)
	expectRecovery(t, n)
}

func TestFaultHang(t *testing.T) {
	t.Parallel()
	c, rn := faultNode(t, 2)
	n := New(rn.Addr(), testOptions(c))
	defer n.Close()
	if _, err := call(n); err != nil {
		t.Fatal(err)
	}
	rn.SetFault(redistest.Hang)
	el, err := call(n)
	expectDeadline(t, n, el, err, rerr.PhaseRead)
	if !errors.Is(err, rerr.ErrNoReply) {
		t.Errorf("cause %v, want no reply", err)
	}
	// After ReplyTimeout the connection is declared dead and the node goes down.
	redistest.Eventually(t, 3*time.Second, func() bool { return n.State() == StateDown }, "not down after ReplyTimeout")
	expectFastFail(t, n, func(err error) bool { return conn.IsOverdue(err) || rerr.IsTimeout(err) })
	rn.SetFault(redistest.Pass)
	expectRecovery(t, n)
}

func TestFaultSlow(t *testing.T) {
	t.Parallel()
	c, rn := faultNode(t, 3)
	n := New(rn.Addr(), testOptions(c))
	defer n.Close()
	if _, err := call(n); err != nil {
		t.Fatal(err)
	}
	rn.SetFault(redistest.Slow(200 * time.Millisecond))
	el, err := call(n)
	expectDeadline(t, n, el, err, rerr.PhaseRead)
	// A deadline longer than the delay succeeds.
	ctx := ctxT(t, time.Second)
	start := time.Now()
	if _, err := n.Do(ctx, "PING"); err != nil {
		t.Fatalf("PING with 1s deadline on slow(200ms): %v", err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Errorf("slow PING took only %v", el)
	}
	rn.SetFault(redistest.Pass)
	expectRecovery(t, n)
}

func TestFaultReset(t *testing.T) {
	t.Parallel()
	c, rn := faultNode(t, 0)
	n := New(rn.Addr(), testOptions(c))
	defer n.Close()
	if _, err := call(n); err != nil {
		t.Fatal(err)
	}
	rn.SetFault(redistest.Reset)
	// The established connection is reset: the node redials, which is reset in the
	// handshake: down, with the reset as the cause.
	redistest.Eventually(t, 3*time.Second, func() bool { call(n); return n.State() == StateDown }, "not down after the reset")
	expectFastFail(t, n, func(err error) bool {
		return errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "EOF")
	})
	rn.SetFault(redistest.Pass)
	expectRecovery(t, n)
}

func TestFaultKill(t *testing.T) {
	t.Parallel()
	c, rn := faultNode(t, 2)
	n := New(rn.Addr(), testOptions(c))
	defer n.Close()
	if _, err := call(n); err != nil {
		t.Fatal(err)
	}
	if err := rn.Kill(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := call(n)
	if err == nil || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("call to a killed node: %v after %v, want a failure at once", err, time.Since(start))
	}
	var ne *rerr.NodeError
	if !errors.As(err, &ne) || ne.Addr != n.Addr() {
		t.Fatalf("error %v does not name the node", err)
	}
	redistest.Eventually(t, 3*time.Second, func() bool { call(n); return n.State() == StateDown }, "not down after the kill")
	expectFastFail(t, n, func(error) bool { return true })
	if err := rn.Restart(ctxT(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	expectRecovery(t, n)
}

func TestStatsAfterFailure(t *testing.T) {
	t.Parallel()
	c, rn := faultNode(t, 3)
	n := New(rn.Addr(), testOptions(c))
	defer n.Close()
	rn.SetFault(redistest.Refuse)
	call(n)
	st := n.Stats()
	if st.State != StateDown || st.DialFailures != 1 || st.LastError == nil || st.NextRetry.IsZero() {
		t.Fatalf("stats after a refused dial: %+v", st)
	}
	rn.SetFault(redistest.Pass)
	expectRecovery(t, n)
	st = n.Stats()
	if st.State != StateUp || st.Conns != 1 || st.Latency <= 0 {
		t.Fatalf("stats after recovery: %+v", st)
	}
	fmt.Fprint(new(strings.Builder), st)
}
