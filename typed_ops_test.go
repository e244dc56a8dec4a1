package redline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
)

// Real round trips of the operator commands (spec.txt's "Server administration",
// typed_ops_nodes.go) on the shared cluster, which they only read (ACL users are made
// and deleted by TestTypedOpsACL). Those that change a cluster — FLUSHDB, SAVE, CLIENT
// KILL, CLIENT PAUSE — run on a cluster of their own (typed_ops_own_test.go).

// TestTypedOpsServer: ECHO, LOLWUT, CLIENT GETNAME/ID, MEMORY USAGE, COMMAND *, and the
// ACL readers, in both protocols.
func TestTypedOpsServer(t *testing.T) {
	t.Parallel()
	v7 := plain(t).Server().AtLeast(7, 0)
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		s, err := c.Echo(ctx, "héllo\r\n")
		eq(t, "Echo", s, err, "héllo\r\n")
		if s, err := c.Lolwut(ctx); err != nil || !strings.Contains(s, "Redis ver") {
			t.Fatalf("Lolwut = %.100q %v", s, err)
		}
		s, err = c.ClientGetName(ctx)
		eq(t, "ClientGetName", s, err, clientName(t))
		if id, err := c.ClientID(ctx); err != nil || id <= 0 {
			t.Fatalf("ClientID = %d %v", id, err)
		}
		ids, err := c.ClientIDOn(ctx, EveryNode)
		check(t, err)
		if len(ids) != 6 {
			t.Fatalf("ClientIDOn = %v", ids)
		}
		clients, err := c.ClientListOn(ctx, Addrs(c.PrimaryAddrs()[0]))
		check(t, err)
		a := c.PrimaryAddrs()[0]
		if !slices.ContainsFunc(clients[a], func(ci ClientInfo) bool { return ci.ID == ids[a] && ci.Name == clientName(t) }) {
			t.Fatalf("ClientIDOn %s = %d: not a connection of this client in CLIENT LIST", a, ids[a])
		}

		k := p + "mem"
		check(t, c.Set(ctx, k, strings.Repeat("x", 1000), nil))
		if n, err := c.MemoryUsage(ctx, k, nil); err != nil || n < 1000 {
			t.Fatalf("MemoryUsage = %d %v", n, err)
		}
		_, err = c.RPush(ctx, p+"list", "a", "b", "c")
		check(t, err)
		if n, err := c.MemoryUsage(ctx, p+"list", &MemoryUsageOptions{AllSamples: true}); err != nil || n <= 0 {
			t.Fatalf("MemoryUsage SAMPLES 0 = %d %v", n, err)
		}
		_, err = c.MemoryUsage(ctx, p+"missing", &MemoryUsageOptions{Samples: 2})
		isNil(t, "MemoryUsage of a missing key", err)
		check(t, c.MemoryPurge(ctx))

		if n, err := c.CommandCount(ctx); err != nil || n < 150 {
			t.Fatalf("CommandCount = %d %v", n, err)
		}
		infos, err := c.CommandInfo(ctx, "get", "config", "no-such-command")
		check(t, err)
		if g := infos["get"]; len(infos) != 2 || g.Arity != 2 || g.FirstKey != 1 || !slices.Contains(g.Flags, "readonly") {
			t.Fatalf("CommandInfo = %+v", infos)
		}
		keys, err := c.CommandGetKeys(ctx, "MSET", "a", 1, "b", 2)
		check(t, err)
		if fmt.Sprint(keys) != "[a b]" {
			t.Fatalf("CommandGetKeys = %v", keys)
		}
		if v7 {
			if c := infos["config"]; !slices.ContainsFunc(c.Subcommands, func(s CommandInfo) bool { return s.Name == "config|get" }) {
				t.Fatalf("CommandInfo config: no config|get in %+v", c.Subcommands)
			}
			names, err := c.CommandList(ctx, nil)
			check(t, err)
			hll, err2 := c.CommandList(ctx, &CommandListFilter{ACLCat: "hyperloglog"})
			check(t, err2)
			if !slices.Contains(names, "get") || !slices.Contains(hll, "pfadd") || slices.Contains(hll, "get") {
				t.Fatalf("CommandList: %d names; hyperloglog %v", len(names), hll)
			}
			kf, err := c.CommandGetKeysAndFlags(ctx, "SET", "a", "b")
			if err != nil || len(kf) != 1 || kf[0].Key != "a" || !slices.Contains(kf[0].Flags, "OW") {
				t.Fatalf("CommandGetKeysAndFlags = %+v %v", kf, err)
			}
			docs, err := c.CommandDocs(ctx, "get", "config")
			check(t, err)
			if docs["get"].Group != "string" || docs["get"].Since == "" || docs["config"].Subcommands["config|get"].Summary == "" {
				t.Fatalf("CommandDocs = %+v", docs)
			}
		}

		user, err := c.ACLWhoAmI(ctx)
		eq(t, "ACLWhoAmI", user, err, "default")
		cats, err := c.ACLCat(ctx, "")
		check(t, err)
		strs, err := c.ACLCat(ctx, "string")
		check(t, err)
		if !slices.Contains(cats, "read") || !slices.Contains(strs, "get") {
			t.Fatalf("ACLCat = %v; ACLCat string = %v", cats, strs)
		}
		if pw, err := c.ACLGenPass(ctx); err != nil || len(pw) != 64 {
			t.Fatalf("ACLGenPass = %q %v", pw, err)
		}
		list, err := c.ACLList(ctx)
		check(t, err)
		users, err := c.ACLUsers(ctx)
		check(t, err)
		if !slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, "user default on") }) || !slices.Contains(users, "default") {
			t.Fatalf("ACLList = %v; ACLUsers = %v", list, users)
		}
		u, err := c.ACLGetUser(ctx, "default")
		if err != nil || !slices.Contains(u.Flags, "on") || !strings.Contains(u.Commands, "+@all") {
			t.Fatalf("ACLGetUser default = %+v %v", u, err)
		}
		_, err = c.ACLGetUser(ctx, "no-such-user-"+p)
		isNil(t, "ACLGetUser of no user", err)
		if _, err := c.ACLLog(ctx, 10); err != nil {
			t.Fatal(err)
		}
		if v7 {
			ok, err := c.ACLDryRun(ctx, "default", "get", "k")
			eq(t, "ACLDryRun", ok, err, "OK")
		}
	})
}

