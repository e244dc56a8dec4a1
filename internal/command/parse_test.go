package command

import (
	"errors"
	"strings"
	"testing"

	"github.com/redline-go/redline/resp"
)

func bulk(s string) resp.Value   { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }
func simple(s string) resp.Value { return resp.Value{Type: resp.TypeSimpleString, Str: []byte(s)} }
func num(n int64) resp.Value     { return resp.Value{Type: resp.TypeInteger, Int: n} }
func arr(v ...resp.Value) resp.Value {
	return resp.Value{Type: resp.TypeArray, Elems: v}
}
func set(v ...resp.Value) resp.Value { return resp.Value{Type: resp.TypeSet, Elems: v} }
func kv(v ...resp.Value) resp.Value  { return resp.Value{Type: resp.TypeMap, Elems: v} }

var null = resp.Value{Type: resp.TypeNull}

// getEntry is GET's entry as Redis 7.0 sends it in RESP3.
func getEntry() resp.Value {
	return arr(bulk("get"), num(2), set(simple("readonly"), simple("fast")), num(1), num(1), num(1),
		set(simple("@read"), simple("@string"), simple("@fast")),
		arr(),
		arr(kv(bulk("flags"), set(simple("RO"), simple("access")),
			bulk("begin_search"), kv(bulk("type"), bulk("index"), bulk("spec"), kv(bulk("index"), num(1))),
			bulk("find_keys"), kv(bulk("type"), bulk("range"), bulk("spec"),
				kv(bulk("lastkey"), num(0), bulk("keystep"), num(1), bulk("limit"), num(0))))),
		arr())
}

// resp2 downgrades v the way Redis does for a RESP2 client: maps and sets become arrays.
func resp2(v resp.Value) resp.Value {
	if v.Type == resp.TypeMap || v.Type == resp.TypeSet {
		v.Type = resp.TypeArray
	}
	if v.Elems != nil {
		elems := make([]resp.Value, len(v.Elems))
		for i := range v.Elems {
			elems[i] = resp2(v.Elems[i])
		}
		v.Elems = elems
	}
	return v
}

func TestParse(t *testing.T) {
	for _, proto := range []string{"RESP3", "RESP2"} {
		reply := arr(getEntry(), null)
		if proto == "RESP2" {
			reply = resp2(reply)
		}
		infos, err := Parse(reply)
		if err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		if len(infos) != 1 {
			t.Fatalf("%s: %d infos, want 1 (the null entry skipped)", proto, len(infos))
		}
		got, want := infos[0], LookupName("get")
		if got.Name != "get" || got.Arity != 2 || got.Flags != FlagReadOnly|FlagFast ||
			got.FirstKey != 1 || got.LastKey != 1 || got.Step != 1 ||
			len(got.KeySpecs) != 1 || got.KeySpecs[0] != want.KeySpecs[0] {
			t.Errorf("%s: %+v", proto, got)
		}
	}
}

func TestParseVariants(t *testing.T) {
	// A Redis 6 entry: seven fields, no key specs, upper-case name.
	old := arr(bulk("MYCMD"), num(-2), arr(simple("write"), simple("future_flag")), num(1), num(-1), num(1), arr())
	// A container with one subcommand, policies and an unknown tip.
	sub := arr(bulk("box|open"), num(3), set(), num(2), num(2), num(1), set(),
		arr(bulk("request_policy:all_nodes"), bulk("response_policy:agg_max"), bulk("nondeterministic_output_order"), bulk("some_future_tip")),
		arr(), arr())
	box := arr(bulk("box"), num(-2), set(), num(0), num(0), num(0), set(), arr(), arr(), arr(sub),
		bulk("an eleventh field"))
	infos, err := Parse(arr(box, null, old))
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[0].Name != "box" || infos[1].Name != "mycmd" {
		t.Fatalf("infos %v", infos)
	}
	if m := infos[1]; m.Flags != FlagWrite || m.LastKey != -1 || m.KeySpecs != nil || m.Subcommands != nil {
		t.Errorf("mycmd %+v", m)
	}
	s := infos[0].Subcommands
	if len(s) != 1 || s[0].Name != "box|open" || s[0].Request != PolicyAllNodes ||
		s[0].Response != ResponseAggMax || !s[0].Nondeterministic {
		t.Errorf("box subcommands %+v", s)
	}
	tab := NewTable(infos)
	if tab.Lookup([]any{"BOX", "Open", "k"}) != s[0] {
		t.Error("the subcommand is not found")
	}
	if got, ok := s[0].KeyIndexes([]any{"box", "open", "k"}, nil); len(got) != 1 || got[0] != 2 || !ok {
		t.Errorf("legacy keys of box|open: %v %v", got, ok)
	}
	// Unknown policy values are special.
	e := arr(bulk("x"), num(1), arr(), num(0), num(0), num(0), arr(),
		arr(bulk("request_policy:everywhere"), bulk("RESPONSE_POLICY:merge")))
	infos, err = Parse(arr(e))
	if err != nil || infos[0].Request != PolicySpecial || infos[0].Response != ResponseSpecial {
		t.Errorf("unknown policies: %+v, %v", infos[0], err)
	}
	// Native key finders are attached to parsed Infos too.
	sortEntry := arr(bulk("sort"), num(-2), arr(), num(1), num(1), num(1))
	infos, err = Parse(arr(sortEntry))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := infos[0].KeyIndexes(a("SORT k STORE d"), nil); len(got) != 2 {
		t.Errorf("parsed SORT keys %v", got)
	}
	// Empty replies.
	if infos, err := Parse(arr()); err != nil || len(infos) != 0 {
		t.Errorf("empty: %v %v", infos, err)
	}
}

