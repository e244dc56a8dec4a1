package topology

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/redline-go/redline/resp"
)

// readFixture decodes testdata/<name>.resp, a reply recorded from redis-server.
func readFixture(t testing.TB, name string) resp.Value {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".resp"))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, raw)
}

// decode decodes exactly one value from raw.
func decode(t testing.TB, raw []byte) resp.Value {
	t.Helper()
	rd := resp.NewReader(bytes.NewReader(raw), resp.Limits{})
	v, err := rd.ReadValue()
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if rd.Buffered() != 0 {
		t.Fatalf("decode: %d bytes left", rd.Buffered())
	}
	return v
}

// Value builders.

func bulk(s string) resp.Value { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }
func num(n int64) resp.Value   { return resp.Value{Type: resp.TypeInteger, Int: n} }
func null() resp.Value         { return resp.Value{Type: resp.TypeNull} }
func arr(e ...resp.Value) resp.Value {
	return resp.Value{Type: resp.TypeArray, Elems: e}
}
func mapv(e ...resp.Value) resp.Value {
	return resp.Value{Type: resp.TypeMap, Elems: e}
}

// kv builds a map (RESP3) or flat array (RESP2) from alternating string keys and values.
func kv(resp3 bool, e ...resp.Value) resp.Value {
	if resp3 {
		return mapv(e...)
	}
	return arr(e...)
}

// tNode describes a node of a synthetic CLUSTER SHARDS or CLUSTER SLOTS reply.
type tNode struct {
	id, endpoint, hostname string
	port, tlsPort          int64
	replica                bool
	health                 string
	offset                 int64
}

// tShard describes a shard: slots are start,end pairs.
type tShard struct {
	slots []int64
	nodes []tNode
}

func (n tNode) shardsValue(resp3 bool) resp.Value {
	role := "master"
	if n.replica {
		role = "replica"
	}
	health := n.health
	if health == "" {
		health = "online"
	}
	e := []resp.Value{bulk("id"), bulk(n.id), bulk("port"), num(n.port)}
	if n.tlsPort != 0 {
		e = append(e, bulk("tls-port"), num(n.tlsPort))
	}
	e = append(e, bulk("ip"), bulk(n.endpoint), bulk("endpoint"), bulk(n.endpoint))
	if n.hostname != "" {
		e = append(e, bulk("hostname"), bulk(n.hostname))
	}
	e = append(e, bulk("role"), bulk(role), bulk("replication-offset"), num(n.offset),
		bulk("health"), bulk(health))
	return kv(resp3, e...)
}

// shardsReply builds a CLUSTER SHARDS reply.
func shardsReply(resp3 bool, shards ...tShard) resp.Value {
	out := make([]resp.Value, len(shards))
	for i, s := range shards {
		slots := make([]resp.Value, len(s.slots))
		for j, x := range s.slots {
			slots[j] = num(x)
		}
		nodes := make([]resp.Value, len(s.nodes))
		for j, n := range s.nodes {
			nodes[j] = n.shardsValue(resp3)
		}
		out[i] = kv(resp3, bulk("slots"), arr(slots...), bulk("nodes"), arr(nodes...))
	}
	return arr(out...)
}

func (n tNode) slotsValue(resp3 bool) resp.Value {
	ep := bulk(n.endpoint)
	if n.endpoint == "NULL" {
		ep = null()
	}
	var meta []resp.Value
	if n.hostname != "" {
		meta = []resp.Value{bulk("hostname"), bulk(n.hostname)}
	}
	return arr(ep, num(n.port), bulk(n.id), kv(resp3, meta...))
}

// slotsReply builds a CLUSTER SLOTS reply: one entry per range of each shard, in order.
func slotsReply(resp3 bool, shards ...tShard) resp.Value {
	var out []resp.Value
	for _, s := range shards {
		for k := 0; k+1 < len(s.slots); k += 2 {
			e := []resp.Value{num(s.slots[k]), num(s.slots[k+1])}
			for _, n := range s.nodes {
				e = append(e, n.slotsValue(resp3))
			}
			out = append(out, arr(e...))
		}
	}
	return arr(out...)
}

// describe renders a table for comparisons, one line per shard:
// "addr[health] 0-5460,10000-10010 <- replica[health] replica[health]".
func describe(t *Table) string {
	var b strings.Builder
	for _, s := range t.Shards() {
		b.WriteString(nodeDesc(s.Primary))
		b.WriteString(" ")
		for i, r := range s.Ranges {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%d-%d", r[0], r[1])
		}
		if len(s.Ranges) == 0 {
			b.WriteString("-")
		}
		if len(s.Replicas) > 0 {
			b.WriteString(" <-")
			for _, r := range s.Replicas {
				b.WriteString(" " + nodeDesc(r))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func nodeDesc(n *Node) string {
	s := n.Addr
	if n.Health != "" {
		s += "[" + n.Health + "]"
	}
	if n.Hostname != "" {
		s += "(" + n.Hostname + ")"
	}
	return s
}

// slotsOf returns the pairs start,end of ranges.
func slotsOf(ranges ...[2]int) []int64 {
	var out []int64
	for _, r := range ranges {
		out = append(out, int64(r[0]), int64(r[1]))
	}
	return out
}

// oneSlotShards builds n shards of one slot each (n <= 16384), each with a primary and
// replicas replicas.
func oneSlotShards(n, replicas int) []tShard {
	shards := make([]tShard, n)
	per := 16384 / n
	for i := range shards {
		lo := int64(i * per)
		hi := lo + int64(per) - 1
		if i == n-1 {
			hi = 16383
		}
		nodes := []tNode{{id: fmt.Sprintf("%040d", 2*i), endpoint: "10.0." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+1), port: 7000, offset: 1}}
		for r := range replicas {
			nodes = append(nodes, tNode{id: fmt.Sprintf("%040d", 2*i+1), endpoint: nodes[0].endpoint, port: int64(7001 + r), replica: true, offset: 1})
		}
		shards[i] = tShard{slots: []int64{lo, hi}, nodes: nodes}
	}
	return shards
}
