package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// Regression tests from the review of standalone + Sentinel support (issue 19), against
// fake Sentinels and data nodes.

// hangHandler answers nothing: it waits out the call's deadline (a hung server).
func hangHandler(addr string) handler {
	return func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		return resp.Value{}, untilDeadline(w, addr)
	}
}

// Two of three Sentinels hang; the third names the primary, whose ROLE confirms it.
// SentinelOptions documents "waits for a majority of them (or for all that answer in
// time)": discovery goes on with the answer it has, also when NewClient's ctx ends
// before CommandTimeout (a caller giving NewClient 2s, CommandTimeout the default 5s):
// the wait for the hung majority leaves a share of ctx for what follows.
func TestSentinelMajorityHungShortCtx(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	s.fc.handle(sn2, hangHandler(sn2))
	s.fc.handle(sn3, hangHandler(sn3))
	role := roleHandler(s.roles[p1], &s.mu)
	s.fc.handle(p1, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		if w.Done() { // as a connection does: nothing is sent past the deadline
			return resp.Value{}, untilDeadline(w, p1)
		}
		return role(w, args, asking)
	})
	cfg := s.config()
	cfg.CommandTimeout = 5 * time.Second
	start := time.Now()
	c, err := New(ctxFor(t, 500*time.Millisecond), cfg)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	if err != nil {
		t.Fatalf("New with one of three Sentinels answering (after %v): %v", time.Since(start).Round(time.Millisecond), err)
	}
	if got := c.Topology().Slot(0).Primary.Addr; got != p1 {
		t.Fatalf("primary %s, want %s", got, p1)
	}
}

