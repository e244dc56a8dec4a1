package redline

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// Unit tests of the operator commands' decoders (typed_cluster.go, typed_acl.go,
// typed_command_info.go) and arguments (typed_ops.go): both protocols' shapes, older
// servers' shapes, and malformed replies, which fail with an error, never a panic.

func vSimple(s string) resp.Value  { return resp.Value{Type: resp.TypeSimpleString, Str: []byte(s)} }
func vDouble(f float64) resp.Value { return resp.Value{Type: resp.TypeDouble, Float: f} }
func vSet(e ...resp.Value) resp.Value {
	return resp.Value{Type: resp.TypeSet, Elems: e}
}

const clusterNodesText = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001,node-a,shard-id=abc myself,master - 0 1700000000000 1 connected 0-5460 [5461->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]\n" +
	"292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30002@40002 master - 1700000000001 1700000000002 2 connected 5461-10922 16000 [16001-<-e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca]\n" +
	"6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30004@40004 slave,fail? e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 0 1 disconnected\n" +
	"0000000000000000000000000000000000000000 :0@0 handshake,noaddr - 0 0 0 disconnected\n" +
	"\n"

func TestDecodeClusterNodes(t *testing.T) {
	for _, v := range []resp.Value{vBulk(clusterNodesText), {Type: resp.TypeVerbatim, Format: "txt", Str: []byte(clusterNodesText)}} {
		ns, err := decodeClusterNodes(res(v))
		if err != nil || len(ns) != 4 {
			t.Fatalf("decodeClusterNodes = %d nodes, %v", len(ns), err)
		}
		a, b, r, h := ns[0], ns[1], ns[2], ns[3]
		if a.ID != "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca" || a.Addr != "127.0.0.1:30001" || a.BusPort != 40001 || a.Hostname != "node-a" ||
			a.Aux["shard-id"] != "abc" || !a.HasFlag("myself") || !a.IsPrimary() || a.PrimaryID != "" || !a.PingSent.IsZero() ||
			a.PongReceived.UnixMilli() != 1700000000000 || a.ConfigEpoch != 1 || a.LinkState != "connected" ||
			!slices.Equal(a.Slots, []SlotRange{{0, 5460}}) || a.Migrating[5461] != b.ID || !strings.HasPrefix(a.Raw, a.ID) {
			t.Fatalf("node a %+v", a)
		}
		if !slices.Equal(b.Slots, []SlotRange{{5461, 10922}, {16000, 16000}}) || b.Importing[16001] != a.ID || b.PingSent.UnixMilli() != 1700000000001 || b.Hostname != "" {
			t.Fatalf("node b %+v", b)
		}
		if r.IsPrimary() || r.PrimaryID != a.ID || !r.HasFlag("fail?") || r.LinkState != "disconnected" || r.Slots != nil {
			t.Fatalf("replica %+v", r)
		}
		if h.Addr != "" || h.BusPort != 0 || !h.HasFlag("noaddr") {
			t.Fatalf("handshake node %+v", h)
		}
	}
	// CLUSTER REPLICAS: the same lines, as an array.
	line := strings.Split(clusterNodesText, "\n")[2]
	ns, err := decodeClusterNodes(res(vArr(vBulk(line))))
	if err != nil || len(ns) != 1 || ns[0].ID != "6ec23923021cf3ffec47632106199cb7f496ce01" {
		t.Fatalf("replicas = %+v %v", ns, err)
	}
	if ns, err := decodeClusterNodes(res(vArr())); err != nil || len(ns) != 0 {
		t.Fatalf("no replicas = %v %v", ns, err)
	}
	id := strings.Repeat("a", 40)
	for _, bad := range []string{
		"x y z",
		id + " 127.0.0.1 master - 0 0 1 connected",                 // no port
		id + " 127.0.0.1:1@x master - 0 0 1 connected",             // bus port
		id + " 127.0.0.1:1@2 master - zero 0 1 connected",          // ping
		id + " 127.0.0.1:1@2 master - 0 0 1 connected 5-3",         // range backwards
		id + " 127.0.0.1:1@2 master - 0 0 1 connected 16384",       // no such slot
		id + " 127.0.0.1:1@2 master - 0 0 1 connected [1-?-x]",     // slot state
		id + " 127.0.0.1:1@2 master - 0 0 1 connected [99999->-x]", // slot state's slot
	} {
		if _, err := decodeClusterNodes(res(vBulk(bad))); err == nil {
			t.Errorf("decodeClusterNodes(%q) succeeded", bad)
		}
	}
	for _, bad := range []resp.Value{vInt(1), vArr(vInt(1)), vArr(vArr())} {
		if _, err := decodeClusterNodes(res(bad)); err == nil {
			t.Errorf("decodeClusterNodes(%v) succeeded", bad)
		}
	}
	if _, err := decodeClusterNodes(res(vNull)); !errors.Is(err, Nil) {
		t.Errorf("a null reply: %v, want Nil", err)
	}
}

