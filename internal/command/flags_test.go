package command

import "testing"

// TestFlagsAndTips spot-checks the generated table against what Redis 7.0 reports.
func TestFlagsAndTips(t *testing.T) {
	tests := []struct {
		name     string
		has      Flags
		hasNot   Flags
		readOnly bool
		req      RequestPolicy
		resp     ResponsePolicy
		nondet   bool
	}{
		{name: "get", has: FlagReadOnly | FlagFast, hasNot: FlagWrite, readOnly: true},
		{name: "set", has: FlagWrite | FlagDenyOOM, hasNot: FlagReadOnly},
		{name: "blpop", has: FlagWrite | FlagBlocking},
		{name: "xread", has: FlagReadOnly | FlagBlocking | FlagMovableKeys, readOnly: true},
		{name: "eval", has: FlagNoScript | FlagMovableKeys | FlagNoMandatoryKeys | FlagStale | FlagSkipMonitor},
		{name: "dbsize", has: FlagReadOnly | FlagFast, readOnly: true, req: PolicyAllShards, resp: ResponseAggSum},
		{name: "keys", has: FlagReadOnly, readOnly: true, req: PolicyAllShards, nondet: true},
		{name: "randomkey", readOnly: true, has: FlagReadOnly, req: PolicyAllShards, nondet: true},
		{name: "scan", has: FlagReadOnly, readOnly: true, req: PolicySpecial, nondet: true},
		{name: "flushall", has: FlagWrite, req: PolicyAllShards, resp: ResponseAllSucceeded},
		{name: "flushdb", has: FlagWrite, req: PolicyAllShards, resp: ResponseAllSucceeded},
		{name: "mset", has: FlagWrite | FlagDenyOOM, req: PolicyMultiShard, resp: ResponseAllSucceeded},
		{name: "msetnx", has: FlagWrite, req: PolicyMultiShard, resp: ResponseAggMin},
		{name: "mget", has: FlagReadOnly | FlagFast, readOnly: true, req: PolicyMultiShard},
		{name: "del", has: FlagWrite, req: PolicyMultiShard, resp: ResponseAggSum},
		{name: "exists", has: FlagReadOnly, readOnly: true, req: PolicyMultiShard, resp: ResponseAggSum},
		{name: "touch", readOnly: true, has: FlagReadOnly, req: PolicyMultiShard, resp: ResponseAggSum},
		{name: "unlink", has: FlagWrite | FlagFast, req: PolicyMultiShard, resp: ResponseAggSum},
		{name: "wait", has: FlagNoScript, req: PolicyAllShards, resp: ResponseAggMin},
		// SCRIPT LOAD and FLUSH go to every node; EXISTS and KILL only to primaries.
		{name: "script|load", has: FlagNoScript | FlagStale, req: PolicyAllNodes, resp: ResponseAllSucceeded},
		{name: "script|flush", has: FlagNoScript, req: PolicyAllNodes, resp: ResponseAllSucceeded},
		{name: "script|exists", has: FlagNoScript, req: PolicyAllShards, resp: ResponseAggLogicalAnd},
		{name: "script|kill", has: FlagNoScript | FlagAllowBusy, req: PolicyAllShards, resp: ResponseOneSucceeded},
		{name: "function|load", has: FlagWrite | FlagDenyOOM | FlagNoScript, req: PolicyAllShards, resp: ResponseAllSucceeded},
		{name: "function|stats", req: PolicyAllShards, resp: ResponseSpecial, nondet: true},
		{name: "config|set", has: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, req: PolicyAllNodes, resp: ResponseAllSucceeded},
		{name: "config|get", has: FlagAdmin | FlagNoScript | FlagLoading | FlagStale},
		{name: "slowlog|len", req: PolicyAllNodes, resp: ResponseAggSum, nondet: true},
		// PING is sent to all primaries and must succeed on all; INFO's replies are merged
		// specially.
		{name: "ping", has: FlagFast, req: PolicyAllShards, resp: ResponseAllSucceeded},
		{name: "info", has: FlagLoading | FlagStale, req: PolicyAllShards, resp: ResponseSpecial, nondet: true},
		{name: "cluster|info", has: FlagStale, hasNot: FlagLoading, nondet: true},
		{name: "publish", has: FlagPubSub | FlagLoading | FlagStale | FlagFast, hasNot: FlagWrite},
		{name: "spublish", has: FlagPubSub | FlagLoading | FlagStale | FlagFast},
		{name: "asking", has: FlagFast},
		{name: "auth", has: FlagNoAuth | FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy},
		{name: "hello", has: FlagNoAuth},
		{name: "multi", has: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy},
		{name: "watch", has: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy},
		{name: "readonly", has: FlagLoading | FlagStale | FlagFast},
		{name: "restore-asking", has: FlagWrite | FlagAsking},
		{name: "monitor", has: FlagAdmin | FlagNoScript | FlagLoading | FlagStale},
		{name: "spop", has: FlagWrite | FlagFast, nondet: true},
		{name: "smembers", has: FlagReadOnly, readOnly: true, nondet: true},
		{name: "time", has: FlagLoading | FlagStale | FlagFast, nondet: true},
		{name: "subscribe", has: FlagPubSub | FlagNoScript | FlagLoading | FlagStale},
		{name: "save", has: FlagAdmin | FlagNoScript | FlagNoAsyncLoading | FlagNoMulti},
		{name: "slowlog", hasNot: ^Flags(0)},
	}
	for _, tt := range tests {
		in := LookupName(tt.name)
		if in == nil {
			t.Errorf("%s: not in the table", tt.name)
			continue
		}
		if !in.Has(tt.has) {
			t.Errorf("%s: flags %v lack %v", tt.name, in.Flags, tt.has&^in.Flags)
		}
		if in.Flags&tt.hasNot != 0 {
			t.Errorf("%s: flags %v have %v", tt.name, in.Flags, in.Flags&tt.hasNot)
		}
		if in.ReadOnly() != tt.readOnly {
			t.Errorf("%s: ReadOnly() = %v", tt.name, in.ReadOnly())
		}
		if in.Request != tt.req || in.Response != tt.resp {
			t.Errorf("%s: policies %v/%v, want %v/%v", tt.name, in.Request, in.Response, tt.req, tt.resp)
		}
		if in.Nondeterministic != tt.nondet {
			t.Errorf("%s: Nondeterministic = %v", tt.name, in.Nondeterministic)
		}
	}
}

