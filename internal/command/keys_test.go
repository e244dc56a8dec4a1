package command

import (
	"slices"
	"strings"
	"testing"
)

// a splits a space-separated command line into args; `""` is an empty argument.
func a(line string) []any {
	var args []any
	for _, f := range strings.Fields(line) {
		if f == `""` {
			f = ""
		}
		args = append(args, f)
	}
	return args
}

func TestKeyIndexes(t *testing.T) {
	tests := []struct {
		args []any
		want []int
		ok   bool
	}{
		{a("GET k"), []int{1}, true},
		{a("get k"), []int{1}, true},
		{a("GET"), nil, false},
		{a("GET a b"), []int{1}, false}, // arity 2
		{a("SET k v"), []int{1}, true},
		{a("SET k v NX GET EX 10"), []int{1}, true},
		{a("MGET a b c"), []int{1, 2, 3}, true},
		{a("MSET a 1 b 2 c 3"), []int{1, 3, 5}, true},
		{a("MSET a 1 b"), nil, false}, // the last pair is incomplete
		{a("MSETNX a 1 b 2"), []int{1, 3}, true},
		{a("DEL a b c"), []int{1, 2, 3}, true},
		{a("EXISTS a"), []int{1}, true},
		{a("UNLINK a b"), []int{1, 2}, true},
		{a("RENAME a b"), []int{1, 2}, true},
		{a("SMOVE src dst m"), []int{1, 2}, true},
		{a("LMOVE a b LEFT RIGHT"), []int{1, 2}, true},
		{a("PFMERGE dest"), []int{1}, true},
		{a("PFMERGE dest a b"), []int{1, 2, 3}, true},
		{a("EVAL s 0"), nil, true},
		{a("EVAL s 0 arg1 arg2"), nil, true},
		{a("EVAL s 2 k1 k2 arg1"), []int{3, 4}, true},
		{a("EVAL_RO s 1 k1"), []int{3}, true},
		{a("EVALSHA sha 1 k"), []int{3}, true},
		{a("EVALSHA_RO sha 2 a b"), []int{3, 4}, true},
		{a("FCALL f 2 a b x"), []int{3, 4}, true},
		{a("FCALL_RO f 0"), nil, true},
		{a("ZUNIONSTORE dest 2 a b WEIGHTS 1 2"), []int{1, 3, 4}, true},
		{a("ZINTERSTORE dest 1 a"), []int{1, 3}, true},
		{a("ZDIFFSTORE d 2 a b"), []int{1, 3, 4}, true},
		{a("ZINTER 2 a b WITHSCORES"), []int{2, 3}, true},
		{a("ZUNION 1 a"), []int{2}, true},
		{a("ZINTERCARD 2 a b LIMIT 5"), []int{2, 3}, true},
		{a("LMPOP 2 a b LEFT COUNT 2"), []int{2, 3}, true},
		{a("BLMPOP 0 2 a b LEFT"), []int{3, 4}, true},
		{a("ZMPOP 1 z MIN"), []int{2}, true},
		{a("BZMPOP 1.5 1 z MAX"), []int{3}, true},
		{a("SINTERCARD 2 a b LIMIT 1"), []int{2, 3}, true},
		{a("XREAD COUNT 2 STREAMS k1 k2 0 0"), []int{4, 5}, true},
		{a("XREAD BLOCK 0 streams k1 $"), []int{4}, true},
		{a("XREAD STREAMS k1 0"), []int{2}, true},
		{a("XREAD STREAMS k1 k2 0"), nil, false}, // keys and IDs do not pair up
		{a("XREADGROUP GROUP g c COUNT 1 STREAMS k1 k2 > >"), []int{7, 8}, true},
		{a("XREADGROUP GROUP g c STREAMS k >"), []int{5}, true},
		{a("MIGRATE host 6379 k 0 5000"), []int{3}, true},
		{a("MIGRATE host 6379 k 0 5000 COPY REPLACE"), []int{3}, true},
		{a(`MIGRATE host 6379 "" 0 5000 KEYS a b`), []int{7, 8}, true},
		{a(`MIGRATE host 6379 "" 0 5000 COPY REPLACE AUTH keys KEYS a`), []int{11}, true},
		{a(`MIGRATE host 6379 "" 0 5000 AUTH2 keys keys KEYS a b`), []int{10, 11}, true},
		{a(`MIGRATE host 6379 k 0 5000 KEYS a`), nil, false}, // KEYS needs an empty key
		{a(`MIGRATE host 6379 "" 0 5000 KEYS`), nil, false},
		{a(`MIGRATE host 6379 ""`), nil, false},
		{a("GEORADIUS k 15 37 200 km"), []int{1}, true},
		{a("GEORADIUS k 15 37 200 km WITHDIST STORE d"), []int{1, 8}, true},
		{a("GEORADIUS k 15 37 200 km STOREDIST d"), []int{1, 7}, true},
		{a("GEORADIUS k 15 37 200 km STORE d STOREDIST e"), []int{1, 7, 9}, true},
		{a("GEORADIUSBYMEMBER k m 1 km STORE d"), []int{1, 6}, true},
		{a("GEORADIUS_RO k 15 37 200 km"), []int{1}, true},
		{a("GEOSEARCHSTORE dst src FROMMEMBER m BYRADIUS 1 km"), []int{1, 2}, true},
		{a("OBJECT ENCODING k"), []int{2}, true},
		{a("OBJECT FREQ k"), []int{2}, true},
		{a("XINFO STREAM k FULL"), []int{2}, true},
		{a("XINFO GROUPS k"), []int{2}, true},
		{a("MEMORY USAGE k SAMPLES 5"), []int{2}, true},
		{a("BITOP AND dest a b"), []int{2, 3, 4}, true},
		{a("SORT k"), []int{1}, true},
		{a("SORT k BY w_* LIMIT 0 10 GET # GET o_* DESC ALPHA STORE d"), []int{1, 14}, true},
		{a("SORT k STORE a STORE b"), []int{1, 5}, true}, // the last STORE counts
		{a("SORT k BY store"), []int{1}, true},           // a pattern, not the keyword
		{a("SORT k GET store LIMIT store store"), []int{1}, true},
		{a("SORT k STORE"), []int{1}, true},
		{a("SORT_RO k BY w_* STORE d"), []int{1}, true},
		{a("PUBLISH ch msg"), nil, true},
		{a("SPUBLISH ch msg"), nil, true}, // its channel is a not_key spec
		{a("SSUBSCRIBE a b"), nil, true},
		{a("SUBSCRIBE a b"), nil, true},
		{a("PING"), nil, true},
		{a("DBSIZE"), nil, true},
		{a("CONFIG GET maxmemory"), nil, true},
		{a("WATCH a b"), []int{1, 2}, true},
		{a("COPY a b DB 1"), []int{1, 2}, true},
		// Malformed numbers of keys.
		{a("EVAL s x k"), nil, false},
		{a("EVAL s -1 k"), nil, false},
		{a("EVAL s +1 k"), nil, false},
		{a("EVAL s 01 k"), nil, false},
		{a("EVAL s 1.0 k"), nil, false},
		{a("EVAL s 3 k1 k2"), nil, false},
		{a("EVAL s 99999999999999999999 k"), nil, false},
		{a("EVAL s 9223372036854775807 k"), nil, false},
		{a("ZUNIONSTORE dest x a"), []int{1}, false},
		{a("ZUNIONSTORE dest 3 a b"), []int{1}, false},
		{a("LMPOP 0 LEFT"), nil, false}, // arity -4
		{a("SINTERCARD -2 a b"), nil, false},
	}
	for _, tt := range tests {
		in := Lookup(tt.args)
		if in == nil {
			t.Errorf("Lookup(%q) = nil", tt.args)
			continue
		}
		got, ok := in.KeyIndexes(tt.args, nil)
		if !slices.Equal(got, tt.want) || ok != tt.ok {
			t.Errorf("%q: KeyIndexes = %v, %v; want %v, %v", tt.args, got, ok, tt.want, tt.ok)
		}
	}
}