func TestDecodeClusterSlots(t *testing.T) {
	meta2 := vArr(vBulk("hostname"), vBulk("host-a"))
	meta3 := vMap(vBulk("hostname"), vBulk("host-a"))
	for _, meta := range []resp.Value{meta2, meta3} {
		v := vArr(
			vArr(vInt(0), vInt(5460), vArr(vBulk("127.0.0.1"), vInt(30001), vBulk("id-a"), meta), vArr(vBulk("::1"), vInt(30004), vBulk("id-r"), vMap())),
			vArr(vInt(5461), vInt(10922), vArr(vBulk("127.0.0.1"), vInt(30002))), // an old server: no ID
		)
		ss, err := decodeClusterSlots(res(v))
		if err != nil || len(ss) != 2 {
			t.Fatalf("decodeClusterSlots = %v %v", ss, err)
		}
		s := ss[0]
		if s.Start != 0 || s.End != 5460 || len(s.Nodes) != 2 || s.Nodes[0].Addr != "127.0.0.1:30001" || s.Nodes[0].ID != "id-a" ||
			s.Nodes[0].Metadata["hostname"] != "host-a" || s.Nodes[1].Addr != "[::1]:30004" || s.Nodes[1].Metadata != nil {
			t.Fatalf("range %+v", s)
		}
		if ss[1].Nodes[0].ID != "" || ss[1].Start != 5461 {
			t.Fatalf("range %+v", ss[1])
		}
	}
	for _, bad := range []resp.Value{
		vInt(1), vArr(vInt(1)), vArr(vArr(vInt(0), vInt(1))), vArr(vArr(vInt(5), vInt(1), vArr(vBulk("h"), vInt(1)))),
		vArr(vArr(vInt(0), vInt(16384), vArr(vBulk("h"), vInt(1)))), vArr(vArr(vInt(0), vInt(1), vArr(vBulk("h")))),
		vArr(vArr(vInt(0), vInt(1), vArr(vBulk("h"), vBulk("port")))), vArr(vArr(vInt(0), vInt(1), vArr(vBulk("h"), vInt(1), vBulk("id"), vArr(vBulk("odd"))))),
		vArr(vArr(vBulk("x"), vInt(1), vArr(vBulk("h"), vInt(1)))),
	} {
		if _, err := decodeClusterSlots(res(bad)); err == nil {
			t.Errorf("decodeClusterSlots(%v) succeeded", bad)
		}
	}
}