// TestTypedOpsCluster: CLUSTER NODES/REPLICAS/SLOTS/KEYSLOT/MYID/LINKS/
// COUNTKEYSINSLOT/GETKEYSINSLOT/COUNT-FAILURE-REPORTS and MODULE LIST on the shared
// cluster (3 primaries, a replica each), in both protocols, and in a Pipe.
func TestTypedOpsCluster(t *testing.T) {
	t.Parallel()
	v7 := plain(t).Server().AtLeast(7, 0)
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		nodes, err := c.ClusterNodes(ctx)
		check(t, err)
		var prims, slots int
		for _, n := range nodes {
			if n.IsPrimary() {
				prims++
			}
			for _, r := range n.Slots {
				slots += r.End - r.Start + 1
			}
		}
		if len(nodes) != 6 || prims != 3 || slots != 16384 {
			t.Fatalf("ClusterNodes: %d nodes, %d primaries, %d slots: %+v", len(nodes), prims, slots, nodes)
		}
		byNode, err := c.ClusterNodesOn(ctx, EveryNode)
		check(t, err)
		if len(byNode) != 6 {
			t.Fatalf("ClusterNodesOn: %d nodes", len(byNode))
		}
		myIDs, err := c.ClusterMyIDOn(ctx, EveryNode)
		check(t, err)
		var primaryID string
		for addr, ns := range byNode {
			i := slices.IndexFunc(ns, func(n ClusterNodeInfo) bool { return n.HasFlag("myself") })
			if i < 0 || ns[i].Addr != addr || ns[i].ID != myIDs[addr] || len(ns) != 6 {
				t.Fatalf("ClusterNodesOn %s: myself %d in %+v (CLUSTER MYID %s)", addr, i, ns, myIDs[addr])
			}
			if ns[i].IsPrimary() {
				primaryID = ns[i].ID
			}
		}
		reps, err := c.ClusterReplicas(ctx, primaryID)
		if err != nil || len(reps) != 1 || reps[0].PrimaryID != primaryID {
			t.Fatalf("ClusterReplicas %s = %+v %v", primaryID, reps, err)
		}
		repsOn, err := c.ClusterReplicasOn(ctx, EveryPrimary, primaryID)
		check(t, err)
		for addr, rs := range repsOn {
			if len(rs) != 1 || rs[0].ID != reps[0].ID {
				t.Fatalf("ClusterReplicasOn %s = %+v", addr, rs)
			}
		}
		slotsOn, err := c.ClusterSlotsOn(ctx, EveryNode)
		check(t, err)
		for addr, rs := range slotsOn {
			if len(rs) < 3 {
				t.Fatalf("ClusterSlotsOn %s = %+v", addr, rs)
			}
		}
		if len(slotsOn) != 6 {
			t.Fatalf("ClusterSlotsOn: %d nodes", len(slotsOn))
		}
		id, err := c.ClusterMyID(ctx)
		if err != nil || len(id) != 40 {
			t.Fatalf("ClusterMyID = %q %v", id, err)
		}
		ranges, err := c.ClusterSlots(ctx)
		check(t, err)
		slots = 0
		for _, r := range ranges {
			slots += r.End - r.Start + 1
			// Redis 7.0 leaves out a replica that it thinks is still loading.
			if len(r.Nodes) < 1 || len(r.Nodes) > 2 || r.Nodes[0].ID == "" || !slices.Contains(c.PrimaryAddrs(), r.Nodes[0].Addr) {
				t.Fatalf("ClusterSlots range %+v (primaries %v)", r, c.PrimaryAddrs())
			}
		}
		if slots != 16384 {
			t.Fatalf("ClusterSlots covers %d slots", slots)
		}

		k := p + "slotted"
		slot := hashslot.Key(k)
		n, err := c.ClusterKeySlot(ctx, k)
		eq(t, "ClusterKeySlot", n, err, int64(slot))
		check(t, c.Set(ctx, k, "v", nil))
		if n, err := c.ClusterCountKeysInSlot(ctx, slot); err != nil || n < 1 {
			t.Fatalf("ClusterCountKeysInSlot %d = %d %v", slot, n, err)
		}
		ks, err := c.ClusterGetKeysInSlot(ctx, slot, 1000)
		if err != nil || !slices.Contains(ks, k) {
			t.Fatalf("ClusterGetKeysInSlot %d = %v %v", slot, ks, err)
		}
		if _, err := c.ClusterCountKeysInSlot(ctx, 16384); err == nil {
			t.Fatal("ClusterCountKeysInSlot 16384 succeeded")
		}
		reports, err := c.ClusterCountFailureReportsOn(ctx, EveryPrimary, primaryID)
		check(t, err)
		if len(reports) != 3 {
			t.Fatalf("ClusterCountFailureReportsOn = %v", reports)
		}
		mods, err := c.ModuleListOn(ctx, EveryPrimary)
		check(t, err)
		if len(mods) != 3 {
			t.Fatalf("ModuleListOn = %v", mods)
		}
		if _, err := c.MemoryMallocStatsOn(ctx, Addrs(c.PrimaryAddrs()[0])); err != nil {
			t.Fatal(err)
		}
		if v7 {
			links, err := c.ClusterLinksOn(ctx, EveryNode)
			check(t, err)
			for addr, ls := range links {
				// Every node has a link to and from each of the 5 others.
				if len(ls) != 10 || ls[0].Node == "" || ls[0].CreateTime.IsZero() || ls[0].Direction != "to" && ls[0].Direction != "from" {
					t.Fatalf("ClusterLinksOn %s = %+v", addr, ls)
				}
			}
		}

		// The generated Pipe methods of the same commands.
		var (
			echo   Future[string]
			ks2    Future[int64]
			nodesF Future[[]ClusterNodeInfo]
			who    Future[string]
			info   Future[map[string]CommandInfo]
		)
		check(t, c.Pipelined(ctx, func(pp *Pipe) error {
			echo = pp.Echo("x")
			ks2 = pp.ClusterKeySlot(k)
			nodesF = pp.ClusterNodes()
			who = pp.ACLWhoAmI()
			info = pp.CommandInfo("set")
			return nil
		}))
		s, err := echo.Result()
		eq(t, "Pipe Echo", s, err, "x")
		n, err = ks2.Result()
		eq(t, "Pipe ClusterKeySlot", n, err, int64(slot))
		s, err = who.Result()
		eq(t, "Pipe ACLWhoAmI", s, err, "default")
		if ns, err := nodesF.Result(); err != nil || len(ns) != 6 {
			t.Fatalf("Pipe ClusterNodes = %d %v", len(ns), err)
		}
		if m, err := info.Result(); err != nil || m["set"].Arity != -3 {
			t.Fatalf("Pipe CommandInfo = %+v %v", m, err)
		}
	})
}

