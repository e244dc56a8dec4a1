package redline

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// Unit tests of the reply decoders of issue 18's sorted-set, stream and function methods
// (typed_zset.go, typed_stream.go, typed_function.go): reply forms the test server does
// not send (other versions, other states), and malformed replies, which must fail with an
// error, never a panic.

func vBulk(s string) resp.Value { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }
func vInt(n int64) resp.Value   { return resp.Value{Type: resp.TypeInteger, Int: n} }
func vArr(e ...resp.Value) resp.Value {
	return resp.Value{Type: resp.TypeArray, Elems: e}
}
func vMap(e ...resp.Value) resp.Value { return resp.Value{Type: resp.TypeMap, Elems: e} }

var vNull = resp.Value{Type: resp.TypeNull}

func res(v resp.Value) Result { return Result{val: v} }

func TestDecodeFloatPtrs(t *testing.T) {
	for _, v := range []resp.Value{
		vArr(vBulk("1.5"), vNull, vBulk("-inf")), // RESP2
		vArr(resp.Value{Type: resp.TypeDouble, Float: 1.5}, vNull, resp.Value{Type: resp.TypeDouble, Float: math.Inf(-1)}), // RESP3
	} {
		fs, err := decodeFloatPtrs(res(v))
		if err != nil || len(fs) != 3 || *fs[0] != 1.5 || fs[1] != nil || !(*fs[2] < -1e308) {
			t.Fatalf("decodeFloatPtrs(%v) = %v %v", v, fs, err)
		}
	}
}

func TestDecodeKeyZs(t *testing.T) {
	if _, _, err := decodeKeyZs(res(vNull)); !errors.Is(err, Nil) {
		t.Fatalf("a null ZMPOP reply: %v, want Nil", err)
	}
	key, zs, err := decodeKeyZs(res(vArr(vBulk("k"), vArr(vArr(vBulk("a"), vBulk("1")), vArr(vBulk("b"), vBulk("2"))))))
	if err != nil || key != "k" || fmt.Sprint(zs) != "[{1 a} {2 b}]" {
		t.Fatalf("decodeKeyZs = %q %v %v", key, zs, err)
	}
}

func TestDecodeXAutoClaimRedis62(t *testing.T) {
	// Redis 6.2 replies [next, entries] without the deleted IDs.
	r, err := decodeXAutoClaim(res(vArr(vBulk("5-0"), vArr(vArr(vBulk("1-0"), vArr(vBulk("f"), vBulk("v")))))))
	if err != nil || r.Next != "5-0" || len(r.Messages) != 1 || r.Messages[0].Values["f"] != "v" || r.Deleted != nil {
		t.Fatalf("decodeXAutoClaim = %+v %v", r, err)
	}
}

func TestDecodeXInfoConsumersRedis72(t *testing.T) {
	// Redis 7.2 adds "inactive" (-1: never read).
	v := vArr(
		vMap(vBulk("name"), vBulk("a"), vBulk("pending"), vInt(2), vBulk("idle"), vInt(1500), vBulk("inactive"), vInt(250)),
		vArr(vBulk("name"), vBulk("b"), vBulk("pending"), vInt(0), vBulk("idle"), vInt(3), vBulk("inactive"), vInt(-1)),
		vArr(vBulk("name"), vBulk("c"), vBulk("pending"), vInt(0), vBulk("idle"), vInt(3)),
	)
	cs, err := decodeXInfoConsumers(res(v))
	want := []XInfoConsumer{
		{Name: "a", Pending: 2, Idle: 1500 * time.Millisecond, Inactive: 250 * time.Millisecond},
		{Name: "b", Idle: 3 * time.Millisecond, Inactive: -1},
		{Name: "c", Idle: 3 * time.Millisecond, Inactive: -1},
	}
	if err != nil || fmt.Sprint(cs) != fmt.Sprint(want) {
		t.Fatalf("decodeXInfoConsumers = %+v %v, want %+v", cs, err, want)
	}
}

