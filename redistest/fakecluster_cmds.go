package redistest

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/fakeserver"
	"github.com/redline-go/redline/resp"
)

// fakeCmd is one command being answered by a fake node: its reply is appended to out.
type fakeCmd struct {
	f    *FakeCluster
	nd   *fakeNode
	conn *fakeserver.Conn // its Proto and ReadOnly are the connection's state
	out  []byte
}

// answer is the fakeserver.AppendHandler of node nd.
func (f *FakeCluster) answer(nd *fakeNode, conn *fakeserver.Conn, args [][]byte, out []byte) []byte {
	c := fakeCmd{f: f, nd: nd, conn: conn, out: out}
	c.handle(args)
	return c.out
}

func is(arg []byte, name string) bool { return strings.EqualFold(string(arg), name) }

// handle answers one command into c.out.
func (c *fakeCmd) handle(args [][]byte) {
	f := c.f
	name := args[0]
	switch {
	case is(name, "GET"), is(name, "SET"), is(name, "DEL"):
		f.dataCmds.Add(1)
		c.data(args)
	case is(name, "PING"):
		f.pings.Add(1)
		if len(args) > 1 {
			c.out = resp.AppendBulk(c.out, args[1])
		} else {
			c.out = resp.AppendSimpleString(c.out, "PONG")
		}
	case is(name, "CLUSTER"):
		if len(args) > 1 && (is(args[1], "SHARDS") || is(args[1], "SLOTS") || is(args[1], "NODES")) {
			f.topology.Add(1)
		} else {
			f.other.Add(1)
		}
		c.cluster(args)
	default:
		f.other.Add(1)
		c.admin(args)
	}
}

// admin answers the connection and introspection commands.
func (c *fakeCmd) admin(args [][]byte) {
	name := args[0]
	switch {
	case is(name, "HELLO"):
		if len(args) > 1 {
			p, err := strconv.Atoi(string(args[1]))
			if err != nil || p < 2 || p > 3 {
				c.out = resp.AppendError(c.out, "NOPROTO unsupported protocol version")
				return
			}
			c.conn.Proto = p
		}
		role := "master"
		if c.nd.replica {
			role = "replica"
		}
		c.out = c.mapHeader(c.out, 7)
		c.out = resp.AppendBulkString(c.out, "server")
		c.out = resp.AppendBulkString(c.out, "redis")
		c.out = resp.AppendBulkString(c.out, "version")
		c.out = resp.AppendBulkString(c.out, "7.2.4")
		c.out = resp.AppendBulkString(c.out, "proto")
		c.out = resp.AppendInt(c.out, int64(c.conn.Proto))
		c.out = resp.AppendBulkString(c.out, "id")
		c.out = resp.AppendInt(c.out, int64(c.nd.index+1))
		c.out = resp.AppendBulkString(c.out, "mode")
		c.out = resp.AppendBulkString(c.out, "cluster")
		c.out = resp.AppendBulkString(c.out, "role")
		c.out = resp.AppendBulkString(c.out, role)
		c.out = resp.AppendBulkString(c.out, "modules")
		c.out = resp.AppendArrayHeader(c.out, 0)
	case is(name, "AUTH"), is(name, "CLIENT"), is(name, "SELECT"):
		c.out = resp.AppendSimpleString(c.out, "OK")
	case is(name, "READONLY"):
		c.conn.ReadOnly = true
		c.out = resp.AppendSimpleString(c.out, "OK")
	case is(name, "READWRITE"):
		c.conn.ReadOnly = false
		c.out = resp.AppendSimpleString(c.out, "OK")
	case is(name, "ECHO") && len(args) == 2:
		c.out = resp.AppendBulk(c.out, args[1])
	case is(name, "COMMAND"):
		c.out = resp.AppendArrayHeader(c.out, 0)
	case is(name, "INFO"):
		c.out = resp.AppendBulkString(c.out, "# Server\r\nredis_version:7.2.4\r\nredis_mode:cluster\r\n# Cluster\r\ncluster_enabled:1\r\n")
	default:
		c.out = resp.AppendError(c.out, "ERR unknown command '"+string(name)+"' (redistest fake cluster)")
	}
}

