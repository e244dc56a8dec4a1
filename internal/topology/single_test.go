package topology

import (
	"errors"
	"strings"
	"testing"
)

func TestSingle(t *testing.T) {
	tb, err := Single("localhost:6379", []string{"10.0.0.2:6380", "[::1]:6381"})
	if err != nil {
		t.Fatal(err)
	}
	if tb.Covered() != 16384 || len(tb.Shards()) != 1 {
		t.Fatalf("covered %d, shards %d", tb.Covered(), len(tb.Shards()))
	}
	for _, slot := range []int{0, 5000, 16383} {
		s := tb.Slot(slot)
		if s == nil || s.Primary.Addr != "localhost:6379" || len(s.Replicas) != 2 {
			t.Fatalf("slot %d: %+v", slot, s)
		}
	}
	if r := tb.Shards()[0].Ranges; len(r) != 1 || r[0] != [2]int{0, 16383} {
		t.Fatalf("ranges %v", r)
	}
	if n := tb.NodeByAddr("[::1]:6381"); n == nil || n.Role != RoleReplica {
		t.Fatalf("replica: %+v", n)
	}
	if tb.Source() != "localhost:6379" || len(tb.Nodes()) != 3 || len(tb.Primaries()) != 1 {
		t.Fatalf("source %q nodes %d", tb.Source(), len(tb.Nodes()))
	}
	same, _ := Single("localhost:6379", []string{"[::1]:6381", "10.0.0.2:6380"})
	if !tb.Equal(same) {
		t.Fatal("replica order matters to Equal")
	}
}

func TestSingleInvalid(t *testing.T) {
	for _, c := range []struct {
		primary  string
		replicas []string
		want     string
	}{
		{"nohost", nil, "primary: \"nohost\" is not host:port"},
		{"h:0", nil, "port out of range"},
		{"h:70000", nil, "port out of range"},
		{"bad host:1", nil, "not a host name"},
		{"h:1", []string{"h:1"}, "replica 0: h:1 is named twice"},
		{"h:1", []string{"r:2", "r:2"}, "replica 1: r:2 is named twice"},
		{"h:1", []string{"r"}, "replica 0"},
	} {
		_, err := Single(c.primary, c.replicas)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Single(%q, %q) = %v, want %q", c.primary, c.replicas, err, c.want)
		}
	}
}
