package cluster

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// Sentinel discovery against fake Sentinels and data nodes.

const sn1, sn2, sn3 = "127.0.0.1:26001", "127.0.0.1:26002", "127.0.0.1:26003"

// fakeSentinel answers as a Sentinel monitoring "mymaster" at a settable address.
type fakeSentinel struct {
	mu       sync.Mutex
	master   string // "" knows no such master
	replicas resp.Value
}

func (f *fakeSentinel) set(addr string) {
	f.mu.Lock()
	f.master = addr
	f.mu.Unlock()
}

func (f *fakeSentinel) handler(w *Waiter, args []string, asking bool) (resp.Value, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(args) < 3 || !strings.EqualFold(args[0], "SENTINEL") {
		return errV("ERR unknown command"), nil
	}
	switch strings.ToUpper(args[1]) {
	case "GET-MASTER-ADDR-BY-NAME":
		if f.master == "" || args[2] != "mymaster" {
			return resp.Value{Type: resp.TypeNull}, nil
		}
		host, port, _ := net.SplitHostPort(f.master)
		return arrV(bulkV(host), bulkV(port)), nil
	case "REPLICAS":
		return f.replicas, nil
	}
	return errV("ERR unknown subcommand"), nil
}

// roleHandler answers ROLE with role (master or slave), READONLY to writes when a
// replica, OK otherwise.
func roleHandler(role *string, mu *sync.Mutex) handler {
	return func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		mu.Lock()
		r := *role
		mu.Unlock()
		switch strings.ToUpper(args[0]) {
		case "ROLE":
			return arrV(bulkV(r)), nil
		case "SET":
			if r != "master" {
				return errV("READONLY You can't write against a read only replica."), nil
			}
		}
		return okValue(), nil
	}
}

type sentinelSetup struct {
	fc       *fakeCluster
	sents    [3]*fakeSentinel
	mu       sync.Mutex
	roles    map[string]*string
	cfgTweak func(*Config)
}

func newSentinelSetup(t *testing.T, master string, nodes ...string) *sentinelSetup {
	s := &sentinelSetup{fc: newFakeCluster(t), roles: map[string]*string{}}
	for i, a := range []string{sn1, sn2, sn3} {
		s.sents[i] = &fakeSentinel{master: master}
		s.fc.handle(a, s.sents[i].handler)
	}
	for _, a := range nodes {
		r := "slave"
		if a == master {
			r = "master"
		}
		s.roles[a] = &r
		s.fc.handle(a, roleHandler(s.roles[a], &s.mu))
	}
	return s
}

func (s *sentinelSetup) setRole(addr, role string) {
	s.mu.Lock()
	*s.roles[addr] = role
	s.mu.Unlock()
}

func (s *sentinelSetup) config() Config {
	cfg := testConfig(s.fc)
	cfg.Addrs = nil
	cfg.Sentinel = &SentinelConfig{Addrs: []string{sn1, sn2, sn3}, MasterName: "mymaster", NewNode: s.fc.newNode}
	return cfg
}