func TestParseMalformed(t *testing.T) {
	ok := getEntry().Elems
	with := func(i int, v resp.Value) resp.Value {
		e := append([]resp.Value(nil), ok...)
		e[i] = v
		return arr(arr(e...))
	}
	spec := func(v resp.Value) resp.Value { return with(8, arr(v)) }
	tests := []struct {
		name  string
		reply resp.Value
		want  string
	}{
		{"error", resp.Value{Type: resp.TypeError, Str: []byte("ERR unknown command")}, "ERR unknown command"},
		{"not an array", bulk("x"), "not an array"},
		{"entry not an array", arr(num(1)), "not an array"},
		{"short entry", arr(arr(bulk("get"), num(2))), "at least 6"},
		{"name", with(0, num(1)), "name"},
		{"empty name", with(0, bulk("")), "name"},
		{"arity", with(1, bulk("2")), "arity"},
		{"huge arity", with(1, num(1<<40)), "out of range"},
		{"flags", with(2, bulk("readonly")), "flags"},
		{"flag", with(2, arr(num(1))), "flag"},
		{"first key", with(3, null), "first key"},
		{"last key", with(4, null), "last key"},
		{"step", with(5, null), "step"},
		{"tips", with(7, num(1)), "tips"},
		{"tip", with(7, arr(num(1))), "tip"},
		{"key specs", with(8, num(1)), "key specs"},
		{"key spec", spec(num(1)), "not a map"},
		{"odd map", spec(arr(bulk("flags"))), "odd"},
		{"map key", spec(arr(num(1), num(2))), "map key"},
		{"spec flags", spec(kv(bulk("flags"), num(1))), "flags"},
		{"spec flag", spec(kv(bulk("flags"), arr(num(1)))), "flag"},
		{"begin_search", spec(kv(bulk("begin_search"), num(1))), "begin_search"},
		{"begin type", spec(kv(bulk("begin_search"), kv(bulk("type"), num(1)))), "type"},
		{"begin spec", spec(kv(bulk("begin_search"), kv(bulk("type"), bulk("index"), bulk("spec"), num(1)))), "spec"},
		{"begin index", spec(kv(bulk("begin_search"), kv(bulk("type"), bulk("index"), bulk("spec"), kv(bulk("index"), bulk("1"))))), "index"},
		{"keyword", spec(kv(bulk("begin_search"), kv(bulk("type"), bulk("keyword"), bulk("spec"), kv(bulk("keyword"), num(1))))), "keyword"},
		{"startfrom", spec(kv(bulk("begin_search"), kv(bulk("type"), bulk("keyword"), bulk("spec"), kv(bulk("startfrom"), null)))), "startfrom"},
		{"find_keys", spec(kv(bulk("find_keys"), arr(bulk("type")))), "odd"},
		{"lastkey", spec(kv(bulk("find_keys"), kv(bulk("type"), bulk("range"), bulk("spec"), kv(bulk("lastkey"), bulk("0"))))), "lastkey"},
		{"keynumidx", spec(kv(bulk("find_keys"), kv(bulk("type"), bulk("keynum"), bulk("spec"), kv(bulk("keynumidx"), null)))), "keynumidx"},
		{"subcommands", with(9, num(1)), "subcommands"},
		{"subcommand", with(9, arr(num(1))), "not an array"},
		{"subcommand name", with(9, arr(arr(bulk("set"), num(2), arr(), num(0), num(0), num(0)))), "get|<subcommand>"},
	}
	for _, tt := range tests {
		for _, proto := range []string{"RESP3", "RESP2"} {
			reply := tt.reply
			if proto == "RESP2" {
				reply = resp2(reply)
			}
			infos, err := Parse(reply)
			if err == nil {
				t.Errorf("%s %s: no error, %v", tt.name, proto, infos)
				continue
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s %s: error %q, want ErrMalformed containing %q", tt.name, proto, err, tt.want)
			}
		}
	}
}

func TestParseDeepSubcommands(t *testing.T) {
	// Names are checked from the outside in, so build the chain from the outermost name.
	chain := func(depth int) resp.Value {
		names := []string{"a"}
		for i := 1; i <= depth; i++ {
			names = append(names, names[i-1]+"|a")
		}
		v := arr(bulk(names[depth]), num(1), arr(), num(0), num(0), num(0), arr(), arr(), arr(), arr())
		for i := depth - 1; i >= 0; i-- {
			v = arr(bulk(names[i]), num(1), arr(), num(0), num(0), num(0), arr(), arr(), arr(), arr(v))
		}
		return v
	}
	if _, err := Parse(arr(chain(maxSubcommandDepth))); err != nil {
		t.Errorf("depth %d: %v", maxSubcommandDepth, err)
	}
	if _, err := Parse(arr(chain(maxSubcommandDepth + 1))); !errors.Is(err, ErrMalformed) {
		t.Errorf("depth %d: %v", maxSubcommandDepth+1, err)
	}
}
