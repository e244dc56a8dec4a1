package redistest

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// failoverBound bounds a Sentinel failover in these tests: about 2 s on an idle
// machine (DownAfter 1 s, then the vote and the promotion), with room for a loaded one.
const failoverBound = 20 * time.Second

// askMaster asks the Sentinel at addr for the primary's address, on a new connection.
func askMaster(t *testing.T, addr, name string) string {
	t.Helper()
	v, err := doNew(addr, "", "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
	if err != nil || len(v.Elems) != 2 {
		t.Fatalf("GET-MASTER-ADDR-BY-NAME via %s: %v %v", addr, v, err)
	}
	return net.JoinHostPort(string(v.Elems[0].Str), string(v.Elems[1].Str))
}

// addrsIn returns the ip:port of each entry of a SENTINEL REPLICAS/SENTINELS reply.
func addrsIn(v resp.Value) []string {
	var out []string
	for _, e := range v.Elems {
		f := fields(e)
		out = append(out, net.JoinHostPort(f["ip"], f["port"]))
	}
	slices.Sort(out)
	return out
}

// TestSentinelSet runs one Sentinel set through discovery, the StaleMaster mode, proxy
// faults on a Sentinel and a replica, a SENTINEL FAILOVER, a SIGKILL failover with the old primary
// restarted, a SIGSTOP failover with a Sentinel down and a failover of a blackholed
// primary; then checks that Close
// leaves no process, file or goroutine behind.
func TestSentinelSet(t *testing.T) {
	NoGoroutineLeak(t)
	start := time.Now()
	s := RunSentinelSet(t, SentinelConfig{MasterName: "mymaster"})
	t.Logf("started in %v", time.Since(start))
	ctx := t.Context()
	name := s.MasterName()

	t.Run("discovery", func(t *testing.T) {
		if p, err := s.Primary(ctx); err != nil || p != s.Node(0) {
			t.Fatalf("Primary = %v, %v; want %v", p, err, s.Node(0))
		}
		// Through every Sentinel's proxy, every address handed out is a proxy's.
		for i, a := range s.SentinelAddrs() {
			if got := askMaster(t, a, name); got != s.Node(0).Addr() {
				t.Fatalf("Sentinel %d reports %s, want %s", i, got, s.Node(0).Addr())
			}
		}
		v, err := doNew(s.SentinelAddrs()[0], "", "SENTINEL", "REPLICAS", name)
		if want := slices.Sorted(slices.Values(s.Addrs()[1:])); err != nil || !slices.Equal(addrsIn(v), want) {
			t.Fatalf("SENTINEL REPLICAS: %v %v, want %v", addrsIn(v), err, want)
		}
		v, err = doNew(s.SentinelAddrs()[0], "", "SENTINEL", "SENTINELS", name)
		if want := slices.Sorted(slices.Values(s.SentinelAddrs()[1:])); err != nil || !slices.Equal(addrsIn(v), want) {
			t.Fatalf("SENTINEL SENTINELS: %v %v, want %v", addrsIn(v), err, want)
		}
		if _, err := doNew(s.Node(0).Addr(), "", "SET", "k", "v"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("stale-master", func(t *testing.T) {
		stale := s.Node(2).Addr()
		m := StaleMaster(stale)
		if got, err := ParseMode(m.String()); err != nil || got != m || m.Addr() != stale {
			t.Fatalf("ParseMode(%q) = %v, %v", m, got, err)
		}
		// A connection made before the switch is closed by it.
		before, err := dialRaw(s.SentinelAddrs()[1], nil, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer before.Close()
		if _, err := before.do(2*time.Second, "PING"); err != nil { // accepted by the proxy in Pass
			t.Fatal(err)
		}
		setFault(t, s.Sentinel(1), m)
		if _, err := before.do(2*time.Second, "PING"); err == nil {
			t.Fatal("a connection from before the switch still answers")
		}
		if got := askMaster(t, s.SentinelAddrs()[1], name); got != stale {
			t.Fatalf("the stale Sentinel reports %s, want %s", got, stale)
		}
		if got, err := s.SentinelView(ctx, 1); err != nil || got != s.Node(0).Addr() {
			t.Fatalf("asked directly, the Sentinel reports %s (%v), want the real primary", got, err)
		}
		if got := askMaster(t, s.SentinelAddrs()[0], name); got != s.Node(0).Addr() {
			t.Fatalf("another Sentinel reports %s", got)
		}
		c, err := dialRaw(s.SentinelAddrs()[1], nil, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Other commands pass, in RESP3 too; SENTINEL MASTER carries the stale address.
		if v, err := c.do(2*time.Second, "HELLO", "3"); err != nil || v.Type != resp.TypeMap {
			t.Fatalf("HELLO 3: %v %v", v, err)
		}
		v, err := c.do(2*time.Second, "SENTINEL", "MASTER", name)
		if f := fields(v); err != nil || v.Type != resp.TypeMap || net.JoinHostPort(f["ip"], f["port"]) != stale || f["name"] != name {
			t.Fatalf("SENTINEL MASTER in RESP3: %v %v", v, err)
		}
		if v, err := c.do(2*time.Second, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name); err != nil || len(v.Elems) != 2 || string(v.Elems[1].Str) != stale[strings.LastIndex(stale, ":")+1:] {
			t.Fatalf("GET-MASTER-ADDR-BY-NAME in RESP3: %v %v", v, err)
		}
		// A subscription passes (its +switch-master messages would be dropped).
		if v, err := c.do(2*time.Second, "SUBSCRIBE", "+switch-master"); err != nil || len(v.Elems) != 3 {
			t.Fatalf("SUBSCRIBE: %v %v", v, err)
		}
		if err := s.Sentinel(1).SetFault(Pass); err != nil {
			t.Fatal(err)
		}
		if got := askMaster(t, s.SentinelAddrs()[1], name); got != s.Node(0).Addr() {
			t.Fatalf("back to Pass, the Sentinel reports %s", got)
		}
	})

	t.Run("faults", func(t *testing.T) {
		sn := s.Sentinel(2)
		setFault(t, sn, Refuse)
		if _, err := dialRaw(sn.Addr(), nil, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial a refusing Sentinel: %v", err)
		}
		if err := sn.SetFault(Blackhole); err != nil {
			t.Fatal(err)
		}
		var ne net.Error
		if _, err := dialRaw(sn.Addr(), nil, 200*time.Millisecond); !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("dial a blackholed Sentinel: %v", err)
		}
		for _, n := range []*Node{sn, s.Node(1)} {
			if err := n.SetFault(Hang); err != nil {
				t.Fatal(err)
			}
			if err := pingNew(n.Addr(), nil, 200*time.Millisecond); !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("PING a hung %v: %v", n, err)
			}
			if err := n.SetFault(Pass); err != nil {
				t.Fatal(err)
			}
			if err := pingNew(n.Addr(), nil, 2*time.Second); err != nil {
				t.Fatalf("PING %v after the fault: %v", n, err)
			}
		}
		if err := s.Node(1).SetFault(TLSBad); err == nil {
			t.Fatal("tls-bad accepted on a plain set")
		}
		if err := s.WaitHealthy(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("sentinel-failover", func(t *testing.T) {
		old, err := s.Primary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		p, err := s.Failover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p == old {
			t.Fatalf("Failover returned the old primary %v", old)
		}
		if role, err := old.Role(ctx); err != nil || role != "slave" {
			t.Fatalf("after SENTINEL FAILOVER the old primary is a %q (%v)", role, err)
		}
		t.Logf("SENTINEL FAILOVER: %v → %v, settled in %v", old, p, time.Since(begin))
	})

	t.Run("kill-primary", func(t *testing.T) {
		old, err := s.Primary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := old.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		wctx, cancel := context.WithTimeout(ctx, failoverBound)
		defer cancel()
		p, err := s.WaitForFailover(wctx, old)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v promoted %v after SIGKILL of %v", p, time.Since(killed), old)
		for i, a := range s.SentinelAddrs() {
			if got := askMaster(t, a, name); got != p.Addr() {
				t.Fatalf("Sentinel %d reports %s, want %s", i, got, p.Addr())
			}
		}
		if err := old.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		restarted := time.Now()
		if err := s.WaitHealthy(ctx); err != nil {
			t.Fatal(err)
		}
		if role, err := old.Role(ctx); err != nil || role != "slave" {
			t.Fatalf("the old primary restarted as a %q (%v)", role, err)
		}
		t.Logf("%v rejoined as a replica %v after its restart", old, time.Since(restarted))
	})

	t.Run("pause-primary-sentinel-down", func(t *testing.T) {
		old, err := s.Primary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		down := s.Sentinel(0)
		if err := down.Kill(); err != nil {
			t.Fatal(err)
		}
		if err := old.Pause(); err != nil {
			t.Fatal(err)
		}
		paused := time.Now()
		wctx, cancel := context.WithTimeout(ctx, failoverBound)
		defer cancel()
		p, err := s.WaitForFailover(wctx, old)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v promoted %v after SIGSTOP of %v, with %v down", p, time.Since(paused), old, down)
		if err := old.Resume(); err != nil {
			t.Fatal(err)
		}
		// The restarted Sentinel missed the failover: it learns it from the others.
		if err := down.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitHealthy(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := s.SentinelView(ctx, 0); err != nil || got != p.Addr() {
			t.Fatalf("the restarted Sentinel reports %s (%v), want %s", got, err, p.Addr())
		}
	})

	t.Run("partition-primary", func(t *testing.T) {
		// The Sentinels reach the primary through its proxy: a blackhole there longer
		// than DownAfter is a partition, failed over; healed, the old primary (still
		// running, still a master) is turned into a replica by the Sentinels.
		old, err := s.Primary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		setFault(t, old, Blackhole)
		cut := time.Now()
		wctx, cancel := context.WithTimeout(ctx, failoverBound)
		defer cancel()
		p, err := s.WaitForFailover(wctx, old)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v promoted %v after %v was blackholed", p, time.Since(cut), old)
		if err := old.SetFault(Pass); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitHealthy(ctx); err != nil {
			t.Fatal(err)
		}
		if role, err := old.Role(ctx); err != nil || role != "slave" {
			t.Fatalf("the healed old primary is a %q (%v)", role, err)
		}
	})

	pids, dir := s.PIDs(), s.Dir()
	if len(pids) != 6 {
		t.Fatalf("PIDs %v, want 6", pids)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := checkGone(pids, dir); err != nil {
		t.Fatal(err)
	}
}

func TestSentinelConfigErrors(t *testing.T) {
	for _, c := range []SentinelConfig{
		{Replicas: -1}, {Replicas: 6}, {Sentinels: 8}, {Sentinels: 3, Quorum: 4},
		{DownAfter: time.Millisecond}, {FailoverTimeout: time.Millisecond},
	} {
		if s, err := StartSentinelSet(t.Context(), c); err == nil {
			s.Close()
			t.Errorf("StartSentinelSet(%+v) started", c)
		}
	}
}

// TestSentinelSetTLSPasswords starts a TLS set whose Sentinels have a password of their
// own: the Sentinels reach the data nodes (TLS, auth-pass) and each other, and hand out
// the proxies' addresses; tls-bad works on a Sentinel's proxy, StaleMaster is refused.
func TestSentinelSetTLSPasswords(t *testing.T) {
	s := RunSentinelSet(t, SentinelConfig{Replicas: 1, TLS: true, Password: "data-pw", SentinelPassword: "sentinel-pw"})
	dial := func(addr, password string) *rawConn {
		t.Helper()
		c, err := dialRaw(addr, s.TLSConfig(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.do(2*time.Second, "AUTH", password); err != nil {
			t.Fatalf("AUTH at %s: %v", addr, err)
		}
		return c
	}
	sc := dial(s.SentinelAddrs()[0], s.SentinelPassword())
	v, err := sc.do(2*time.Second, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.MasterName())
	if err != nil || len(v.Elems) != 2 || net.JoinHostPort(string(v.Elems[0].Str), string(v.Elems[1].Str)) != s.Node(0).Addr() {
		t.Fatalf("GET-MASTER-ADDR-BY-NAME: %v %v", v, err)
	}
	if _, err := dial(s.Node(0).Addr(), s.Password()).do(2*time.Second, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if _, err := dialRaw(s.SentinelAddrs()[0], s.TLSConfig(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	setFault(t, s.Sentinel(1), TLSBad)
	if _, err := dialRaw(s.SentinelAddrs()[1], s.TLSConfig(), 2*time.Second); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("TLS handshake with a tls-bad Sentinel: %v", err)
	}
	if err := s.Sentinel(1).SetFault(StaleMaster(s.Node(1).Addr())); err == nil {
		t.Fatal("StaleMaster accepted on a TLS set")
	}
}
