package redline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// Sentinel on real servers: a primary with two replicas and three Sentinels
// monitoring it as "mymaster" (quorum 2), every process behind a fault proxy
// (redistest.SentinelSet).

// sentinelSet is the set, its first primary and the Sentinels' addresses.
type sentinelSet struct {
	set     *redistest.SentinelSet
	primary *redistest.Node
	addrs   []string
}

// startSentinels starts a Sentinel set; it returns once every Sentinel knows the
// replicas and the other Sentinels (a failover needs a majority). Everything stops
// when the test ends.
func startSentinels(t *testing.T) *sentinelSet { return startSentinelsAuth(t, "", "") }

// startSentinelsAuth is startSentinels with the data servers requiring dataPass and the
// Sentinels sentPass (each "" for none).
func startSentinelsAuth(t *testing.T, dataPass, sentPass string) *sentinelSet {
	t.Helper()
	set := redistest.RunSentinelSet(t, redistest.SentinelConfig{MasterName: "mymaster", Password: dataPass, SentinelPassword: sentPass})
	return &sentinelSet{set: set, primary: set.Node(0), addrs: set.SentinelAddrs()}
}

func (s *sentinelSet) options(o Options) Options {
	o.Sentinel.Addrs, o.Sentinel.MasterName = s.addrs, "mymaster"
	return o
}