// TestTableInvariants checks properties of every command in the table.
func TestTableInvariants(t *testing.T) {
	var n, tips int
	for _, top := range All() {
		for _, in := range append([]*Info{top}, top.Subcommands...) {
			n++
			if in.Request != PolicyDefault || in.Response != ResponseDefault {
				tips++
			}
			if in.Arity == 0 {
				t.Errorf("%s: arity 0", in.Name)
			}
			for _, s := range in.KeySpecs {
				if s.Flags&(KeyRO|KeyRW|KeyOW|KeyRM|KeyNotKey) == 0 && in.keys == noFinder {
					t.Errorf("%s: key spec %v has no access flag", in.Name, s)
				}
			}
			if in.Has(FlagMovableKeys) && len(in.KeySpecs) == 0 {
				t.Errorf("%s: movablekeys without key specs", in.Name)
			}
			// Redis finds the keys of a command with an incomplete or unknown spec with a
			// getkeys function of its own: native.go must mirror it.
			for _, s := range in.KeySpecs {
				untrusted := s.Flags&KeyIncomplete != 0 || s.Begin.Kind == BeginUnknown || s.Find.Kind == FindUnknown
				if untrusted && in.keys == noFinder {
					t.Errorf("%s: key spec %v is not usable alone and there is no key finder in native.go", in.Name, s)
				}
			}
		}
	}
	if n < 350 || tips < 30 {
		t.Errorf("%d commands, %d with policies: the table looks truncated", n, tips)
	}
}

func TestFlagNames(t *testing.T) {
	if len(flagNames) != len(flagGoNames) || len(keyFlagNames) != len(keyFlagGoNames) ||
		len(requestNames) != len(requestGoNames) || len(responseNames) != len(responseGoNames) {
		t.Fatal("name tables differ in length")
	}
	if FlagNoAsyncLoading != 1<<(len(flagNames)-1) || KeyVariableFlags != 1<<(len(keyFlagNames)-1) {
		t.Fatal("a flag constant has no name")
	}
	for i, n := range flagNames {
		if f := ParseFlag(n); f != 1<<i {
			t.Errorf("ParseFlag(%q) = %v", n, f)
		}
	}
	if ParseFlag("READONLY") != FlagReadOnly || ParseFlag("nope") != 0 || ParseFlag("") != 0 {
		t.Error("ParseFlag")
	}
	for i, n := range keyFlagNames {
		if f := parseKeyFlag(n); f != 1<<i {
			t.Errorf("parseKeyFlag(%q) = %v", n, f)
		}
	}
	strs := []struct{ got, want string }{
		{(FlagReadOnly | FlagFast).String(), "readonly|fast"},
		{Flags(0).String(), "0"},
		{(FlagWrite | 1<<30).String(), "write|0x40000000"},
		{(FlagReadOnly | FlagFast).GoString(), "FlagReadOnly | FlagFast"},
		{(FlagWrite | 1<<30).GoString(), "FlagWrite | Flags(0x40000000)"},
		{Flags(0).GoString(), "0"},
		{(KeyRO | KeyAccess).String(), "RO|access"},
		{(KeyRO | KeyAccess).GoString(), "KeyRO | KeyAccess"},
		{PolicyAllShards.String(), "all_shards"},
		{PolicyAllShards.GoString(), "PolicyAllShards"},
		{RequestPolicy(99).String(), "RequestPolicy(99)"},
		{RequestPolicy(99).GoString(), "RequestPolicy(99)"},
		{ResponseAggSum.String(), "agg_sum"},
		{ResponseAggSum.GoString(), "ResponseAggSum"},
		{ResponsePolicy(99).String(), "ResponsePolicy(99)"},
		{ResponsePolicy(99).GoString(), "ResponsePolicy(99)"},
		{LookupName("get").KeySpecs[0].String(), "index(1) range(0,1,0) RO|access"},
		{LookupName("eval").KeySpecs[0].String(), "index(2) keynum(0,1,1) RW|access|update"},
		{LookupName("xread").KeySpecs[0].String(), `keyword("STREAMS",1) range(-1,1,2) RO|access`},
		{KeySpec{}.String(), "unknown() unknown() 0"},
	}
	for _, s := range strs {
		if s.got != s.want {
			t.Errorf("got %q, want %q", s.got, s.want)
		}
	}
	for i, n := range requestNames[1:] {
		if p := parseRequestPolicy(n); p != RequestPolicy(i+1) {
			t.Errorf("parseRequestPolicy(%q) = %v", n, p)
		}
	}
	for i, n := range responseNames[1:] {
		if p := parseResponsePolicy(n); p != ResponsePolicy(i+1) {
			t.Errorf("parseResponsePolicy(%q) = %v", n, p)
		}
	}
	if parseRequestPolicy("future") != PolicySpecial || parseResponsePolicy("future") != ResponseSpecial {
		t.Error("unknown policies are not special")
	}
}
