package topology

import (
	"strings"
	"testing"
)

// The fixtures in testdata/ are replies recorded from Redis 7.0.15 by capture_test.go:
// <setup>-<shards|slots>-resp<2|3>.resp. The clusters:
//
//	ipv4, hostnames, prefer-hostname, unknown-endpoint, failed: A 127.0.0.1:7101 (slots
//	0-5460 and 10000-10010) with replica C :7103, B :7102 (the rest), D :7104 (a primary
//	serving no slot); hostnames: A, B, C announce node-{a,b,c}.redline.test, D none;
//	prefer-hostname: cluster-preferred-endpoint-type hostname; unknown-endpoint: type
//	unknown-endpoint; failed: D shut down and marked failed.
//	lonely: one node on ::1 that has not met another (its own IP unknown).
//	ipv6: E [::1]:7121 (all slots) with replica F [::1]:7122.
//	tls-plain, tls-tls: G 127.0.0.1:7131 (TLS port 7141) with replica H :7132 (TLS 7142),
//	tls-cluster yes, asked over plain TCP and over TLS.

const (
	dServes = "127.0.0.1:7104[online] -\n"
	aServes = "127.0.0.1:7101[online] 0-5460,10000-10010 <- 127.0.0.1:7103[online]\n"
	bServes = "127.0.0.1:7102[online] 5461-9999,10011-16383\n"
)

func TestFixtures(t *testing.T) {
	tests := []struct {
		fixture string // without -resp2/-resp3
		source  string
		useTLS  bool
		want    string // describe of the table
	}{
		{"ipv4-shards", "127.0.0.1:7101", false, dServes + bServes + aServes},
		{"ipv4-slots", "127.0.0.1:7101", false,
			"127.0.0.1:7101 0-5460,10000-10010 <- 127.0.0.1:7103\n127.0.0.1:7102 5461-9999,10011-16383\n"},
		{"hostnames-shards", "127.0.0.1:7101", false, "127.0.0.1:7104[online] -\n" +
			"127.0.0.1:7102[online](node-b.redline.test) 5461-9999,10011-16383\n" +
			"127.0.0.1:7101[online](node-a.redline.test) 0-5460,10000-10010 <- 127.0.0.1:7103[online](node-c.redline.test)\n"},
		{"hostnames-slots", "127.0.0.1:7101", false,
			"127.0.0.1:7101(node-a.redline.test) 0-5460,10000-10010 <- 127.0.0.1:7103(node-c.redline.test)\n" +
				"127.0.0.1:7102(node-b.redline.test) 5461-9999,10011-16383\n"},
		// Endpoint type hostname: D has no hostname, its endpoint is "?": the source's host.
		{"prefer-hostname-shards", "localhost:7101", false, "localhost:7104[online] -\n" +
			"node-b.redline.test:7102[online](node-b.redline.test) 5461-9999,10011-16383\n" +
			"node-a.redline.test:7101[online](node-a.redline.test) 0-5460,10000-10010 <- node-c.redline.test:7103[online](node-c.redline.test)\n"},
		{"prefer-hostname-slots", "localhost:7101", false,
			"node-a.redline.test:7101 0-5460,10000-10010 <- node-c.redline.test:7103\n" +
				"node-b.redline.test:7102 5461-9999,10011-16383\n"},
		// Endpoint type unknown-endpoint: "" in CLUSTER SHARDS, NULL in CLUSTER SLOTS.
		{"unknown-endpoint-shards", "localhost:7101", false, "localhost:7104[online] -\n" +
			"localhost:7102[online](node-b.redline.test) 5461-9999,10011-16383\n" +
			"localhost:7101[online](node-a.redline.test) 0-5460,10000-10010 <- localhost:7103[online](node-c.redline.test)\n"},
		{"unknown-endpoint-slots", "localhost:7101", false,
			"localhost:7101(node-a.redline.test) 0-5460,10000-10010 <- localhost:7103(node-c.redline.test)\n" +
				"localhost:7102(node-b.redline.test) 5461-9999,10011-16383\n"},
		// A failed node is kept, with its health as Redis 7.0 spells it.
		{"failed-shards", "127.0.0.1:7101", false, "127.0.0.1:7104[fail] -\n" +
			"127.0.0.1:7102[online](node-b.redline.test) 5461-9999,10011-16383\n" +
			"127.0.0.1:7101[online](node-a.redline.test) 0-5460,10000-10010 <- 127.0.0.1:7103[online](node-c.redline.test)\n"},
		// A lone node reports ip "" and endpoint "": the source's host.
		{"lonely-shards", "[::1]:7121", false, "[::1]:7121[online] 0-16383\n"},
		{"lonely-slots", "[::1]:7121", false, "[::1]:7121 0-16383\n"},
		{"ipv6-shards", "[::1]:7121", false, "[::1]:7121[online] 0-16383 <- [::1]:7122[online]\n"},
		{"ipv6-slots", "[::1]:7121", false, "[::1]:7121 0-16383 <- [::1]:7122\n"},
		// CLUSTER SHARDS gives both ports; useTLS picks tls-port.
		{"tls-plain-shards", "127.0.0.1:7131", false, "127.0.0.1:7131[online] 0-16383 <- 127.0.0.1:7132[online]\n"},
		{"tls-plain-shards", "127.0.0.1:7131", true, "127.0.0.1:7141[online] 0-16383 <- 127.0.0.1:7142[online]\n"},
		{"tls-tls-shards", "127.0.0.1:7141", true, "127.0.0.1:7141[online] 0-16383 <- 127.0.0.1:7142[online]\n"},
		// CLUSTER SLOTS answers with the ports of the connection's kind.
		{"tls-plain-slots", "127.0.0.1:7131", false, "127.0.0.1:7131 0-16383 <- 127.0.0.1:7132\n"},
		{"tls-tls-slots", "127.0.0.1:7141", true, "127.0.0.1:7141 0-16383 <- 127.0.0.1:7142\n"},
	}
	for _, tt := range tests {
		for _, proto := range []string{"-resp2", "-resp3"} {
			name := tt.fixture + proto
			t.Run(name, func(t *testing.T) {
				tab, err := parseFixture(t, name, tt.source, tt.useTLS)
				if err != nil {
					t.Fatal(err)
				}
				if got := describe(tab); got != tt.want {
					t.Errorf("got\n%s\nwant\n%s", got, tt.want)
				}
				if tab.Covered() != 16384 {
					t.Errorf("Covered = %d", tab.Covered())
				}
				if len(tab.Skipped()) != 0 {
					t.Errorf("Skipped = %v", tab.Skipped())
				}
				if tab.Source() != tt.source {
					t.Errorf("Source = %q", tab.Source())
				}
				for _, n := range tab.Nodes() {
					if len(n.ID) != 40 {
						t.Errorf("node %s: ID %q", n.Addr, n.ID)
					}
				}
			})
		}
	}
}

