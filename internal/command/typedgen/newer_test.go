package typedgen

import (
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/command"
)

// TestNewerTable: newer_commands.json reads as a table whose commands the Redis 7.0
// table lacks, each with its version and origin, and whose key specs find the keys
// where Redis's own definitions put them.
func TestNewerTable(t *testing.T) {
	nt, err := newer()
	if err != nil {
		t.Fatal(err)
	}
	for name, since := range nt.since {
		if command.LookupName(name) != nil {
			t.Errorf("%s is in the command table already: drop it from newer_commands.json", name)
		}
		if !strings.HasPrefix(since, "7.") && !strings.HasPrefix(since, "8.") {
			t.Errorf("%s: since %q", name, since)
		}
	}
	hexpire := nt.t.LookupName("hexpire")
	if hexpire == nil || hexpire.Arity != -6 || !hexpire.Has(command.FlagWrite) || hexpire.ReadOnly() {
		t.Fatalf("hexpire = %+v", hexpire)
	}
	args := []any{"HEXPIRE", "k", "10", "FIELDS", "1", "f"}
	if keys, ok := hexpire.KeyIndexes(args, nil); !ok || len(keys) != 1 || keys[0] != 1 {
		t.Fatalf("HEXPIRE keys at %v %v; want [1]", keys, ok)
	}
	if httl := nt.t.LookupName("httl"); httl == nil || !httl.ReadOnly() || httl.Categories&command.CatRead == 0 {
		t.Fatalf("httl = %+v; want read-only, @read (implied by the flag)", httl)
	}
	if sub := nt.t.LookupName("cluster|myshardid"); sub == nil || sub.Arity != 2 || !sub.Nondeterministic {
		t.Fatalf("cluster|myshardid = %+v", sub)
	}
	if _, ok := NewerCommandInfo("hgetdel"); !ok {
		t.Fatal("no COMMAND INFO reply for hgetdel")
	}
}

// TestNewerSpecErrors: an entry of a command newer than the table is checked as strictly
// as the others, against newer_commands.json, and must name the version that has it.
func TestNewerSpecErrors(t *testing.T) {
	for _, tc := range []struct{ name, entry, doc, want string }{
		{"no version", "Frob: HTTL key:key FIELDS fields:numfields -> ints", "Frob does it.", `must say "Redis 7.4+"`},
		{"wrong version", "Frob: HGETDEL key:key FIELDS fields:numfields -> strptrs", "Frob does it (Redis 7.4+).", `must say "Redis 8.0+"`},
		{"arity", "Frob: HTTL key:key -> ints", "Frob does it (Redis 7.4+).", "HTTL needs at least 5 arguments"},
		{"keys", "Frob: HPERSIST field:str key:key FIELDS fields:numfields -> ints", "Frob does it (Redis 7.4+).", "HPERSIST finds keys at [1]"},
		{"alternative's version", "Frob: EXPIRE/HPEXPIRE key:key ttl:ttl -> ints", "Frob does it.", `must say "Redis 7.4+"`},
		{"unknown subcommand", "Frob: CLUSTER FROB -> ok", "Frob does it (Redis 7.4+).", "unknown subcommand CLUSTER FROB"},
		{"newer subcommand", "Frob: CLUSTER MYSHARDID -> string", "Frob does it.", `must say "Redis 7.2+"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := "## Test\n\n" + tc.entry + "\n\t" + tc.doc + "\n"
			_, err := Source([]byte(spec), command.Generated())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "spec.txt:3:") {
				t.Fatalf("got %v, want an error at spec.txt:3 containing %q", err, tc.want)
			}
		})
	}
	ok := "## Test\n\nFrob: HPERSIST key:key FIELDS fields:numfields -> ints\n\tFrob does it (Redis 7.4+).\n"
	if _, err := Source([]byte(ok), command.Generated()); err != nil {
		t.Fatal(err)
	}
}

// TestNewerFileErrors: a newer_commands.json that does not describe commands fully
// fails to load, naming the command.
func TestNewerFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"not json", "{", "newer_commands.json"},
		{"no origin", `{"commands":[{"name":"FROB","since":"8.0.0","arity":2}]}`, "FROB: no since or origin"},
		{"unknown flag", `{"commands":[{"name":"FROB","since":"8.0.0","origin":"x","arity":2,"command_flags":["FLY"]}]}`, "unknown flag fly"},
		{"unknown category", `{"commands":[{"name":"FROB","since":"8.0.0","origin":"x","arity":2,"acl_categories":["NOPE"]}]}`, "unknown ACL category nope"},
		{"key spec", `{"commands":[{"name":"FROB","since":"8.0.0","origin":"x","arity":2,"key_specs":[{"begin_search":{}}]}]}`, "begin_search"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckNewer([]byte(tc.src)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestNewerAllUsed: newer_commands.json holds only commands spec.txt sends.
func TestNewerAllUsed(t *testing.T) {
	entries, err := parse(Spec)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, e := range entries {
		name := strings.ToLower(e.cmd[0])
		if len(e.tokens) > 0 && !e.tokens[0].isParam() {
			used[name+"|"+strings.ToLower(e.tokens[0].literal)] = true
		}
		used[name], used[strings.ToLower(e.alt)] = true, true
	}
	names, err := NewerCommands()
	if err != nil {
		t.Fatal(err)
	}
	for name := range names {
		if !used[name] {
			t.Errorf("newer_commands.json has %s, which no entry of spec.txt sends", name)
		}
	}
}
