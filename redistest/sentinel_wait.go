package redistest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/redline-go/redline/resp"
)

// What a Sentinel reports, asked directly (never through its proxy, so a fault or a
// StaleMaster mode on the proxy does not change it), and the waits built on it.

// SentinelView returns the primary's address as Sentinel i reports it (SENTINEL
// GET-MASTER-ADDR-BY-NAME), asked directly: a proxy's address.
func (s *SentinelSet) SentinelView(ctx context.Context, i int) (string, error) {
	return s.masterAddr(ctx, s.sentinels[i])
}

func (s *SentinelSet) masterAddr(ctx context.Context, sn *Node) (string, error) {
	v, err := sn.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.cfg.MasterName)
	if err != nil {
		return "", err
	}
	if len(v.Elems) != 2 {
		return "", fmt.Errorf("redistest: %v: GET-MASTER-ADDR-BY-NAME %s: %s", sn, s.cfg.MasterName, v.String())
	}
	host, _ := text(v.Elems[0])
	port, _ := text(v.Elems[1])
	return net.JoinHostPort(host, port), nil
}

// live returns the Sentinels running and not paused.
func (s *SentinelSet) live() []*Node {
	var out []*Node
	for _, sn := range s.sentinels {
		if sn.Running() && !sn.Paused() {
			out = append(out, sn)
		}
	}
	return out
}

// Primary returns the data node every running, unpaused Sentinel reports as the
// primary. It fails when they disagree (a failover under way: see WaitForFailover),
// when none runs, or when the address is no data node's.
func (s *SentinelSet) Primary(ctx context.Context) (*Node, error) {
	live := s.live()
	if len(live) == 0 {
		return nil, fmt.Errorf("redistest: no Sentinel is running")
	}
	var addr string
	for _, sn := range live {
		a, err := s.masterAddr(ctx, sn)
		if err != nil {
			return nil, err
		}
		if addr != "" && a != addr {
			return nil, fmt.Errorf("redistest: Sentinels disagree on the primary: %s says %s, %s says %s", live[0], addr, sn, a)
		}
		addr = a
	}
	for _, n := range s.data {
		if n.Addr() == addr {
			return n, nil
		}
	}
	return nil, fmt.Errorf("redistest: the Sentinels report %s, which is no data node", addr)
}

// WaitForFailover waits until every running, unpaused Sentinel reports the same
// primary other than old, and that node says it is a master (ROLE), and returns it.
// ctx bounds the wait (DefaultWait when it has no deadline). It returns as soon as the
// promotion is visible: the other replicas may still be switching to the new primary
// (WaitHealthy waits for that).
func (s *SentinelSet) WaitForFailover(ctx context.Context, old *Node) (*Node, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var got *Node
	err := s.host.waitFor(ctx, fmt.Sprintf("a failover from %v", old), func(ctx context.Context) error {
		p, err := s.Primary(ctx)
		if err != nil {
			return err
		}
		if p == old {
			return fmt.Errorf("the Sentinels still report %v", old)
		}
		role, err := p.Role(ctx)
		if err != nil {
			return err
		}
		if role != "master" {
			return fmt.Errorf("the Sentinels report %v, which is still a %s", p, role)
		}
		got = p
		return nil
	})
	return got, err
}

// WaitHealthy waits until the set has settled: every running, unpaused Sentinel
// reports the same primary, running and a master, with no failover under way and no
// down flag; each lists every other running, unpaused data node as a replica of it,
// up and linked, and knows every other Sentinel; and every such replica replicates
// from the primary with its link up, listed online by the primary. Use it after Restart, a failover or a fault is
// undone. A fault left on a data node's proxy keeps it from settling: the Sentinels
// reach the data nodes through their proxies.
func (s *SentinelSet) WaitHealthy(ctx context.Context) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return s.host.waitFor(ctx, "the Sentinel set to settle", s.checkHealthy)
}