func parseFixture(t testing.TB, name, source string, useTLS bool) (*Table, error) {
	v := readFixture(t, name)
	if strings.Contains(name, "-shards-") {
		return ParseShards(v, source, useTLS)
	}
	return ParseSlots(v, source, useTLS)
}

// The fields of the recorded nodes, beyond their addresses.
func TestFixtureNodeFields(t *testing.T) {
	tab, err := parseFixture(t, "ipv4-shards-resp3", "127.0.0.1:7101", false)
	if err != nil {
		t.Fatal(err)
	}
	a := tab.NodeByAddr("127.0.0.1:7101")
	c := tab.NodeByAddr("127.0.0.1:7103")
	if a == nil || c == nil {
		t.Fatal("A or C missing")
	}
	if a.ID != "bdde4e24c7d0f30feaef107a32323c7f321be1a0" || a.Role != RolePrimary ||
		a.Health != HealthOnline || a.Offset != 14 || a.Hostname != "" {
		t.Errorf("A = %+v", *a)
	}
	if c.ID != "392e23d4cd7750f1419d5be7ed965f72feccab50" || c.Role != RoleReplica || c.Offset != 14 {
		t.Errorf("C = %+v", *c)
	}
	if s := tab.Slot(10005); s == nil || s.Primary != a || len(s.Replicas) != 1 || s.Replicas[0] != c {
		t.Errorf("Slot(10005) = %+v", s)
	}
	slots, err := parseFixture(t, "ipv4-slots-resp2", "127.0.0.1:7101", false)
	if err != nil {
		t.Fatal(err)
	}
	if n := slots.NodeByAddr("127.0.0.1:7103"); n == nil || n.ID != c.ID || n.Health != "" || n.Offset != 0 {
		t.Errorf("C from CLUSTER SLOTS = %+v", n)
	}
	failed, err := parseFixture(t, "failed-shards-resp2", "127.0.0.1:7101", false)
	if err != nil {
		t.Fatal(err)
	}
	if d := failed.NodeByAddr("127.0.0.1:7104"); d == nil || !d.Failed() || a.Failed() {
		t.Errorf("D = %+v", d)
	}
}

// CLUSTER SHARDS and CLUSTER SLOTS of one cluster route alike (Equal ignores shards that
// serve no slot), in both protocols.
func TestFixturesShardsEqualSlots(t *testing.T) {
	for _, setup := range []string{"ipv4", "hostnames", "prefer-hostname", "unknown-endpoint", "failed", "lonely", "ipv6", "tls-plain"} {
		src := "127.0.0.1:7101"
		switch setup {
		case "lonely", "ipv6":
			src = "[::1]:7121"
		case "tls-plain":
			src = "127.0.0.1:7131"
		}
		var tabs []*Table
		for _, name := range []string{"-shards-resp2", "-shards-resp3", "-slots-resp2", "-slots-resp3"} {
			tab, err := parseFixture(t, setup+name, src, false)
			if err != nil {
				t.Fatal(err)
			}
			tabs = append(tabs, tab)
		}
		for i, tab := range tabs[1:] {
			if !tabs[0].Equal(tab) || !tab.Equal(tabs[0]) {
				t.Errorf("%s: table %d differs:\n%s\nvs\n%s", setup, i+1, describe(tabs[0]), describe(tab))
			}
		}
	}
}
