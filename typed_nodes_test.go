package redline

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestTypedNodeHelpers: the per-node methods answer for each node of the set, decoded,
// on the shared cluster (3 primaries, a replica each), in both protocols.
func TestTypedNodeHelpers(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		primaries := map[string]bool{}
		for _, a := range c.PrimaryAddrs() {
			primaries[a] = true
		}
		one := c.PrimaryAddrs()[0]

		infos, err := c.InfoOn(ctx, EveryNode, "server", "replication")
		check(t, err)
		if len(infos) != 6 {
			t.Fatalf("InfoOn every node: %d nodes", len(infos))
		}
		for addr, info := range infos {
			want := map[bool]string{true: "master", false: "slave"}[primaries[addr]]
			if info["role"] != want || info["redis_version"] == "" {
				t.Fatalf("InfoOn %s: role %q, version %q; want role %s", addr, info["role"], info["redis_version"], want)
			}
		}
		infos, err = c.InfoOn(ctx, Addrs(one, one))
		if err != nil || len(infos) != 1 || infos[one]["tcp_port"] == "" {
			t.Fatalf("InfoOn one node: %v %v", len(infos), err)
		}

		cfg, err := c.ConfigGetOn(ctx, EveryPrimary, "maxmemory*", "slowlog-max-len")
		check(t, err)
		if len(cfg) != 3 {
			t.Fatalf("ConfigGetOn: %d nodes", len(cfg))
		}
		for addr, m := range cfg {
			if _, ok := m["maxmemory-policy"]; !ok || m["slowlog-max-len"] == "" {
				t.Fatalf("ConfigGetOn %s = %v", addr, m)
			}
		}

		sizes, err := c.DBSizeOn(ctx, EveryPrimary)
		check(t, err)
		if len(sizes) != 3 {
			t.Fatalf("DBSizeOn = %v", sizes)
		}
		logs, err := c.SlowLogGetOn(ctx, EveryNode, 5)
		check(t, err)
		lens, err2 := c.SlowLogLenOn(ctx, EveryNode)
		check(t, err2)
		if len(logs) != 6 || len(lens) != 6 {
			t.Fatalf("SlowLogGetOn %d nodes, SlowLogLenOn %d", len(logs), len(lens))
		}
		mem, err := c.MemoryStatsOn(ctx, EveryPrimary)
		check(t, err)
		for addr, m := range mem {
			if m["peak.allocated"] == "" || m["keys.count"] == "" {
				t.Fatalf("MemoryStatsOn %s = %v", addr, m)
			}
		}
		clients, err := c.ClientListOn(ctx, Addrs(one))
		check(t, err)
		var me bool
		for _, ci := range clients[one] {
			me = me || ci.Cmd == "client|list" && ci.Name == clientName(t) && ci.ID > 0
		}
		if !me {
			t.Fatalf("ClientListOn %s: no connection of this client running CLIENT LIST: %+v", one, clients[one])
		}
		if _, err := c.LatencyLatestOn(ctx, EveryPrimary); err != nil {
			t.Fatal(err)
		}

		// A replica of the shared cluster may be (re)syncing after another test: its
		// primary lists it once the link is up.
		var last string
		ok := redistest.Poll(10*time.Second, func() bool {
			roles, err := c.RoleOn(ctx, EveryNode)
			check(t, err)
			for addr, r := range roles {
				switch {
				case primaries[addr] && (r.Role != "master" || len(r.Replicas) != 1):
					last = fmt.Sprintf("RoleOn primary %s = %+v; want master with its replica", addr, r)
					return false
				case !primaries[addr] && (r.Role != "slave" || !primaries[r.PrimaryAddr] && r.PrimaryAddr == ""):
					last = fmt.Sprintf("RoleOn replica %s = %+v", addr, r)
					return false
				}
			}
			return true
		})
		if !ok {
			t.Fatal(last)
		}
		cinfo, err := c.ClusterInfoOn(ctx, EveryNode)
		check(t, err)
		ids, err2 := c.ClusterMyIDOn(ctx, EveryNode)
		check(t, err2)
		for addr := range infos {
			if cinfo[addr]["cluster_state"] != "ok" || len(ids[addr]) != 40 || c.e.Topology().NodeByAddr(addr).ID != ids[addr] {
				t.Fatalf("ClusterInfoOn/ClusterMyIDOn %s: %v, %q", addr, cinfo[addr]["cluster_state"], ids[addr])
			}
		}
		clocks, err := c.TimeOn(ctx, EveryPrimary)
		check(t, err)
		saves, err2 := c.LastSaveOn(ctx, EveryPrimary)
		check(t, err2)
		for addr, tm := range clocks {
			if d := time.Since(tm); d < -time.Minute || d > time.Minute || saves[addr].After(tm.Add(time.Second)) {
				t.Fatalf("TimeOn %s = %v, LastSaveOn %v", addr, tm, saves[addr])
			}
		}
		mine, err := c.ClientInfoOn(ctx, Addrs(one))
		if err != nil || mine[one].Cmd != "client|info" || mine[one].Name != clientName(t) {
			t.Fatalf("ClientInfoOn = %+v, %v", mine, err)
		}
		docs, err := c.MemoryDoctorOn(ctx, Addrs(one))
		check(t, err)
		ldocs, err2 := c.LatencyDoctorOn(ctx, Addrs(one))
		check(t, err2)
		if docs[one] == "" || ldocs[one] == "" {
			t.Fatalf("MemoryDoctorOn %q, LatencyDoctorOn %q", docs[one], ldocs[one])
		}

		// No node, and a node the topology does not list.
		if _, err := c.InfoOn(ctx, Addrs()); !errors.Is(err, errNoNodes) {
			t.Fatalf("no node: %v", err)
		}
		if err := c.ConfigResetStatOn(ctx, NodeSet{}); !errors.Is(err, errNoNodes) {
			t.Fatalf("the zero NodeSet: %v", err)
		}
		infos, err = c.InfoOn(ctx, Addrs(one, "127.0.0.1:1"))
		if errs := NodeErrors(err); len(errs) != 1 || errs["127.0.0.1:1"] == nil || len(infos) != 1 || infos[one] == nil {
			t.Fatalf("an unknown node: %v, %v; %d replies", err, errs, len(infos))
		}
		if err := c.ConfigSetOn(ctx, EveryPrimary, nil); err == nil {
			t.Fatal("ConfigSetOn with no parameter succeeded")
		}
	})
}