func TestDecodeClusterLinks(t *testing.T) {
	fields := []resp.Value{vBulk("direction"), vBulk("to"), vBulk("node"), vBulk("id-b"), vBulk("create-time"), vInt(1700000000123),
		vBulk("events"), vBulk("rw"), vBulk("send-buffer-allocated"), vInt(4096), vBulk("send-buffer-used"), vInt(0)}
	for _, v := range []resp.Value{vArr(vArr(fields...)), vArr(vMap(fields...))} {
		ls, err := decodeClusterLinks(res(v))
		if err != nil || len(ls) != 1 {
			t.Fatalf("decodeClusterLinks = %v %v", ls, err)
		}
		if l := ls[0]; l.Direction != "to" || l.Node != "id-b" || l.CreateTime.UnixMilli() != 1700000000123 || l.Events != "rw" || l.SendBufferAllocated != 4096 {
			t.Fatalf("link %+v", l)
		}
	}
	for _, bad := range []resp.Value{vInt(1), vArr(vInt(1)), vArr(vArr(vBulk("create-time"))), vArr(vMap(vBulk("create-time"), vBulk("soon")))} {
		if _, err := decodeClusterLinks(res(bad)); err == nil {
			t.Errorf("decodeClusterLinks(%v) succeeded", bad)
		}
	}
}

func TestDecodeACLUser(t *testing.T) {
	// Redis 7.0: keys and channels as rule strings, selectors as maps.
	v7 := []resp.Value{
		vBulk("flags"), vSet(vBulk("on"), vBulk("sanitize-payload")), vBulk("passwords"), vArr(vBulk("5e88")),
		vBulk("commands"), vBulk("+@all -debug"), vBulk("keys"), vBulk("~app:* %R~cache:*"), vBulk("channels"), vBulk("&*"),
		vBulk("selectors"), vArr(vMap(vBulk("commands"), vBulk("-@all +get"), vBulk("keys"), vBulk("~other:*"), vBulk("channels"), vBulk(""))),
	}
	for _, v := range []resp.Value{vMap(v7...), vArr(v7...)} {
		u, err := decodeACLUser(res(v))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(u.Flags) != "[on sanitize-payload]" || fmt.Sprint(u.Passwords) != "[5e88]" || u.Commands != "+@all -debug" ||
			u.Keys != "~app:* %R~cache:*" || u.Channels != "&*" || len(u.Selectors) != 1 || u.Selectors[0] != (ACLSelector{Commands: "-@all +get", Keys: "~other:*"}) {
			t.Fatalf("user %+v", u)
		}
	}
	// Redis 6.2: keys and channels as arrays of patterns; no selectors.
	u, err := decodeACLUser(res(vArr(vBulk("flags"), vArr(vBulk("on"), vBulk("allkeys")), vBulk("passwords"), vArr(),
		vBulk("commands"), vBulk("+@all"), vBulk("keys"), vArr(vBulk("*"), vBulk("a:*")), vBulk("channels"), vArr(vBulk("*")))))
	if err != nil || u.Keys != "~* ~a:*" || u.Channels != "&*" || u.Selectors != nil || len(u.Passwords) != 0 {
		t.Fatalf("a 6.2 user: %+v %v", u, err)
	}
	if _, err := decodeACLUser(res(vNull)); !errors.Is(err, Nil) {
		t.Fatalf("no such user: %v, want Nil", err)
	}
	for _, bad := range []resp.Value{vInt(1), vArr(vBulk("flags")), vMap(vBulk("flags"), vBulk("on")), vMap(vBulk("keys"), vArr(vArr())),
		vMap(vBulk("selectors"), vInt(1)), vMap(vBulk("selectors"), vArr(vInt(1)))} {
		if _, err := decodeACLUser(res(bad)); err == nil {
			t.Errorf("decodeACLUser(%v) succeeded", bad)
		}
	}
}

