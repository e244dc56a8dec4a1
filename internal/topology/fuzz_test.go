package topology

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/redline-go/redline/resp"
)

// FuzzParse feeds both parsers two kinds of input: the fuzz bytes decoded as RESP (seeded
// with the recorded replies), and a value tree built from the fuzz bytes by a generator
// that favours topology-shaped values (keys, roles, ports and slots near their limits),
// which random RESP rarely reaches. Neither parser may panic, and every table returned
// must be consistent.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.resp"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$1\r\n?\r\n:99999\r\n"))
	f.Add([]byte{4, 2, 6, 2, 0, 4, 2, 0, 3, 0, 6, 1, 1, 4, 1})
	f.Add(bytes.Repeat([]byte{6, 7, 4, 3, 0, 5, 1, 2}, 8))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := resp.NewReader(bytes.NewReader(data), resp.Limits{MaxAggregateLen: 4096, MaxDepth: 16})
		if v, err := rd.ReadValue(); err == nil {
			fuzzCheck(t, v)
		}
		g := gen{b: data}
		fuzzCheck(t, g.value(0))
		g = gen{b: data}
		fuzzCheck(t, g.topology())
	})
}

func fuzzCheck(t *testing.T, v resp.Value) {
	var tabs []*Table
	for _, source := range []string{"127.0.0.1:7000", "", "[::1]:6379"} {
		for _, useTLS := range []bool{false, true} {
			for _, parse := range []func(resp.Value, string, bool) (*Table, error){ParseShards, ParseSlots} {
				tab, err := parse(v, source, useTLS)
				if (tab == nil) == (err == nil) {
					t.Fatalf("table %v with error %v", tab != nil, err)
				}
				if tab == nil {
					continue
				}
				checkInvariants(t, tab)
				tabs = append(tabs, tab)
				m := tab.WithMoved(int(v.Int&0x3fff), "10.1.2.3:4567")
				checkInvariants(t, m)
				if m.Slot(int(v.Int&0x3fff)).Primary.Addr != "10.1.2.3:4567" {
					t.Fatal("WithMoved did not move")
				}
			}
		}
	}
	Choose(tabs)
}

// gen builds a resp.Value from bytes.
type gen struct{ b []byte }

func (g *gen) next() int {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return int(c)
}

var (
	genInts = []int64{0, 1, -1, 2, 100, 5460, 5461, 16383, 16384, 7000, 7001, 65535, 65536, 99999, 1 << 40}
	genStrs = []string{"", "?", "master", "replica", "slave", "127.0.0.1", "::1", "host.example",
		"a b", "1:2:3", "online", "fail", "loading", "0", "16383", "7000", "x"}
	genKeys = []string{"slots", "nodes", "id", "port", "tls-port", "ip", "endpoint", "hostname",
		"role", "replication-offset", "health", "other"}
)

// topology builds a CLUSTER SHARDS or CLUSTER SLOTS reply of the right shape, with slots,
// ports, endpoints and roles from the vocabularies, and now and then a value replaced by
// an arbitrary one.
func (g *gen) topology() resp.Value {
	resp3 := g.next()%2 == 0
	slotsForm := g.next()%3 == 0
	slot := func() int64 { return []int64{0, 1, 99, 100, 5460, 5461, 8191, 8192, 16383, 16384, -1}[g.next()%11] }
	mutate := func(v resp.Value) resp.Value {
		if g.next()%24 == 0 {
			return g.value(4)
		}
		return v
	}
	shards := make([]tShard, g.next()%5)
	for i := range shards {
		for range g.next() % 3 {
			lo := slot()
			shards[i].slots = append(shards[i].slots, lo, lo+int64(g.next()%3)*int64(g.next()))
		}
		for j := range g.next()%3 + 1 {
			shards[i].nodes = append(shards[i].nodes, tNode{
				id:       genStrs[g.next()%len(genStrs)],
				endpoint: []string{"10.0.0.1", "10.0.0.2", "?", "", "::1", "h.example", "NULL", "a b"}[g.next()%8],
				port:     []int64{7000, 7001, 7002, 0, 65535, 65536, -1}[g.next()%7],
				tlsPort:  []int64{0, 0, 8000, 70000}[g.next()%4],
				replica:  (j > 0) != (g.next()%8 == 0),
				health:   genStrs[g.next()%len(genStrs)],
				hostname: []string{"", "", "n.example"}[g.next()%3],
			})
		}
	}
	var v resp.Value
	if slotsForm {
		v = slotsReply(resp3, shards...)
	} else {
		v = shardsReply(resp3, shards...)
	}
	var walk func(v *resp.Value, depth int)
	walk = func(v *resp.Value, depth int) {
		for i := range v.Elems {
			v.Elems[i] = mutate(v.Elems[i])
			if depth < 4 {
				walk(&v.Elems[i], depth+1)
			}
		}
	}
	walk(&v, 0)
	return v
}

func (g *gen) value(depth int) resp.Value {
	c := g.next()
	if depth >= 6 {
		c %= 4
	}
	switch c % 9 {
	case 0:
		return num(genInts[g.next()%len(genInts)])
	case 1:
		return bulk(genStrs[g.next()%len(genStrs)])
	case 2:
		return null()
	case 3:
		return resp.Value{Type: resp.TypeSimpleString, Str: []byte(genStrs[g.next()%len(genStrs)])}
	case 4, 5:
		n := g.next() % 7
		e := make([]resp.Value, n)
		for i := range e {
			e[i] = g.value(depth + 1)
		}
		return arr(e...)
	case 6, 7:
		n := g.next() % 9
		e := make([]resp.Value, 0, 2*n+1)
		for range n {
			k := bulk(genKeys[g.next()%len(genKeys)])
			if g.next()%16 == 0 {
				k = num(1)
			}
			e = append(e, k, g.value(depth+1))
		}
		if g.next()%32 == 0 {
			e = append(e, bulk("odd"))
		}
		if g.next()%2 == 0 {
			return mapv(e...)
		}
		return arr(e...)
	default:
		return resp.Value{Type: resp.TypeError, Str: []byte("ERR x")}
	}
}