func (s *SentinelSet) checkHealthy(ctx context.Context) error {
	p, err := s.Primary(ctx)
	if err != nil {
		return err
	}
	if !p.Running() || p.Paused() {
		return fmt.Errorf("the Sentinels report %v, which is down", p)
	}
	if role, err := p.Role(ctx); err != nil || role != "master" {
		return fmt.Errorf("%v, reported the primary, is a %q (%v)", p, role, err)
	}
	var replicas []*Node
	for _, n := range s.data {
		if n != p && n.Running() && !n.Paused() {
			if err := replicaLinkUp(ctx, n, p.Addr()); err != nil {
				return err
			}
			replicas = append(replicas, n)
		}
	}
	if err := primaryLists(ctx, p, replicas); err != nil {
		return err
	}
	for _, sn := range s.live() {
		if err := s.sentinelSettled(ctx, sn, p, replicas); err != nil {
			return err
		}
	}
	return nil
}

// sentinelSettled checks one Sentinel's view: the primary p flagged master alone, the
// replicas up and linked to p, every other Sentinel known.
func (s *SentinelSet) sentinelSettled(ctx context.Context, sn, p *Node, replicas []*Node) error {
	name := s.cfg.MasterName
	v, err := sn.Do(ctx, "SENTINEL", "MASTER", name)
	if err != nil {
		return err
	}
	m := fields(v)
	if m["flags"] != "master" {
		return fmt.Errorf("%v flags the primary %s", sn, m["flags"])
	}
	if want := fmt.Sprint(len(s.sentinels) - 1); m["num-other-sentinels"] != want {
		return fmt.Errorf("%v knows %s other Sentinels, want %s", sn, m["num-other-sentinels"], want)
	}
	v, err = sn.Do(ctx, "SENTINEL", "REPLICAS", name)
	if err != nil {
		return err
	}
	for _, r := range replicas {
		i := slices.IndexFunc(v.Elems, func(e resp.Value) bool {
			f := fields(e)
			return net.JoinHostPort(f["ip"], f["port"]) == r.Addr()
		})
		if i < 0 {
			return fmt.Errorf("%v does not list %v among the replicas yet", sn, r)
		}
		f := fields(v.Elems[i])
		if f["flags"] != "slave" || f["master-link-status"] != "ok" || net.JoinHostPort(f["master-host"], f["master-port"]) != p.Addr() {
			return fmt.Errorf("%v sees replica %v: flags %s, link %s, primary %s:%s", sn, r, f["flags"],
				f["master-link-status"], f["master-host"], f["master-port"])
		}
	}
	return nil
}

// fields reads a Sentinel's flat field/value array (or a RESP3 map) into a map.
func fields(v resp.Value) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		k, _ := text(v.Elems[i])
		val, _ := text(v.Elems[i+1])
		m[strings.ToLower(k)] = val
	}
	return m
}

// Failover asks a running Sentinel for a failover of a healthy primary (SENTINEL
// FAILOVER: no agreement needed, the primary need not be down), waits until every
// live Sentinel reports the promoted replica and the set has settled again (the old
// primary a replica of it), and returns the new primary. ctx bounds the whole
// (DefaultWait when it has no deadline).
func (s *SentinelSet) Failover(ctx context.Context) (*Node, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	old, err := s.Primary(ctx)
	if err != nil {
		return nil, err
	}
	live := s.live()
	if len(live) == 0 {
		return nil, fmt.Errorf("redistest: no Sentinel is running")
	}
	s.host.cfg.logf("redistest: %v: SENTINEL FAILOVER %s, away from %v", live[0], s.cfg.MasterName, old)
	if _, err := live[0].Do(ctx, "SENTINEL", "FAILOVER", s.cfg.MasterName); err != nil {
		return nil, err
	}
	p, err := s.WaitForFailover(ctx, old)
	if err != nil {
		return nil, err
	}
	return p, s.WaitHealthy(ctx)
}