func TestSentinelReal(t *testing.T) {
	s := startSentinels(t)
	ctx := t.Context()

	t.Run("the same program", func(t *testing.T) {
		c, err := NewClient(ctx, s.options(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !c.Standalone() {
			t.Fatal("not single")
		}
		if got := c.PrimaryAddrs(); len(got) != 1 || got[0] != s.primary.Addr() {
			t.Fatalf("primary %v, want %s", got, s.primary.Addr())
		}
		shapeProgram(t, c, "shape:sentinel:")
	})

	t.Run("URL", func(t *testing.T) {
		o, err := ParseURL("redis+sentinel://" + s.addrs[0] + "/mymaster/3?addr=" + s.addrs[1] + "&addr=" + s.addrs[2])
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Set(ctx, "url:s", "v", nil); err != nil {
			t.Fatal(err)
		}
		c.Del(ctx, "url:s")
	})

	t.Run("replica reads", func(t *testing.T) {
		c, err := NewClient(ctx, s.options(Options{ReadFrom: ReadReplicaOnly}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := c.NodeAddrs(); len(got) != 3 {
			t.Fatalf("nodes %v, want the primary and two replicas", got)
		}
		if err := c.Set(ctx, "sr:k", "v", nil); err != nil {
			t.Fatal(err)
		}
		c.Do(ctx, "WAIT", 2, 2000)
		if v, err := c.Get(ctx, "sr:k"); err != nil || v != "v" {
			t.Fatalf("replica read %q, %v", v, err)
		}
	})

	t.Run("bad configuration", func(t *testing.T) {
		for _, tc := range []struct {
			o    Options
			want string
		}{
			{Options{Sentinel: SentinelOptions{Addrs: s.addrs, MasterName: "nosuch"}}, `no Sentinel knows a master named "nosuch"`},
			{Options{Sentinel: SentinelOptions{Addrs: []string{s.primary.Addr()}, MasterName: "mymaster"}}, "is not a Sentinel"},
			{Options{Sentinel: SentinelOptions{Addrs: s.addrs}}, "MasterName is required"},
			{Options{Addrs: []string{s.primary.Addr()}, Sentinel: SentinelOptions{Addrs: s.addrs, MasterName: "mymaster"}}, "Options.Addrs and Options.Sentinel both set"},
		} {
			c, err := NewClient(ctx, tc.o)
			if err == nil {
				c.Close()
				t.Fatalf("%v: no error; want %q", tc.o, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v: error %v; want %q", tc.o, err, tc.want)
			}
		}
	})

	// A Sentinel down (killed): the others name the primary, at once.
	defer t.Run("one Sentinel down", func(t *testing.T) {
		if err := s.set.Sentinel(0).Kill(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		c, err := NewClient(ctx, s.options(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if el := time.Since(start); el > time.Second {
			t.Errorf("NewClient took %v with a Sentinel down", el)
		}
		if err := c.Set(ctx, "down:k", "v", nil); err != nil {
			t.Fatal(err)
		}
	})

	// A coordinated failover (SENTINEL FAILOVER): writes every 20ms each return by their
	// deadline, and resume on the new primary soon after its promotion.
	t.Run("failover", func(t *testing.T) {
		const timeout = 300 * time.Millisecond
		c, err := NewClient(ctx, s.options(Options{CommandTimeout: timeout, DialTimeout: timeout}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		old := c.PrimaryAddrs()[0]
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := s.set.Sentinel(0).Do(fctx, "SENTINEL", "FAILOVER", "mymaster"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		var lastErr error
		var failed, late int
		for time.Now().Before(deadline) {
			start := time.Now()
			err := c.Set(ctx, "fo:k", start.String(), nil)
			if el := time.Since(start); el > timeout+50*time.Millisecond {
				late++
				t.Errorf("a write took %v: %v", el, err)
			}
			if err == nil && c.PrimaryAddrs()[0] != old {
				t.Logf("writes resumed on %s after %d failed writes (last: %v)", c.PrimaryAddrs()[0], failed, lastErr)
				return
			}
			if err != nil {
				failed++
				lastErr = err
				var ne *NodeError
				if !errors.As(err, &ne) && !strings.Contains(err.Error(), "READONLY") {
					t.Logf("write error without a node: %v", err)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("writes did not move off %s within 30s (last error %v)", old, lastErr)
	})
}

// The primary killed (SIGKILL) under a stream of writes: every write returns by its
// deadline (failing fast, with the cause, while the primary is known down), writes
// resume on the replica the Sentinels promote, and the client leaves no goroutine.
func TestSentinelKillPrimary(t *testing.T) {
	for _, how := range []string{"kill", "pause"} {
		t.Run(how, func(t *testing.T) { sentinelLosePrimary(t, how) })
	}
}

// sentinelLosePrimary is TestSentinelKillPrimary with the primary killed (SIGKILL) or
// paused (SIGSTOP: its connections hang, calls to it wait out their deadline).
func sentinelLosePrimary(t *testing.T, how string) {
	s := startSentinels(t)
	ctx := t.Context()
	redistest.NoClientGoroutineLeak(t) // the fault proxies carry the servers' links too: not counted
	const timeout = 300 * time.Millisecond
	c, err := NewClient(ctx, s.options(Options{CommandTimeout: timeout, DialTimeout: timeout}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	old := c.PrimaryAddrs()[0]
	if old != s.primary.Addr() {
		t.Fatalf("primary %s, want %s", old, s.primary.Addr())
	}
	// The moment a Sentinel first names another primary.
	named := make(chan time.Time, 1)
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for pctx.Err() == nil {
			if a, err := s.set.SentinelView(pctx, 0); err == nil && a != old {
				named <- time.Now()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	lose := s.primary.Kill
	if how == "pause" {
		lose = s.primary.Pause
	}
	if err := lose(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var worst time.Duration
	var failed, fast int
	var lastErr error
	for time.Since(killed) < 30*time.Second {
		start := time.Now()
		err := c.Set(ctx, "kill:k", "v", nil)
		el := time.Since(start)
		worst = max(worst, el)
		// +100ms: on a loaded machine (load 12 on 2 cores) a plain 5ms time.Sleep in
		// this process was seen to oversleep by 89ms during the failover.
		if el > timeout+100*time.Millisecond {
			t.Errorf("a write took %v: %v", el, err)
		}
		if err == nil {
			if c.PrimaryAddrs()[0] == old {
				t.Fatal("a write succeeded on the killed primary")
			}
			// The client follows the failover's leader's events and the promoted
			// replica's own ROLE: it may move before Sentinel 0 names the new primary
			// (up to a second later, longer if it learns it from the leader's hellos).
			resumed := time.Now()
			var at time.Time
			select {
			case at = <-named:
			case <-time.After(5 * time.Second):
				t.Fatal("writes resumed, but no Sentinel named a new primary within 5s")
			}
			t.Logf("FIGURE sentinel-%s: writes resumed %v after the primary was lost, %v after a Sentinel named %s; %d writes failed (%d in under 5ms), slowest %v, last error: %v",
				how, resumed.Sub(killed).Round(time.Millisecond), resumed.Sub(at).Round(time.Millisecond), c.PrimaryAddrs()[0], failed, fast, worst.Round(time.Millisecond), lastErr)
			if gap := resumed.Sub(at); gap > time.Second {
				t.Errorf("writes resumed %v after the promotion, want within 1s", gap)
			}
			return
		}
		failed++
		lastErr = err
		if el < 5*time.Millisecond {
			fast++
		}
		var ne *NodeError
		if !errors.As(err, &ne) {
			t.Errorf("write error without a node: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("writes did not resume within 30s of the %s (last error %v)", how, lastErr)
}

// The Sentinels and the data nodes each require their own password: the client
// authenticates to each with its own (Options.Sentinel.Password, Options.Password).
func TestSentinelAuth(t *testing.T) {
	s := startSentinelsAuth(t, "datapw", "sentpw")
	ctx := t.Context()
	o := s.options(Options{Password: NewSecret("datapw")})
	o.Sentinel.Password = NewSecret("sentpw")
	c, err := NewClient(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "auth:k", "v", nil); err != nil {
		t.Fatal(err)
	}
	// Without the Sentinels' password: refused by every Sentinel, named.
	o.Sentinel.Password = Secret{}
	_, err = NewClient(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "NOAUTH") && !strings.Contains(err.Error(), "WRONGPASS") && !strings.Contains(err.Error(), "Authentication required") {
		t.Fatalf("no Sentinel password: %v", err)
	}
	// The data nodes' password given to the Sentinels does not open them.
	o.Sentinel.Password = NewSecret("datapw")
	if _, err = NewClient(ctx, o); err == nil {
		t.Fatal("the data password opened the Sentinels")
	}
}