func TestDecodeFunctionStatsRunning(t *testing.T) {
	running := []resp.Value{vBulk("name"), vBulk("spin"), vBulk("command"), vArr(vBulk("fcall"), vBulk("spin"), vBulk("0")), vBulk("duration_ms"), vInt(1200)}
	engines := []resp.Value{vBulk("LUA"), vMap(vBulk("libraries_count"), vInt(1), vBulk("functions_count"), vInt(3))}
	for _, v := range []resp.Value{
		vMap(vBulk("running_script"), vMap(running...), vBulk("engines"), vMap(engines...)),
		vArr(vBulk("running_script"), vArr(running...), vBulk("engines"), vArr(vBulk("LUA"), vArr(engines[1].Elems...))),
	} {
		s, err := decodeFunctionStats(res(v))
		if err != nil || s.Running == nil || s.Running.Name != "spin" || fmt.Sprint(s.Running.Command) != "[fcall spin 0]" ||
			s.Running.Duration != 1200*time.Millisecond || s.Engines["LUA"] != (FunctionEngineStats{1, 3}) {
			t.Fatalf("decodeFunctionStats = %+v %v", s, err)
		}
	}
}

// TestNewDecodersRefuseMalformedReplies feeds every new decoder random and hand-made
// malformed replies: each must return (an error or a value), never panic.
func TestNewDecodersRefuseMalformedReplies(t *testing.T) {
	decoders := map[string]func(Result) error{
		"floatptrs":      func(r Result) error { _, err := decodeFloatPtrs(r); return err },
		"keyzs":          func(r Result) error { _, _, err := decodeKeyZs(r); return err },
		"counts":         func(r Result) error { _, err := decodeCounts(r); return err },
		"xautoclaim":     func(r Result) error { _, err := decodeXAutoClaim(r); return err },
		"xautoclaimids":  func(r Result) error { _, err := decodeXAutoClaimIDs(r); return err },
		"xpendingext":    func(r Result) error { _, err := decodeXPendingExt(r); return err },
		"xinfostream":    func(r Result) error { _, err := decodeXInfoStream(r); return err },
		"xinfofull":      func(r Result) error { _, err := decodeXInfoStreamFull(r); return err },
		"xinfogroups":    func(r Result) error { _, err := decodeXInfoGroups(r); return err },
		"xinfoconsumers": func(r Result) error { _, err := decodeXInfoConsumers(r); return err },
		"functionlist":   func(r Result) error { _, err := decodeFunctionList(r); return err },
		"functionstats":  func(r Result) error { _, err := decodeFunctionStats(r); return err },
	}
	hand := []resp.Value{
		vNull, vInt(1), vBulk("x"), vArr(), vMap(), vArr(vNull), vArr(vBulk("a")), vMap(vBulk("a")),
		vArr(vArr(vBulk("a"))), vArr(vBulk("first-entry"), vArr()), vArr(vBulk("first-entry"), vArr(vBulk("1-0"), vInt(3))),
		vArr(vMap(vBulk("functions"), vInt(1))), vArr(vArr(vBulk("functions"), vArr(vInt(1)))),
		vMap(vBulk("engines"), vArr(vBulk("LUA"))), vMap(vBulk("running_script"), vInt(1)),
		vArr(vBulk("0-0"), vInt(1), vArr()), vArr(vArr(vBulk("1-0"), vNull, vInt(1), vInt(1))),
		{Type: resp.TypeError, Str: []byte("ERR x"), Err: &resp.Error{Msg: "ERR x"}},
	}
	rng := rand.New(rand.NewPCG(18, 18))
	for name, dec := range decoders {
		vals := append([]resp.Value(nil), hand...)
		for range 2000 {
			vals = append(vals, randValue(rng, 4))
		}
		for _, v := range vals {
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

// randValue returns a random reply of at most depth levels, built from the names and
// shapes the decoders look for.
func randValue(rng *rand.Rand, depth int) resp.Value {
	names := []string{"name", "length", "first-entry", "last-entry", "groups", "entries-read", "lag", "idle", "inactive",
		"pending", "entries", "consumers", "seen-time", "pel-count", "library_name", "functions", "flags", "description", "running_script", "engines", "command", "duration_ms", "1-0", "x"}
	n := rng.IntN(8)
	if depth == 0 {
		n = rng.IntN(4)
	}
	switch n {
	case 0:
		return vNull
	case 1:
		return vInt(rng.Int64N(5) - 1)
	case 2:
		return vBulk(names[rng.IntN(len(names))])
	case 3:
		return resp.Value{Type: resp.TypeDouble, Float: rng.Float64()}
	}
	elems := make([]resp.Value, rng.IntN(6))
	for i := range elems {
		elems[i] = randValue(rng, depth-1)
	}
	if n%2 == 0 {
		return vMap(elems...)
	}
	return vArr(elems...)
}
