package topology

import (
	"errors"
	"strings"
	"testing"

	"github.com/redline-go/redline/resp"
)

var (
	nA  = tNode{id: "a", endpoint: "10.0.0.1", port: 7000}
	nA2 = tNode{id: "a2", endpoint: "10.0.0.1", port: 7001, replica: true}
	nB  = tNode{id: "b", endpoint: "10.0.0.2", port: 7000}
)

// twoShards is a valid two-shard cluster; mutate a copy of it.
func twoShards() []tShard {
	return []tShard{
		{slots: []int64{0, 8191}, nodes: []tNode{nA, nA2}},
		{slots: []int64{8192, 16383}, nodes: []tNode{nB}},
	}
}

func with(f func(s []tShard)) []tShard {
	s := twoShards()
	for i := range s {
		s[i].nodes = append([]tNode(nil), s[i].nodes...)
		s[i].slots = append([]int64(nil), s[i].slots...)
	}
	f(s)
	return s
}

// setNode replaces key in node j of shard i of a CLUSTER SHARDS reply (appending it when
// absent; a zero val removes it).
func setNode(v resp.Value, i, j int, key string, val resp.Value) resp.Value {
	n := &v.Elems[i].Elems[3].Elems[j]
	for k := 0; k < len(n.Elems); k += 2 {
		if string(n.Elems[k].Str) == key {
			if val.Type == 0 {
				n.Elems = append(n.Elems[:k:k], n.Elems[k+2:]...)
			} else {
				n.Elems[k+1] = val
			}
			return v
		}
	}
	n.Elems = append(n.Elems, bulk(key), val)
	return v
}

// errServer in parseCase.is asks for an error wrapping a *resp.Error.
var errServer = errors.New("server error")

type parseCase struct {
	name    string
	reply   func(resp3 bool) resp.Value
	source  string // default "10.0.0.1:7000"
	useTLS  bool
	err     string // substring of the error; "" for success
	is      error  // the error must match it (default ErrInvalid when err is set)
	skipped string // substring of the single Skipped error, if any
	want    string // describe of the table, if set
}