func TestDecodeACLLog(t *testing.T) {
	fields := func(age resp.Value) []resp.Value {
		return []resp.Value{vBulk("count"), vInt(2), vBulk("reason"), vBulk("command"), vBulk("context"), vBulk("toplevel"),
			vBulk("object"), vBulk("get"), vBulk("username"), vBulk("u1"), vBulk("age-seconds"), age,
			vBulk("client-info"), vBulk("id=3 addr=127.0.0.1:5000"), vBulk("entry-id"), vInt(0),
			vBulk("timestamp-created"), vInt(1700000000000), vBulk("timestamp-last-updated"), vInt(1700000001000)}
	}
	for _, v := range []resp.Value{vArr(vArr(fields(vBulk("1.5"))...)), vArr(vMap(fields(vDouble(1.5))...))} {
		es, err := decodeACLLog(res(v))
		if err != nil || len(es) != 1 {
			t.Fatalf("decodeACLLog = %v %v", es, err)
		}
		e := es[0]
		if e.Count != 2 || e.Reason != "command" || e.Context != "toplevel" || e.Object != "get" || e.Username != "u1" ||
			e.Age != 1500*time.Millisecond || !strings.HasPrefix(e.ClientInfo, "id=3") || e.Created.UnixMilli() != 1700000000000 ||
			e.LastUpdated.Sub(e.Created) != time.Second {
			t.Fatalf("entry %+v", e)
		}
	}
	for _, bad := range []resp.Value{vInt(1), vArr(vInt(1)), vArr(vMap(vBulk("count"), vBulk("many"))), vArr(vMap(vBulk("age-seconds"), vBulk("-1"))),
		vArr(vMap(vBulk("age-seconds"), vDouble(1e300)))} {
		if _, err := decodeACLLog(res(bad)); err == nil {
			t.Errorf("decodeACLLog(%v) succeeded", bad)
		}
	}
}

func TestDecodeCommandInfo(t *testing.T) {
	get := vArr(vBulk("get"), vInt(2), vSet(vSimple("readonly"), vSimple("fast")), vInt(1), vInt(1), vInt(1),
		vSet(vSimple("@read"), vSimple("@string")), vArr(), vArr(vMap()), vArr())
	cfgGet := vArr(vBulk("config|get"), vInt(-3), vArr(vSimple("admin")), vInt(0), vInt(0), vInt(0), vArr(), vArr(vBulk("request_policy:all_nodes")), vArr(), vArr())
	config := vArr(vBulk("config"), vInt(-2), vArr(), vInt(0), vInt(0), vInt(0), vArr(), vArr(), vArr(), vArr(cfgGet))
	old := vArr(vBulk("set"), vInt(-3), vArr(vSimple("write")), vInt(1), vInt(1), vInt(1)) // Redis 5: six fields
	cs, err := decodeCommandInfos(res(vArr(get, vNull, config, old)))
	if err != nil || len(cs) != 3 {
		t.Fatalf("decodeCommandInfos = %v %v", cs, err)
	}
	g := cs["get"]
	if g.Arity != 2 || fmt.Sprint(g.Flags) != "[readonly fast]" || g.FirstKey != 1 || g.LastKey != 1 || g.Step != 1 || fmt.Sprint(g.ACLCategories) != "[@read @string]" {
		t.Fatalf("get %+v", g)
	}
	if c := cs["config"]; len(c.Subcommands) != 1 || c.Subcommands[0].Name != "config|get" || c.Subcommands[0].Tips[0] != "request_policy:all_nodes" {
		t.Fatalf("config %+v", c)
	}
	if s := cs["set"]; s.Arity != -3 || s.ACLCategories != nil {
		t.Fatalf("set %+v", s)
	}
	deep := cfgGet
	for range 5 {
		deep = vArr(vBulk("x"), vInt(1), vArr(), vInt(0), vInt(0), vInt(0), vArr(), vArr(), vArr(), vArr(deep))
	}
	for _, bad := range []resp.Value{vInt(1), vArr(vInt(1)), vArr(vArr(vBulk("get"), vInt(2))), vArr(vArr(vBulk("get"), vBulk("two"), vArr(), vInt(1), vInt(1), vInt(1))),
		vArr(vArr(vBulk("get"), vInt(2), vInt(3), vInt(1), vInt(1), vInt(1))), vArr(vArr(vBulk("c"), vInt(2), vArr(), vInt(1), vInt(1), vInt(1), vArr(), vArr(), vArr(), vInt(1))),
		vArr(deep)} {
		if _, err := decodeCommandInfos(res(bad)); err == nil {
			t.Errorf("decodeCommandInfos(%v) succeeded", bad)
		}
	}
}

