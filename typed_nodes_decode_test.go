package redline

import (
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// Unit tests of the per-node methods' decoders (typed_nodes_decode.go): both
// protocols' forms, older servers' shorter entries, and malformed replies, which fail
// with an error, never a panic.

func TestDecodeSlowLog(t *testing.T) {
	entry := vArr(vInt(7), vInt(1700000000), vInt(1500), vArr(vBulk("DEBUG"), vBulk("SLEEP"), vBulk("0.1")), vBulk("127.0.0.1:5000"), vBulk("app"))
	old := vArr(vInt(6), vInt(1700000000), vInt(20), vArr(vBulk("KEYS"), vBulk("*"))) // Redis 3.2: no client
	es, err := decodeSlowLog(res(vArr(entry, old)))
	if err != nil || len(es) != 2 {
		t.Fatalf("decodeSlowLog = %v %v", es, err)
	}
	want := SlowLogEntry{ID: 7, Time: time.Unix(1700000000, 0), Duration: 1500 * time.Microsecond, ClientAddr: "127.0.0.1:5000", ClientName: "app"}
	if e := es[0]; e.ID != want.ID || !e.Time.Equal(want.Time) || e.Duration != want.Duration || strings.Join(e.Args, " ") != "DEBUG SLEEP 0.1" || e.ClientAddr != want.ClientAddr || e.ClientName != want.ClientName {
		t.Fatalf("entry %+v, want %+v", e, want)
	}
	if es[1].ClientAddr != "" || es[1].Duration != 20*time.Microsecond {
		t.Fatalf("old entry %+v", es[1])
	}
	for _, bad := range []resp.Value{vInt(1), vArr(vInt(1)), vArr(vArr(vInt(1), vInt(2), vInt(3), vInt(4))), vArr(vArr(vBulk("x"), vInt(2), vInt(3), vArr())), vArr(vArr(vInt(1), vInt(2), vInt(3), vArr(vArr())))} {
		if _, err := decodeSlowLog(res(bad)); err == nil {
			t.Errorf("decodeSlowLog(%v) succeeded", bad)
		}
	}
}

func TestDecodeClientList(t *testing.T) {
	text := "id=3 addr=127.0.0.1:52555 laddr=127.0.0.1:6379 fd=8 name=app age=12 idle=3 flags=N db=0 cmd=client|list user=default\n" +
		"id=4 addr=127.0.0.1:52556 laddr=127.0.0.1:6379 fd=9 name= age=1 idle=1 flags=S db=0 cmd=replconf user=default\n"
	for _, v := range []resp.Value{vBulk(text), {Type: resp.TypeVerbatim, Format: "txt", Str: []byte(text)}} {
		cs, err := decodeClientList(res(v))
		if err != nil || len(cs) != 2 {
			t.Fatalf("decodeClientList = %v %v", cs, err)
		}
		c := cs[0]
		if c.ID != 3 || c.Addr != "127.0.0.1:52555" || c.LAddr != "127.0.0.1:6379" || c.Name != "app" || c.Age != 12*time.Second ||
			c.Idle != 3*time.Second || c.Flags != "N" || c.DB != 0 || c.Cmd != "client|list" || c.User != "default" || c.Fields["fd"] != "8" {
			t.Fatalf("client %+v", c)
		}
		if cs[1].Name != "" || cs[1].Flags != "S" {
			t.Fatalf("client %+v", cs[1])
		}
	}
	if cs, err := decodeClientList(res(vBulk(""))); err != nil || len(cs) != 0 {
		t.Fatalf("an empty list: %v %v", cs, err)
	}
	for _, bad := range []string{"id=x addr=a", "id=1 age=old", "id=1 garbage"} {
		if _, err := decodeClientList(res(vBulk(bad))); err == nil {
			t.Errorf("decodeClientList(%q) succeeded", bad)
		}
	}
}

func TestDecodeLatencyLatest(t *testing.T) {
	es, err := decodeLatencyLatest(res(vArr(vArr(vBulk("command"), vInt(1700000000), vInt(120), vInt(300)))))
	if err != nil || len(es) != 1 || es[0].Name != "command" || !es[0].Time.Equal(time.Unix(1700000000, 0)) ||
		es[0].Latest != 120*time.Millisecond || es[0].Max != 300*time.Millisecond {
		t.Fatalf("decodeLatencyLatest = %+v %v", es, err)
	}
	for _, bad := range []resp.Value{vBulk("x"), vArr(vArr(vBulk("e"), vInt(1))), vArr(vArr(vBulk("e"), vBulk("t"), vInt(1), vInt(2)))} {
		if _, err := decodeLatencyLatest(res(bad)); err == nil {
			t.Errorf("decodeLatencyLatest(%v) succeeded", bad)
		}
	}
}

func TestDecodeMemoryStats(t *testing.T) {
	db := []resp.Value{vBulk("overhead.hashtable.main"), vInt(72), vBulk("overhead.hashtable.expires"), vInt(0)}
	resp3 := vMap(vBulk("peak.allocated"), vInt(1000), vBulk("db.0"), vMap(db...),
		vBulk("dataset.percentage"), resp.Value{Type: resp.TypeDouble, Float: 12.5}, vBulk("x"), vNull)
	resp2 := vArr(vBulk("peak.allocated"), vInt(1000), vBulk("db.0"), vArr(db...),
		vBulk("dataset.percentage"), vBulk("12.5"), vBulk("x"), vNull)
	for _, v := range []resp.Value{resp3, resp2} {
		m, err := decodeMemoryStats(res(v))
		if err != nil || m["peak.allocated"] != "1000" || m["db.0.overhead.hashtable.main"] != "72" || m["dataset.percentage"] != "12.5" || len(m) != 5 {
			t.Fatalf("decodeMemoryStats = %v %v", m, err)
		}
	}
	deep := vArr(vBulk("a"), vArr(vBulk("b"), vArr(vBulk("c"), vArr(vBulk("d"), vArr(vBulk("e"), vArr(vBulk("f"), vInt(1))))))) // 5 levels
	for _, bad := range []resp.Value{vInt(1), vArr(vBulk("odd")), vArr(vArr(), vInt(1)), deep} {
		if _, err := decodeMemoryStats(res(bad)); err == nil {
			t.Errorf("decodeMemoryStats(%v) succeeded", bad)
		}
	}
}

func TestDecodeRole(t *testing.T) {
	primary := vArr(vBulk("master"), vInt(3129659), vArr(vArr(vBulk("127.0.0.1"), vBulk("9001"), vBulk("3129242")), vArr(vBulk("::1"), vBulk("9002"), vBulk("3129543"))))
	r, err := decodeRole(res(primary))
	if err != nil || r.Role != "master" || r.Offset != 3129659 || len(r.Replicas) != 2 ||
		r.Replicas[0] != (ReplicaOffset{"127.0.0.1:9001", 3129242}) || r.Replicas[1].Addr != "[::1]:9002" {
		t.Fatalf("decodeRole(primary) = %+v %v", r, err)
	}
	r, err = decodeRole(res(vArr(vBulk("slave"), vBulk("127.0.0.1"), vInt(9000), vBulk("connected"), vInt(3167038))))
	if err != nil || r.PrimaryAddr != "127.0.0.1:9000" || r.State != "connected" || r.Offset != 3167038 {
		t.Fatalf("decodeRole(replica) = %+v %v", r, err)
	}
	r, err = decodeRole(res(vArr(vBulk("sentinel"), vArr(vBulk("mymaster"), vBulk("other")))))
	if err != nil || strings.Join(r.Masters, ",") != "mymaster,other" {
		t.Fatalf("decodeRole(sentinel) = %+v %v", r, err)
	}
	for _, bad := range []resp.Value{vInt(1), vArr(), vArr(vBulk("master")), vArr(vBulk("master"), vInt(1), vArr(vArr(vBulk("ip")))),
		vArr(vBulk("slave"), vBulk("ip")), vArr(vBulk("slave"), vBulk("ip"), vBulk("port"), vBulk("s"), vInt(1)), vArr(vBulk("sentinel"), vInt(1))} {
		if _, err := decodeRole(res(bad)); err == nil {
			t.Errorf("decodeRole(%v) succeeded", bad)
		}
	}
}