func runParseCases(t *testing.T, parse func(resp.Value, string, bool) (*Table, error), cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		for _, resp3 := range []bool{false, true} {
			name := tc.name + map[bool]string{false: "/resp2", true: "/resp3"}[resp3]
			t.Run(name, func(t *testing.T) {
				src := tc.source
				switch src {
				case "":
					src = "10.0.0.1:7000"
				case "-":
					src = ""
				}
				tab, err := parse(tc.reply(resp3), src, tc.useTLS)
				if tc.err != "" {
					if err == nil {
						t.Fatalf("no error; table:\n%s", describe(tab))
					}
					if !strings.Contains(err.Error(), tc.err) {
						t.Errorf("error %q, want it to contain %q", err, tc.err)
					}
					is := tc.is
					if is == nil {
						is = ErrInvalid
					}
					var re *resp.Error
					if is == errServer {
						if !errors.As(err, &re) || errors.Is(err, ErrInvalid) {
							t.Errorf("error %q does not wrap a *resp.Error", err)
						}
					} else if !errors.Is(err, is) {
						t.Errorf("error %q does not match %v", err, is)
					}
					if tab != nil {
						t.Errorf("table with error")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if tc.skipped == "" && len(tab.Skipped()) > 0 {
					t.Errorf("Skipped = %v", tab.Skipped())
				}
				if tc.skipped != "" {
					if len(tab.Skipped()) != 1 || !strings.Contains(tab.Skipped()[0].Error(), tc.skipped) {
						t.Errorf("Skipped = %v, want one containing %q", tab.Skipped(), tc.skipped)
					} else if !errors.Is(tab.Skipped()[0], ErrInvalid) {
						t.Errorf("Skipped error does not match ErrInvalid")
					}
				}
				if tc.want != "" {
					if got := describe(tab); got != tc.want {
						t.Errorf("got\n%s\nwant\n%s", got, tc.want)
					}
				}
				checkInvariants(t, tab)
			})
		}
	}
}

// checkInvariants checks that the slot array, Ranges, Covered and the node index agree.
func checkInvariants(t testing.TB, tab *Table) {
	t.Helper()
	covered := 0
	for s := range 16384 {
		sh := tab.Slot(s)
		if sh == nil {
			continue
		}
		covered++
		in := false
		for _, r := range sh.Ranges {
			in = in || (r[0] <= s && s <= r[1])
		}
		if !in {
			t.Fatalf("slot %d: not in the Ranges %v of its shard", s, sh.Ranges)
		}
	}
	total := 0
	for _, sh := range tab.Shards() {
		if sh.Primary == nil || sh.Primary.Role != RolePrimary {
			t.Fatalf("shard without a primary: %+v", sh)
		}
		for i, r := range sh.Ranges {
			if r[0] > r[1] || r[0] < 0 || r[1] > 16383 || (i > 0 && sh.Ranges[i-1][1]+1 >= r[0]) {
				t.Fatalf("bad ranges %v", sh.Ranges)
			}
			for s := r[0]; s <= r[1]; s++ {
				if tab.Slot(s) != sh {
					t.Fatalf("slot %d of ranges %v routes elsewhere", s, sh.Ranges)
				}
			}
		}
		total += sh.Slots()
		for _, r := range sh.Replicas {
			if r.Role != RoleReplica {
				t.Fatalf("replica %s with role %v", r.Addr, r.Role)
			}
		}
	}
	if covered != tab.Covered() || total != covered {
		t.Fatalf("Covered %d, slots routed %d, in ranges %d", tab.Covered(), covered, total)
	}
	seen := map[string]bool{}
	for _, n := range tab.Nodes() {
		if seen[n.Addr] || tab.NodeByAddr(n.Addr) != n {
			t.Fatalf("Nodes: %s twice or not what NodeByAddr returns", n.Addr)
		}
		seen[n.Addr] = true
	}
	for i, p := range tab.Primaries() {
		if tab.Shards()[i].Primary != p || tab.NodeByAddr(p.Addr) != p || tab.Nodes()[i] != p {
			t.Fatalf("Primaries()[%d] = %s inconsistent", i, p.Addr)
		}
	}
}

func TestParseShardsValidation(t *testing.T) {
	shards := func(s []tShard) func(bool) resp.Value {
		return func(resp3 bool) resp.Value { return shardsReply(resp3, s...) }
	}
	mut := func(s []tShard, f func(v resp.Value) resp.Value) func(bool) resp.Value {
		return func(resp3 bool) resp.Value { return f(shardsReply(resp3, s...)) }
	}
	fixed := func(v resp.Value) func(bool) resp.Value { return func(bool) resp.Value { return v } }
	oneShard := func(nodeKV ...resp.Value) func(bool) resp.Value {
		return func(resp3 bool) resp.Value {
			return arr(kv(resp3, bulk("slots"), arr(num(0), num(16383)), bulk("nodes"), arr(kv(resp3, nodeKV...))))
		}
	}
	node := func(extra ...resp.Value) []resp.Value {
		return append([]resp.Value{bulk("id"), bulk("x"), bulk("port"), num(7000), bulk("endpoint"), bulk("10.0.0.9"), bulk("role"), bulk("master")}, extra...)
	}
	cases := []parseCase{
		{name: "valid", reply: shards(twoShards()),
			want: "10.0.0.1:7000[online] 0-8191 <- 10.0.0.1:7001[online]\n10.0.0.2:7000[online] 8192-16383\n"},
		{name: "minimal node", reply: oneShard(node()...), want: "10.0.0.9:7000 0-16383\n"},
		{name: "extra keys ignored", reply: oneShard(node(bulk("future"), arr(num(1)), bulk("availability-zone"), bulk("z"))...),
			want: "10.0.0.9:7000 0-16383\n"},
		{name: "slots as strings", reply: func(resp3 bool) resp.Value {
			return arr(kv(resp3, bulk("slots"), arr(bulk("0"), bulk("16383")), bulk("nodes"), arr(kv(resp3, node()...))))
		}, want: "10.0.0.9:7000 0-16383\n"},
		{name: "ranges sorted and merged", reply: shards([]tShard{
			{slots: []int64{100, 199, 0, 99, 300, 300}, nodes: []tNode{nA}},
		}), want: "10.0.0.1:7000[online] 0-199,300-300\n"},
		{name: "partial coverage", reply: shards([]tShard{{slots: []int64{5, 5}, nodes: []tNode{nA}}}),
			want: "10.0.0.1:7000[online] 5-5\n"},
		{name: "no slots at all", reply: shards([]tShard{{nodes: []tNode{nA}}}),
			want: "10.0.0.1:7000[online] -\n"},
		{name: "primary listed after its replica", reply: shards([]tShard{{slots: []int64{0, 16383}, nodes: []tNode{nA2, nA}}}),
			want: "10.0.0.1:7000[online] 0-16383 <- 10.0.0.1:7001[online]\n"},
		{name: "IPv6 endpoint", reply: shards([]tShard{{slots: []int64{0, 16383}, nodes: []tNode{{endpoint: "fe80::1%eth0", port: 7000}}}}),
			want: "[fe80::1%eth0]:7000[online] 0-16383\n"},
		{name: "failed and loading nodes kept", reply: shards(with(func(s []tShard) {
			s[0].nodes[0].health = "failed"
			s[0].nodes[1].health = "loading"
		})), want: "10.0.0.1:7000[failed] 0-8191 <- 10.0.0.1:7001[loading]\n10.0.0.2:7000[online] 8192-16383\n"},
		{name: "unknown health kept", reply: shards(with(func(s []tShard) { s[1].nodes[0].health = "sleepy" })),
			want: "10.0.0.1:7000[online] 0-8191 <- 10.0.0.1:7001[online]\n10.0.0.2:7000[sleepy] 8192-16383\n"},

		// Shape.
		{name: "error reply", reply: fixed(resp.Value{Type: resp.TypeError, Str: []byte("ERR unknown subcommand 'SHARDS'")}),
			err: "ERR unknown subcommand", is: errServer},
		{name: "not an array", reply: fixed(bulk("OK")), err: "topology: CLUSTER SHARDS reply is a bulk-string, not an array"},
		{name: "null", reply: fixed(null()), err: "is a null, not an array"},
		{name: "empty", reply: fixed(arr()), err: "topology: no shards", is: ErrNoShards},
		{name: "shard not a map", reply: fixed(arr(num(1))), err: "shard 0 is a integer, not a map"},
		{name: "shard odd map", reply: fixed(arr(arr(bulk("slots"), arr(), bulk("nodes")))), err: "shard 0: odd number of map elements (3)"},
		{name: "key not a string", reply: fixed(arr(arr(num(1), arr()))), err: "shard 0: a key is a integer, not a string"},
		{name: "no slots", reply: func(r bool) resp.Value { return arr(kv(r, bulk("nodes"), arr())) }, err: `shard 0 has no "slots"`},
		{name: "no nodes", reply: func(r bool) resp.Value { return arr(kv(r, bulk("slots"), arr())) }, err: `shard 0 has no "nodes"`},
		{name: "slots not an array", reply: func(r bool) resp.Value { return arr(kv(r, bulk("slots"), num(3), bulk("nodes"), arr())) },
			err: `shard 0: "slots" is a integer, not an array`},
		{name: "nodes not an array", reply: func(r bool) resp.Value { return arr(kv(r, bulk("slots"), arr(), bulk("nodes"), bulk("x"))) },
			err: `shard 0: "nodes" is a bulk-string, not an array`},
		{name: "odd slots", reply: func(r bool) resp.Value {
			return arr(kv(r, bulk("slots"), arr(num(1), num(2), num(3)), bulk("nodes"), arr(kv(r, node()...))))
		}, err: `shard 0: "slots" has an odd number of elements (3)`},
		{name: "slot not a number", reply: func(r bool) resp.Value {
			return arr(kv(r, bulk("slots"), arr(num(1), bulk("ten")), bulk("nodes"), arr(kv(r, node()...))))
		}, err: "shard 0: a slot is a bulk-string, not an integer"},
		{name: "slot string negative", reply: func(r bool) resp.Value {
			return arr(kv(r, bulk("slots"), arr(bulk("-1"), bulk("5")), bulk("nodes"), arr(kv(r, node()...))))
		}, err: "shard 0: slot -1 out of range"},
		{name: "slot string too long", reply: func(r bool) resp.Value {
			return arr(kv(r, bulk("slots"), arr(bulk("1"), bulk("1234567890123456789012")), bulk("nodes"), arr(kv(r, node()...))))
		}, err: "shard 0: a slot is a bulk-string, not an integer"},
		{name: "slot string empty", reply: func(r bool) resp.Value {
			return arr(kv(r, bulk("slots"), arr(bulk(""), bulk("1")), bulk("nodes"), arr(kv(r, node()...))))
		}, err: "shard 0: a slot is a bulk-string, not an integer"},
		{name: "every shard left out", reply: shards([]tShard{{nodes: []tNode{{id: "z", endpoint: "h", port: 0}}}}),
			err: "topology: no shards: every shard was left out, first because topology: shard 0 left out", is: ErrNoShards},
		{name: "node not a map", reply: func(r bool) resp.Value {
			return arr(kv(r, bulk("slots"), arr(), bulk("nodes"), arr(num(5))))
		}, err: "shard 0: node #0 is a integer, not a map"},
		{name: "node odd map", reply: func(r bool) resp.Value {
			return arr(kv(r, bulk("slots"), arr(), bulk("nodes"), arr(arr(bulk("id")))))
		}, err: "shard 0: node #0: odd number of map elements (1)"},
		{name: "port not an integer", reply: oneShard(node(bulk("port"), bulk("seven"))...),
			err: `shard 0: node x: "port" is not an integer but a bulk-string`},
		{name: "id not a string", reply: oneShard(append([]resp.Value{bulk("id"), num(1)}, node()[2:]...)...),
			err: `"id" is not a string but a integer`},
		{name: "no endpoint", reply: oneShard(bulk("id"), bulk("x"), bulk("port"), num(7000), bulk("role"), bulk("master")),
			err: `shard 0: node x: no "endpoint"`},
		{name: "no role", reply: oneShard(bulk("id"), bulk("x"), bulk("port"), num(7000), bulk("endpoint"), bulk("h")),
			err: `shard 0: node x: no "role"`},
		{name: "unknown role", reply: oneShard(node(bulk("role"), bulk("boss"))...), err: `unknown role "boss"`},
		{name: "two primaries", reply: shards([]tShard{{slots: []int64{0, 1}, nodes: []tNode{nA, nB}}}),
			err: "shard 0 has two primaries, 10.0.0.1:7000 and 10.0.0.2:7000"},
		{name: "no primary, with slots", reply: shards([]tShard{{slots: []int64{0, 1}, nodes: []tNode{nA2}}}),
			err: "shard 0 has no primary"},
		{name: "no nodes, with slots", reply: shards([]tShard{{slots: []int64{0, 1}}}), err: "shard 0 has no primary"},
		{name: "no primary, no slots", reply: shards(with(func(s []tShard) {
			s[1].slots = nil
			s[1].nodes[0].replica = true
		})), skipped: "topology: shard 1 left out (it serves no slot): shard 1 has no primary",
			want: "10.0.0.1:7000[online] 0-8191 <- 10.0.0.1:7001[online]\n"},

		// Slots.
		{name: "slot 16384", reply: shards(with(func(s []tShard) { s[1].slots[1] = 16384 })),
			err: "topology: shard 1: slot 16384 out of range 0-16383"},
		{name: "negative slot", reply: shards(with(func(s []tShard) { s[0].slots[0] = -1 })),
			err: "shard 0: slot -1 out of range"},
		{name: "huge slot", reply: shards(with(func(s []tShard) { s[0].slots[1] = 1 << 40 })),
			err: "shard 0: slot 1099511627776 out of range"},
		{name: "start after end", reply: shards(with(func(s []tShard) { s[0].slots = []int64{10, 5} })),
			err: "shard 0: slot range 10-5 ends before it starts"},
		{name: "overlap between shards", reply: shards(with(func(s []tShard) { s[1].slots[0] = 8000 })),
			err: "topology: slot 8000 served by both 10.0.0.1:7000 and 10.0.0.2:7000 (overlapping ranges)"},
		{name: "overlap in a shard", reply: shards(with(func(s []tShard) { s[0].slots = append(s[0].slots, 100, 100) })),
			err: "topology: slot 100 listed twice for 10.0.0.1:7000"},

		// Addresses.
		{name: "primary port 99999", reply: shards(with(func(s []tShard) { s[1].nodes[0].port = 99999 })),
			err: "topology: shard 1, primary: node 10.0.0.2:99999: port out of range"},
		{name: "primary port 0", reply: shards(with(func(s []tShard) { s[1].nodes[0].port = 0 })),
			err: "topology: shard 1, primary: node b: no client port (port 0 or none)"},
		{name: "primary port negative", reply: shards(with(func(s []tShard) { s[1].nodes[0].port = -7 })),
			err: "node 10.0.0.2:-7: port out of range"},
		{name: "primary port missing", reply: mut(twoShards(), func(v resp.Value) resp.Value {
			return setNode(v, 1, 0, "port", resp.Value{})
		}), err: "shard 1, primary: node b: no client port"},
		{name: "bad endpoint", reply: shards(with(func(s []tShard) { s[1].nodes[0].endpoint = "evil host\r\n" })),
			err: `shard 1, primary: node "evil host\r\n:7000": endpoint "evil host\r\n" is not a host name or IP address`},
		{name: "bad IPv6 endpoint", reply: shards(with(func(s []tShard) { s[1].nodes[0].endpoint = "1:2:3" })),
			err: `endpoint "1:2:3" is not a host name or IP address`},
		{name: "long endpoint", reply: shards(with(func(s []tShard) { s[1].nodes[0].endpoint = strings.Repeat("h", 300) })),
			err: "endpoint longer than 255 bytes"},
		{name: "replica port 0 left out", reply: shards(with(func(s []tShard) { s[0].nodes[1].port = 0 })),
			skipped: "shard 0, replica left out: node a2: no client port",
			want:    "10.0.0.1:7000[online] 0-8191\n10.0.0.2:7000[online] 8192-16383\n"},
		{name: "replica port 70000 left out", reply: shards(with(func(s []tShard) { s[0].nodes[1].port = 70000 })),
			skipped: "node 10.0.0.1:70000: port out of range"},
		{name: "empty primary with bad port left out", reply: shards(with(func(s []tShard) {
			s[1].slots = nil
			s[1].nodes[0].port = 0
		})), skipped: "shard 1 left out (it serves no slot): shard 1, primary: node b: no client port"},
		{name: "unknown endpoint without source host", reply: shards(with(func(s []tShard) { s[1].nodes[0].endpoint = "?" })),
			source: "-", err: `shard 1, primary: node b: endpoint unknown, and the address of the node asked ("") has no host to use instead`},
		{name: "unknown endpoint", reply: shards(with(func(s []tShard) {
			s[0].nodes[0].endpoint = "?"
			s[0].nodes[1].endpoint = ""
		})), source: "[2001:db8::1]:6379",
			want: "[2001:db8::1]:7000[online] 0-8191 <- [2001:db8::1]:7001[online]\n10.0.0.2:7000[online] 8192-16383\n"},
		{name: "null endpoint", reply: mut(twoShards(), func(v resp.Value) resp.Value {
			return setNode(v, 1, 0, "endpoint", null())
		}), source: "redis.example:6379",
			want: "10.0.0.1:7000[online] 0-8191 <- 10.0.0.1:7001[online]\nredis.example:7000[online] 8192-16383\n"},

		// TLS.
		{name: "tls port", reply: shards(with(func(s []tShard) { s[0].nodes[0].tlsPort = 8000 })), useTLS: true,
			want: "10.0.0.1:8000[online] 0-8191 <- 10.0.0.1:7001[online]\n10.0.0.2:7000[online] 8192-16383\n"},
		{name: "tls port ignored without TLS", reply: shards(with(func(s []tShard) { s[0].nodes[0].tlsPort = 8000 })),
			want: "10.0.0.1:7000[online] 0-8191 <- 10.0.0.1:7001[online]\n10.0.0.2:7000[online] 8192-16383\n"},
		{name: "tls port 0 falls back", reply: mut(twoShards(), func(v resp.Value) resp.Value {
			return setNode(v, 1, 0, "tls-port", num(0))
		}), useTLS: true, want: "10.0.0.1:7000[online] 0-8191 <- 10.0.0.1:7001[online]\n10.0.0.2:7000[online] 8192-16383\n"},
		{name: "TLS-only node asked without TLS", reply: mut(twoShards(), func(v resp.Value) resp.Value {
			v = setNode(v, 1, 0, "port", resp.Value{})
			return setNode(v, 1, 0, "tls-port", num(7443))
		}), err: "node b: no plain port, only tls-port 7443 (connect with TLS)"},
		{name: "tls port out of range", reply: shards(with(func(s []tShard) { s[1].nodes[0].tlsPort = 65536 })), useTLS: true,
			err: "node 10.0.0.2:65536: port out of range"},

		// Primaries with the same address.
		{name: "same primary twice, both serving", reply: shards(with(func(s []tShard) { s[1].nodes[0].endpoint = "10.0.0.1" })),
			err: "topology: shard 0 and shard 1 have the same primary 10.0.0.1:7000"},
		{name: "restarted node: old ID serves no slot", reply: shards(with(func(s []tShard) {
			s[1].nodes[0].endpoint = "10.0.0.1"
			s[1].slots = nil
			s[1].nodes[0].health = "fail"
		})), skipped: `shard 1 left out: its primary (ID "b") has the address of the primary of shard 0`,
			want: "10.0.0.1:7000[online] 0-8191 <- 10.0.0.1:7001[online]\n"},
		{name: "restarted node: old ID listed first", reply: shards(with(func(s []tShard) {
			s[0], s[1] = s[1], s[0]
			s[0].nodes[0].endpoint = "10.0.0.1"
			s[0].nodes[0].port = 7000
			s[0].slots = nil
		})), skipped: `shard 0 left out: its primary (ID "b") has the address of the primary of shard 1`,
			want: "10.0.0.1:7000[online] 0-8191 <- 10.0.0.1:7001[online]\n"},
		{name: "two empty primaries at one address: the failed one goes", reply: shards(with(func(s []tShard) {
			s[0].slots, s[1].slots = nil, nil
			s[0].nodes[0].health = "fail"
			s[1].nodes[0].endpoint = "10.0.0.1"
		})), skipped: `shard 0 left out: its primary (ID "a") has the address of the primary of shard 1`,
			want: "10.0.0.1:7000[online] -\n"},
		{name: "replica sharing a primary's address", reply: shards(with(func(s []tShard) { s[0].nodes[1].port = 7000 })),
			want: "10.0.0.1:7000[online] 0-8191 <- 10.0.0.1:7000[online]\n10.0.0.2:7000[online] 8192-16383\n"},
	}
	runParseCases(t, ParseShards, cases)
}

func TestParseSlotsValidation(t *testing.T) {
	slots := func(s []tShard) func(bool) resp.Value {
		return func(resp3 bool) resp.Value { return slotsReply(resp3, s...) }
	}
	fixed := func(v resp.Value) func(bool) resp.Value { return func(bool) resp.Value { return v } }
	entry := func(nodes ...resp.Value) func(bool) resp.Value {
		return fixed(arr(arr(append([]resp.Value{num(0), num(16383)}, nodes...)...)))
	}
	cases := []parseCase{
		{name: "valid", reply: slots(twoShards()),
			want: "10.0.0.1:7000 0-8191 <- 10.0.0.1:7001\n10.0.0.2:7000 8192-16383\n"},
		{name: "old servers: no ID", reply: entry(arr(bulk("10.0.0.1"), num(7000)), arr(bulk("10.0.0.1"), num(7001))),
			want: "10.0.0.1:7000 0-16383 <- 10.0.0.1:7001\n"},
		{name: "extra node elements ignored", reply: entry(arr(bulk("h"), num(7000), bulk("id"), mapv(), num(5), bulk("x"))),
			want: "h:7000 0-16383\n"},
		{name: "null ID", reply: entry(arr(bulk("h"), num(7000), null())), want: "h:7000 0-16383\n"},
		{name: "entries of one primary form one shard", reply: fixed(arr(
			arr(num(0), num(99), arr(bulk("h"), num(1), bulk("A")), arr(bulk("h"), num(2), bulk("R"))),
			arr(num(100), num(199), arr(bulk("g"), num(1), bulk("B"))),
			arr(num(200), num(299), arr(bulk("h"), num(1), bulk("A")), arr(bulk("h"), num(2), bulk("R"))),
		)), want: "h:1 0-99,200-299 <- h:2\ng:1 100-199\n"},
		{name: "entries of one primary without IDs", reply: fixed(arr(
			arr(num(0), num(99), arr(bulk("h"), num(1))),
			arr(num(100), num(199), arr(bulk("h"), num(1))),
		)), want: "h:1 0-199\n"},
		{name: "hostname metadata", reply: func(r bool) resp.Value {
			return arr(arr(num(0), num(16383), arr(bulk("10.0.0.1"), num(7000), bulk("id"), kv(r, bulk("hostname"), bulk("a.example"), bulk("ip"), bulk("10.0.0.1")))))
		}, want: "10.0.0.1:7000(a.example) 0-16383\n"},
		{name: "null endpoint", reply: entry(arr(null(), num(7000), bulk("a"))), source: "[::1]:6379", want: "[::1]:7000 0-16383\n"},
		{name: "? endpoint", reply: entry(arr(bulk("?"), num(7000), bulk("a"))), source: "db.example:6379", want: "db.example:7000 0-16383\n"},
		{name: "empty endpoint", reply: entry(arr(bulk(""), num(7000), bulk("a"))), source: "10.1.1.1:6379", want: "10.1.1.1:7000 0-16383\n"},
		{name: "IPv6", reply: entry(arr(bulk("2001:db8::7"), num(7000))), want: "[2001:db8::7]:7000 0-16383\n"},
		{name: "partial coverage", reply: fixed(arr(arr(num(7), num(7), arr(bulk("h"), num(1))))), want: "h:1 7-7\n"},

		{name: "error reply", reply: fixed(resp.Value{Type: resp.TypeError, Str: []byte("ERR This instance has cluster support disabled")}),
			err: "cluster support disabled", is: errServer},
		{name: "not an array", reply: fixed(num(3)), err: "CLUSTER SLOTS reply is a integer, not an array"},
		{name: "empty", reply: fixed(arr()), err: "topology: no shards", is: ErrNoShards},
		{name: "entry not an array", reply: fixed(arr(bulk("x"))), err: "entry 0 is a bulk-string, not an array"},
		{name: "short entry", reply: fixed(arr(arr(num(0), num(1)))), err: "entry 0 has 2 elements, not at least 3 (start, end, primary)"},
		{name: "slot not a number", reply: fixed(arr(arr(num(0), null(), arr(bulk("h"), num(1))))), err: "entry 0: a slot is a null, not an integer"},
		{name: "slot out of range", reply: fixed(arr(arr(num(0), num(16384), arr(bulk("h"), num(1))))), err: "entry 0: slot 16384 out of range 0-16383"},
		{name: "start after end", reply: fixed(arr(arr(num(9), num(8), arr(bulk("h"), num(1))))), err: "entry 0: slot range 9-8 ends before it starts"},
		{name: "node not an array", reply: entry(bulk("h:1")), err: "topology: entry 0 (slots 0-16383), primary: node #0 is a bulk-string, not an array"},
		{name: "short node", reply: entry(arr(bulk("h"))), err: "node #0 has 1 elements, not at least 2 (endpoint, port)"},
		{name: "endpoint not a string", reply: entry(arr(num(1), num(2))), err: "node #0: the endpoint is a integer, not a string"},
		{name: "port not an integer", reply: entry(arr(bulk("h"), bulk("x"))), err: "node #0: the port is a bulk-string, not an integer"},
		{name: "ID not a string", reply: entry(arr(bulk("h"), num(1), num(5))), err: "node h:1: the ID is a integer, not a string"},
		{name: "metadata not a map", reply: entry(arr(bulk("h"), num(1), bulk("id"), bulk("m"))), err: "node h:1: the metadata is a bulk-string (or odd-sized), not a map"},
		{name: "metadata odd", reply: entry(arr(bulk("h"), num(1), bulk("id"), arr(bulk("hostname")))), err: "the metadata is a array (or odd-sized)"},
		{name: "metadata key not a string", reply: entry(arr(bulk("h"), num(1), bulk("id"), mapv(num(1), num(2)))), err: "a metadata key is a integer"},
		{name: "hostname not a string", reply: entry(arr(bulk("h"), num(1), bulk("id"), mapv(bulk("hostname"), num(2)))), err: "the hostname is a integer"},
		{name: "primary port 99999", reply: entry(arr(bulk("127.0.0.1"), num(99999))),
			err: "topology: entry 0 (slots 0-16383), primary: node 127.0.0.1:99999: port out of range"},
		{name: "primary port 0", reply: entry(arr(bulk("127.0.0.1"), num(0), bulk("p"))), err: "primary: node p: no client port"},
		{name: "bad replica left out", reply: entry(arr(bulk("h"), num(1)), arr(bulk("h"), num(0), bulk("r"))),
			skipped: "entry 0 (slots 0-16383), replica left out: node r: no client port", want: "h:1 0-16383\n"},
		{name: "malformed replica", reply: entry(arr(bulk("h"), num(1)), num(4)), err: "entry 0 (slots 0-16383): node #1 is a integer, not an array"},
		{name: "overlap", reply: fixed(arr(
			arr(num(0), num(100), arr(bulk("h"), num(1))),
			arr(num(100), num(200), arr(bulk("g"), num(1))),
		)), err: "slot 100 served by both h:1 and g:1 (overlapping ranges)"},
		{name: "same range twice", reply: fixed(arr(
			arr(num(0), num(100), arr(bulk("h"), num(1))),
			arr(num(0), num(100), arr(bulk("h"), num(1))),
		)), err: "slot 0 listed twice for h:1"},
		{name: "one ID at two addresses", reply: fixed(arr(
			arr(num(0), num(100), arr(bulk("h"), num(1), bulk("A"))),
			arr(num(101), num(200), arr(bulk("g"), num(1), bulk("A"))),
		)), err: "entry 1 (slots 101-200): primary A is at g:1, but at h:1 in entry 0"},
		{name: "two IDs at one address", reply: fixed(arr(
			arr(num(0), num(100), arr(bulk("h"), num(1), bulk("A"))),
			arr(num(101), num(200), arr(bulk("h"), num(1), bulk("B"))),
		)), err: "entry 0 and entry 1 have the same primary h:1"},
	}
	runParseCases(t, ParseSlots, cases)
}

// Error replies wrap the server's error so that the client can tell "unknown subcommand"
// (fall back to CLUSTER SLOTS) from other failures.
func TestServerError(t *testing.T) {
	v := decode(t, []byte("-ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.\r\n"))
	_, err := ParseShards(v, "h:1", false)
	var re *resp.Error
	if !errors.As(err, &re) || re.Code != "ERR" || errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
}

// Messages quote at most a bounded part of what a hostile reply sends.
func TestErrorMessageBounded(t *testing.T) {
	long := strings.Repeat("\x00", 1<<20)
	for _, v := range []resp.Value{
		shardsReply(true, tShard{slots: []int64{0, 1}, nodes: []tNode{{id: long, endpoint: "h", port: 0}}}),
		shardsReply(true, tShard{slots: []int64{0, 1}, nodes: []tNode{{id: "x", endpoint: long, port: 1}}}),
		arr(mapv(bulk("slots"), arr(), bulk("nodes"), arr(mapv(bulk("id"), bulk(long), bulk("role"), bulk(long), bulk("endpoint"), bulk("h"))))),
	} {
		_, err := ParseShards(v, "h:1", false)
		if err == nil || len(err.Error()) > 700 {
			t.Errorf("err = %.500v (%d bytes)", err, len(err.Error()))
		}
	}
}
