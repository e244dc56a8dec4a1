package redistest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestZonesOnValkey: Config.Zones sets each node's availability-zone, which the server
// reports in INFO server, and keeps it across Restart.
func TestZonesOnValkey(t *testing.T) {
	s, err := FindValkey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(context.Background(), Config{Masters: 1, RedisServer: s.Path, Zones: []string{"a", "b"}}); err == nil {
		t.Fatal("two zones for one node accepted")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := Start(ctx, Config{Masters: 1, ReplicasPerMaster: 1, RedisServer: s.Path, Zones: []string{"az-m", "az-r"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	zoneOf := func(n *Node) string {
		t.Helper()
		v, err := n.Do(ctx, "INFO", "server")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(v.Str), "\r\n") {
			if z, ok := strings.CutPrefix(line, "availability_zone:"); ok {
				return z
			}
		}
		t.Fatalf("node %d: no availability_zone in INFO server", n.Index())
		return ""
	}
	for i, want := range []string{"az-m", "az-r"} {
		if n := c.Node(i); n.Zone() != want || zoneOf(n) != want {
			t.Errorf("node %d: Zone() %q, server says %q; want %q", i, n.Zone(), zoneOf(n), want)
		}
	}
	if err := c.Node(1).Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if z := zoneOf(c.Node(1)); z != "az-r" {
		t.Errorf("after Restart the replica says %q, want az-r", z)
	}
}

// TestZonesRefusedOnRedis: Config.Zones on a server without availability-zone fails at
// once with ErrNoZones, naming the server, instead of starting a cluster without zones.
func TestZonesRefusedOnRedis(t *testing.T) {
	s, err := ProbeServer("")
	if err != nil {
		t.Fatal(err)
	}
	if ZonesSupported(s) {
		t.Skipf("the default server is %s, which has zones (TestZonesOnValkey covers it)", s)
	}
	start := time.Now()
	_, err = Start(context.Background(), Config{Masters: 1, Zones: []string{"a"}})
	if !errors.Is(err, ErrNoZones) || !strings.Contains(err.Error(), s.String()) || time.Since(start) > 5*time.Second {
		t.Fatalf("Start with Zones on %s: %v after %v, want ErrNoZones naming the server", s, err, time.Since(start))
	}
}