func TestDecodeCommandDocs(t *testing.T) {
	doc := []resp.Value{vBulk("summary"), vBulk("Returns the value"), vBulk("since"), vBulk("1.0.0"), vBulk("group"), vBulk("string"),
		vBulk("complexity"), vBulk("O(1)"), vBulk("doc_flags"), vSet(vSimple("deprecated")), vBulk("deprecated_since"), vBulk("6.2.0"),
		vBulk("replaced_by"), vBulk("`GETEX`"), vBulk("arguments"), vArr(vMap(vBulk("name"), vBulk("key"))),
		vBulk("subcommands"), vMap(vBulk("x|y"), vMap(vBulk("summary"), vBulk("sub")))}
	for _, v := range []resp.Value{vMap(vBulk("get"), vMap(doc...)), vArr(vBulk("get"), vArr(doc...))} {
		ds, err := decodeCommandDocs(res(v))
		if err != nil || len(ds) != 1 {
			t.Fatalf("decodeCommandDocs = %v %v", ds, err)
		}
		d := ds["get"]
		if d.Summary != "Returns the value" || d.Since != "1.0.0" || d.Group != "string" || d.Complexity != "O(1)" || fmt.Sprint(d.DocFlags) != "[deprecated]" ||
			d.DeprecatedSince != "6.2.0" || d.ReplacedBy != "`GETEX`" || d.Subcommands["x|y"].Summary != "sub" {
			t.Fatalf("doc %+v", d)
		}
	}
	deep := vMap(vBulk("summary"), vBulk("s"))
	for range 5 {
		deep = vMap(vBulk("subcommands"), vMap(vBulk("x"), deep))
	}
	for _, bad := range []resp.Value{vInt(1), vArr(vBulk("get")), vMap(vBulk("get"), vInt(1)), vMap(vBulk("get"), vMap(vBulk("summary"), vArr())), vMap(vBulk("x"), deep)} {
		if _, err := decodeCommandDocs(res(bad)); err == nil {
			t.Errorf("decodeCommandDocs(%v) succeeded", bad)
		}
	}
}

func TestDecodeModuleList(t *testing.T) {
	fields := []resp.Value{vBulk("name"), vBulk("search"), vBulk("ver"), vInt(20809), vBulk("path"), vBulk("/m/search.so"), vBulk("args"), vArr(vBulk("MAXDOCS"), vBulk("10"))}
	for _, v := range []resp.Value{vArr(vArr(fields...)), vArr(vMap(fields...))} {
		ms, err := decodeModuleList(res(v))
		if err != nil || len(ms) != 1 || ms[0].Name != "search" || ms[0].Version != 20809 || ms[0].Path != "/m/search.so" || fmt.Sprint(ms[0].Args) != "[MAXDOCS 10]" {
			t.Fatalf("decodeModuleList = %+v %v", ms, err)
		}
	}
	for _, bad := range []resp.Value{vInt(1), vArr(vInt(1)), vArr(vMap(vBulk("ver"), vBulk("new")))} {
		if _, err := decodeModuleList(res(bad)); err == nil {
			t.Errorf("decodeModuleList(%v) succeeded", bad)
		}
	}
}

