package redline

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/redistest"
)

// TestReplicaRoleNamesTableAddr: what the engine's slotless check relies on (see
// cluster.Engine.placeSlotless) — a replica's ROLE names its primary by the very address
// the client's table has for it, on a plain cluster and on a TLS one announcing host
// names (proxies announced, as a NAT would), so a demoted master is placed under its new
// primary, never another.
func TestReplicaRoleNamesTableAddr(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "tls-hostnames"}[useTLS], func(t *testing.T) {
			var cl *redistest.Cluster
			if useTLS {
				if s, err := redistest.ProbeServer(""); err == nil && !s.AtLeast(7, 0) {
					t.Skipf("needs cluster-announce-hostname (Redis 7.0 or newer); the server is %s", s)
				}
				cl = redistest.Run(t, redistest.Config{Masters: 3, ReplicasPerMaster: 1, TLS: true, Hostnames: true})
			} else {
				cl = plain(t)
			}
			o := Options{ReadFrom: ReadReplicaOnly}
			if useTLS { // the names do not resolve here: certificates are checked by name
				o.TLSServerName = func(addr, hostname string) string {
					if n := cl.NodeByAddr(addr); hostname == "" && n != nil {
						return n.Hostname()
					}
					return ""
				}
			}
			c := newTestClient(t, cl, o)
			tab := c.e.Topology()
			checked := 0
			for _, s := range tab.Shards() {
				for _, r := range s.Replicas {
					n := cl.NodeByAddr(r.Addr)
					if n == nil {
						t.Fatalf("the table's replica %s is no node of the cluster", r.Addr)
					}
					ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
					v, err := n.Do(ctx, "ROLE")
					cancel()
					if err != nil || len(v.Elems) < 3 {
						t.Fatalf("ROLE of %s: %v %v", r.Addr, v, err)
					}
					got := net.JoinHostPort(string(v.Elems[1].Str), strconv.FormatInt(v.Elems[2].Int, 10))
					if p := tab.NodeByAddr(got); got != s.Primary.Addr || p == nil || p.Role != topology.RolePrimary {
						t.Errorf("%s says it replicates %s; the table has its primary at %s", r.Addr, got, s.Primary.Addr)
					}
					checked++
				}
			}
			if checked != 3 {
				t.Fatalf("%d replicas checked, want 3", checked)
			}
		})
	}
}
