package command

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	long := strings.Repeat("x", maxName+10)
	tests := []struct {
		args []any
		want string // "" for nil
	}{
		{[]any{"GET", "k"}, "get"},
		{[]any{"get", "k"}, "get"},
		{[]any{"gEt"}, "get"},
		{[]any{[]byte("SET"), "k", "v"}, "set"},
		{[]any{"CONFIG", "GET", "maxmemory"}, "config|get"},
		{[]any{"config", "get"}, "config|get"},
		{[]any{"Config", []byte("sEt"), "a", "b"}, "config|set"},
		{[]any{"cluster", "info"}, "cluster|info"},
		{[]any{"CLUSTER", "COUNT-FAILURE-REPORTS", "id"}, "cluster|count-failure-reports"},
		{[]any{"OBJECT", "ENCODING", "k"}, "object|encoding"},
		{[]any{"XINFO", "STREAM", "k"}, "xinfo|stream"},
		{[]any{"SCRIPT", "LOAD", "return 1"}, "script|load"},
		{[]any{"CONFIG"}, "config"},          // no subcommand: the container
		{[]any{"CONFIG", "NOPE"}, "config"},  // unknown subcommand: the container
		{[]any{"CONFIG", 42}, "config"},      // a subcommand that is no string
		{[]any{"CONFIG", long}, "config"},    // too long to be a subcommand
		{[]any{"CONFIG", "get|x"}, "config"}, // no such subcommand
		{[]any{"GET", "config"}, "get"},      // a plain command ignores args[1]
		{[]any{"config|get"}, ""},            // the full name is not a command name
		{[]any{"NOSUCHCOMMAND"}, ""},         // unknown
		{[]any{""}, ""},                      // empty
		{[]any{long}, ""},                    // too long
		{[]any{42}, ""},                      // not a string
		{[]any{nil}, ""},                     // nil
		{[]any{}, ""},                        // no args
		{nil, ""},                            // nil args
		{[]any{"GET\x00"}, ""},               // no prefix matches
		{[]any{"GÉT"}, ""},                   // non-ASCII is not folded
		{[]any{"georadiusbymember_ro", "k"}, "georadiusbymember_ro"},
	}
	for _, tt := range tests {
		got := Lookup(tt.args)
		name := ""
		if got != nil {
			name = got.Name
		}
		if name != tt.want {
			t.Errorf("Lookup(%q) = %q, want %q", tt.args, name, tt.want)
		}
	}
}

func TestLookupName(t *testing.T) {
	for name, want := range map[string]string{
		"GET": "get", "config|GET": "config|get", "config": "config", "nope": "",
		"config|nope": "", strings.Repeat("a", 100): "",
	} {
		got := LookupName(name)
		if got == nil && want != "" || got != nil && got.Name != want {
			t.Errorf("LookupName(%q) = %v, want %q", name, got, want)
		}
	}
}

func TestSubcommand(t *testing.T) {
	cfg := LookupName("config")
	for _, name := range []string{"get", "GET", "config|get", "CONFIG|GET"} {
		if s := cfg.Subcommand(name); s == nil || s.Name != "config|get" {
			t.Errorf("Subcommand(%q) = %v", name, s)
		}
	}
	for _, name := range []string{"", "nope", "config|", "|get", "set|get"} {
		if s := cfg.Subcommand(name); s != nil {
			t.Errorf("Subcommand(%q) = %v, want nil", name, s)
		}
	}
}

func TestTableConsistency(t *testing.T) {
	all := All()
	if len(all) < 200 {
		t.Fatalf("the table has %d commands, want the ~240 of Redis 7.0", len(all))
	}
	if Generated().Len() != len(all) {
		t.Errorf("Len() = %d, All() has %d", Generated().Len(), len(all))
	}
	for i, in := range all {
		if i > 0 && all[i-1].Name >= in.Name {
			t.Errorf("All() not sorted: %q before %q", all[i-1].Name, in.Name)
		}
		if in.Name != strings.ToLower(in.Name) || strings.Contains(in.Name, "|") {
			t.Errorf("bad command name %q", in.Name)
		}
		if Lookup([]any{strings.ToUpper(in.Name)}) != in {
			t.Errorf("Lookup(%q) does not find its Info", in.Name)
		}
		for j, s := range in.Subcommands {
			if j > 0 && in.Subcommands[j-1].Name >= s.Name {
				t.Errorf("subcommands of %q not sorted", in.Name)
			}
			container, sub, ok := strings.Cut(s.Name, "|")
			if !ok || container != in.Name {
				t.Errorf("subcommand %q of %q", s.Name, in.Name)
			}
			if got := Lookup([]any{in.Name, strings.ToUpper(sub)}); got != s {
				t.Errorf("Lookup(%q, %q) = %v, want %q", in.Name, sub, got, s.Name)
			}
			if s.Subcommands != nil {
				t.Errorf("subcommand %q has subcommands", s.Name)
			}
		}
	}
	// A copy: changing it does not change the table.
	all[0] = nil
	if All()[0] == nil {
		t.Error("All returned the table itself")
	}
}

func TestNewTable(t *testing.T) {
	mod := &Info{Name: "MyMod.Cmd", Arity: -2, FirstKey: 1, LastKey: 1, Step: 1,
		Subcommands: []*Info{{Name: "MyMod.Cmd|Sub", Arity: 3}}}
	tab := NewTable([]*Info{nil, mod, {Name: "other"}})
	if got := tab.Lookup([]any{"mymod.cmd", "k"}); got != mod {
		t.Errorf("Lookup mymod.cmd = %v", got)
	}
	if got := tab.Lookup([]any{"MYMOD.CMD", "sub"}); got != mod.Subcommands[0] {
		t.Errorf("Lookup mymod.cmd sub = %v", got)
	}
	if got := tab.Lookup([]any{"get"}); got != nil {
		t.Errorf("a new table knows GET: %v", got)
	}
	if tab.Len() != 2 || len(tab.All()) != 2 || tab.All()[0].Name != "MyMod.Cmd" {
		t.Errorf("All() = %v", tab.All())
	}
	var zero *Table
	if zero.Lookup([]any{"get"}) != nil || zero.LookupName("get") != nil || zero.Len() != 0 || zero.All() != nil {
		t.Error("a nil table found something")
	}
	if (&Table{}).Lookup([]any{"get"}) != nil {
		t.Error("the zero table found something")
	}
}

func TestInfoFlags(t *testing.T) {
	get := LookupName("get")
	if !get.Has(FlagReadOnly|FlagFast) || get.Has(FlagWrite) || !get.ReadOnly() {
		t.Errorf("GET flags %v", get.Flags)
	}
	both := &Info{Flags: FlagReadOnly | FlagWrite}
	if both.ReadOnly() {
		t.Error("readonly|write is ReadOnly")
	}
	if (&Info{}).ReadOnly() || !(&Info{}).Has(0) {
		t.Error("the zero Info")
	}
	if get.String() != "get" {
		t.Errorf("String() = %q", get.String())
	}
}
