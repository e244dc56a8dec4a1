package redline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// Regression tests from the review of Sentinel support on real servers (issue 19).

// startReviewSentinels is startSentinels (sentinel_real_test.go) that also returns the
// Sentinels, to pause them (SIGSTOP: a hung Sentinel). redistest resumes paused ones
// and stops everything when the test ends.
func startReviewSentinels(t *testing.T) (*sentinelSet, []*redistest.Node) {
	t.Helper()
	s := startSentinels(t)
	return s, s.set.Sentinels()
}

// noClientGoroutineLeak is redistest.NoGoroutineLeak counting only goroutines that
// are not the harness's: the fault proxies keep goroutines for connections the client
// closed until the stopped Sentinel's side ends (a client that changes Sentinels on a
// hung one, as the subscription's PING makes it, leaves several), and start new ones
// as the Sentinels reconnect to each other. Call it before creating the client.
func noClientGoroutineLeak(t *testing.T) {
	before := len(clientGoroutines())
	t.Cleanup(func() {
		var now []string
		for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(20 * time.Millisecond) {
			if now = clientGoroutines(); len(now) <= before {
				return
			}
		}
		t.Errorf("%d goroutines (not the harness's) 5s after the test, %d before:\n%s", len(now), before, strings.Join(now, "\n\n"))
	})
}

// clientGoroutines returns the stacks of the goroutines whose stack names no redistest
// function.
func clientGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "redline/redistest.") {
			out = append(out, g)
		}
	}
	return out
}