func TestKeyIndexesArgTypes(t *testing.T) {
	eval := LookupName("eval")
	for _, n := range []any{2, int8(2), int16(2), int32(2), int64(2), uint(2), uint8(2),
		uint16(2), uint32(2), uint64(2), "2", []byte("2")} {
		got, ok := eval.KeyIndexes([]any{"EVAL", "s", n, "a", []byte("b")}, nil)
		if !slices.Equal(got, []int{3, 4}) || !ok {
			t.Errorf("numkeys %T: %v, %v", n, got, ok)
		}
	}
	for _, n := range []any{2.0, true, nil, -1, uint64(1 << 63), struct{}{}} {
		if got, ok := eval.KeyIndexes([]any{"EVAL", "s", n, "a", "b"}, nil); ok || len(got) != 0 {
			t.Errorf("numkeys %T(%v): %v, %v", n, n, got, ok)
		}
	}
	// Keywords match string and []byte only.
	xread := LookupName("xread")
	if got, ok := xread.KeyIndexes([]any{"XREAD", []byte("Streams"), "k", "0"}, nil); !slices.Equal(got, []int{2}) || !ok {
		t.Errorf("[]byte STREAMS: %v, %v", got, ok)
	}
	if got, _ := xread.KeyIndexes([]any{"XREAD", 7, "k", "0"}, nil); len(got) != 0 {
		t.Errorf("int STREAMS: %v", got)
	}
	// dst is appended to.
	got, ok := LookupName("mget").KeyIndexes(a("MGET a b"), []int{9})
	if !slices.Equal(got, []int{9, 1, 2}) || !ok {
		t.Errorf("append: %v, %v", got, ok)
	}
	var nilInfo *Info
	if got, ok := nilInfo.KeyIndexes(a("GET k"), nil); ok || got != nil {
		t.Errorf("nil Info: %v, %v", got, ok)
	}
	if got, ok := LookupName("get").KeyIndexes(nil, nil); ok || got != nil {
		t.Errorf("no args: %v, %v", got, ok)
	}
}

