package redistest

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// fakeClient is a minimal RESP client for testing the fake cluster.
type fakeClient struct {
	t  *testing.T
	nc net.Conn
	rd *resp.Reader
}

func dialFake(t *testing.T, addr string) *fakeClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &fakeClient{t: t, nc: nc, rd: resp.NewReader(nc, resp.Limits{})}
}

func (c *fakeClient) do(args ...string) resp.Value {
	c.t.Helper()
	if _, err := c.nc.Write(resp.AppendCommandStrings(nil, args...)); err != nil {
		c.t.Fatal(err)
	}
	v, err := c.rd.ReadValue()
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

func TestFakeClusterTopologyAndData(t *testing.T) {
	NoGoroutineLeak(t) // checked after f.Close below
	f, err := StartFake(FakeConfig{Masters: 200, Replicas: true})
	if err != nil {
		t.Fatal(err)
	}
	c := dialFake(t, f.Addr(0))
	for _, proto := range []string{"2", "3"} {
		if v := c.do("HELLO", proto); v.IsError() {
			t.Fatalf("HELLO %s: %v", proto, v)
		}
		for _, sub := range []string{"SHARDS", "SLOTS"} {
			v := c.do("CLUSTER", sub)
			var tab *topology.Table
			var err error
			if sub == "SHARDS" {
				tab, err = topology.ParseShards(v, f.Addr(0), false)
			} else {
				tab, err = topology.ParseSlots(v, f.Addr(0), false)
			}
			if err != nil {
				t.Fatalf("RESP%s CLUSTER %s: %v", proto, sub, err)
			}
			if tab.Covered() != hashslot.Count || len(tab.Primaries()) != 200 || len(tab.Nodes()) != 400 {
				t.Fatalf("RESP%s CLUSTER %s: covered %d, %d primaries, %d nodes", proto, sub, tab.Covered(), len(tab.Primaries()), len(tab.Nodes()))
			}
			if got := tab.Slot(16383).Primary.Addr; got != f.Addr(199) {
				t.Fatalf("slot 16383 served by %s, want %s", got, f.Addr(199))
			}
		}
	}
	nodes := string(c.do("CLUSTER", "NODES").Str)
	if n := strings.Count(nodes, "\n"); n != 400 || !strings.Contains(nodes, "myself,master") {
		t.Fatalf("CLUSTER NODES: %d lines\n%.300s", n, nodes)
	}

	// Data on the owner; MOVED elsewhere; a replica serves reads after READONLY.
	key, slot := f.KeyOn(7, "k")
	owner := dialFake(t, f.Addr(7))
	if v := owner.do("SET", key, "v1"); v.IsError() {
		t.Fatal(v)
	}
	if v := c.do("GET", key); !v.Err.IsMoved() || v.Err.Slot != slot || v.Err.Addr != f.Addr(7) {
		t.Fatalf("GET on a non-owner: %v", v)
	}
	rep := dialFake(t, f.ReplicaAddr(7))
	if v := rep.do("GET", key); !v.Err.IsMoved() {
		t.Fatalf("GET on a replica without READONLY: %v", v)
	}
	rep.do("READONLY")
	if v := rep.do("GET", key); string(v.Str) != "v1" {
		t.Fatalf("GET on a READONLY replica: %v", v)
	}

	// MoveSlot: the old owner answers MOVED to the new one, which serves the key.
	if err := f.MoveSlot(slot, 42); err != nil {
		t.Fatal(err)
	}
	if v := owner.do("GET", key); !v.Err.IsMoved() || v.Err.Addr != f.Addr(42) {
		t.Fatalf("GET on the old owner after MoveSlot: %v", v)
	}
	if v := dialFake(t, f.Addr(42)).do("GET", key); string(v.Str) != "v1" {
		t.Fatalf("GET on the new owner: %v", v)
	}
	tab, err := topology.ParseShards(c.do("CLUSTER", "SHARDS"), f.Addr(0), false)
	if err != nil || tab.Slot(slot).Primary.Addr != f.Addr(42) || len(tab.Primaries()) != 200 {
		t.Fatalf("topology after MoveSlot: %v", err)
	}
	if err := f.MoveSlot(slot, 200); err == nil {
		t.Fatal("MoveSlot to a missing master: no error")
	}

	// CLUSTERDOWN for data commands only, until the outage ends.
	until := f.SetClusterDown(time.Minute)
	if time.Until(until) < 50*time.Second {
		t.Fatalf("SetClusterDown returned %v", until)
	}
	if v := owner.do("GET", key); v.Err == nil || v.Err.Code != "CLUSTERDOWN" {
		t.Fatalf("GET during an outage: %v", v)
	}
	if v := owner.do("PING"); string(v.Str) != "PONG" {
		t.Fatalf("PING during an outage: %v", v)
	}
	f.SetClusterDown(0)
	if v := owner.do("DEL", key); v.Err == nil || !v.Err.IsMoved() {
		t.Fatalf("DEL after the outage on the old owner: %v", v)
	}

	cnt := f.Counts()
	if cnt.Topology != 6 || cnt.Pings != 1 || cnt.Data != 8 || cnt.ClusterDown != 1 || cnt.Moved != 4 || cnt.Open != 4 || cnt.Accepted != 4 {
		t.Fatalf("counts: %+v", cnt)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if n := f.OpenConns(); n != 0 {
		t.Fatalf("%d connections open after Close", n)
	}
}

func TestFakeClusterBadConfig(t *testing.T) {
	for _, m := range []int{0, -1, hashslot.Count + 1} {
		if _, err := StartFake(FakeConfig{Masters: m}); err == nil {
			t.Fatalf("Masters %d: no error", m)
		}
	}
}