// TestTypedNodeHelpersFaultyNode: on a 3-master cluster with one primary black-holed,
// each per-node method returns the two healthy nodes' replies, decoded, and an error
// naming the faulty node (a *DeadlineError, or a *NodeError once the node is known
// down; NodeErrors), by the call's deadline.
func TestTypedNodeHelpersFaultyNode(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 3})
	const timeout = 300 * time.Millisecond
	c := newTestClient(t, cl, Options{CommandTimeout: timeout})
	ctx := t.Context()
	check(t, c.ConfigSetOn(ctx, EveryPrimary, map[string]string{"slowlog-log-slower-than": "0", "slowlog-max-len": "64"}))
	check(t, c.SlowLogResetOn(ctx, EveryPrimary))
	check(t, c.ConfigResetStatOn(ctx, EveryPrimary))
	lens, err := c.SlowLogLenOn(ctx, EveryPrimary) // the slow log logs every command now
	check(t, err)
	for addr, n := range lens {
		if n < 1 {
			t.Fatalf("SLOWLOG LEN on %s = %d after SLOWLOG RESET with every command logged", addr, n)
		}
	}

	addrs := c.PrimaryAddrs()
	bad := addrs[1]
	nd := cl.NodeByAddr(bad)
	defer nd.SetFault(redistest.Pass)
	check(t, nd.SetFault(redistest.Blackhole))

	// run checks one method's call: its time, the faulty node's error, the others' n
	// replies (n: how many replies it got back).
	run := func(what string, call func() (int, error)) {
		t.Helper()
		start := time.Now()
		n, err := call()
		el := time.Since(start)
		t.Logf("%s: %v", what, el)
		if el > timeout+50*time.Millisecond {
			t.Errorf("%s: returned after %v, deadline %v", what, el, timeout)
		}
		// The faulty node's call ends at the deadline, or at once once the client has
		// found the node down (its connection owed replies past the health limit).
		errs := NodeErrors(err)
		var de *DeadlineError
		var ne *NodeError
		if len(errs) != 1 || !errors.As(errs[bad], &de) && !errors.As(errs[bad], &ne) || !strings.Contains(err.Error(), bad+": ") {
			t.Errorf("%s: error %v (by node %v); want the faulty node %s's, alone", what, err, errs, bad)
		}
		if n != len(addrs)-1 {
			t.Errorf("%s: %d replies; want the %d healthy nodes'", what, n, len(addrs)-1)
		}
	}
	run("InfoOn", func() (int, error) {
		m, err := c.InfoOn(ctx, EveryPrimary, "server")
		for addr, info := range m {
			if info["tcp_port"] == "" || addr == bad {
				t.Errorf("InfoOn %s = %v", addr, info)
			}
		}
		return len(m), err
	})
	run("ConfigGetOn", func() (int, error) {
		m, err := c.ConfigGetOn(ctx, EveryPrimary, "slowlog-max-len")
		for addr, cfg := range m {
			if cfg["slowlog-max-len"] != "64" {
				t.Errorf("ConfigGetOn %s = %v", addr, cfg)
			}
		}
		return len(m), err
	})
	run("SlowLogGetOn", func() (int, error) {
		m, err := c.SlowLogGetOn(ctx, EveryPrimary, 10)
		for addr, es := range m {
			if len(es) == 0 || len(es[0].Args) == 0 {
				t.Errorf("SlowLogGetOn %s = %+v", addr, es)
			}
		}
		return len(m), err
	})
	run("DBSizeOn", func() (int, error) { m, err := c.DBSizeOn(ctx, EveryPrimary); return len(m), err })
	run("MemoryStatsOn", func() (int, error) { m, err := c.MemoryStatsOn(ctx, EveryPrimary); return len(m), err })
	run("ClientListOn", func() (int, error) {
		m, err := c.ClientListOn(ctx, EveryPrimary)
		for addr, cs := range m {
			if len(cs) == 0 {
				t.Errorf("ClientListOn %s: no connection", addr)
			}
		}
		return len(m), err
	})
	run("ConfigSetOn", func() (int, error) {
		err := c.ConfigSetOn(ctx, EveryPrimary, map[string]string{"slowlog-log-slower-than": "10000"})
		return len(addrs) - len(NodeErrors(err)), err
	})
	run("LatencyLatestOn", func() (int, error) { m, err := c.LatencyLatestOn(ctx, EveryPrimary); return len(m), err })
	run("LatencyResetOn", func() (int, error) { m, err := c.LatencyResetOn(ctx, EveryPrimary); return len(m), err })
	run("RoleOn", func() (int, error) { m, err := c.RoleOn(ctx, EveryPrimary); return len(m), err })
	run("TimeOn", func() (int, error) { m, err := c.TimeOn(ctx, EveryPrimary); return len(m), err })
	if !MayHaveExecuted(c.ConfigSetOn(ctx, EveryPrimary, map[string]string{"slowlog-log-slower-than": "10000"})) {
		t.Error("ConfigSetOn with two nodes set and one black-holed: not MayHaveExecuted")
	}
}