// awaitNewPrimary returns a channel that receives the time a Sentinel first names a
// primary other than old (polled every 5ms until ctx ends).
func awaitNewPrimary(ctx context.Context, sentinel, old string) <-chan time.Time {
	named := make(chan time.Time, 1)
	go func() {
		for ctx.Err() == nil {
			if a := reviewSentinelMaster(ctx, sentinel); a != "" && a != old {
				named <- time.Now()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return named
}

// The primary paused (SIGSTOP) with the default Options — DialTimeout 2s,
// CommandTimeout 5s — and callers bounding each write with their own 300ms context,
// as services do. Writes should resume within 1s of a Sentinel naming the promoted
// replica (issue 19: "writes resume ≤ 1 s after the promotion"). h-std's own test sets
// DialTimeout = CommandTimeout = 300ms, which hides this: the Sentinel loop's ROLE check
// of the paused primary holds it for up to DialTimeout + CommandTimeout.
func TestSentinelRealPauseDefaults(t *testing.T) {
	s, _ := startReviewSentinels(t)
	ctx := t.Context()
	c, err := NewClient(ctx, s.options(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	old := c.PrimaryAddrs()[0]
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	named := awaitNewPrimary(pctx, s.addrs[1], old)
	if err := s.primary.Pause(); err != nil {
		t.Fatal(err)
	}
	lost := time.Now()
	const timeout = 300 * time.Millisecond
	var promoted time.Time
	var failed int
	var lastErr error
	for time.Since(lost) < 40*time.Second {
		select {
		case promoted = <-named:
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		start := time.Now()
		err := c.Set(cctx, "rp:k", "v", nil)
		el := time.Since(start)
		cancel()
		if el > timeout+100*time.Millisecond {
			t.Errorf("a write took %v: %v", el, err)
		}
		if err == nil && c.PrimaryAddrs()[0] != old {
			if promoted.IsZero() {
				select {
				case promoted = <-named:
				case <-time.After(time.Second):
				}
			}
			gap := time.Since(promoted)
			t.Logf("FIGURE review sentinel-pause, default Options, 300ms per call: writes resumed %v after the pause, %v after a Sentinel named %s; %d writes failed (last: %v)",
				time.Since(lost).Round(time.Millisecond), gap.Round(time.Millisecond), c.PrimaryAddrs()[0], failed, lastErr)
			if gap > time.Second {
				t.Errorf("writes resumed %v after the promotion, want within 1s", gap.Round(time.Millisecond))
			}
			return
		}
		failed++
		lastErr = err
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("writes did not resume within 40s (last error %v)", lastErr)
}

// Two of three Sentinels hung (SIGSTOP), NewClient given 2s (CommandTimeout the
// default 5s). The third Sentinel names the primary, whose ROLE confirms it; the
// documented rule ("waits for a majority of them (or for all that answer in time)")
// lets discovery go on. Then Close while the Sentinels stay hung leaves no goroutine.
func TestSentinelRealMajorityHung(t *testing.T) {
	s, procs := startReviewSentinels(t)
	ctx := t.Context()
	for _, p := range procs[1:] {
		if err := p.Pause(); err != nil {
			t.Fatal(err)
		}
	}
	noClientGoroutineLeak(t)
	nctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	c, err := NewClient(nctx, s.options(Options{}))
	el := time.Since(start)
	if err == nil {
		c.Close()
	} else {
		t.Errorf("NewClient (2s) with one Sentinel of three answering failed after %v: %v", el.Round(time.Millisecond), err)
	}
	// A longer NewClient works (after CommandTimeout); Close with the Sentinels hung.
	c, err = NewClient(ctx, s.options(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "rm:k", "v", nil); err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// A coordinated failover (SENTINEL FAILOVER on Sentinel 1) under a stream of INCRs
// (one every 20ms), with the Sentinel holding the client's +switch-master subscription
// (Sentinel 0) hung or not, written with Do or DoMulti. Sentinel demotes the old
// primary some time after promoting the new one; until then the old one still accepts
// writes, which are lost when it is demoted. Counted: INCRs acknowledged by the old
// primary after a Sentinel named the new one, and INCRs acknowledged in all minus the
// counter's final value on the new primary (lost; most of them, in the healthy case,
// acknowledged before the Sentinels named the new primary: not the client's doing).
//
// With the subscription's Sentinel hung (its connection open and silent), the
// subscription's PING fails within about a second and the Sentinels are asked (then
// polled every second until a subscription is up again); DoMulti, like Do, asks them
// on READONLY.
func TestSentinelRealFailoverWrites(t *testing.T) {
	for _, tc := range []struct {
		name        string
		hung, multi bool
	}{{"do", false, false}, {"domulti", false, true}, {"do-subscription-hung", true, false}, {"domulti-subscription-hung", true, true}} {
		t.Run(tc.name, func(t *testing.T) { reviewFailoverWrites(t, tc.hung, tc.multi) })
	}
}

func reviewFailoverWrites(t *testing.T, hung, multi bool) {
	s, procs := startReviewSentinels(t)
	ctx := t.Context()
	const timeout = 300 * time.Millisecond
	c, err := NewClient(ctx, s.options(Options{CommandTimeout: timeout, DialTimeout: timeout}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	old := c.PrimaryAddrs()[0]
	incr := func() error {
		if multi {
			return c.DoMulti(ctx, Cmd("INCR", "rd:n"))[0].Err()
		}
		return c.Do(ctx, "INCR", "rd:n").Err()
	}
	if err := incr(); err != nil {
		t.Fatal(err)
	}
	acked := 1
	for range 20 {
		if err := incr(); err != nil {
			t.Fatal(err)
		}
		acked++
	}
	if err := c.Do(ctx, "WAIT", 2, 2000).Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.set.Nodes()[1:] {
		v, err := r.Do(ctx, "GET", "rd:n")
		t.Logf("before the failover: replica %s has rd:n = %s (%v), %d acknowledged", r.Addr(), v.Str, err, acked)
	}
	if hung {
		if err := procs[0].Pause(); err != nil { // the subscription's
			t.Fatal(err)
		}
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	named := awaitNewPrimary(pctx, s.addrs[1], old)
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := reviewSentinelDo(fctx, s.addrs[1], "SENTINEL FAILOVER mymaster"); err != nil {
		t.Fatal(err)
	}
	var promoted, moved time.Time
	var onOld, failed int
	var lastErr error
	for start := time.Now(); time.Since(start) < 25*time.Second; time.Sleep(20 * time.Millisecond) {
		select {
		case promoted = <-named:
		default:
		}
		err := incr()
		if err != nil {
			failed++
			lastErr = err
			continue
		}
		acked++
		if c.PrimaryAddrs()[0] == old {
			if !promoted.IsZero() {
				onOld++
			}
			continue
		}
		if promoted.IsZero() {
			promoted = <-named
		}
		moved = time.Now()
		break
	}
	if moved.IsZero() {
		t.Fatalf("writes did not move off %s within 25s (%d acknowledged by it after the promotion; last error %v)", old, onOld, lastErr)
	}
	// The final count, once the old primary is a replica again.
	redistest.Eventually(t, 30*time.Second, func() bool {
		r, err := s.primary.Role(ctx)
		return err == nil && r == "slave"
	}, "the old primary to be demoted")
	n, err := c.Do(ctx, "GET", "rd:n").Int64()
	if err != nil {
		t.Fatal(err)
	}
	lost := int64(acked) - n
	t.Logf("FIGURE review failover hung=%v multi=%v: writes moved %v after the promotion; %d INCRs acknowledged by the old primary after it; %d failed (last %v); %d acknowledged, counter %d: %d acknowledged writes lost",
		hung, multi, moved.Sub(promoted).Round(time.Millisecond), onOld, failed, lastErr, acked, n, lost)
	// Writes acknowledged between the replica's promotion and the Sentinels naming it
	// are lost whatever the client does (asynchronous replication; none was confirmed
	// by WAIT): only the time the client keeps writing to the old primary after a
	// Sentinel names the new one is the client's.
	if gap := moved.Sub(promoted); gap > time.Second {
		t.Errorf("writes moved %v after the promotion, want within 1s", gap.Round(time.Millisecond))
	}
}

// Every Sentinel hung (SIGSTOP) and the primary killed: nothing can name a new
// primary, but every call still returns by its deadline, fails fast once the primary
// is known down, and names the primary; Close leaves no goroutine (the Sentinel loop
// and the subscription are waiting on hung Sentinels).
func TestSentinelRealAllHungPrimaryKilled(t *testing.T) {
	s, procs := startReviewSentinels(t)
	ctx := t.Context()
	noClientGoroutineLeak(t)
	const timeout = 300 * time.Millisecond
	c, err := NewClient(ctx, s.options(Options{CommandTimeout: timeout, DialTimeout: timeout}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	old := c.PrimaryAddrs()[0]
	for _, p := range procs {
		if err := p.Pause(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.primary.Kill(); err != nil {
		t.Fatal(err)
	}
	var fast, slow int
	for i := range 40 {
		start := time.Now()
		err := c.Set(ctx, "ra:k", "v", nil)
		el := time.Since(start)
		if el > timeout+50*time.Millisecond {
			t.Errorf("write %d took %v: %v", i, el, err)
		}
		var ne *NodeError
		if err == nil || !errors.As(err, &ne) || ne.Addr != old {
			t.Errorf("write %d: %v (want a NodeError naming %s)", i, err, old)
		}
		if el < 5*time.Millisecond {
			fast++
		} else {
			slow++
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("FIGURE review all Sentinels hung, primary killed: %d of 40 writes failed in under 5ms, %d slower", fast, slow)
	if fast < 30 {
		t.Errorf("only %d of 40 writes failed fast", fast)
	}
}

// Through a coordinated failover: a BLPOP blocked on the old primary (8s), and a
// subscription made before it. The BLPOP should return by its deadline with a value,
// nil, or an error naming the old primary; a message published after the client moved
// reaches the subscription within 2s (the subscription follows the primary the
// Sentinels name, not waiting for the old one's demotion).
func TestSentinelRealBlockingAndPubSubFailover(t *testing.T) {
	s, _ := startReviewSentinels(t)
	ctx := t.Context()
	c, err := NewClient(ctx, s.options(Options{CommandTimeout: 2 * time.Second, DialTimeout: 300 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	old := c.PrimaryAddrs()[0]
	sub, err := c.Subscribe(ctx, "rb:ch")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	type popped struct {
		err error
		el  time.Duration
	}
	pop := make(chan popped, 1)
	go func() {
		start := time.Now()
		_, _, err := c.BLPop(ctx, 8*time.Second, "rb:l")
		pop <- popped{err, time.Since(start)}
	}()
	time.Sleep(200 * time.Millisecond) // the pop blocked (a bound, not a sync: only delays the failover)
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := reviewSentinelDo(fctx, s.addrs[1], "SENTINEL FAILOVER mymaster"); err != nil {
		t.Fatal(err)
	}
	var p popped
	select {
	case p = <-pop:
	case <-time.After(12 * time.Second):
		t.Fatal("BLPop (8s) did not return within 12s")
	}
	t.Logf("BLPop returned after %v: %v", p.el.Round(time.Millisecond), p.err)
	// The Sentinels demote the old primary with CLIENT KILL TYPE normal: the BLPOP's
	// connection is then cut (its reply lost: the client cannot know nothing was
	// popped), and the error must name the old primary.
	var ne *NodeError
	if p.err != nil && !errors.Is(p.err, Nil) && !(errors.As(p.err, &ne) && ne.Addr == old) {
		t.Errorf("BLPop through a failover: %v", p.err)
	}
	redistest.Eventually(t, 30*time.Second, func() bool {
		return c.Set(ctx, "rb:k", "v", nil) == nil && c.PrimaryAddrs()[0] != old
	}, "writes to move to the new primary")
	// Publish every 50ms (through the client: to the new primary) until one arrives.
	moved := time.Now()
	var demoted time.Time
	sent := 0
	for time.Since(moved) < 20*time.Second {
		if demoted.IsZero() {
			if r, err := s.primary.Role(ctx); err == nil && r == "slave" {
				demoted = time.Now()
			}
		}
		if err := c.Do(ctx, "PUBLISH", "rb:ch", "after").Err(); err != nil {
			t.Fatal(err)
		}
		sent++
		select {
		case m := <-sub.Messages():
			if m.Kind == KindGap {
				t.Logf("gap: %v", m.Err)
				continue
			}
			el := time.Since(moved)
			t.Logf("FIGURE review pub/sub through a Sentinel failover: the first message published after writes moved arrived %v later (%d published before it; the old primary demoted %v after the move)",
				el.Round(time.Millisecond), sent-1, demoted.Sub(moved).Round(time.Millisecond))
			if el > 2*time.Second {
				t.Errorf("messages published on the new primary were lost for %v (the subscription stayed on the old primary; the gap was reported only when the old primary dropped it at its demotion)", el.Round(time.Millisecond))
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no message published on the new primary reached the subscription within 20s")
}

// The review's own small Sentinel helpers (h-std's change signature as it grows):
// one inline command over a fresh connection, bounded by ctx and one second.

// reviewSentinelLine sends cmd to the Sentinel at addr and returns its connection,
// positioned at the reply (the caller closes it).
func reviewSentinelLine(ctx context.Context, addr, cmd string) (net.Conn, error) {
	d := net.Dialer{Timeout: time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write([]byte(cmd + "\r\n")); err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

// reviewSentinelCount is how many REPLICAS (or other SENTINELS) of mymaster the
// Sentinel at addr knows (-1 when it does not answer).
func reviewSentinelCount(ctx context.Context, addr, what string) int {
	nc, err := reviewSentinelLine(ctx, addr, "SENTINEL "+what+" mymaster")
	if err != nil {
		return -1
	}
	defer nc.Close()
	var n int
	if _, err := fmt.Fscanf(nc, "*%d\r\n", &n); err != nil {
		return -1
	}
	return n
}

// reviewSentinelMaster is mymaster's address as the Sentinel at addr names it ("" on
// failure).
func reviewSentinelMaster(ctx context.Context, addr string) string {
	nc, err := reviewSentinelLine(ctx, addr, "SENTINEL GET-MASTER-ADDR-BY-NAME mymaster")
	if err != nil {
		return ""
	}
	defer nc.Close()
	var host, port string
	var n, hl, pl int
	if _, err := fmt.Fscanf(nc, "*%d\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", &n, &hl, &host, &pl, &port); err != nil || n != 2 {
		return ""
	}
	return net.JoinHostPort(host, port)
}

// reviewSentinelDo sends cmd to the Sentinel at addr and fails on an error reply.
func reviewSentinelDo(ctx context.Context, addr, cmd string) error {
	nc, err := reviewSentinelLine(ctx, addr, cmd)
	if err != nil {
		return err
	}
	defer nc.Close()
	buf := make([]byte, 512)
	n, err := nc.Read(buf)
	if err != nil {
		return err
	}
	if buf[0] == '-' {
		return errors.New(string(buf[:n]))
	}
	return nil
}