func TestSlotIndexes(t *testing.T) {
	tests := []struct {
		args []any
		want []int
		ok   bool
	}{
		{a("SPUBLISH ch msg"), []int{1}, true},
		{a("SSUBSCRIBE a b"), []int{1, 2}, true},
		{a("SUNSUBSCRIBE a"), []int{1}, true},
		{a("SUNSUBSCRIBE"), nil, true},
		{a("PUBLISH ch msg"), nil, true},
		{a("SUBSCRIBE a"), nil, true},
		{a("MSET a 1 b 2"), []int{1, 3}, true},
		{a("EVAL s 1 k"), []int{3}, true},
	}
	for _, tt := range tests {
		got, ok := Lookup(tt.args).SlotIndexes(tt.args, nil)
		if !slices.Equal(got, tt.want) || ok != tt.ok {
			t.Errorf("%q: SlotIndexes = %v, %v; want %v, %v", tt.args, got, ok, tt.want, tt.ok)
		}
	}
}

// TestKeyIndexesSpecs covers spec shapes that Redis 7.0's commands do not have, such as a
// module command's.
func TestKeyIndexesSpecs(t *testing.T) {
	idx := func(i int) BeginSearch { return BeginSearch{Kind: BeginIndex, Index: i} }
	rng := func(last, step, limit int) FindKeys {
		return FindKeys{Kind: FindRange, LastKey: last, KeyStep: step, Limit: limit}
	}
	tests := []struct {
		name string
		in   Info
		args []any
		want []int
		ok   bool
	}{
		{"legacy range", Info{Arity: -2, FirstKey: 1, LastKey: -1, Step: 1}, a("M a b c"), []int{1, 2, 3}, true},
		{"legacy step", Info{Arity: -3, FirstKey: 1, LastKey: -1, Step: 2}, a("M a 1 b 2"), []int{1, 3}, true},
		{"legacy fixed", Info{Arity: -3, FirstKey: 2, LastKey: 3, Step: 1}, a("M x a b c"), []int{2, 3}, true},
		{"legacy short", Info{Arity: -1, FirstKey: 2, LastKey: 3, Step: 1}, a("M x a"), nil, false},
		{"legacy empty open range", Info{Arity: -1, FirstKey: 1, LastKey: -1, Step: 1}, a("M"), nil, true},
		{"legacy no keys", Info{Arity: -1}, a("M a"), nil, true},
		{"legacy step 0", Info{Arity: -1, FirstKey: 1, LastKey: 2, Step: 0}, a("M a b"), nil, false},
		{"unknown spec", Info{Arity: -1, KeySpecs: []KeySpec{{}, {Begin: idx(1), Find: rng(0, 1, 0)}}}, a("M a"), []int{1}, false},
		{"step 0 spec", Info{Arity: -1, KeySpecs: []KeySpec{{Begin: idx(1), Find: rng(-1, 0, 0)}}}, a("M a b"), nil, false},
		{"index 0", Info{Arity: -1, KeySpecs: []KeySpec{{Begin: idx(0), Find: rng(0, 1, 0)}}}, a("M a"), nil, false},
		{"negative lastkey", Info{Arity: -1, KeySpecs: []KeySpec{{Begin: idx(1), Find: rng(-2, 1, 0)}}}, a("M a b c x"), []int{1, 2, 3}, true},
		{"limit 3", Info{Arity: -1, KeySpecs: []KeySpec{{Begin: idx(1), Find: rng(-1, 1, 3)}}}, a("M a b x y z w"), []int{1, 2}, true},
		{"backward keyword", Info{Arity: -1, KeySpecs: []KeySpec{{
			Begin: BeginSearch{Kind: BeginKeyword, Keyword: "KEYS", StartFrom: -2},
			Find:  rng(-1, 1, 0)}}}, a("M KEYS x KEYS a b"), []int{4, 5}, true},
		{"keynum step 2", Info{Arity: -1, KeySpecs: []KeySpec{{
			Begin: idx(1), Find: FindKeys{Kind: FindKeyNum, KeyNumIdx: 0, FirstKey: 1, KeyStep: 2}}}},
			a("M 4 a 1 b 2"), []int{2, 4}, true},
		{"keynum index past the end", Info{Arity: -1, KeySpecs: []KeySpec{{
			Begin: idx(1), Find: FindKeys{Kind: FindKeyNum, KeyNumIdx: 5, FirstKey: 1, KeyStep: 1}}}}, a("M 1 a"), nil, false},
		{"not_key skipped", Info{Arity: -1, KeySpecs: []KeySpec{{Flags: KeyNotKey, Begin: idx(1), Find: rng(0, 1, 0)}}}, a("M ch"), nil, true},
	}
	for _, tt := range tests {
		got, ok := tt.in.KeyIndexes(tt.args, nil)
		if !slices.Equal(got, tt.want) || ok != tt.ok {
			t.Errorf("%s: %q: KeyIndexes = %v, %v; want %v, %v", tt.name, tt.args, got, ok, tt.want, tt.ok)
		}
	}
}
