package cluster

import (
	"strings"
	"testing"
	"time"
)

// Following a failover from the leader's events (sentinel_watch.go), on fake
// Sentinels and data nodes: the event is a hint, the replica's own ROLE decides.

// selectedEvent is a leader's +selected-slave about replica of master (both host:port
// on 127.0.0.1).
func selectedEvent(replica, master string) string {
	rp := strings.TrimPrefix(replica, "127.0.0.1:")
	mp := strings.TrimPrefix(master, "127.0.0.1:")
	return "slave " + replica + " 127.0.0.1 " + rp + " @ mymaster 127.0.0.1 " + mp
}

// polls returns how many replicas' ROLE the engine is polling.
func (c *Engine) polls() int {
	c.follow.mu.Lock()
	defer c.follow.mu.Unlock()
	return len(c.follow.polling)
}

func primaryOf(c *Engine) string { return c.Topology().Slot(0).Primary.Addr }

// waitFor polls cond every ms for d at most.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// One Sentinel's event is followed only once the replica it names answers ROLE
// master — within a few poll periods of that — while every Sentinel still names the
// old primary; a rediscovery then does not take the old primary back while the
// promoted replica says master (even with the old one still saying master too), and
// does once the replica no longer does.
func TestSentinelEventFollowedOnRole(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	c, err := s.start(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.sentinelEvent(1, "+selected-slave", selectedEvent(p2, p1))
	if !waitFor(time.Second, func() bool { return c.follow.asks.Load() >= 3 }) {
		t.Fatalf("the chosen replica's ROLE was asked %d times in 1s", c.follow.asks.Load())
	}
	if got := primaryOf(c); got != p1 {
		t.Fatalf("primary %s while the replica still says slave, want %s", got, p1)
	}
	changed := time.Now()
	s.setRole(p2, "master")
	if !waitFor(time.Second, func() bool { return primaryOf(c) == p2 }) {
		t.Fatalf("the replica answering ROLE master was not followed within 1s (primary %s)", primaryOf(c))
	}
	if d := time.Since(changed); d > 100*time.Millisecond {
		t.Errorf("followed %v after the ROLE change, want within a few poll periods (%v)", d, promotePoll)
	}
	if r, tr := do(t, c, ctxFor(t, time.Second), "SET", "k", "v"); r.Err() != nil || tr.NodeAddr() != p2 {
		t.Fatalf("SET after the switch: %v on %s", r.Err(), tr.NodeAddr())
	}
	// The Sentinels, all still naming p1 (which still says master too), do not undo it.
	c.rediscover()
	if got := primaryOf(c); got != p2 {
		t.Fatalf("a rediscovery took %s back while %s says master", got, p2)
	}
	// The promoted replica demoted again: the Sentinels' word, confirmed, is taken.
	s.setRole(p2, "slave")
	c.rediscover()
	if got := primaryOf(c); got != p1 {
		t.Fatalf("primary %s after the promoted replica became a replica again, want %s", got, p1)
	}
}

// The hold on the replaced master ends after promotedHold: then the Sentinels'
// confirmed answer is taken even while the promoted replica says master.
func TestSentinelPromotionHoldEnds(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	c, err := s.start(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.setRole(p2, "master")
	c.sentinelEvent(0, "+failover-state-wait-promotion", selectedEvent(p2, p1))
	if !waitFor(time.Second, func() bool { return primaryOf(c) == p2 }) {
		t.Fatalf("not followed (primary %s)", primaryOf(c))
	}
	p := *c.follow.promoted.Load()
	p.at = time.Now().Add(-promotedHold)
	c.follow.promoted.Store(&p)
	c.rediscover()
	if got := primaryOf(c); got != p1 {
		t.Fatalf("primary %s %v after the promotion, want the Sentinels' %s", got, promotedHold, p1)
	}
}

// An event whose replica never answers ROLE master is not followed, and its poll ends
// within its bounds (time and count).
func TestSentinelEventNotFollowedWhileSlave(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	c, err := s.start(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.sentinelEvent(0, "+failover-state-send-slaveof-noone", selectedEvent(p2, p1))
	c.sentinelEvent(2, "+selected-slave", selectedEvent(p2, p1)) // the same replica: one poll
	if n := c.polls(); n != 1 {
		t.Fatalf("%d polls for one replica named twice, want 1", n)
	}
	if !waitFor(promoteWatch+time.Second, func() bool { return c.polls() == 0 }) {
		t.Fatalf("the poll still runs %v after the event (bound %v)", time.Since(start), promoteWatch)
	}
	if d := time.Since(start); d < promoteWatch-50*time.Millisecond {
		t.Errorf("the poll ended after %v, before its bound %v", d, promoteWatch)
	}
	asks := c.follow.asks.Load()
	if asks > int64(promoteAsks) || asks < 10 {
		t.Errorf("%d ROLE asks, want between 10 and %d", asks, promoteAsks)
	}
	if got := len(s.fc.sentTo(p2)); int64(got) != asks {
		t.Errorf("%d commands reached the replica, want its %d ROLE asks", got, asks)
	}
	if got := primaryOf(c); got != p1 {
		t.Fatalf("primary %s, want %s: the replica never said master", got, p1)
	}
	// A change after the poll ended is the Sentinels' to report (not followed here).
	s.setRole(p2, "master")
	time.Sleep(20 * time.Millisecond)
	if got := primaryOf(c); got != p1 {
		t.Fatalf("primary %s after the poll ended, want %s", got, p1)
	}
}

// An event about a master other than the primary in use — a Sentinel with a stale
// view, or an old failover — or about another master name, or malformed, is ignored:
// no ROLE is asked, even of a replica that says master.
func TestSentinelStaleEventIgnored(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2, p3)
	c, err := s.start(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.setRole(p2, "master")
	for _, ev := range []struct{ ch, msg string }{
		{"+selected-slave", selectedEvent(p2, p3)}, // a failover of p3, not of the primary in use
		{"+failover-state-wait-promotion", selectedEvent(p2, p3)},
		{"+selected-slave", strings.Replace(selectedEvent(p2, p1), "mymaster", "other", 1)},
		{"+selected-slave", "slave 127.0.0.1:7002 127.0.0.1 7002"},
		{"+selected-slave", selectedEvent(p1, p1)},
		{"+sdown", selectedEvent(p2, p1)}, // not an event that names the chosen replica
	} {
		c.sentinelEvent(0, ev.ch, ev.msg)
	}
	time.Sleep(50 * time.Millisecond)
	if n := c.follow.asks.Load(); n != 0 || len(s.fc.sentTo(p2)) != 0 {
		t.Fatalf("%d ROLE asks (%v sent to %s) for ignored events", n, s.fc.sentTo(p2), p2)
	}
	if got := primaryOf(c); got != p1 {
		t.Fatalf("primary %s, want %s", got, p1)
	}
}

func TestParseSentinelInstance(t *testing.T) {
	r, m, ok := parseSentinelInstance("slave 10.0.0.2:6380 10.0.0.2 6380 @ mymaster 10.0.0.1 6379", "mymaster")
	if !ok || r != "10.0.0.2:6380" || m != "10.0.0.1:6379" {
		t.Fatalf("got %q %q %v", r, m, ok)
	}
	r, m, ok = parseSentinelInstance("slave [::1]:6380 ::1 6380 @ mymaster ::1 6379", "mymaster")
	if !ok || r != "[::1]:6380" || m != "[::1]:6379" {
		t.Fatalf("IPv6: got %q %q %v", r, m, ok)
	}
	for _, bad := range []string{"", "master mymaster 10.0.0.1 6379 @ x", "slave a b c @ othername d e", "slave a b c d e f g h"} {
		if _, _, ok := parseSentinelInstance(bad, "mymaster"); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