// TestTypedOpsACL: a user made on every node (ACLSetUserOn), read back per node,
// denied a command (ACL LOG, ACL DRYRUN), its connections killed (CLIENT KILL USER) and
// deleted, on the shared cluster.
func TestTypedOpsACL(t *testing.T) {
	t.Parallel()
	cl := plain(t)
	c := newTestClient(t, cl, Options{})
	ctx := t.Context()
	name := "ops-test-" + t.Name()
	rules := []string{"reset", "on", ">secret", "~*", "+@all", "-echo"}
	if cl.Server().AtLeast(6, 2) {
		rules = append(rules, "&*") // channel rules are Redis 6.2's
	}
	check(t, c.ACLSetUserOn(ctx, EveryNode, name, rules...))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n, err := c.ACLDelUserOn(ctx, EveryNode, name)
		if err != nil || len(n) != 6 {
			t.Errorf("ACLDelUserOn = %v %v", n, err)
		}
	})
	us, err := c.ACLGetUserOn(ctx, EveryNode, name)
	check(t, err)
	for addr, u := range us {
		if !slices.Contains(u.Flags, "on") || len(u.Passwords) != 1 || !strings.Contains(u.Commands, "-echo") || !strings.Contains(u.Keys, "~*") {
			t.Fatalf("ACLGetUserOn %s = %+v", addr, u)
		}
	}
	if len(us) != 6 {
		t.Fatalf("ACLGetUserOn: %d nodes", len(us))
	}
	lists, err := c.ACLUsersOn(ctx, EveryPrimary)
	check(t, err)
	lines, err := c.ACLListOn(ctx, EveryPrimary)
	check(t, err)
	for addr := range lists {
		if !slices.Contains(lists[addr], name) || !slices.ContainsFunc(lines[addr], func(s string) bool { return strings.HasPrefix(s, "user "+name+" ") }) {
			t.Fatalf("ACLUsersOn/ACLListOn %s: %v / %v", addr, lists[addr], lines[addr])
		}
	}
	_, err = c.ACLGetUserOn(ctx, EveryPrimary, name+"-none")
	if errs := NodeErrors(err); len(errs) != 3 || !errors.Is(errs[c.PrimaryAddrs()[0]], Nil) {
		t.Fatalf("ACLGetUserOn of no user: %v", err)
	}

	uc := newTestClient(t, cl, Options{Username: name, Password: NewSecret("secret")})
	who, err := uc.ACLWhoAmI(ctx)
	eq(t, "ACLWhoAmI as the user", who, err, name)
	if _, err := uc.Echo(ctx, "denied"); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("Echo as a user without ECHO: %v", err)
	}
	logs, err := c.ACLLogOn(ctx, EveryPrimary, 100)
	check(t, err)
	var found bool
	for _, es := range logs {
		found = found || slices.ContainsFunc(es, func(e ACLLogEntry) bool {
			return e.Username == name && e.Object == "echo" && e.Reason == "command" && e.Count >= 1 && e.ClientInfo != ""
		})
	}
	if !found {
		t.Fatalf("ACLLogOn: no entry of %s denied ECHO: %+v", name, logs)
	}
	if plain(t).Server().AtLeast(7, 0) {
		if r, err := c.ACLDryRun(ctx, name, "echo", "x"); err != nil || r == "OK" {
			t.Fatalf("ACLDryRun echo = %q %v", r, err)
		}
	}

	check(t, uc.Ping(ctx)) // a shared connection to every primary
	killed, err := c.ClientKillOn(ctx, EveryNode, ClientKillFilter{User: name})
	check(t, err)
	var total int64
	for _, n := range killed {
		total += n
	}
	if len(killed) != 6 || total < 3 { // its shared connection to each primary, at least
		t.Fatalf("ClientKillOn USER %s = %v", name, killed)
	}
	if _, err := c.ClientKillOn(ctx, EveryNode, ClientKillFilter{}); !errors.Is(err, errKillNoFilter) {
		t.Fatalf("ClientKillOn with an empty filter: %v", err)
	}
}