func (c *fakeCmd) mapHeader(dst []byte, pairs int) []byte {
	if c.conn.Proto == 3 {
		return append(strconv.AppendInt(append(dst, '%'), int64(pairs), 10), '\r', '\n')
	}
	return resp.AppendArrayHeader(dst, 2*pairs)
}

// data answers GET, SET and DEL: MOVED when the slot is not this node's, CLUSTERDOWN
// during an outage.
func (c *fakeCmd) data(args [][]byte) {
	f := c.f
	if len(args) < 2 || is(args[0], "SET") && len(args) < 3 {
		c.out = resp.AppendError(c.out, "ERR wrong number of arguments for '"+strings.ToLower(string(args[0]))+"' command")
		return
	}
	if f.isDown() {
		f.downReplies.Add(1)
		c.out = resp.AppendError(c.out, "CLUSTERDOWN The cluster is down")
		return
	}
	keys := args[1:]
	if is(args[0], "SET") {
		keys = args[1:2]
	}
	slot := hashslot.KeyBytes(keys[0])
	for _, k := range keys[1:] {
		if hashslot.KeyBytes(k) != slot {
			c.out = resp.AppendError(c.out, "CROSSSLOT Keys in request don't hash to the same slot")
			return
		}
	}
	owner := f.SlotOwner(slot)
	serves := !c.nd.replica && owner == c.nd.index ||
		c.nd.replica && owner == c.nd.master && c.conn.ReadOnly && is(args[0], "GET")
	if !serves {
		f.moved.Add(1)
		c.out = resp.AppendError(c.out, "MOVED "+strconv.Itoa(slot)+" "+f.nodes[owner].addr)
		return
	}
	switch {
	case is(args[0], "GET"):
		if v, ok := f.data.Load(string(keys[0])); ok {
			c.out = resp.AppendBulk(c.out, v.([]byte))
		} else {
			c.out = resp.AppendNull(c.out, c.conn.Proto)
		}
	case is(args[0], "SET"):
		f.data.Store(string(keys[0]), bytes.Clone(args[2]))
		c.out = resp.AppendSimpleString(c.out, "OK")
	default:
		n := int64(0)
		for _, k := range keys {
			if _, ok := f.data.LoadAndDelete(string(k)); ok {
				n++
			}
		}
		c.out = resp.AppendInt(c.out, n)
	}
}

// cluster answers CLUSTER subcommands.
func (c *fakeCmd) cluster(args [][]byte) {
	if len(args) < 2 {
		c.out = resp.AppendError(c.out, "ERR wrong number of arguments for 'cluster' command")
		return
	}
	switch sub := args[1]; {
	case is(sub, "SHARDS"):
		c.out = append(c.out, c.f.topologyReply("shards", c.conn.Proto)...)
	case is(sub, "SLOTS"):
		c.out = append(c.out, c.f.topologyReply("slots", c.conn.Proto)...)
	case is(sub, "NODES"):
		c.out = resp.AppendBulk(c.out, c.f.nodesText(c.nd))
	case is(sub, "MYID"):
		c.out = resp.AppendBulkString(c.out, c.nd.id)
	case is(sub, "INFO"):
		state := "ok"
		if c.f.isDown() {
			state = "fail"
		}
		c.out = resp.AppendBulkString(c.out, "cluster_enabled:1\r\ncluster_state:"+state+"\r\ncluster_slots_assigned:16384\r\ncluster_known_nodes:"+
			strconv.Itoa(len(c.f.nodes))+"\r\ncluster_size:"+strconv.Itoa(c.f.masters)+"\r\n")
	default:
		c.out = resp.AppendError(c.out, "ERR unknown subcommand '"+string(sub)+"' (redistest fake cluster)")
	}
}

