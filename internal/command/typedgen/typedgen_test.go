package typedgen

import (
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/command"
)

func TestSpecGenerates(t *testing.T) {
	src, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(src), Header+"\n") {
		t.Errorf("the generated file does not start with %q", Header)
	}
	families, err := Families()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range families {
		total += f.Methods
		t.Logf("%-18s %d", f.Name, f.Methods)
	}
	if got := strings.Count(string(src), "\nfunc (c *Client) "); got != total {
		t.Errorf("%d methods generated for %d entries", got, total)
	}
}

// TestSpecErrors checks that the generator refuses entries that do not fit the command
// table or the spec's grammar, naming the line and the problem.
func TestSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name, entry, want string
	}{
		{"unknown command", "Frob: FROB key:key -> int", "unknown command FROB"},
		{"unknown subcommand", "Frob: CLUSTER FROB -> ok", "unknown subcommand CLUSTER FROB"},
		{"container without subcommand", "Frob: CLUSTER -> ok", "container command"},
		{"exact arity, too few", "Frob: GET -> string", "GET has arity 2, the spec sends 1"},
		{"exact arity, too many", "Frob: GET key:key other:str -> string", "GET has arity 2, the spec sends 3"},
		{"exact arity, variable", "Frob: GET keys:keys -> string", "its arguments must all be fixed"},
		{"exact arity, optional struct", "Frob: GET key:key opts:*SetOptions -> string", "its arguments must all be fixed"},
		{"minimum arity", "Frob: SET key:key -> ok", "SET needs at least 3 arguments, the spec may send only 2"},
		{"minimum arity, optional variadic", "Frob: DEL keys:strs? -> int", "DEL needs at least 2"},
		{"key not where the key specs say", "Frob: HGET field:str key:key -> string", "HGET finds keys at [1]"},
		{"a key sent as a value", "Frob: RENAME key:key newkey:str -> ok", "RENAME finds keys at [1 2]"},
		{"alternative without ttl", "Frob: EXPIRE/PEXPIRE key:key seconds:int -> bool", "exactly one ttl or time"},
		{"ttl without alternative", "Frob: EXPIRE key:key ttl:ttl -> bool", "exactly one ttl or time"},
		{"unknown alternative", "Frob: EXPIRE/FROBEXPIRE key:key ttl:ttl -> bool", "unknown command FROBEXPIRE"},
		{"two variadics", "Frob: HDEL key:key a:strs b:strs -> int", "2 variadic parameters"},
		{"keyed names a fixed parameter", "Frob: HMGET key:key field:str -> keyed:field", "must name a variadic string parameter"},
		{"unknown type", "Frob: GET key:blob -> string", "unknown parameter type"},
		{"unknown reply kind", "Frob: GET key:key -> blob", "unknown reply kind"},
		{"reserved name", "Frob: GET ctx:key -> string", "bad parameter name"},
		{"lower-case literal", "Frob: GET key:key withscores -> string", "neither an upper-case word"},
		{"no reply kind", "Frob: GET key:key", "no \"-> kind\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := "## Test\n\n" + tc.entry + "\n\tFrob does it.\n"
			_, err := Source([]byte(spec), command.Generated())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "spec.txt:3:") {
				t.Fatalf("got %v, want an error at spec.txt:3 containing %q", err, tc.want)
			}
		})
	}
}

func TestSpecGrammar(t *testing.T) {
	for _, tc := range []struct{ name, spec, want string }{
		{"no doc", "## T\n\nFrob: GET key:key -> string\n", "has no doc comment"},
		{"doc not naming the method", "## T\n\nFrob: GET key:key -> string\n\tReturns it.\n", "must begin with its name"},
		{"no family", "Frob: GET key:key -> string\n\tFrob does it.\n", "before the first"},
		{"duplicate", "## T\n\nFrob: GET key:key -> string\n\tFrob does it.\n\nFrob: GET key:key -> string\n\tFrob does it.\n", "already defined on line 3"},
		{"stray doc", "## T\n\n\tFrob does it.\n", "must follow an entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Source([]byte(tc.spec), command.Generated()); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestArityFromTable checks the arity check against a table whose arity differs from
// Redis's: the check follows the table, not a list of its own.
func TestArityFromTable(t *testing.T) {
	table := command.NewTable([]*command.Info{{Name: "get", Arity: 3, Flags: command.FlagReadOnly, FirstKey: 1, LastKey: 1, Step: 1}})
	spec := "## T\n\nGet: GET key:key -> string\n\tGet gets.\n"
	if _, err := Source([]byte(spec), table); err == nil || !strings.Contains(err.Error(), "GET has arity 3") {
		t.Fatalf("got %v", err)
	}
}

func TestNotes(t *testing.T) {
	src, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, want := range []string{
		"// Command: GET key. Read-only:",
		"// Command: DBSIZE. Sent to every primary at once; the replies are summed.",
		"Blocking: it runs\n// on a connection of its own",
		"// Command: SINTER keys... The keys must share a slot",
		"// Command: DEL keys... Keys in different slots are sent as one command per slot",
		"// Command: EXPIRE key ttl (PEXPIRE, in milliseconds, when ttl is not a whole number of\n// seconds).",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("generated doc lacks %q", want)
		}
	}
}