func TestOpsArgs(t *testing.T) {
	for _, c := range []struct {
		f    ClientKillFilter
		want string
	}{
		{ClientKillFilter{ID: 7}, "[CLIENT KILL ID 7]"},
		{ClientKillFilter{Addr: "1.2.3.4:5", LAddr: "1.2.3.4:6379", User: "u", Type: "normal", MaxAge: 90 * time.Second, IncludeSelf: true},
			"[CLIENT KILL ADDR 1.2.3.4:5 LADDR 1.2.3.4:6379 USER u TYPE normal MAXAGE 90 SKIPME no]"},
		{ClientKillFilter{MaxAge: time.Millisecond}, "[CLIENT KILL MAXAGE 1]"},
	} {
		args, err := c.f.args()
		if err != nil || fmt.Sprint(args) != c.want {
			t.Errorf("%+v: %v %v, want %s", c.f, args, err, c.want)
		}
	}
	if _, err := (ClientKillFilter{IncludeSelf: true}).args(); !errors.Is(err, errKillNoFilter) {
		t.Errorf("an empty filter: %v", err)
	}
	var nilMem *MemoryUsageOptions
	for _, c := range []struct {
		o    *MemoryUsageOptions
		want string
	}{{nilMem, "[]"}, {&MemoryUsageOptions{}, "[]"}, {&MemoryUsageOptions{Samples: 3}, "[SAMPLES 3]"}, {&MemoryUsageOptions{AllSamples: true, Samples: 3}, "[SAMPLES 0]"}} {
		if got := fmt.Sprint(c.o.appendArgs(nil)); got != c.want {
			t.Errorf("%+v: %s, want %s", c.o, got, c.want)
		}
	}
	var nilF *CommandListFilter
	for _, c := range []struct {
		f    *CommandListFilter
		want string
	}{{nilF, "[]"}, {&CommandListFilter{Module: "m", Pattern: "p"}, "[FILTERBY MODULE m]"}, {&CommandListFilter{ACLCat: "admin"}, "[FILTERBY ACLCAT admin]"}, {&CommandListFilter{Pattern: "x*"}, "[FILTERBY PATTERN x*]"}} {
		if got := fmt.Sprint(c.f.appendArgs(nil)); got != c.want {
			t.Errorf("%+v: %s, want %s", c.f, got, c.want)
		}
	}
}

// TestOpsDecodersRefuseMalformedReplies feeds the operator decoders random replies
// built from the names they look for: each returns, never panics.
func TestOpsDecodersRefuseMalformedReplies(t *testing.T) {
	decoders := map[string]func(Result) error{
		"clusternodes": func(r Result) error { _, err := decodeClusterNodes(r); return err },
		"clusterslots": func(r Result) error { _, err := decodeClusterSlots(r); return err },
		"clusterlinks": func(r Result) error { _, err := decodeClusterLinks(r); return err },
		"acluser":      func(r Result) error { _, err := decodeACLUser(r); return err },
		"acllog":       func(r Result) error { _, err := decodeACLLog(r); return err },
		"commandinfos": func(r Result) error { _, err := decodeCommandInfos(r); return err },
		"commanddocs":  func(r Result) error { _, err := decodeCommandDocs(r); return err },
		"modulelist":   func(r Result) error { _, err := decodeModuleList(r); return err },
		"keyflags":     func(r Result) error { _, err := decodeKeyFlags(r); return err },
		"latencyhist":  func(r Result) error { _, err := decodeLatencyHistory(r); return err },
		"histogram":    func(r Result) error { _, err := decodeLatencyHistogram(r); return err },
	}
	names := []string{"flags", "passwords", "commands", "keys", "channels", "selectors", "count", "age-seconds", "timestamp-created",
		"create-time", "direction", "calls", "histogram_usec", "16", "summary", "subcommands", "doc_flags", "name", "ver", "args", "x",
		"a 1:2@3 master - 0 0 1 connected 1-2", "a :0 x y z w v u [1->-b]", "id 1.2.3.4:5@6,h,k=v m - 0 0 0 c 9-3"}
	rng := rand.New(rand.NewPCG(18, 3))
	var gen func(depth int) resp.Value
	gen = func(depth int) resp.Value {
		n := rng.IntN(9)
		if depth == 0 {
			n = rng.IntN(5)
		}
		switch n {
		case 0:
			return vNull
		case 1:
			return vInt(rng.Int64N(20000) - 2)
		case 2, 3:
			return vBulk(names[rng.IntN(len(names))])
		case 4:
			return vDouble(rng.NormFloat64() * 1e12)
		}
		elems := make([]resp.Value, rng.IntN(11))
		for i := range elems {
			elems[i] = gen(depth - 1)
		}
		if n%2 == 0 {
			return vMap(elems...)
		}
		return vArr(elems...)
	}
	for name, dec := range decoders {
		for range 3000 {
			v := gen(4)
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s panicked on %v: %v", name, v, p)
					}
				}()
				_ = dec(res(v))
			}()
		}
	}
}