// topologyReply returns the encoded CLUSTER SHARDS or SLOTS reply for proto, built
// once per slot map (the same for every node: no field names the node asked).
func (f *FakeCluster) topologyReply(kind string, proto int) []byte {
	key := kind + strconv.Itoa(proto)
	f.mu.RLock()
	b := f.replies[key]
	f.mu.RUnlock()
	if b != nil {
		return b
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if b := f.replies[key]; b != nil {
		return b
	}
	var v resp.Value
	if kind == "shards" {
		v = f.shardsValue(proto == 3)
	} else {
		v = f.slotsValue()
	}
	if proto == 3 {
		b = resp.AppendValue(nil, v)
	} else {
		b = resp.AppendValueRESP2(nil, v)
	}
	if f.replies == nil {
		f.replies = map[string][]byte{}
	}
	f.replies[key] = b
	return b
}

func bulkV(s string) resp.Value { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }
func intV(n int64) resp.Value   { return resp.Value{Type: resp.TypeInteger, Int: n} }
func arrV(e []resp.Value) resp.Value {
	return resp.Value{Type: resp.TypeArray, Elems: e}
}

// shardsValue builds CLUSTER SHARDS (the caller holds f.mu).
func (f *FakeCluster) shardsValue(resp3 bool) resp.Value {
	ranges := f.slotRanges()
	typ := resp.TypeArray
	if resp3 {
		typ = resp.TypeMap
	}
	nodeV := func(nd *fakeNode) resp.Value {
		role := "master"
		if nd.replica {
			role = "replica"
		}
		return resp.Value{Type: typ, Elems: []resp.Value{
			bulkV("id"), bulkV(nd.id), bulkV("port"), intV(int64(nd.port)),
			bulkV("ip"), bulkV("127.0.0.1"), bulkV("endpoint"), bulkV("127.0.0.1"),
			bulkV("role"), bulkV(role), bulkV("replication-offset"), intV(0),
			bulkV("health"), bulkV("online"),
		}}
	}
	shards := make([]resp.Value, f.masters)
	for i := range f.masters {
		slots := make([]resp.Value, len(ranges[i]))
		for j, s := range ranges[i] {
			slots[j] = intV(int64(s))
		}
		nodes := []resp.Value{nodeV(f.nodes[i])}
		if len(f.nodes) > f.masters {
			nodes = append(nodes, nodeV(f.nodes[f.masters+i]))
		}
		shards[i] = resp.Value{Type: typ, Elems: []resp.Value{
			bulkV("slots"), arrV(slots), bulkV("nodes"), arrV(nodes),
		}}
	}
	return arrV(shards)
}

// slotsValue builds CLUSTER SLOTS (the caller holds f.mu): one entry per range.
func (f *FakeCluster) slotsValue() resp.Value {
	ranges := f.slotRanges()
	nodeV := func(nd *fakeNode) resp.Value {
		return arrV([]resp.Value{bulkV("127.0.0.1"), intV(int64(nd.port)), bulkV(nd.id), arrV(nil)})
	}
	var out []resp.Value
	for i := range f.masters {
		for j := 0; j+1 < len(ranges[i]); j += 2 {
			e := []resp.Value{intV(int64(ranges[i][j])), intV(int64(ranges[i][j+1])), nodeV(f.nodes[i])}
			if len(f.nodes) > f.masters {
				e = append(e, nodeV(f.nodes[f.masters+i]))
			}
			out = append(out, arrV(e))
		}
	}
	return arrV(out)
}

// nodesText builds CLUSTER NODES as seen by node me.
func (f *FakeCluster) nodesText(me *fakeNode) []byte {
	f.mu.RLock()
	ranges := f.slotRanges()
	f.mu.RUnlock()
	var b []byte
	for _, nd := range f.nodes {
		b = append(b, nd.id...)
		b = append(b, " 127.0.0.1:"...)
		b = append(b, nd.portString()...)
		b = append(b, '@')
		b = strconv.AppendInt(b, int64(nd.port)+10000, 10)
		b = append(b, ' ')
		if nd == me {
			b = append(b, "myself,"...)
		}
		if nd.replica {
			b = append(b, "slave "...)
			b = append(b, f.nodes[nd.master].id...)
		} else {
			b = append(b, "master -"...)
		}
		b = append(b, " 0 0 "...)
		b = strconv.AppendInt(b, int64(nd.index+1), 10)
		b = append(b, " connected"...)
		if !nd.replica {
			r := ranges[nd.index]
			for j := 0; j+1 < len(r); j += 2 {
				b = append(b, ' ')
				b = strconv.AppendInt(b, int64(r[j]), 10)
				if r[j+1] != r[j] {
					b = append(b, '-')
					b = strconv.AppendInt(b, int64(r[j+1]), 10)
				}
			}
		}
		b = append(b, '\n')
	}
	return b
}