// Split brain: the old primary (p2, cut off, still calling itself master) is named by
// one stale Sentinel that answers first; the two others name p1, the one answering
// last a little later. Both candidates answer ROLE master. Discovery must not stop at
// the first majority-sized set of answers (one vote each) and take the stale
// Sentinel's primary: it waits for a candidate a majority names (p1).
func TestSentinelTieWaitsForMajority(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	s.setRole(p2, "master") // the old primary, not yet demoted
	s.sents[0].set(p2)      // the stale Sentinel, first to answer
	delayed := func(f *fakeSentinel, d time.Duration) handler {
		return func(w *Waiter, args []string, asking bool) (resp.Value, error) {
			time.Sleep(d)
			return f.handler(w, args, asking)
		}
	}
	s.fc.handle(sn2, delayed(s.sents[1], 10*time.Millisecond))
	s.fc.handle(sn3, delayed(s.sents[2], 40*time.Millisecond))
	c, err := s.start(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Topology().Slot(0).Primary.Addr; got != p1 {
		t.Fatalf("primary %s, named by 1 Sentinel of 3; want %s, named by 2", got, p1)
	}
}

// After a failover, a write in DoMulti (or TxPipelined) answered READONLY by the
// demoted primary asks the Sentinels again and is retried (nothing ran), as Do does:
// with no +switch-master seen (its Sentinel hung, or no RESP3) and no periodic refresh
// soon, a DoMulti-only workload must not keep writing to the demoted primary.
func TestSentinelDoMultiReadOnly(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	c, err := s.start(t, func(cfg *Config) { cfg.RetryBackoff, cfg.RetryBackoffMax = 5*time.Millisecond, 20*time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	s.setRole(p1, "slave")
	s.setRole(p2, "master")
	for _, f := range s.sents {
		f.set(p2)
	}
	deadline := time.Now().Add(2 * time.Second)
	var last error
	for i := 0; time.Now().Before(deadline); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		rs := c.DoMulti(ctx, [][]any{{"SET", "k", "v"}}, nil)
		cancel()
		if last = rs[0].Err(); last == nil {
			if i > 0 {
				t.Logf("DoMulti write succeeded after %d READONLY answers", i)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("DoMulti writes still fail 2s after the failover (primary in use %s): %v", c.Topology().Slot(0).Primary.Addr, last)
}

// txRoleHandler is roleHandler with MULTI/EXEC as a server answers them: a write
// queued on a replica is refused (READONLY) and EXEC then answers EXECABORT.
func txRoleHandler(s *sentinelSetup, addr string) handler {
	var refused bool
	return func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		s.mu.Lock()
		r := *s.roles[addr]
		s.mu.Unlock()
		switch strings.ToUpper(args[0]) {
		case "ROLE":
			return arrV(bulkV(r)), nil
		case "MULTI":
			refused = false
			return okValue(), nil
		case "SET":
			if r != "master" {
				refused = true
				return errV("READONLY You can't write against a read only replica."), nil
			}
			return resp.Value{Type: resp.TypeSimpleString, Str: []byte("QUEUED")}, nil
		case "EXEC":
			if refused {
				return errV("EXECABORT Transaction discarded because of previous errors."), nil
			}
			return arrV(okValue()), nil
		}
		return okValue(), nil
	}
}

// TxPipelined is DoMulti's case for a transaction: EXEC on the demoted primary.
func TestSentinelTxReadOnly(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	s.fc.handle(p1, txRoleHandler(s, p1))
	s.fc.handle(p2, txRoleHandler(s, p2))
	c, err := s.start(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.setRole(p1, "slave")
	s.setRole(p2, "master")
	for _, f := range s.sents {
		f.set(p2)
	}
	deadline := time.Now().Add(2 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		rs, err := c.TxPipelined(ctx, [][]any{{"SET", "k", "v"}})
		cancel()
		if err == nil && rs[0].Err() == nil {
			return
		}
		last = err
		if err == nil {
			last = rs[0].Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("TxPipelined writes still fail 2s after the failover (primary in use %s): %v", c.Topology().Slot(0).Primary.Addr, last)
}

// The primary hangs (SIGSTOP); a call's timeout asks the Sentinels, who still name it:
// its ROLE check must not hang for the whole asking's timeout (DialTimeout +
// CommandTimeout, 7s with the defaults; sentinelRoleWait bounds it). Meanwhile the
// Sentinels promote p2 and +switch-master arrives: the asking it triggers comes after
// the hung one. Writes should move to p2 within 1s of the promotion.
func TestSentinelHungRoleNoDelay(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	c, err := s.start(t, func(cfg *Config) { cfg.DialTimeout, cfg.CommandTimeout = 2*time.Second, 5*time.Second })
	if err != nil {
		t.Fatal(err)
	}
	s.fc.handle(p1, hangHandler(p1)) // paused: ROLE never answered
	c.TriggerRefresh()               // what a timed-out call does
	time.Sleep(50 * time.Millisecond)
	s.setRole(p2, "master") // promoted
	for _, f := range s.sents {
		f.set(p2)
	}
	promoted := time.Now()
	c.TriggerRefresh() // what +switch-master does
	for time.Since(promoted) < 3*time.Second {
		if c.Topology().Slot(0).Primary.Addr == p2 {
			if el := time.Since(promoted); el > time.Second {
				t.Fatalf("the client took %v after the promotion to follow it", el)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the client did not follow the promotion within 3s (a ROLE check of the hung primary holds the Sentinel loop for DialTimeout+CommandTimeout)")
}

// A MOVED from a standalone server is refused (not followed), but the router still
// creates a node for the redirect's address (NodeAt before the single-engine check):
// the client's node set grows with addresses a misbehaving server names.
func TestStandaloneMovedAddsNoNode(t *testing.T) {
	fc := newFakeCluster(t)
	fc.handle(p1, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		switch strings.ToUpper(args[0]) {
		case "CLUSTER":
			return errV("ERR This instance has cluster support disabled"), nil
		case "GET":
			return movedV(866, "10.9.9.9:6379"), nil
		}
		return okValue(), nil
	})
	cfg := testConfig(fc)
	c, err := New(ctxFor(t, time.Second), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if !c.Single() {
		t.Fatal("not single")
	}
	r, _ := do(t, c, context.Background(), "GET", "k")
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "standalone server does not redirect") {
		t.Fatalf("GET: %v", r.Err())
	}
	for _, n := range c.Nodes() {
		if n.Addr() == "10.9.9.9:6379" {
			t.Fatalf("a node was made for the refused redirect's address %s", n.Addr())
		}
	}
}

// The same Sentinel listed twice would vote twice: a stale one (naming p2, which in a
// split brain still answers ROLE master) would make a "majority" with itself, ahead of
// the Sentinel naming the real primary p1. Such a list is refused, naming the address.
func TestSentinelRepeatedRefused(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	s.setRole(p2, "master")
	s.sents[0].set(p2)
	_, err := s.start(t, func(cfg *Config) { cfg.Sentinel.Addrs = []string{sn1, sn1, sn2} })
	if err == nil || !strings.Contains(err.Error(), sn1+" is listed twice") {
		t.Fatalf("a Sentinel listed twice: %v", err)
	}
}

// During a failover with one Sentinel hung, the two others may disagree for a while
// (one names the promoted replica p2, the other still the primary in use p1, which
// answers ROLE master until demoted): after the bounded wait for the hung one, the
// tie goes to the candidate other than the primary in use — a Sentinel names another
// primary only after a failover — and writes move within about sentinelAnswerWait.
func TestSentinelTieDuringFailoverMoves(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	c, err := s.start(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.fc.handle(sn3, hangHandler(sn3))
	s.setRole(p2, "master") // promoted; p1 not yet demoted
	s.sents[0].set(p2)
	s.fc.handle(sn1, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		time.Sleep(20 * time.Millisecond) // p1 named first
		return s.sents[0].handler(w, args, asking)
	})
	start := time.Now()
	c.TriggerRefresh()
	for time.Since(start) < 3*time.Second {
		if c.Topology().Slot(0).Primary.Addr == p2 {
			if el := time.Since(start); el > sentinelAnswerWait+500*time.Millisecond {
				t.Fatalf("moved to p2 after %v", el)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("still on %s 3s after a tie between it and the promoted p2", c.Topology().Slot(0).Primary.Addr)
}
