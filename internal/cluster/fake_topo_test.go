package cluster

// The fake cluster's topology: shards described in a few words, the CLUSTER SHARDS
// reply and the table they make, and keys of each shard.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// The fake topology: three shards of 127.0.0.1, primaries on 7001-7003 (slots split as
// redis-cli does), each with one replica on 7101-7103.
const (
	p1, p2, p3 = "127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"
	r1, r2, r3 = "127.0.0.1:7101", "127.0.0.1:7102", "127.0.0.1:7103"
)

// shardSpec is one shard of a fake topology.
type shardSpec struct {
	lo, hi   int // -1: no slot
	primary  string
	replicas []string
	failed   []string // nodes whose health is "fail"
}

var threeShards = []shardSpec{
	{0, 5460, p1, []string{r1}, nil},
	{5461, 10922, p2, []string{r2}, nil},
	{10923, 16383, p3, []string{r3}, nil},
}

// shardsValue builds the CLUSTER SHARDS reply (RESP2 shape) of specs.
func shardsValue(specs []shardSpec) resp.Value {
	nodeV := func(addr, role string, failed []string) resp.Value {
		host, port, _ := strings.Cut(addr, ":")
		p, _ := strconv.Atoi(port)
		health := "online"
		for _, f := range failed {
			if f == addr {
				health = "fail"
			}
		}
		return arrV(bulkV("id"), bulkV(fmt.Sprintf("%040d", p)), bulkV("port"), intV(int64(p)),
			bulkV("ip"), bulkV(host), bulkV("endpoint"), bulkV(host), bulkV("role"), bulkV(role),
			bulkV("replication-offset"), intV(100), bulkV("health"), bulkV(health))
	}
	var shards []resp.Value
	for _, s := range specs {
		var slots []resp.Value
		if s.lo >= 0 {
			slots = []resp.Value{intV(int64(s.lo)), intV(int64(s.hi))}
		}
		nodes := []resp.Value{nodeV(s.primary, "master", s.failed)}
		for _, r := range s.replicas {
			nodes = append(nodes, nodeV(r, "replica", s.failed))
		}
		shards = append(shards, arrV(bulkV("slots"), arrV(slots...), bulkV("nodes"), arrV(nodes...)))
	}
	return arrV(shards...)
}

// tableOf parses specs as a table fetched from p1.
func tableOf(t testing.TB, specs []shardSpec) *topology.Table {
	t.Helper()
	tb, err := topology.ParseShards(shardsValue(specs), p1, false)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// keyIn returns a key (named after prefix) whose slot is in lo..hi.
func keyIn(prefix string, lo, hi int) string {
	for i := 0; i < 100000; i++ {
		k := prefix + strconv.Itoa(i)
		if s := hashslot.Key(k); s >= lo && s <= hi {
			return k
		}
	}
	panic("no key found")
}

// Keys of each fake shard, and their slots.
var (
	k1 = keyIn("a", 0, 5460)
	k2 = keyIn("b", 5461, 10922)
	k3 = keyIn("c", 10923, 16383)
	s1 = hashslot.Key(k1)
	s2 = hashslot.Key(k2)
	s3 = hashslot.Key(k3)
)

// slotsValue builds the CLUSTER SLOTS reply of specs (shards serving no slot are not
// listed, as the server does not list them).
func slotsValue(specs []shardSpec) resp.Value {
	nodeV := func(addr string) resp.Value {
		host, port, _ := strings.Cut(addr, ":")
		p, _ := strconv.Atoi(port)
		return arrV(bulkV(host), intV(int64(p)), bulkV(fmt.Sprintf("%040d", p)))
	}
	var entries []resp.Value
	for _, s := range specs {
		if s.lo < 0 {
			continue
		}
		e := []resp.Value{intV(int64(s.lo)), intV(int64(s.hi)), nodeV(s.primary)}
		for _, r := range s.replicas {
			e = append(e, nodeV(r))
		}
		entries = append(entries, arrV(e...))
	}
	return arrV(entries...)
}