func (s *sentinelSetup) start(t *testing.T, tweak func(*Config)) (*Engine, error) {
	cfg := s.config()
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := New(ctxFor(t, time.Second), cfg)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func TestSentinelDiscovers(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	c, err := s.start(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Single() || c.Topology().Slot(100).Primary.Addr != p1 {
		t.Fatalf("primary %v", c.Topology().Slot(100).Primary.Addr)
	}
	if r, _ := do(t, c, context.Background(), "MSET", "a", "1", "b", "2"); r.Err() != nil {
		t.Fatal(r.Err())
	}
}

// A stale Sentinel — even two of three — naming a replica does not make it the
// primary: its ROLE says slave, and the next candidate is verified.
func TestSentinelStaleNotTrusted(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	s.sents[0].set(p2)
	s.sents[1].set(p2)
	// The one Sentinel with the right view answers last: the stale majority's
	// candidate fails its ROLE check first, and the last answer is awaited.
	s.fc.handle(sn3, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		time.Sleep(30 * time.Millisecond)
		return s.sents[2].handler(w, args, asking)
	})
	c, err := s.start(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Topology().Slot(0).Primary.Addr; got != p1 {
		t.Fatalf("primary %s, want %s (the stale Sentinels named %s)", got, p1, p2)
	}
	// Only stale answers: no primary at all, an error saying why.
	s.sents[2].set(p2)
	_, err = s.start(t, nil)
	if err == nil || !strings.Contains(err.Error(), "answers ROLE \"slave\"") {
		t.Fatalf("error %v", err)
	}
}

func TestSentinelMisconfigured(t *testing.T) {
	s := newSentinelSetup(t, "", p1)
	_, err := s.start(t, nil)
	if err == nil || !strings.Contains(err.Error(), `no Sentinel knows a master named "mymaster"`) {
		t.Fatalf("unknown master: %v", err)
	}
	fc := newFakeCluster(t)
	fc.setTopo(threeShards)
	for _, a := range []string{sn1, sn2, sn3} {
		fc.handle(a, always(errV("ERR unknown command 'SENTINEL', with args beginning with: 'GET-MASTER-ADDR-BY-NAME'")))
	}
	s = &sentinelSetup{fc: fc}
	_, err = s.start(t, nil)
	if err == nil || !strings.Contains(err.Error(), sn1+" is not a Sentinel") {
		t.Fatalf("a cluster node given as Sentinel: %v", err)
	}
}

// One Sentinel down: the others answer; the call waits for no more than it must.
func TestSentinelOneDown(t *testing.T) {
	s := newSentinelSetup(t, p1, p1)
	s.fc.handle(sn2, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		return resp.Value{}, untilDeadline(w, sn2)
	})
	start := time.Now()
	c, err := s.start(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Fatalf("New took %v with one Sentinel hanging", el)
	}
	if c.Topology().Slot(0).Primary.Addr != p1 {
		t.Fatal("wrong primary")
	}
}

// After a failover a write answered READONLY by the demoted primary is retried on the
// new one, which the Sentinels name and whose ROLE confirms it.
func TestSentinelFailoverReadOnly(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	c, err := s.start(t, func(cfg *Config) { cfg.RetryBackoff, cfg.RetryBackoffMax = 20*time.Millisecond, 100*time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	s.setRole(p1, "slave")
	s.setRole(p2, "master")
	for _, f := range s.sents {
		f.set(p2)
	}
	r, tr := do(t, c, context.Background(), "SET", "k", "v")
	if r.Err() != nil {
		t.Fatalf("SET after the failover: %v", r.Err())
	}
	if tr.NodeAddr() != p2 || c.Topology().Slot(0).Primary.Addr != p2 {
		t.Fatalf("SET went to %s; primary %s", tr.NodeAddr(), c.Topology().Slot(0).Primary.Addr)
	}
}

// Replicas for ReadFrom come from the Sentinels, those down or unlinked left out.
func TestSentinelReplicas(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, r1, r2)
	rep := func(addr, flags, link string) resp.Value {
		host, port, _ := net.SplitHostPort(addr)
		return resp.Value{Type: resp.TypeMap, Elems: []resp.Value{bulkV("ip"), bulkV(host), bulkV("port"), bulkV(port),
			bulkV("flags"), bulkV(flags), bulkV("master-link-status"), bulkV(link)}}
	}
	for _, f := range s.sents {
		f.replicas = arrV(rep(r1, "slave", "ok"), rep(r2, "s_down,slave", "err"), rep(r3, "slave", "err"))
	}
	c, err := s.start(t, func(cfg *Config) { cfg.ReadFrom = ReadReplicaOnly })
	if err != nil {
		t.Fatal(err)
	}
	sh := c.Topology().Slot(0)
	if len(sh.Replicas) != 1 || sh.Replicas[0].Addr != r1 {
		t.Fatalf("replicas %v", sh.Replicas)
	}
	if _, tr := do(t, c, context.Background(), "GET", "k"); tr.NodeAddr() != r1 {
		t.Fatalf("read went to %s", tr.NodeAddr())
	}
}

// A primary that stops answering (SIGSTOP) and is still named by a majority of the
// Sentinels, while the one Sentinel that led the failover already names the promoted
// replica: the hanging ROLE check of the old primary does not hold discovery up to
// its deadline. The candidates are checked at once, and the promoted replica, the only
// one to answer as a master, is taken as soon as the majority has answered.
func TestSentinelStoppedPrimaryNotWaitedOut(t *testing.T) {
	s := newSentinelSetup(t, p2, p2)
	s.sents[0].set(p1)
	s.sents[1].set(p1)
	s.fc.handle(p1, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		return resp.Value{}, untilDeadline(w, p1)
	})
	for range 3 { // whichever answers first
		start := time.Now()
		c, err := s.start(t, nil)
		if err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el > 300*time.Millisecond {
			t.Errorf("New took %v: the stopped primary's ROLE check was waited out", el)
		}
		if got := c.Topology().Slot(0).Primary.Addr; got != p2 {
			t.Fatalf("primary %s, want %s", got, p2)
		}
		c.Close()
	}
}

// The primary stops answering while every Sentinel still names it: the asking that a
// call timing out on it triggers does not wait out its ROLE check to the asking's
// deadline (DialTimeout + CommandTimeout), so when the Sentinels name the promoted
// replica a moment later, writes reach it within the askings' spacing.
func TestSentinelStoppedPrimaryRecheckedSoon(t *testing.T) {
	s := newSentinelSetup(t, p1, p1, p2)
	c, err := s.start(t, nil) // DialTimeout and CommandTimeout 1s: an asking may take 2s
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := do(t, c, ctxFor(t, time.Second), "SET", "k", "v"); r.Err() != nil {
		t.Fatal(r.Err())
	}
	s.fc.handle(p1, func(w *Waiter, args []string, asking bool) (resp.Value, error) {
		return resp.Value{}, untilDeadline(w, p1) // stopped (SIGSTOP)
	})
	if r, _ := do(t, c, ctxFor(t, 50*time.Millisecond), "SET", "k", "v"); r.Err() == nil {
		t.Fatal("a write to the stopped primary succeeded")
	}
	time.Sleep(50 * time.Millisecond) // the asking it triggered checks p1, named by all
	s.setRole(p2, "master")
	for _, f := range s.sents {
		f.set(p2)
	}
	named := time.Now()
	for time.Since(named) < 5*time.Second {
		r, tr := do(t, c, ctxFor(t, 100*time.Millisecond), "SET", "k", "v")
		if r.Err() == nil && tr.NodeAddr() == p2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if el := time.Since(named); el > 800*time.Millisecond {
		t.Fatalf("writes reached the promoted replica %v after the Sentinels named it", el)
	}
}
